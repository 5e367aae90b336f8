"""What a fidelity comparison cannot take for granted: flags on the two sides' setups.

A simulated run records the table it replayed under `layout.SIMULATED_KEY` (path, manifest
and its hash, surrogate, source); a real run records its versions, GPUs and benchmark
definition in metadata.json. Each table's manifest is compared with what the real runs
recorded, item by item: `match`, `differs`, or `not checked` when one side did not record it
(never counted as a match). Flags also name what makes the comparison itself lopsided: real
runs that are simulated, simulated runs that are not, other benchmarks or metrics, methods on
one side only, and fewer seeds than issue 28's measurement uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from hpobench.results import layout
from hpobench.results.load import RunResults

if TYPE_CHECKING:
    from hpobench.results.fidelity import Fidelity, Side

MATCH = "match"
DIFFERS = "differs"
NOT_CHECKED = "not checked"
VERSION_KEYS = ("hpobench", "syne_tune", "torch", "python")
# Where a manifest's `hardware` may name its GPUs and CPU (the first key present is read).
GPU_KEYS = ("gpu_names", "gpus", "gpu")
CPU_KEYS = ("cpu_model", "cpu")
CPU_PRECISION = "none (CPU)"  # what a manifest's precision None means


@dataclass
class Flag:
    kind: str  # real-simulated, simulated-real, benchmark, metric, methods, seeds, setup, table, surrogate
    message: str


@dataclass
class SetupCheck:
    """One item of one table's manifest against the real runs' record."""

    table: str
    item: str
    table_value: str
    real_value: str
    outcome: str  # MATCH, DIFFERS or NOT_CHECKED
    why: str = ""


def check(result: Fidelity) -> tuple[list[Flag], list[SetupCheck]]:
    """Every flag of a comparison, and every item of every table compared."""
    from hpobench.results.fidelity import MIN_REAL_SEEDS, MIN_SIMULATED_SEEDS

    real, simulated = result.real, result.simulated
    flags = _kinds_of_runs(real, simulated)
    if real.benchmark != simulated.benchmark:
        flags.append(
            Flag(
                "benchmark",
                f"--real {real.tag} ran benchmark {real.benchmark}, --simulated {simulated.tag} ran "
                f"{simulated.benchmark}: the simulation stands for another benchmark",
            )
        )
    if (real.metric, real.mode) != (simulated.metric, simulated.mode):
        flags.append(
            Flag(
                "metric",
                f"The real runs report {real.metric} ({real.mode}), the simulated runs {simulated.metric} "
                f"({simulated.mode}): their curves are not of one quantity",
            )
        )
    one_side = [f"{', '.join(m)} only in {o} {t}" for m, o, t in _only(result) if m]
    if one_side:
        flags.append(Flag("methods", f"Methods on one side only: {'; '.join(one_side)}; left out of tau and the bands"))
    for side, least in ((real, MIN_REAL_SEEDS), (simulated, MIN_SIMULATED_SEEDS)):
        thin = [f"{m.method} ({len(_seeds(m, side))})" for m in result.methods if len(_seeds(m, side)) < least]
        if thin:
            what = "the real bands are wide" if side is real else "the simulated means are uncertain"
            flags.append(
                Flag(
                    "seeds",
                    f"Fewer than {least} {side.option.lstrip('-')} seeds for {', '.join(thin)}: {what}, and the "
                    "tau interval rests on few seeds",
                )
            )
    flags += _setup_flags(real, simulated)
    checks = []
    tables = _tables(simulated)
    if len(tables) > 1:
        flags.append(Flag("table", f"The simulated runs replayed {len(tables)} different tables: {', '.join(tables)}"))
    for path, (record, runs) in tables.items():
        table_flags, table_checks = _check_table(path, record, runs, real)
        flags += table_flags
        checks += table_checks
    return flags, checks


def _seeds(method: Any, side: Side) -> list[int]:
    return method.real_seeds if side.option == "--real" else method.simulated_seeds


def _only(result: Fidelity) -> list[tuple[list[str], str, str]]:
    return [(result.only_real, "--real", result.real.tag), (result.only_simulated, "--simulated", result.simulated.tag)]


def _kinds_of_runs(real: Side, simulated: Side) -> list[Flag]:
    flags = []
    faked = [r.name for r in real.all_runs() if layout.SIMULATED_KEY in r.metadata]
    if faked:
        flags.append(
            Flag(
                "real-simulated",
                f"{len(faked)} run(s) of --real {real.tag} are simulated ({layout.SIMULATED_KEY} in their "
                f"metadata.json): {', '.join(faked)}; compare real runs with simulated ones",
            )
        )
    genuine = [r.name for r in simulated.all_runs() if layout.SIMULATED_KEY not in r.metadata]
    if genuine:
        flags.append(
            Flag(
                "simulated-real",
                f"{len(genuine)} run(s) of --simulated {simulated.tag} are not simulated (no "
                f"{layout.SIMULATED_KEY} in their metadata.json): {', '.join(genuine)}",
            )
        )
    return flags


def _setup_flags(real: Side, simulated: Side) -> list[Flag]:
    """The budget and the workers, where both sides recorded them."""
    flags = []
    for key, what in (("max_wallclock_time", "budget (s)"), ("n_workers", "workers")):
        values = [_recorded(real.all_runs(), key), _recorded(simulated.all_runs(), key)]
        if values[0] and values[1] and values[0] != values[1]:
            flags.append(
                Flag(
                    "setup",
                    f"The {what} differ: {', '.join(values[0])} in the real runs, {', '.join(values[1])} in the "
                    "simulated runs",
                )
            )
    return flags


def _recorded(runs: list[RunResults], key: str) -> list[str]:
    return sorted({f"{value:g}" for r in runs if isinstance(value := r.metadata.get(key), (int, float))})


def _tables(simulated: Side) -> dict[str, tuple[dict[str, Any], list[RunResults]]]:
    """Table path -> (the record of the first run that replayed it, every such run)."""
    tables: dict[str, tuple[dict[str, Any], list[RunResults]]] = {}
    for run in simulated.all_runs():
        record = run.metadata.get(layout.SIMULATED_KEY)
        if isinstance(record, dict):
            key = str(record.get("table") or "?")
            tables.setdefault(key, (record, []))[1].append(run)
    return tables


def _check_table(
    path: str, record: dict[str, Any], runs: list[RunResults], real: Side
) -> tuple[list[Flag], list[SetupCheck]]:
    from hpobench.tables.format import TableManifest

    flags = []
    surrogate = record.get("surrogate")
    if surrogate:
        flags.append(
            Flag(
                "surrogate",
                f"The simulated runs on table {path} used surrogate {surrogate}: configurations outside the "
                "table are predicted, not measured",
            )
        )
    values = record.get("manifest")
    if not isinstance(values, dict):
        source = record.get("source") or "unknown"
        flags.append(
            Flag(
                "table",
                f"Table {path} (source {source}) has no hpobench manifest: its hardware, versions, precision and "
                "benchmark definition cannot be checked against the real runs",
            )
        )
        return flags, []
    try:
        manifest = TableManifest.from_json(values)
    except TypeError as error:
        flags.append(Flag("table", f"Table {path}'s manifest is unreadable ({error}): nothing about it is checked"))
        return flags, []
    checks = [SetupCheck(path, *item) for item in _items(manifest, real)]
    differing = [f"{c.item} (table {c.table_value}, real {c.real_value})" for c in checks if c.outcome == DIFFERS]
    if differing:
        flags.append(
            Flag(
                "table",
                f"Table {path} (replayed by {len(runs)} simulated run(s)) does not match the real runs' setup: "
                f"{'; '.join(differing)}",
            )
        )
    return flags, checks


def _items(manifest: Any, real: Side) -> list[tuple[str, str, str, str, str]]:
    """(item, table value, real value, outcome, why) for each item a manifest records."""
    runs = real.all_runs()
    items = [
        _compare("benchmark", manifest.benchmark, {real.benchmark}),
        _compare("metric", f"{manifest.metric} ({manifest.mode})", {f"{real.metric} ({real.mode})"}),
        _definition_item(manifest.definition_hash, runs),
    ]
    for key in VERSION_KEYS:
        recorded = {str(r.record.versions[key]) for r in runs if r.record.versions.get(key) is not None}
        items.append(_compare(f"{key} version", manifest.versions.get(key), recorded, "the real runs do not record it"))
    gpus = [r.metadata["gpus"] for r in runs if isinstance(r.metadata.get("gpus"), dict)]
    hardware = manifest.hardware if isinstance(manifest.hardware, dict) else {}
    table_gpus = next((hardware[k] for k in GPU_KEYS if k in hardware), None)
    table_gpus_text = None if table_gpus is None else _gpu_text(table_gpus)
    # A run that had GPUs but could not name them (no nvidia-smi) says nothing of which ones.
    real_gpus = {_gpu_text(g.get("devices") or []) for g in gpus if g.get("devices") or not g.get("count")}
    items.append(_compare("GPUs", table_gpus_text, real_gpus, "the real runs do not record their GPUs"))
    # The manifest's precision is None on CPU; a real run on CPU records a GPU count of 0.
    real_precision = {str(g.get("precision_rule")) if g.get("count") else CPU_PRECISION for g in gpus}
    table_precision = manifest.precision or CPU_PRECISION
    items.append(_compare("precision", table_precision, real_precision, "the real runs do not record it"))
    cpu = next((str(hardware[k]) for k in CPU_KEYS if k in hardware), "-")
    items.append(("CPU", cpu, "-", NOT_CHECKED, "the real runs do not record their CPU"))
    return items


def _gpu_text(gpus: Any) -> str:
    names = [gpus] if isinstance(gpus, str) else [str(g) for g in gpus]
    return ", ".join(sorted(set(names))) or "none"


def _compare(
    item: str, table: Optional[str], recorded: set[str], unrecorded: str = "the real runs do not record it"
) -> tuple[str, str, str, str, str]:
    if table is None:
        return item, "-", ", ".join(sorted(recorded)) or "-", NOT_CHECKED, "the table's manifest does not record it"
    if not recorded:
        return item, str(table), "-", NOT_CHECKED, unrecorded
    real_text = ", ".join(sorted(recorded))
    if len(recorded) > 1:
        return item, str(table), real_text, DIFFERS, "the real runs themselves differ"
    return item, str(table), real_text, MATCH if str(table) in recorded else DIFFERS, ""


def _definition_item(table_hash: str, runs: list[RunResults]) -> tuple[str, str, str, str, str]:
    real_hash, why = recorded_definition_hash(runs)
    short = table_hash[:12] if table_hash else "-"
    if real_hash is None:
        return "definition hash", short, "-", NOT_CHECKED, why
    outcome = MATCH if real_hash == table_hash else DIFFERS
    return "definition hash", short, real_hash[:12], outcome, why


def recorded_definition_hash(runs: list[RunResults]) -> tuple[Optional[str], str]:
    """`tables.format.definition_hash` of the benchmark definition the real runs recorded, with
    its script as it is on this machine now (runs do not record the script's bytes); or None
    and why it cannot be computed."""
    from hpobench.benchmarks.definition import BenchmarkDefinition, BenchmarkOrigin
    from hpobench.errors import HpobenchError
    from hpobench.tables.format import definition_hash

    recorded = {json.dumps(r.metadata.get("benchmark_definition"), sort_keys=True) for r in runs}
    if len(recorded) > 1:
        return None, f"the real runs record {len(recorded)} different benchmark definitions"
    values = runs[0].metadata.get("benchmark_definition") if runs else None
    if not isinstance(values, dict):
        return None, "the real runs do not record their benchmark definition"
    try:
        definition = BenchmarkDefinition.model_validate(values)
    except ValueError as error:
        return None, f"the recorded benchmark definition does not validate ({str(error).splitlines()[0]})"
    file = runs[0].metadata.get("benchmark_file")
    if isinstance(file, dict) and file.get("path"):
        origin = BenchmarkOrigin("file", Path(str(file["path"])).parent, location=str(file["path"]))
        definition = definition.with_origin(origin)
    else:
        from hpobench.benchmarks import benchmark_names, get_benchmark

        if definition.name in benchmark_names():
            try:
                definition = definition.with_origin(get_benchmark(definition.name).origin)
            except HpobenchError:
                return None, f"benchmark {definition.name} no longer loads here"
    if not definition.script_path.is_file():
        return None, f"its script {definition.script_path} is not on this machine"
    return definition_hash(definition), "the recorded definition with its script as it is on this machine now"
