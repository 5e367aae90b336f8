"""Runs on a table in simulated time: which table a run replays, whether it fits the
benchmark and the methods, and the simulated back-end built from it.

`local/` knows only the back-end's name ("simulated"): `local/backends.py` calls
`check_simulation` before the first run and `simulated_backend` for each run. What a table
is lives in `tables/format.py`; Syne Tune's own tables (`blackbox:NAME/TASK`) in
`tables/blackboxes.py`. The back-end itself is Syne Tune's (`tables/simulated_backend.py`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from hpobench.tables.format import (
    ELAPSED_TIME,
    MANIFEST_FILE,
    SYNE_TUNE_FILES,
    LoadedTable,
    TableError,
    default_table_path,
    definition_hash,
    read_manifest,
    read_table,
)

if TYPE_CHECKING:
    from hpobench.benchmarks import BenchmarkDefinition
    from hpobench.settings import LocalSettings

logger = logging.getLogger(__name__)

SIMULATED = "simulated"
# --surrogate's names and the scikit-learn regressors Syne Tune's add_surrogate fits.
SURROGATES = ("knn", "random_forest")
# Methods that decide at intermediate levels (methods/spec.py's `decisions`) need them in the table.
LEVEL_DECISIONS = ("promotion", "stopping", "re-run")


@dataclass(frozen=True)
class TableSource:
    """The table a simulated run replays: its folder, task and time column."""

    path: Path
    task: Optional[str]
    elapsed_time_attr: str


def table_source(benchmark: BenchmarkDefinition, table: Optional[Path], results_root: Path) -> TableSource:
    """The table of `benchmark`: a Syne Tune blackbox's (`blackbox:NAME/TASK`), --table, or the
    default path; a TableError naming the command that makes it if it is not there."""
    from hpobench.tables import blackboxes

    if benchmark.origin.kind == "blackbox":
        return blackboxes.blackbox_source(benchmark.origin.location)
    path = (
        Path(table).expanduser().absolute() if table is not None else default_table_path(results_root, benchmark.name)
    )
    if not path.is_dir():
        given = "--table" if table is not None else "the default table path"
        raise TableError(
            f"No table of benchmark {benchmark.name!r} at {path} ({given}); make it with "
            f"`hpobench tabulate --benchmark {benchmark.reference}`, or pass --table PATH"
        )
    return TableSource(path, None, ELAPSED_TIME)


def table_identity(options: Any, benchmark: BenchmarkDefinition) -> tuple[str, Optional[str]]:
    """The table's path and its manifest's hash (None without a manifest), read without
    loading the table: what one experiment tag must agree on."""
    from hpobench.settings import default_results_root

    results_root = getattr(options, "results_root", None) or default_results_root()
    source = table_source(benchmark, getattr(options, "table", None), results_root)
    manifest = read_manifest(source.path)
    return str(source.path), None if manifest is None else manifest.sha256()


def check_simulation(settings: LocalSettings, benchmark: BenchmarkDefinition, methods: list[str]) -> None:
    """Read the table once and check that it fits `benchmark` and every method: a TableError
    (one line, exit 2) before any run starts otherwise."""
    source = table_source(benchmark, settings.table, settings.results_root)
    loaded = _read(source.path, source.task)
    check_levels(loaded, methods)
    check_fit(loaded, benchmark, source.elapsed_time_attr)
    manifest = loaded.manifest
    if manifest is not None and manifest.definition_hash != definition_hash(benchmark):
        # Not refused: `--set` changes the definition too; the fidelity report flags it.
        logger.warning(
            "table %s was tabulated from another definition of %s (or other --set values) than "
            "this run's; its results stand for that one",
            loaded.path,
            manifest.benchmark,
        )
    if settings.surrogate is not None:
        _simulation_table(str(source.path), source.task, settings.surrogate, source.elapsed_time_attr)


def check_fit(loaded: LoadedTable, benchmark: BenchmarkDefinition, elapsed_time_attr: str) -> None:
    """The table has the benchmark's searched hyperparameters with the same domains, its
    metric and elapsed time, its resource as fidelity, up to its maximum resource."""
    from syne_tune.config_space import to_dict

    from hpobench.benchmarks.space import is_domain, to_syne_tune_space

    blackbox, where = loaded.blackbox, f"Table {loaded.path}"
    fix = f"tabulate it again with `hpobench tabulate --benchmark {benchmark.reference}` or pass another --table"
    searched = to_syne_tune_space({k: v for k, v in benchmark.config_space.items() if is_domain(v)})
    table_space = blackbox.configuration_space
    if set(table_space) != set(searched):
        raise TableError(
            f"{where} does not fit benchmark {benchmark.name!r}: it has hyperparameters "
            f"{', '.join(sorted(table_space))}, the benchmark searches {', '.join(sorted(searched))}; {fix}"
        )
    for name, domain in searched.items():
        if to_dict(table_space[name]) != to_dict(domain):
            raise TableError(
                f"{where} does not fit benchmark {benchmark.name!r}: its domain of {name} is "
                f"{table_space[name]}, the benchmark's is {domain}; {fix}"
            )
    objectives = list(blackbox.objectives_names)
    # Every objective, a measured cost too: a table tabulated by an hpobench that did not yet
    # record hpobench_train_time with each result cannot replay it.
    needed = [(o.metric, "objective" if benchmark.multi_objective else "metric") for o in benchmark.objectives]
    for column, what in (*needed, (elapsed_time_attr, "elapsed time")):
        if column not in objectives:
            raise TableError(
                f"{where} does not fit benchmark {benchmark.name!r}: no {what} column {column!r} "
                f"(it has {', '.join(objectives)}); {fix}"
            )
    fidelity = blackbox.fidelity_name()
    if fidelity != benchmark.resource_attr:
        raise TableError(
            f"{where} does not fit benchmark {benchmark.name!r}: its fidelity is {fidelity!r}, "
            f"the benchmark's resource is {benchmark.resource_attr!r}; {fix}"
        )
    highest = max(blackbox.fidelity_values)
    if highest < benchmark.max_resource:
        raise TableError(
            f"{where} has levels up to {fidelity}={highest:g}, but benchmark {benchmark.name!r} "
            f"trains to {benchmark.max_resource_attr}={benchmark.max_resource}; pass --set "
            f"{benchmark.max_resource_attr}={highest:g} or {fix}"
        )


def check_levels(loaded: LoadedTable, methods: list[str]) -> None:
    """Methods that stop, pause or re-run trials at lower levels need a table of several."""
    from hpobench.methods import get_method

    if len(loaded.blackbox.fidelity_values) > 1:
        return
    for method in methods:
        if get_method(method).decisions in LEVEL_DECISIONS:
            raise TableError(
                f"Method {method} decides at intermediate levels, but table {loaded.path} has one "
                "level only; use a method that trains every trial to the end (RS, BO, TPE, ...) or "
                "tabulate every level"
            )


def simulated_backend(settings: LocalSettings, benchmark: BenchmarkDefinition, seed: int, poll_interval: float) -> Any:
    """The simulated back-end of one run: the table (with its surrogate), its per-trial
    seeds drawn from `seed` (the run's effective seed), the tuner's simulated poll interval."""
    from hpobench.results.layout import SIMULATED_KEY
    from hpobench.tables.simulated_backend import SimulatedBackend

    source = table_source(benchmark, settings.table, settings.results_root)
    reload = functools.partial(
        _simulation_table, str(source.path), source.task, settings.surrogate, source.elapsed_time_attr
    )
    blackbox, projection = reload()
    backend = SimulatedBackend(
        blackbox=blackbox,
        reload=reload,
        projection=projection,
        elapsed_time_attr=source.elapsed_time_attr,
        max_resource_attr=benchmark.max_resource_attr,
        resource_attr=benchmark.resource_attr,
        seed=seed,
        poll_interval=poll_interval,
    )
    manifest = _read(source.path, source.task).manifest
    backend.record = {
        SIMULATED_KEY: {
            "table": str(source.path),
            "task": source.task,
            "manifest_sha256": None if manifest is None else manifest.sha256(),
            "manifest": None if manifest is None else manifest.to_json(),
            "surrogate": settings.surrogate,
            # Tabulated by hpobench (with its manifest), or converted by Syne Tune's scripts.
            "source": "hpobench" if manifest is not None else "syne-tune",
        }
    }
    return backend


def _read(path: str | Path, task: Optional[str]) -> LoadedTable:
    """A table read once per process while its files stay as they are (a study's runs
    replay the same table)."""
    return _read_as_of(str(path), task, _stamp(Path(path)))


@functools.lru_cache(maxsize=8)
def _read_as_of(path: str, task: Optional[str], stamp: tuple[Any, ...]) -> LoadedTable:
    return read_table(Path(path), task)


def _stamp(path: Path) -> tuple[Any, ...]:
    """The table's files' sizes and times: a table written again is read again."""
    stamps: list[tuple[str, Optional[int], Optional[int]]] = []
    for name in (*SYNE_TUNE_FILES, MANIFEST_FILE):
        try:
            info = (path / name).stat()
            stamps.append((name, info.st_size, info.st_mtime_ns))
        except OSError:
            stamps.append((name, None, None))
    return tuple(stamps)


def _simulation_table(path: str, task: Optional[str], surrogate: Optional[str], elapsed_time_attr: str) -> Any:
    """(blackbox, projection) for a run: the table, with no projection to its rows when a
    surrogate predicts every configuration (fitted once per process)."""
    return _simulation_table_as_of(path, task, surrogate, elapsed_time_attr, _stamp(Path(path)))


@functools.lru_cache(maxsize=8)
def _simulation_table_as_of(
    path: str, task: Optional[str], surrogate: Optional[str], elapsed_time_attr: str, stamp: tuple[Any, ...]
) -> Any:
    from hpobench.tables.simulated_backend import TableProjection

    loaded = _read(path, task)
    blackbox = loaded.blackbox
    if surrogate is None:
        return blackbox, TableProjection(blackbox.all_configurations(), blackbox.configuration_space)
    from syne_tune.blackbox_repository import add_surrogate

    try:
        # Whole curves per configuration (predict_curves): KNN and forests predict averages of
        # the table's curves, so elapsed times stay cumulative without `fit_differences`
        # (which writes into a read-only array under pandas' copy-on-write).
        fitted = add_surrogate(blackbox, surrogate=_regressor(surrogate, blackbox.num_seeds), predict_curves=True)
    except Exception as error:  # scikit-learn refuses what it cannot fit (e.g. NaN in the table)
        raise TableError(f"Cannot fit a {surrogate} surrogate to table {path}: {error}") from None
    return fitted, None


def _regressor(surrogate: str, seeds: int) -> Any:
    """The scikit-learn model of `--surrogate`: KNN averages the nearest configuration's
    seeds (as many neighbours as the table has seeds); the forest's randomness is fixed,
    so that every run of a study replays the same surrogate."""
    if surrogate == "knn":
        from sklearn.neighbors import KNeighborsRegressor

        return KNeighborsRegressor(n_neighbors=max(1, seeds))
    if surrogate == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, random_state=0)
    raise TableError(f"Unknown surrogate {surrogate!r}; choose {' or '.join(SURROGATES)}")
