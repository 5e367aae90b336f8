"""What a tabulation's runs evaluated, read from their folders, and the table made of it.

Each seed k of a tabulation is the run `TABULATE-k` of its experiment tag, possibly in several
tuner folders (an interrupted run continued in its folder; a re-run that fills in what is
missing starts a new one). A (configuration, seed) is evaluated when one trial of a folder of
that run, for the current design, reported every resource level up to the benchmark's maximum
within one session of its run (no resume between its start and its last report: the clock of
a trial continued after an interruption spans the pause, so its times are not a trial's).

Times, per trial: `elapsed_time` at a level is the report's `st_worker_timestamp` (taken by
the script's `Reporter`) minus the scheduler's decision to start the trial (`time.time()` in
`FixedDesignScheduler.suggest`, kept in tuner.dill): start-up, every earlier level and this
one, as Syne Tune's simulator charges a trial. `startup_time` is the decision to the first
report, i.e. `elapsed_time` at the first level: the process start (a fork of the fast
back-end's warm server), the script's imports and data, and the first level's training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hpobench.results import layout
from hpobench.tables.design import Design
from hpobench.tables.format import ELAPSED_TIME, STARTUP_TIME

METHOD = "TABULATE"  # the tabulation's runs: TABULATE-0, TABULATE-1, ... (never in `list methods`)
DESIGN_HASH_KEY = "design_sha256"  # in the runs' metadata.json, under scheduler_kwargs


@dataclass(frozen=True)
class Evaluation:
    """One configuration of the design trained to the maximum resource under one seed."""

    index: int  # in the design
    seed: int
    tuner_dir: Path
    trial_id: int
    levels: tuple[int, ...]  # resource levels reported, ascending
    metrics: dict[str, tuple[float, ...]]  # per reported metric, one value per level
    elapsed: tuple[float, ...]  # seconds from the decision to start the trial, per level
    decided: float  # time.time() of that decision
    # Started before any trial of its session had reported: its start-up includes the trial
    # back-end's own (the fast back-end's server importing the script's libraries).
    cold: bool = False

    @property
    def startup(self) -> float:
        return self.elapsed[0]


@dataclass
class Evaluated:
    """Every evaluation the tag's runs hold for a design, and their hardware record."""

    design: Design
    seeds: int
    found: dict[tuple[int, int], Evaluation] = field(default_factory=dict)
    gpus: Optional[dict[str, Any]] = None  # the runs' `gpus` record (metadata.json)

    def missing(self, seed: int) -> list[int]:
        """Design indices seed `seed` has not evaluated yet, in design order."""
        return [i for i in range(len(self.design.configs)) if (i, seed) not in self.found]

    def complete(self) -> list[int]:
        """Design indices evaluated under every seed."""
        return [i for i in range(len(self.design.configs)) if not self.missing_at(i)]

    def missing_at(self, index: int) -> list[int]:
        """Seeds that have not evaluated design index `index`."""
        return [s for s in range(self.seeds) if (index, s) not in self.found]

    def missing_pairs(self) -> list[tuple[int, int]]:
        """(design index, seed) not evaluated, by index then seed."""
        return [(i, s) for i in range(len(self.design.configs)) for s in self.missing_at(i)]


def scan(
    results_root: Path,
    tag: str,
    design: Design,
    seeds: int,
    resource_attr: str,
    max_resource: int,
    only: Optional[int] = None,
) -> Evaluated:
    """What the runs TABULATE-0 .. TABULATE-{seeds-1} of `tag` evaluated of `design` (`only`:
    the run of that seed alone, as a Slurm cell reads its own)."""
    evaluated = Evaluated(design, seeds)
    for seed in range(seeds) if only is None else [only]:
        folder = layout.run_dir(results_root, tag, layout.run_name(METHOD, seed))
        for tuner_dir in layout.tuner_dirs(folder):
            metadata = layout.read_metadata(tuner_dir) or {}
            kwargs = metadata.get("scheduler_kwargs")
            if not isinstance(kwargs, dict) or kwargs.get(DESIGN_HASH_KEY) != design.sha256():
                continue
            if isinstance(metadata.get("gpus"), dict):
                evaluated.gpus = metadata["gpus"]
            for evaluation in _folder_evaluations(tuner_dir, metadata, seed, resource_attr, max_resource):
                evaluated.found.setdefault((evaluation.index, seed), evaluation)
    return evaluated


