"""Syne Tune's own tables as benchmarks: `--benchmark blackbox:NAME/TASK` reads a blackbox
that Syne Tune's conversion scripts wrote to the user's blackbox repository (fcnet,
nasbench201, lcbench, pd1, ...), from local files only, and `list benchmarks --tables`
lists what is there beside hpobench's own tables.

A blackbox's `metadata.json` names its default metric (`metric_default`), its elapsed-time
column (`metric_elapsed_time`) and its fidelity (`time_attr`), as the conversion scripts
write them; the mode and the budget are not stored, so they come from `KNOWN` for the
blackboxes Syne Tune converts, else from the metric's name (accuracy-like: max).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from hpobench.tables.format import MANIFEST_FILE, SYNE_TUNE_FILES, TableError

PREFIX = "blackbox:"
# Where Syne Tune's repository is, when not Syne Tune's own default (~/.blackbox-repository):
# Syne Tune has no variable of its own for it.
REPOSITORY_VARIABLE = "HPOBENCH_BLACKBOX_REPOSITORY"
# Keys of a converted blackbox's metadata.json (syne_tune/blackbox_repository/conversion_scripts/scripts/__init__.py).
METRIC_DEFAULT = "metric_default"
METRIC_ELAPSED_TIME = "metric_elapsed_time"
TIME_ATTR = "time_attr"
# Trials run at once in a simulated study of a blackbox, as in Syne Tune's benchmarking.
N_WORKERS = 4


@dataclass(frozen=True)
class Known:
    """What a blackbox's files do not say: the mode of its default metric and a budget."""

    mode: Literal["min", "max"]
    max_wallclock_time: float  # simulated seconds, as Syne Tune's benchmark definitions use


KNOWN = {
    "fcnet": Known("min", 1200.0),
    "nasbench201": Known("min", 72000.0),
    "lcbench": Known("max", 7200.0),
    "pd1": Known("min", 7200.0),
}
DEFAULT_BUDGET = 3600.0
_MAXIMIZED = re.compile(r"acc|auc|performance|score|f1")


def repository_path() -> Path:
    """The blackbox repository: HPOBENCH_BLACKBOX_REPOSITORY, else Syne Tune's default."""
    given = os.environ.get(REPOSITORY_VARIABLE)
    if given:
        return Path(given).expanduser()
    from syne_tune.blackbox_repository.conversion_scripts.utils import repository_path as syne_tune_path

    return Path(syne_tune_path)


def split_reference(reference: str) -> tuple[str, str]:
    """`blackbox:NAME/TASK` -> (NAME, TASK); a TableError for any other form."""
    name, sep, task = reference.removeprefix(PREFIX).partition("/")
    if not name or not sep or not task or "/" in task:
        raise TableError(
            f"Invalid --benchmark {reference!r}: expected blackbox:NAME/TASK, e.g. blackbox:fcnet/protein_structure"
        )
    return name, task


def conversion_command(name: str) -> str:
    """The command that converts (downloads) blackbox `name` into Syne Tune's repository."""
    return f"python -c \"from syne_tune.blackbox_repository import load_blackbox; load_blackbox('{name}')\""


def _metadata(folder: Path, name: str) -> dict[str, Any]:
    absent = [file for file in SYNE_TUNE_FILES if not (folder / file).is_file()]
    if absent:
        how = "" if os.environ.get(REPOSITORY_VARIABLE) else f" (or set {REPOSITORY_VARIABLE} to the repository)"
        state = "No blackbox" if len(absent) == len(SYNE_TUNE_FILES) else "Incomplete blackbox"
        raise TableError(f"{state} {name!r} in {folder.parent}; convert it with `{conversion_command(name)}`{how}")
    try:
        metadata = json.loads((folder / "metadata.json").read_text())
    except (OSError, ValueError) as error:
        raise TableError(f"Blackbox {folder} has a damaged metadata.json ({error}); convert it again") from None
    return metadata if isinstance(metadata, dict) else {}


def blackbox_source(reference: str) -> Any:
    """The table of `blackbox:NAME/TASK` (tables.simulated.TableSource)."""
    from hpobench.tables.simulated import TableSource

    name, task = split_reference(reference)
    folder = repository_path() / name
    metadata = _metadata(folder, name)
    elapsed = metadata.get(METRIC_ELAPSED_TIME)
    if not isinstance(elapsed, str):
        raise TableError(
            f"Blackbox {name!r} names no elapsed-time column ({METRIC_ELAPSED_TIME}); it cannot be simulated"
        )
    return TableSource(folder, task, elapsed)


