"""What a run's metadata.json says, as one typed record with unambiguous names.

metadata.json keeps the keys it has always had, because Syne Tune's own loaders read
the file and older results folders must still load. Three of them are easy to
confuse, so the record names them apart:

- `seed` is the seed index of the run (0, 1, ...): `seed_index`;
- `random_seed` is the run's effective seed, drawn from the master seed and the index:
  `effective_seed` (in settings and on the command line, `--random-seed` is the master);
- `random_seed_master` is the experiment's master seed: `master_seed`.

A value of the wrong type becomes a problem on the record, never an exception: a
results folder is read whatever state it is in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hpobench.benchmarks.objectives import Hypervolume, Objective
from hpobench.results import layout


@dataclass
class RunRecord:
    benchmark: Optional[str] = None
    method: Optional[str] = None
    seed_index: Optional[int] = None
    effective_seed: Optional[int] = None
    master_seed: Optional[int] = None
    status: Optional[str] = None  # layout.STATUS_*, as the launcher last wrote it
    metric: Optional[str] = None
    mode: Optional[str] = None  # "min" or "max"
    resource_attr: Optional[str] = None
    max_resource_attr: Optional[str] = None
    budget: Optional[float] = None  # max_wallclock_time, seconds
    wallclock_used: Optional[float] = None  # seconds of budget the run used, at its end
    best: Optional[float] = None  # best metric value, recorded at its end
    # Whether each method's first trial was the default configuration; None: not recorded
    # (written by an hpobench before the default first trial existed, which ran without it).
    default_first_trial: Optional[bool] = None
    error: Optional[str] = None  # why it failed, as the launcher said
    trials_started: Optional[int] = None  # recorded when the run ended
    trials_failed: Optional[int] = None
    process: Optional[dict[str, Any]] = None  # the launcher's host, pid and start time
    # A simulated run's table, manifest, surrogate and source (layout.SIMULATED_KEY); None: real trials.
    simulated: Optional[dict[str, Any]] = None
    versions: dict[str, Any] = field(default_factory=dict)
    # The benchmark's objectives and hypervolume reference point, from the definition the run
    # recorded (`benchmark_definition`); one objective (or none recorded): single-objective.
    objectives: tuple[Objective, ...] = ()
    hypervolume: Optional[Hypervolume] = None
    problems: list[str] = field(default_factory=list)

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1 and self.hypervolume is not None

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> RunRecord:
        record = cls()
        read = _Reader(metadata, record.problems)
        record.benchmark = read.text("benchmark")
        record.method = read.text("method")
        record.seed_index = read.integer("seed")
        record.effective_seed = read.integer("random_seed")
        record.master_seed = read.integer("random_seed_master")
        record.status = read.text(layout.STATUS_KEY)
        names = metadata.get("metric_names")  # Syne Tune's own key, when hpobench's is absent
        record.metric = read.text("metric", "column name") or (
            _Reader({"metric_names": names[0]}, record.problems).text("metric_names", "column name")
            if isinstance(names, list) and names
            else None
        )
        mode = metadata.get("mode") or metadata.get("metric_mode")
        mode = mode[0] if isinstance(mode, list) and mode else mode
        record.mode = mode if mode in ("min", "max") else None
        if mode is not None and record.mode is None:
            record.problems.append(f"metadata.json: mode {mode!r} is neither 'min' nor 'max'")
        record.resource_attr = read.text("resource_attr", "column name")
        record.max_resource_attr = read.text("max_resource_attr", "column name")
        record.budget = read.number("max_wallclock_time")
        record.wallclock_used = read.number("hpobench_wallclock_time")
        record.best = read.number("hpobench_best")
        record.default_first_trial = read.flag("default_first_trial")
        record.trials_started = read.integer(layout.TRIALS_STARTED_KEY)
        record.trials_failed = read.integer(layout.TRIALS_FAILED_KEY)
        error = metadata.get("hpobench_error")
        record.error = error if isinstance(error, str) and error else None
        process = metadata.get(layout.PROCESS_KEY)
        record.process = process if isinstance(process, dict) else None
        simulated = metadata.get(layout.SIMULATED_KEY)
        record.simulated = simulated if isinstance(simulated, dict) else None
        versions = metadata.get("versions")
        record.versions = dict(versions) if isinstance(versions, dict) else {}
        if record.metric is None:
            record.problems.append("metadata.json names no metric")
        record.objectives, record.hypervolume = _objectives(metadata, record.problems)
        return record


def _objectives(metadata: dict[str, Any], problems: list[str]) -> tuple[tuple[Objective, ...], Optional[Hypervolume]]:
    """The objectives and hypervolume of the definition a run recorded; a value that does not
    validate is a problem, and the run reads as single-objective."""
    from pydantic import ValidationError

    definition = metadata.get("benchmark_definition")
    if not isinstance(definition, dict) or not definition.get("objectives"):
        return (), None
    objectives: list[Objective] = []
    where = "objectives"
    try:
        for index, item in enumerate(definition["objectives"]):
            where = f"objectives[{index}]"
            objectives.append(Objective.model_validate(item))
        where = "hypervolume"
        hypervolume = definition.get("hypervolume")
        reference = None if hypervolume is None else Hypervolume.model_validate(hypervolume)
    except (ValidationError, TypeError) as error:
        problems.append(f"metadata.json: benchmark_definition.{where} does not read ({_first_error(error)})")
        return (), None
    if len(objectives) > 1 and reference is None:
        problems.append("metadata.json: benchmark_definition has several objectives but no hypervolume")
        return (), None
    return tuple(objectives), reference


def _first_error(error: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)


@dataclass
class _Reader:
    """Typed reads of metadata.json's values; a wrong type is noted and read as absent."""

    metadata: dict[str, Any]
    problems: list[str]

    def text(self, key: str, what: str = "name") -> Optional[str]:
        value = self.metadata.get(key)
        if value is None or (isinstance(value, str) and value):
            return value
        self.problems.append(f"metadata.json: {key} {value!r} is not a {what}")
        return None

    def integer(self, key: str) -> Optional[int]:
        value = self.metadata.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.problems.append(f"metadata.json: {key} {value!r} is not an integer")
        return None

    def flag(self, key: str) -> Optional[bool]:
        value = self.metadata.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.problems.append(f"metadata.json: {key} {value!r} is not true or false")
        return None

    def number(self, key: str) -> Optional[float]:
        value = self.metadata.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return None  # absent while a run is in progress: not a problem
