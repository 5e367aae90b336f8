"""When a tuner stops: its budget, a signal, or too large a share of failed trials.

One path from signal to exit code: SIGTERM or a first Ctrl-C sets a
`StopRequest`; the tuner stops at its next loop (its trials killed, its results
written); the launcher then raises `StoppedBySignal` with exit code 128 + the
signal number, which the CLI prints as one line. A second Ctrl-C raises
KeyboardInterrupt at once, which the launcher turns into the same error.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, Optional

from hpobench.errors import StoppedBySignal

# Syne Tune's own limit on failed trials (its Tuner raises beyond it) is
# replaced by `FailureLimit`, so it is set out of reach.
TUNER_MAX_FAILURES = sys.maxsize
# One-sided 95% confidence, for stopping a run while it runs.
CONFIDENCE_Z = 1.645
# At the end, a share of failures is judged over at least this many finished trials.
MIN_JUDGED_AT_END = 10


def stopped_by(signum: int) -> StoppedBySignal:
    """The error a run stopped by `signum` ends with (exit code 128 + signum)."""
    cause = "Interrupted (Ctrl-C)" if signum == signal.SIGINT else f"Stopped by {signal.Signals(signum).name}"
    return StoppedBySignal(f"{cause}; finished runs and the results so far are kept", 128 + signum)


class StopRequest:
    """Set by SIGTERM or a first Ctrl-C; the tuner then stops at its next loop.

    Stopping at a loop boundary rather than raising inside the signal handler
    keeps results.csv.zip whole (an exception mid-write corrupts the zip). A
    second Ctrl-C raises KeyboardInterrupt at once, as usual.
    """

    def __init__(self) -> None:
        self.signum: Optional[int] = None

    def handle(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def check(self) -> None:
        """Raise `StoppedBySignal` if a stop was requested."""
        if self.signum is not None:
            raise stopped_by(self.signum)

    def __getstate__(self) -> dict[str, Any]:
        return {"signum": None}  # pickled with the tuner; a reload starts unstopped


class FailureLimit:
    """When a run's failed trials make it a failed run.

    Judged over the trials that finished (completed, stopped or failed; not those
    running). While the run goes on, it is stopped only when the failed share is above
    `max_fraction` with 95% confidence: the one-sided Wilson lower bound of
    failed / finished exceeds it. At the default 0.5 that is 3 failures of the first 3
    (a script that cannot run stops within seconds), 5 of 5, 7 of 8, 8 of 10, 12 of 16;
    never 3 of 5, which a space where a third of the configurations crash (out of
    memory, divergence) gives one time in five. At the end the run failed when every finished trial failed,
    or when at least 10 finished and more than `max_fraction` of them failed.
    `max_fraction` 1 never fails a run.
    """

    def __init__(self, max_fraction: float):
        self.max_fraction = max_fraction
        self.stopped_at: Optional[tuple[int, int]] = None  # (failed, finished) when it stopped the run

    def exceeded(self, failed: int, finished: int, final: bool = False) -> bool:
        """Whether `failed` of `finished` trials is more failure than the run may have; a
        run stopped for it while it ran stays failed at its end."""
        if self.stopped_at is not None:
            return True
        if failed == 0 or finished == 0 or self.max_fraction >= 1:
            return False
        if final:
            return failed == finished or (finished >= MIN_JUDGED_AT_END and failed / finished > self.max_fraction)
        if wilson_lower_bound(failed, finished) > self.max_fraction:
            self.stopped_at = (failed, finished)
            return True
        return False

    def describe(self, failed: int, finished: int) -> str:
        """Why the run failed, with the counts that decided it."""
        if self.stopped_at is not None:
            failed, finished = self.stopped_at
            return (
                f"{failed} of {finished} finished trials failed: more than {self.max_fraction:.0%} "
                "(--max-failed-fraction) with 95% confidence, so the run stopped early"
            )
        return (
            f"{failed} of {finished} finished trials failed, more than the limit of "
            f"{self.max_fraction:.0%} (--max-failed-fraction)"
        )


def wilson_lower_bound(successes: int, trials: int, z: float = CONFIDENCE_Z) -> float:
    """The Wilson score interval's lower bound for a binomial share (one-sided at `z`)."""
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials)


class StopWhen:
    """The tuner's stop criterion: the budget, a stop request, or too many failed trials."""

    def __init__(self, criterion: Any, request: StopRequest, limit: FailureLimit):
        self.criterion = criterion
        self.request = request
        self.limit = limit

    def __call__(self, status: Any) -> bool:
        return (
            self.request.signum is not None
            or self.limit.exceeded(status.num_trials_failed, status.num_trials_finished)
            or self.criterion(status)
        )


@contextlib.contextmanager
def graceful_stop() -> Iterator[StopRequest]:
    """Turn SIGTERM and a first Ctrl-C into a stop request, so the tuner's cleanup
    kills its trials and writes results (by default SIGTERM ends Python at once,
    orphaning the trials)."""
    request = StopRequest()
    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {sig: signal.signal(sig, request.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
