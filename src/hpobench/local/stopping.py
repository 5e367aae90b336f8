"""When a tuner stops: its budget, a signal, or its failed trials (`local.failures`).

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
from hpobench.local.failures import FailureRule

# Syne Tune's own limit on failed trials (its Tuner raises beyond it) is
# replaced by `FailureRule`, so it is set out of reach.
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


class StopWhen:
    """The tuner's stop criterion: the budget, a stop request, or the failure rule."""

    def __init__(self, criterion: Any, request: StopRequest, failures: FailureRule):
        self.criterion = criterion
        self.request = request
        self.failures = failures

    def __call__(self, status: Any) -> bool:
        if self.request.signum is not None:
            return True
        if not self.failures.settled:  # once settled, no trial can change its verdict
            self.failures.observe_status(status)
            if self.failures.should_stop():
                return True
        return bool(self.criterion(status))


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
