"""How a launcher tells its caller what is happening, without knowing how it is shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hpobench.plan import ExperimentPlan, PlannedRun


@dataclass
class RunOutcome:
    """What became of one (method, seed) run."""

    run: PlannedRun
    status: str  # "complete", "skipped", "failed" or "interrupted"
    path: Optional[Path]
    best: Optional[float] = None
    message: str = ""
    trials_failed: int = 0
    trials_started: int = 0
    # Failed for bad input (a script that never reports an objective): the launcher exits 2.
    bad_input: bool = False
    # A complete run whose results show bad input (no result inside the benchmark's reference
    # point): one line the launcher reports, exit 2, after every run of the plan ran.
    problem: str = ""


@dataclass
class TuningSnapshot:
    """The state of the running tuner, as shown in the progress display."""

    trials_started: int
    trials_finished: int
    best: Optional[float]
    elapsed: float
    budget: float


class ProgressObserver:
    """Receives launcher events; the default ignores them all."""

    def plan_started(self, plan: ExperimentPlan) -> None:
        pass

    def run_skipped(self, run: PlannedRun, path: Path) -> None:
        pass

    def run_started(self, run: PlannedRun, index: int, plan: ExperimentPlan) -> None:
        pass

    def run_resumed(self, run: PlannedRun, how: str) -> None:
        pass

    def tuning_update(self, snapshot: TuningSnapshot) -> None:
        pass

    def run_finished(self, outcome: RunOutcome) -> None:
        pass

    def plan_finished(self, outcomes: list[RunOutcome]) -> None:
        pass
