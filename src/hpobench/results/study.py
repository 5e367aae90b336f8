"""A study: the runs of several experiment tags, compared across benchmarks.

Tags may hold different benchmarks (one tag per benchmark is how run-local and
launch-remote lay them out); methods are matched by name. Which runs enter the
statistics is decided here, once: complete runs with results (or, with
`include_incomplete`, any run with results). Every other expected run is kept in
`left_out` with its state, so a report lists it rather than mixing it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from hpobench.errors import UsageError
from hpobench.results import layout
from hpobench.results.aggregate import included
from hpobench.results.load import STATE_MISSING, RunResults, load_experiment, registry_order

# Below this many seeds in a cell, a report warns that its statistics are fragile.
MIN_SEEDS = 5
MIN_BENCHMARKS = 2


@dataclass
class Study:
    tags: list[str]
    root: Path
    runs: list[RunResults]  # every expected run of every tag
    benchmarks: list[str]
    methods: list[str]  # registry order, then by name
    used: dict[tuple[str, str], list[RunResults]]  # (benchmark, method) -> runs in the statistics
    left_out: list[tuple[RunResults, str]] = field(default_factory=list)  # (run, why)
    tag_of: dict[str, str] = field(default_factory=dict)  # benchmark -> its tag(s), for the record
    include_incomplete: bool = False

    def cell(self, benchmark: str, method: str) -> list[RunResults]:
        return self.used.get((benchmark, method), [])

    def missing_methods(self) -> dict[str, list[str]]:
        """Method -> the benchmarks where it has no run in the statistics."""
        missing = {m: [b for b in self.benchmarks if not self.cell(b, m)] for m in self.methods}
        return {m: bs for m, bs in missing.items() if bs}

    def compared_methods(self) -> list[str]:
        """The methods with runs on every benchmark: the ones cross-benchmark ranks compare."""
        missing = self.missing_methods()
        return [m for m in self.methods if m not in missing]

    def warnings(self) -> list[str]:
        """What the data cannot support, in words a reader sees before any verdict."""
        notes = []
        if len(self.benchmarks) < MIN_BENCHMARKS:
            notes.append(
                f"Only {len(self.benchmarks)} benchmark: cross-benchmark statistics describe that "
                "benchmark alone, not methods in general."
            )
        thin = [
            f"{m} on {b} ({len(self.cell(b, m))})"
            for b in self.benchmarks
            for m in self.methods
            if 0 < len(self.cell(b, m)) < MIN_SEEDS
        ]
        if thin:
            notes.append(
                f"Fewer than {MIN_SEEDS} seeds in {len(thin)} cell(s): {', '.join(thin)}. Confidence "
                "intervals and tests on so few seeds are unreliable; run more seeds before concluding."
            )
        for method, benchmarks in self.missing_methods().items():
            notes.append(
                f"{method} has no run in the statistics on {', '.join(benchmarks)}: it is shown per "
                "benchmark but left out of cross-benchmark ranks, tests and aggregates."
            )
        unfinished = [
            f"{r.method}-{r.seed} on {r.benchmark} ({r.state})"
            for runs in self.used.values()
            for r in runs
            if r.state != layout.STATUS_COMPLETE
        ]
        if unfinished:
            notes.append(
                f"--include-incomplete: {len(unfinished)} run(s) that did not complete are in the statistics "
                f"with the results they reached: {', '.join(unfinished)}."
            )
        if self.left_out:
            notes.append(
                f"{len(self.left_out)} run(s) are left out (incomplete, failed or without results); "
                "they are listed under 'Runs left out'."
            )
        if len(self.compared_methods()) < 2:
            notes.append("Fewer than 2 methods ran on every benchmark: no cross-benchmark comparison.")
        return notes


def load_study(results_root: Path, tags: list[str], include_incomplete: bool = False) -> Study:
    """Every run of every tag; a UsageError when two tags hold the same (benchmark, method, seed)."""
    if not tags:
        raise UsageError("Name the experiments to report with --experiment-tag (once per tag)")
    duplicates = sorted({t for t in tags if tags.count(t) > 1})
    if duplicates:
        raise UsageError(f"--experiment-tag {duplicates[0]!r} is given twice; name each tag once")
    runs: list[RunResults] = []
    owner: dict[tuple[str, str, int], str] = {}
    tag_of: dict[str, list[str]] = {}
    for tag in tags:
        for run in load_experiment(results_root, tag).runs:
            key = (run.benchmark, run.method, run.seed)
            if key in owner and run.state != STATE_MISSING:
                raise UsageError(
                    f"{run.method}-{run.seed} on {run.benchmark} is in experiment tags {owner[key]!r} and "
                    f"{tag!r}: a seed counted twice would weigh twice; report one of the two tags"
                )
            owner.setdefault(key, tag)
            tag_of.setdefault(run.benchmark, [])
            if tag not in tag_of[run.benchmark]:
                tag_of[run.benchmark].append(tag)
            runs.append(run)
    runs = _without_shadowed_missing(runs)
    benchmarks = sorted({r.benchmark for r in runs})
    methods = registry_order({r.method for r in runs})
    used: dict[tuple[str, str], list[RunResults]] = {}
    left_out: list[tuple[RunResults, str]] = []
    for run in sorted(runs, key=lambda r: (r.benchmark, methods.index(r.method), r.seed)):
        ok, why = included(run, include_incomplete)
        if ok:
            used.setdefault((run.benchmark, run.method), []).append(run)
        else:
            left_out.append((run, why))
    return Study(
        tags,
        results_root,
        runs,
        benchmarks,
        methods,
        used,
        left_out,
        {b: ", ".join(t) for b, t in tag_of.items()},
        include_incomplete,
    )


def _without_shadowed_missing(runs: list[RunResults]) -> list[RunResults]:
    """A tag lists a run as missing when another tag of the study has it: drop those."""
    present = {(r.benchmark, r.method, r.seed) for r in runs if r.state != STATE_MISSING}
    seen: set[tuple[str, str, int]] = set()
    kept = []
    for run in runs:
        key = (run.benchmark, run.method, run.seed)
        if run.state == STATE_MISSING and (key in present or key in seen):
            continue
        seen.add(key)
        kept.append(run)
    return kept


def parse_references(references: list[str], benchmarks: list[str]) -> dict[str, float]:
    """`--reference BENCHMARK=VALUE` options as a dict; a UsageError names a bad one."""
    parsed: dict[str, float] = {}
    for text in references:
        name, sep, value = text.partition("=")
        try:
            number: Optional[float] = float(value) if sep else None
        except ValueError:
            number = None
        if number is None or not name:
            raise UsageError(f"--reference {text!r} is not BENCHMARK=VALUE; e.g. --reference branin=0.398")
        if name not in benchmarks:
            raise UsageError(
                f"--reference names benchmark {name!r}, which is not in the study; "
                f"its benchmarks are {', '.join(benchmarks)}"
            )
        parsed[name] = number
    return parsed
