"""Syne Tune tuner callbacks and loggers used by the local launcher.

This module imports Syne Tune at the top; import it only where a tuner runs.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from syne_tune.tuner_callback import TunerCallback
from syne_tune.tuner_logger import TunerLogger

from hpobench.local.progress import ProgressObserver, TuningSnapshot


class ProgressCallback(TunerCallback):
    """Forwards the tuner's progress (trials, best metric, time) to an observer."""

    def __init__(self, observer: ProgressObserver, metric: str, mode: str, budget: float):
        self.observer: Optional[ProgressObserver] = observer
        self.metric = metric
        self.mode = mode
        self.budget = budget
        self.best: Optional[float] = None
        self.tuner: Any = None
        self.start = time.monotonic()

    def __getstate__(self) -> dict[str, Any]:
        # The tuner pickles its callbacks into tuner.dill; a live display must not
        # travel along (it holds locks and a terminal).
        return {**self.__dict__, "observer": None}

    def on_tuning_start(self, tuner: Any) -> None:
        self.tuner = tuner
        self.start = time.monotonic()

    def on_trial_result(self, trial: Any, status: str, result: dict, decision: str) -> None:
        value = result.get(self.metric)
        if isinstance(value, (int, float)) and value == value:  # NaN != NaN
            if self.best is None or (value < self.best if self.mode == "min" else value > self.best):
                self.best = float(value)

    def on_loop_end(self) -> None:
        if self.observer is None or self.tuner is None:
            return
        status = self.tuner.tuning_status
        self.observer.tuning_update(
            TuningSnapshot(
                trials_started=status.num_trials_started,
                trials_finished=status.num_trials_finished,
                best=self.best,
                elapsed=time.monotonic() - self.start,
                budget=self.budget,
            )
        )


class QuietTunerLogger(TunerLogger):
    """Drops the tuner's per-trial console messages; hpobench shows its own progress."""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("print_"):
            return _ignore
        return super().__getattribute__(name)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None