def _folder_evaluations(
    tuner_dir: Path, metadata: dict[str, Any], seed: int, resource_attr: str, max_resource: int
) -> list[Evaluation]:
    import pandas as pd

    decisions = _decisions(tuner_dir)
    results_file = tuner_dir / layout.RESULTS_FILE
    if not decisions or not results_file.exists():
        return []
    try:
        results = pd.read_csv(results_file)
    except (OSError, ValueError):  # a damaged file: its trials are evaluated again
        return []
    if results.empty or resource_attr not in results.columns:
        return []
    resumed_at = [float(r["at"]) for r in metadata.get("hpobench_resumes") or [] if isinstance(r, dict) and "at" in r]
    names = _metric_names(results.columns, resource_attr)
    first_reports = sorted(float(t) for t in results.groupby("trial_id")["st_worker_timestamp"].min())
    sessions = [-math.inf, *sorted(resumed_at)]  # each session starts its back-end afresh
    found = []
    for trial_id, rows in results.groupby("trial_id"):
        if int(trial_id) not in decisions:
            continue
        index, decided = decisions[int(trial_id)]
        rows = rows.sort_values(resource_attr)
        levels = tuple(int(level) for level in rows[resource_attr])
        reported = [float(t) for t in rows["st_worker_timestamp"]]
        if not levels or levels[-1] != max_resource or len(set(levels)) != len(levels):
            continue  # failed, stopped, or a level reported twice
        if any(decided < at < reported[-1] for at in resumed_at):
            continue  # continued after an interruption: its times span the pause
        metrics = {name: tuple(float(v) for v in rows[name]) for name in names if rows[name].notna().any()}
        elapsed = tuple(t - decided for t in reported)
        session = max(start for start in sessions if start <= decided)
        cold = not any(session <= t < decided for t in first_reports)
        found.append(Evaluation(index, seed, tuner_dir, int(trial_id), levels, metrics, elapsed, decided, cold))
    return found


def _decisions(tuner_dir: Path) -> dict[int, tuple[int, float]]:
    """The scheduler's record of the folder's trials: trial id -> (design index, decision)."""
    import dill

    try:
        with (tuner_dir / layout.TUNER_FILE).open("rb") as saved:
            tuner = dill.load(saved)
        return dict(tuner.scheduler.trials)
    except Exception:  # missing, damaged or another scheduler's: nothing to read from it
        return {}


def _metric_names(columns: Sequence[str], resource_attr: str) -> list[str]:
    """The script's own reported values, and the costs hpobench measured with each
    (`hpobench_train_time`: a simulated run of a multi-objective benchmark replays it); not
    Syne Tune's (st_*), not the configuration."""
    return [c for c in columns if c != resource_attr and c != "trial_id" and not c.startswith(("st_", "config_"))]


@dataclass(frozen=True)
class TableData:
    """The arrays of a table, before they are a BlackboxTabular."""

    indices: list[int]  # design indices in the table, in design order
    fidelities: list[int]
    objectives: list[str]
    values: Any  # numpy array (configs, seeds, fidelities, objectives)


def table_data(evaluated: Evaluated, metric: str) -> TableData:
    """The configurations evaluated under every seed, at the levels all of them reported."""
    import numpy as np

    indices = evaluated.complete()
    evaluations = [evaluated.found[(i, s)] for i in indices for s in range(evaluated.seeds)]
    if not evaluations:
        return TableData([], [], [metric, ELAPSED_TIME, STARTUP_TIME], np.zeros((0, evaluated.seeds, 0, 3)))
    common = set(evaluations[0].levels).intersection(*(e.levels for e in evaluations))
    fidelities = sorted(common)
    names: dict[str, None] = {metric: None}
    for evaluation in evaluations:
        names.update(dict.fromkeys(evaluation.metrics))
    objectives = [*names, ELAPSED_TIME, STARTUP_TIME]
    values = np.full((len(indices), evaluated.seeds, len(fidelities), len(objectives)), np.nan)
    for row, index in enumerate(indices):
        for seed in range(evaluated.seeds):
            evaluation = evaluated.found[(index, seed)]
            at = [evaluation.levels.index(level) for level in fidelities]
            for column, name in enumerate(names):
                series = evaluation.metrics.get(name)
                if series is not None:
                    values[row, seed, :, column] = [series[i] for i in at]
            values[row, seed, :, -2] = [evaluation.elapsed[i] for i in at]
            values[row, seed, :, -1] = evaluation.startup
    return TableData(indices, fidelities, objectives, values)


def to_blackbox(data: TableData, design: Design, space: dict[str, Any], resource_attr: str) -> Any:
    """Syne Tune's BlackboxTabular of `data`: searched entries as its hyperparameters."""
    import numpy as np
    import pandas as pd
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.config_space import randint

    from hpobench.benchmarks.space import is_domain, to_syne_tune_space

    searched = {name: entry for name, entry in space.items() if is_domain(entry)}
    rows = [{name: design.configs[i][name] for name in searched} for i in data.indices]
    hyperparameters = pd.DataFrame(rows, columns=list(searched))
    fidelities = data.fidelities or [1]
    return BlackboxTabular(
        hyperparameters=hyperparameters,
        configuration_space=to_syne_tune_space(searched),
        fidelity_space={resource_attr: randint(min(fidelities), max(fidelities))},
        objectives_evaluations=data.values,
        fidelity_values=np.array(data.fidelities),
        objectives_names=list(data.objectives),
    )
