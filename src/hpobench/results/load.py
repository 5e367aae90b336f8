"""Load an experiment's results folders, whatever state they are in.

Every expected (benchmark, method, seed) becomes one `RunResults`, also when its
folder is missing, has no metadata.json, or holds an empty or truncated
results.csv.zip: what is wrong is recorded in `problems`, never raised. Of the
timestamped tuner folders of a run (re-runs after an interrupt), the newest
complete one is used, else the newest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hpobench.benchmarks.objectives import Hypervolume, Objective
from hpobench.errors import HpobenchError, UsageError
from hpobench.results import layout
from hpobench.results.record import RunRecord

STATE_MISSING = "missing"
STATE_NO_METADATA = "no metadata"
# Interrupted, or its launcher gone, with a saved tuner: the same command continues it.
STATE_RESUMABLE = "resumable"
STATES = (
    layout.STATUS_COMPLETE,
    layout.STATUS_RUNNING,
    STATE_RESUMABLE,
    layout.STATUS_INTERRUPTED,
    layout.STATUS_FAILED,
    layout.STATUS_STALE,
    STATE_NO_METADATA,
    STATE_MISSING,
)
TIME_COLUMN = "st_tuner_time"  # wall-clock seconds since the tuner started
TRIAL_COLUMN = "trial_id"
DECISION_COLUMN = "st_decision"
# What a multi-objective run's `metric` is: its hypervolume after each result (results/hypervolume.py),
# maximized, so that every statistic of one objective (best so far, final best, target, ranks,
# normalized regret) applies to it unchanged.
HYPERVOLUME_METRIC = "hypervolume"
# Syne Tune appends `-YYYY-MM-DD-HH-MM-SS-mmm` to the tuner name.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}"


@dataclass
class RunResults:
    """One (benchmark, method, seed) run as found on disk."""

    benchmark: str
    method: str
    seed: int
    state: str
    path: Optional[Path] = None  # the tuner folder used, else the run folder (see in_tuner_folder)
    metadata: dict[str, Any] = field(default_factory=dict)  # metadata.json as written
    record: RunRecord = field(default_factory=RunRecord)  # the same, typed
    metric: Optional[str] = None
    mode: Optional[str] = None
    resource_attr: Optional[str] = None
    budget: Optional[float] = None
    wallclock_used: Optional[float] = None
    trials_started: int = 0
    trials_finished: int = 0
    frame: Optional[Reported] = None  # reported results in time order
    problems: list[str] = field(default_factory=list)
    in_tuner_folder: bool = True  # False: `path` is the run folder, no tuner folder was found
    # Several: a multi-objective run, whose metric is HYPERVOLUME_METRIC (see `measure_objectives`).
    objectives: tuple[Objective, ...] = ()
    hypervolume: Optional[Hypervolume] = None

    @property
    def name(self) -> str:
        """``{method}-{seed}``, the run's folder name."""
        return layout.run_name(self.method, self.seed)

    @property
    def num_results(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1 and self.hypervolume is not None

    @property
    def best(self) -> Optional[float]:
        """The best reported metric value (mode-aware; a multi-objective run's final hypervolume),
        or None without results."""
        if self.num_results == 0:
            # metadata.json's best is the first objective's: no hypervolume.
            return None if self.multi_objective else self.record.best
        values = self.frame.value  # type: ignore[union-attr]
        return float(values.min() if self.mode == "min" else values.max())


@dataclass
class Experiment:
    """All runs of one experiment tag, expected ones included."""

    tag: str
    root: Path
    runs: list[RunResults]

    def benchmarks(self) -> list[str]:
        return sorted({r.benchmark for r in self.runs})


def load_experiment(
    results_root: Path,
    tag: str,
    methods: Optional[list[str]] = None,
    seeds: Optional[list[int]] = None,
    seen_elsewhere: Iterable[tuple[str, int]] = (),
) -> Experiment:
    """Every expected run of experiment `tag`: benchmarks seen x methods x seeds.

    Methods and seeds default to the union of those found on disk and of the
    (method, seed) pairs `seen_elsewhere` (SageMaker jobs); runs expected but
    absent come back in state `missing`. Without the experiment's folder and
    without runs seen elsewhere, a UsageError.
    """
    tag_dir = results_root / tag
    elsewhere = set(seen_elsewhere)
    if not tag_dir.is_dir() and not elsewhere:
        raise UsageError(
            f"No results for experiment tag {tag!r} under {results_root}; check --experiment-tag "
            "and --results-root (or HPOBENCH_RESULTS_ROOT)"
        )
    folders = sorted(tag_dir.iterdir()) if tag_dir.is_dir() else []
    found = [run for folder in folders if (run := _load_run(folder, tag))]
    _read_results(found)
    benchmarks = sorted({r.benchmark for r in found if r.benchmark != "?"}) or ["?"]
    for run in found:
        if run.benchmark == "?" and len(benchmarks) == 1:
            run.benchmark = benchmarks[0]  # an empty run folder: the experiment's benchmark
    seen = {(r.method, r.seed) for r in found} | elsewhere
    wanted_methods = list(methods) if methods else registry_order({m for m, _ in seen})
    wanted_seeds = list(seeds) if seeds is not None else sorted({s for _, s in seen})
    by_key = {(r.benchmark, r.method, r.seed): r for r in found}
    runs = list(found)
    for benchmark in benchmarks:
        for method in wanted_methods:
            for seed in wanted_seeds:
                if (benchmark, method, seed) not in by_key:
                    runs.append(RunResults(benchmark, method, seed, STATE_MISSING))
    order = {m: i for i, m in enumerate(wanted_methods)}
    runs.sort(key=lambda r: (r.benchmark, order.get(r.method, len(order)), r.method, r.seed))
    if methods or seeds is not None:
        # Only what was asked for, so `--method RS` does not list ASHA runs.
        runs = [r for r in runs if r.method in wanted_methods and r.seed in wanted_seeds]
    return Experiment(tag, results_root, runs)


def registry_order(methods: set[str]) -> list[str]:
    """Registered methods in registry order (RS first), then unknown ones by name."""
    from hpobench.methods import method_names

    known = [m for m in method_names() if m in methods]
    return known + sorted(methods - set(known))


def _load_run(folder: Path, tag: str) -> Optional[RunResults]:
    parsed = layout.split_run_name(folder.name)
    if not folder.is_dir() or parsed is None:
        return None  # not a {method}-{seed} folder (stray files, editor droppings)
    method, seed = parsed
    tuner_dir = layout.completed_tuner_dir(folder)
    candidates = layout.tuner_dirs(folder)
    if tuner_dir is None and candidates:
        tuner_dir = candidates[-1]
    if tuner_dir is None:
        return RunResults(
            "?", method, seed, STATE_NO_METADATA, folder, problems=["no tuner folder"], in_tuner_folder=False
        )
    metadata = layout.read_metadata(tuner_dir)
    benchmark = _benchmark_from_name(tuner_dir.name, tag)
    if metadata is None:
        why = (
            "metadata.json missing" if not (tuner_dir / layout.METADATA_FILE).exists() else ("metadata.json unreadable")
        )
        run = RunResults(benchmark or "?", method, seed, STATE_NO_METADATA, tuner_dir, problems=[why])
        _describe_from_registry(run)
    else:
        record = RunRecord.from_metadata(metadata)
        run = RunResults(
            record.benchmark or benchmark or "?",
            record.method or method,
            record.seed_index if record.seed_index is not None else seed,
            record.status or layout.STATUS_RUNNING,
            tuner_dir,
            metadata,
            record,
            record.metric,
            record.mode,
            record.resource_attr,
            record.budget,
            record.wallclock_used,
            problems=list(record.problems),
        )
        if record.multi_objective:
            measure_objectives(run, record.objectives, record.hypervolume)
        _mark_stale(run)
        _mark_resumable(run)
        if record.error:
            run.problems.append(record.error)  # why the run failed, as run-local said it
        if run.state not in STATES:
            run.problems.append(f"unknown {layout.STATUS_KEY} {run.state!r}")
    if len(candidates) > 1:
        run.problems.append(f"{len(candidates)} tuner folders, using {tuner_dir.name}")
    return run


def _mark_stale(run: RunResults) -> None:
    """A run recorded as running whose launcher process is gone will never finish."""
    from hpobench.processes import describe_process, process_gone

    record = run.record.process
    if run.state == layout.STATUS_RUNNING and process_gone(record):
        run.state = layout.STATUS_STALE
        run.problems.append(
            f"its launcher ({describe_process(record)}) is gone without finishing; run-local again to redo it"
        )


def _mark_resumable(run: RunResults) -> None:
    """An interrupted or stale run with a saved tuner is continued by its own command."""
    if run.state not in (layout.STATUS_INTERRUPTED, layout.STATUS_STALE) or run.path is None:
        return
    if not (run.path / layout.TUNER_FILE).exists():
        return  # stopped before anything was saved: a re-run starts it afresh
    run.problems[:] = [p for p in run.problems if not p.startswith("its launcher")]
    run.state = STATE_RESUMABLE
    spent = layout.budget_spent(run.path, run.metadata)
    run.wallclock_used = spent
    left = (
        f"{max(0.0, run.budget - spent):.0f} s of its {run.budget:g} s budget left"
        if run.budget
        else (f"{spent:.0f} s of its budget used")
    )
    run.problems.append(f"{left}; run the same command again to resume it (--force starts it afresh)")


def _benchmark_from_name(name: str, tag: str) -> Optional[str]:
    match = re.fullmatch(rf"{re.escape(tag)}-(?P<benchmark>.+)-\d+-{_TIMESTAMP}", name)
    return match.group("benchmark") if match else None


def _describe_from_registry(run: RunResults) -> None:
    """Without metadata.json the benchmark's registry entry still names the metric."""
    from hpobench.benchmarks import benchmark_names, get_benchmark

    if run.benchmark in benchmark_names():
        try:
            definition = get_benchmark(run.benchmark)
        except HpobenchError:  # a plugin that no longer loads: the metric stays unknown
            return
        run.metric, run.mode = definition.metric, definition.mode
        run.resource_attr = definition.resource_attr
        if definition.multi_objective:
            measure_objectives(run, definition.objectives, definition.hypervolume)


def measure_objectives(run: RunResults, objectives: tuple[Objective, ...], hypervolume: Optional[Hypervolume]) -> None:
    """Make `run` a multi-objective run: its metric is its hypervolume so far, maximized."""
    run.objectives, run.hypervolume = objectives, hypervolume
    run.metric, run.mode = HYPERVOLUME_METRIC, "max"


def _read_results(runs: list[RunResults]) -> None:
    """Fill trials, results and wall-clock from results.csv.zip and the trial folders, for
    every run with a tuner folder (all files read in one go: see results_files)."""
    from hpobench.results.results_files import Request, read_columns

    readable: list[tuple[RunResults, Path, set[str], tuple[str, ...]]] = []
    for run in runs:
        if run.path is None or not run.in_tuner_folder:
            continue
        trial_folders = {p.name for p in run.path.iterdir() if p.is_dir() and p.name.isdigit()}
        run.trials_started = len(trial_folders)
        path = run.path / layout.RESULTS_FILE
        if not path.exists():
            run.problems.append(f"{layout.RESULTS_FILE} missing")
        elif run.multi_objective:
            # A cost hpobench measures is its own column once runs record it, else its source
            # column (hpobench_train_time: st_worker_time): both are asked for, neither required here.
            wanted = tuple(dict.fromkeys(c for o in run.objectives for c in (o.metric, o.column)))
            readable.append((run, path, trial_folders, wanted))
        elif run.metric is not None:
            readable.append((run, path, trial_folders, (run.metric,)))
    requests = [
        Request(
            path,
            (
                TRIAL_COLUMN,
                TIME_COLUMN,
                *values,
                run.resource_attr or "",
                DECISION_COLUMN,
                "config_" + (run.record.max_resource_attr or ""),
            ),
            (TRIAL_COLUMN, TIME_COLUMN, *(o.metric for o in run.objectives if o.reported_by_script))
            if run.multi_objective
            else (TRIAL_COLUMN, TIME_COLUMN, *values),
        )
        for run, path, _, values in readable
    ]
    for (run, _, trial_folders, _), columns in zip(readable, read_columns(requests), strict=True):
        if isinstance(columns, str):
            run.problems.append(f"{layout.RESULTS_FILE} {columns}")
            continue
        if run.multi_objective:
            missing = [f"{o.metric} (or {o.column})" for o in run.objectives if not _objective_column(o, columns)]
            if missing:
                run.problems.append(f"{layout.RESULTS_FILE} lacks column(s) {', '.join(missing)}")
                continue
        frame = _to_arrays(columns, run)
        run.frame = frame
        # Trial logs may live elsewhere (remote jobs do not sync them): count both.
        run.trials_started = len(trial_folders | {str(t) for t in set(frame.trial_id.tolist())})
        run.trials_finished = _finished_trials(frame)
        if run.wallclock_used is None and len(frame):
            run.wallclock_used = float(frame.time[-1])


@dataclass
class Reported:
    """A run's reported results in time order, as numpy arrays of equal length."""

    trial_id: Any
    time: Any  # st_tuner_time, seconds
    value: Any  # the metric; a multi-objective run's hypervolume after each row
    resource: Any  # the resource attribute (e.g. epoch), or None if not recorded
    stopped: Any  # True where the trial reached its max resource or was told to stop
    # Multi-objective runs: each row's objective values (rows x objectives, in the objectives'
    # units and directions), and the rows on the final Pareto front among those that count.
    objectives: Any = None
    front: Any = None

    def __len__(self) -> int:
        return len(self.time)


def _objective_column(objective: Objective, columns: dict[str, Any]) -> Optional[str]:
    """Where a run's results hold `objective`: its own column, else the one it is measured from."""
    return next((c for c in (objective.metric, objective.column) if c in columns), None)


def _to_arrays(columns: dict[str, Any], run: RunResults) -> Reported:
    import numpy as np

    def column(name: str) -> Any:
        return columns[name]

    time = column(TIME_COLUMN)
    trial_id = column(TRIAL_COLUMN)
    objectives = None
    if run.multi_objective:
        # _read_results checked that every objective has a column.
        objectives = np.column_stack([columns[_objective_column(o, columns) or ""] for o in run.objectives])
        value = np.where(np.isnan(objectives).any(axis=1), np.nan, 0.0)  # the hypervolume comes below
    else:
        value = column(run.metric)  # type: ignore[arg-type]
    resource = column(run.resource_attr) if run.resource_attr in columns else None
    stopped = np.zeros(len(time), dtype=bool)
    if DECISION_COLUMN in columns:
        stopped |= np.asarray(columns[DECISION_COLUMN]) == "STOP"
    max_resource = "config_" + (run.record.max_resource_attr or "")
    if resource is not None and max_resource in columns:
        stopped |= resource >= column(max_resource)
    keep = ~(np.isnan(time) | np.isnan(value) | np.isnan(trial_id))
    order = np.argsort(time[keep], kind="stable")
    reported = Reported(
        trial_id[keep][order].astype(np.int64),
        time[keep][order],
        value[keep][order],
        None if resource is None else resource[keep][order],
        stopped[keep][order],
    )
    if objectives is not None:
        _add_hypervolume(reported, objectives[keep][order], run)
    return reported


def _add_hypervolume(reported: Reported, objectives: Any, run: RunResults) -> None:
    """A multi-objective run's hypervolume after each row (in time order) and its final front."""
    from hpobench.results.hypervolume import ObjectiveSpace, over_time

    space = ObjectiveSpace.of(run.objectives, run.hypervolume)  # type: ignore[arg-type]
    measured = over_time(objectives, space)
    reported.objectives, reported.value, reported.front = objectives, measured.hypervolume, measured.front
    if len(reported) and not len(measured.front):
        run.problems.append(
            f"no result is better than the reference point {run.hypervolume.reference_point} "  # type: ignore[union-attr]
            "in every objective: its hypervolume is 0"
        )


def _finished_trials(frame: Reported) -> int:
    """Trials that reached their maximum resource or were stopped by the scheduler."""
    import numpy as np

    return len(np.unique(frame.trial_id[frame.stopped]))