def blackbox_benchmark(reference: str) -> Any:
    """The benchmark definition of `blackbox:NAME/TASK`, from its files' space, fidelity and
    metadata (the table's values themselves are read when a run starts)."""
    from syne_tune.blackbox_repository.serialize import deserialize_configspace

    from hpobench.benchmarks.definition import BenchmarkDefinition, BenchmarkOrigin

    name, task = split_reference(reference)
    folder = repository_path() / name
    metadata = _metadata(folder, name)
    tasks = metadata.get("task_names") or []
    if task not in tasks:
        raise TableError(f"Blackbox {name!r} has no task {task!r}; it has {', '.join(map(str, tasks)) or 'none'}")
    objectives = list(metadata.get("objectives_names") or [])
    metric = metadata.get(METRIC_DEFAULT) or (objectives[0] if objectives else None)
    if not isinstance(metric, str):
        raise TableError(f"Blackbox {name!r} names no objectives in its metadata.json; convert it again")
    try:
        space, fidelity_space = deserialize_configspace(str(folder))
    except Exception as error:  # Syne Tune's from_dict raises whatever a damaged file provokes
        raise TableError(f"Blackbox {folder} has a damaged configspace.json or fidelityspace.json ({error})") from None
    if not fidelity_space or len(fidelity_space) != 1:
        raise TableError(f"Blackbox {name!r} has no single fidelity; it cannot be simulated")
    resource_attr, fidelity = next(iter(fidelity_space.items()))
    max_resource_attr = f"max_{resource_attr}"
    known = KNOWN.get(name, Known("max" if _MAXIMIZED.search(metric.lower()) else "min", DEFAULT_BUDGET))
    definition = BenchmarkDefinition(
        name=_benchmark_name(name, task),
        description=f"Syne Tune's blackbox {name}, task {task} (simulated only)",
        script="",
        config_space={**_hpobench_space(space, name), max_resource_attr: int(fidelity.upper)},
        metric=metric,
        mode=known.mode,
        max_resource_attr=max_resource_attr,
        resource_attr=resource_attr,
        max_wallclock_time=known.max_wallclock_time,
        n_workers=N_WORKERS,
        instance_type="simulated",
        hardware="none (simulated)",
    )
    return definition.with_origin(BenchmarkOrigin("blackbox", folder, reference))


def _benchmark_name(name: str, task: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", f"{name}-{task}".lower()).strip("-_") or "blackbox"


def _hpobench_space(space: dict[str, Any], name: str) -> dict[str, Any]:
    """Syne Tune's domains as hpobench's (benchmarks/space.py): choices for finite domains."""
    from syne_tune.config_space import Categorical, FiniteRange, Float, Integer, is_log_space

    from hpobench.benchmarks.space import Choice, LogRandInt, LogUniform, RandInt, Uniform

    converted: dict[str, Any] = {}
    for key, domain in space.items():
        log = isinstance(domain, (Float, Integer)) and is_log_space(domain)
        if isinstance(domain, Categorical):
            converted[key] = Choice(categories=tuple(domain.categories))
        elif isinstance(domain, FiniteRange):
            converted[key] = Choice(categories=tuple(domain.values))
        elif isinstance(domain, Integer):
            converted[key] = (LogRandInt if log else RandInt)(lower=domain.lower, upper=domain.upper)
        elif isinstance(domain, Float):
            converted[key] = (LogUniform if log else Uniform)(lower=domain.lower, upper=domain.upper)
        elif isinstance(domain, (bool, int, float, str)):
            converted[key] = domain
        else:
            raise TableError(f"Blackbox {name!r}: hpobench cannot search {key} ({domain})")
    return converted


def list_tables(results_root: Path) -> list[dict[str, Optional[str]]]:
    """The tables present: hpobench's under RESULTS_ROOT/tables/ and the tasks of each
    blackbox in Syne Tune's repository, as `--benchmark`/`--table` take them."""
    from hpobench.tables.format import TABLES_FOLDER

    found: list[dict[str, Optional[str]]] = []
    tables = results_root / TABLES_FOLDER
    for folder in sorted(tables.iterdir()) if tables.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith(".") and (folder / "metadata.json").is_file():
            manifest = _json(folder / MANIFEST_FILE)
            benchmark = manifest.get("benchmark") if manifest else folder.name
            found.append({"benchmark": str(benchmark), "table": str(folder), "source": "hpobench"})
    repository = repository_path()
    for folder in sorted(repository.iterdir()) if repository.is_dir() else []:
        metadata = _json(folder / "metadata.json") if folder.is_dir() else None
        for task in (metadata or {}).get("task_names") or []:
            found.append({"benchmark": f"{PREFIX}{folder.name}/{task}", "table": str(folder), "source": "syne-tune"})
    return found


def _json(path: Path) -> Optional[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
