"""When a tuner stops: its budget, a signal, or too large a share of failed trials.

One path from signal to exit code: SIGTERM or a first Ctrl-C sets a
`StopRequest`; the tuner stops at its next loop (its trials killed, its results
written); the launcher then raises `StoppedBySignal` with exit code 128 + the
signal number, which the CLI prints as one line. A second Ctrl-C raises
KeyboardInterrupt at once, which the launcher turns into the same error.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, Optional

from hpobench.errors import StoppedBySignal

# A share of failed trials is judged only once this many have failed: one or two
# crashes early on may be unlucky configurations (divergence, out of memory).
MIN_FAILED_TRIALS = 3
# Syne Tune's own limit on failed trials (its Tuner raises beyond it) is
# replaced by `FailureLimit`, so it is set out of reach.
TUNER_MAX_FAILURES = sys.maxsize


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
    """A run is broken once more than `max_fraction` of its trials failed.

    Judged once `MIN_FAILED_TRIALS` have failed, and at the end of the run
    (where one failure in one trial counts too: nothing worked).
    """

    def __init__(self, max_fraction: float):
        self.max_fraction = max_fraction

    def exceeded(self, failed: int, started: int, final: bool = False) -> bool:
        """Whether `failed` of `started` trials is more failure than the run may have."""
        if failed == 0 or started == 0 or (failed < MIN_FAILED_TRIALS and not final):
            return False
        return failed / started > self.max_fraction

    def describe(self, failed: int, started: int) -> str:
        return (
            f"{failed} of {started} trials failed, more than the limit of "
            f"{self.max_fraction:.0%} (--max-failed-fraction)"
        )


class StopWhen:
    """The tuner's stop criterion: the budget, a stop request, or too many failed trials."""

    def __init__(self, criterion: Any, request: StopRequest, limit: FailureLimit):
        self.criterion = criterion
        self.request = request
        self.limit = limit

    def __call__(self, status: Any) -> bool:
        return (
            self.request.signum is not None
            or self.limit.exceeded(status.num_trials_failed, status.num_trials_started)
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
