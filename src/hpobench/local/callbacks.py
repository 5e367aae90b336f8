"""Syne Tune tuner callbacks and loggers used by the local launcher.

This module imports Syne Tune at the top; import it only where a tuner runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from syne_tune.results_callback import StoreResultsCallback
from syne_tune.tuner_callback import TunerCallback
from syne_tune.tuner_logger import TunerLogger

from hpobench.local.progress import ProgressObserver, TuningSnapshot
from hpobench.results import layout


class ProgressCallback(TunerCallback):
    """Forwards the tuner's progress (trials, best metric, time) to an observer."""

    def __init__(
        self,
        observer: ProgressObserver,
        metric: str,
        mode: str,
        budget: float,
        spent: float = 0.0,
        best: Optional[float] = None,
    ):
        self.observer: Optional[ProgressObserver] = observer
        self.metric = metric
        self.mode = mode
        self.budget = budget
        self.spent = spent  # of the budget, before a resumed run was interrupted
        self.best = best
        self.tuner: Any = None
        self._updated = 0.0

    def __getstate__(self) -> dict[str, Any]:
        # The tuner pickles its callbacks into tuner.dill; a live display must not
        # travel along (it holds locks and a terminal).
        return {**self.__dict__, "observer": None}

    def on_tuning_start(self, tuner: Any) -> None:
        self.tuner = tuner

    def on_trial_result(self, trial: Any, status: str, result: dict, decision: str) -> None:
        value = result.get(self.metric)
        if isinstance(value, (int, float)) and value == value:  # NaN != NaN
            if self.best is None or (value < self.best if self.mode == "min" else value > self.best):
                self.best = float(value)

    # A display redrawn more often is not read faster; the tuner's status counts its trials
    # anew at each call (a simulated run loops thousands of times a second).
    UPDATE_INTERVAL = 0.1

    def on_loop_end(self) -> None:
        if self.observer is None or self.tuner is None:
            return
        now = time.monotonic()
        if now - self._updated < self.UPDATE_INTERVAL:
            return
        self._updated = now
        status = self.tuner.tuning_status
        self.observer.tuning_update(
            TuningSnapshot(
                trials_started=status.num_trials_started,
                trials_finished=status.num_trials_finished,
                best=self.best,
                elapsed=status.wallclock_time,  # counted from `spent` by RunClock (simulated on a simulated back-end)
                budget=self.budget,
            )
        )


class RunClock(TunerCallback):
    """The run's clock: its budget, `st_tuner_time` and the progress display count the
    seconds it was up, continuing from `spent` when it was resumed (down time excluded).

    Written to the clock file every CLOCK_INTERVAL seconds, so a run that is killed
    without warning is resumed with the budget it had left. Comes after the
    results callback, whose start time it sets.
    """

    CLOCK_INTERVAL = 1.0

    def __init__(self, tuner_dir: Path, spent: float = 0.0):
        self.tuner_dir = tuner_dir
        self.spent = spent
        self.tuner: Any = None
        self._written = 0.0

    def on_tuning_start(self, tuner: Any) -> None:
        self.tuner = tuner
        start = time.perf_counter() - self.spent
        tuner.tuning_status.start_time = start  # what the wall-clock stopping criterion reads
        for callback in tuner.callbacks:
            if isinstance(callback, StoreResultsCallback):
                callback._start_time_stamp = start  # st_tuner_time of each result

    def on_loop_end(self) -> None:
        if time.monotonic() - self._written >= self.CLOCK_INTERVAL:
            self.write()

    def on_tuning_end(self) -> None:
        self.write()

    def write(self) -> None:
        self._written = time.monotonic()
        if self.tuner is None or not self.tuner_dir.is_dir():
            return
        try:
            layout.write_clock(self.tuner_dir, self.tuner.tuning_status.wallclock_time)
        except OSError:
            pass  # a full disk: the run goes on; a resume then counts from the last record

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "tuner": None}


class QuietTunerLogger(TunerLogger):
    """Drops the tuner's per-trial console messages; hpobench shows its own progress."""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("print_"):
            return _ignore
        return super().__getattribute__(name)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None
