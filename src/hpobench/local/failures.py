"""When a run's failed trials make it a failed run: a pure rule, fed with trial events.

A search space where some configurations crash (out of memory, divergence) is a
legitimate study, as it is for Optuna or Ray Tune: failed trials are recorded and the
run goes on. By default a run is stopped early only when its script evidently cannot
work: its first `EVIDENT_FAILURES` trials (in the order they started) all failed and no
trial has reported a result yet. At its end a run is failed when trials failed and none
ever reported.

A user may ask for a limit (`--max-failed-fraction F`): the run is stopped once the
failed share is above F with 95% confidence. Two things keep that judgement honest:

- Trials are judged in the order they started, as a prefix: a trial enters once it has
  reported a result or failed, and a trial counts only when every trial started before
  it has entered. Under promotion (ASHA, MOBSTER) most healthy trials are paused, not
  finished, and a crash ends a trial sooner than a healthy one reports: judged in the
  order trials end, the first trials judged would be the crashed ones. A paused trial
  counts as healthy (it may still fail when it resumes: it then counts as failed).
- The test is anytime-valid, so looking after every trial does not inflate its error: a
  mixture likelihood ratio (uniform prior over failure shares above F) against a share
  of F is a nonnegative supermartingale while the true share is at most F, so by Ville's
  inequality it ever exceeds 1/alpha with probability at most alpha. (A fixed-sample
  bound checked after every trial, as before, stops far more than alpha of healthy runs.)

`tests/local/test_failure_rule.py` validates both by simulating 10,000 asynchronous
ASHA runs of 300 trials (`tests/failure_runs.py`).
"""

from __future__ import annotations

import math
from typing import Any, Optional

# The first trials that all fail, before any trial reported, make a script that cannot run.
EVIDENT_FAILURES = 3
# The user-set limit's error: a run whose trials fail at most at the limit's share is
# stopped with at most this probability, however often it is looked at.
ALPHA = 0.05


def log_mixture_ratio(failed: int, judged: int, share: float) -> float:
    """log of the likelihood ratio of `failed` failures in `judged` trials, a uniform
    mixture over failure shares in (share, 1] against the share `share`."""
    from scipy.special import betainc, betaln

    healthy = judged - failed
    # The integral of p^f (1-p)^h over (share, 1] is B(f+1, h+1) * I_{1-share}(h+1, f+1).
    tail = betainc(healthy + 1, failed + 1, 1 - share)
    if tail <= 0:
        return -math.inf
    return (
        betaln(failed + 1, healthy + 1)
        + math.log(tail)
        - math.log(1 - share)
        - failed * math.log(share)
        - healthy * math.log1p(-share)
    )


class FailureThresholds:
    """The fewest failures among the first n judged trials that stop a run at a limit's
    share (the ratio reaches 1/alpha; it grows with the failures, so one count per n)."""

    def __init__(self, share: float, alpha: float = ALPHA):
        self.share = share
        self.log_level = math.log(1 / alpha)
        self._fewest: list[int] = [1]  # n = 0: nothing judged, nothing stops (1 > 0)

    def fewest(self, judged: int) -> int:
        while len(self._fewest) <= judged:
            n = len(self._fewest)
            f = self._fewest[-1]  # needs at least as many failures as one trial fewer did
            while f <= n and log_mixture_ratio(f, n, self.share) < self.log_level:
                f += 1
            self._fewest.append(f)
        return self._fewest[judged]


class FailureRule:
    """Whether a run's failed trials stop it; fed each trial's events, in any order.

    `max_fraction` None: only a script that evidently cannot run is stopped. A share
    below 1: also a run whose failed share is above it with 95% confidence. 1: never.
    """

    def __init__(self, max_fraction: Optional[float] = None):
        self.max_fraction = max_fraction
        self._thresholds = FailureThresholds(max_fraction) if max_fraction is not None and max_fraction < 1 else None
        self._reported: set[int] = set()
        self._failed: set[int] = set()
        self._entered: set[int] = set()
        self._judged = 0  # trials 0 .. judged-1 have all entered
        self._judged_failed = 0  # failed among them
        self.stopped: Optional[str] = None  # why the run was stopped, once it was
        self.cause: Optional[str] = None  # "evident" or "limit", once it was

    @property
    def never(self) -> bool:
        return self.max_fraction is not None and self.max_fraction >= 1

    def observe(self, trial_id: int, reported: bool = False, failed: bool = False) -> None:
        """Record what is known of a trial (a trial that reported once stays reported)."""
        if reported:
            self._reported.add(trial_id)
        if failed and trial_id not in self._failed:
            self._failed.add(trial_id)
            if trial_id < self._judged:  # a paused or running trial that failed later
                self._judged_failed += 1
        if (reported or failed) and trial_id not in self._entered:
            self._entered.add(trial_id)
            while self._judged in self._entered:
                self._judged_failed += self._judged in self._failed
                self._judged += 1

    def observe_status(self, status: Any) -> None:
        """Record every trial of a Syne Tune `TuningStatus`."""
        from syne_tune.backend.trial_status import Status

        statistics = status.trial_metric_statistics  # a defaultdict: `in` adds nothing
        for trial_id, state in status.last_trial_status_seen.items():
            reported = trial_id in statistics and statistics[trial_id].count > 0
            self.observe(int(trial_id), reported=reported, failed=state == Status.failed)

    @property
    def settled(self) -> bool:
        """Whether no later event can stop the run any more (the tuner then stops looking)."""
        if self.stopped is not None or self.never:
            return True
        return self._thresholds is None and bool(self._reported)

    def should_stop(self) -> bool:
        """Whether the run must stop now; once it must, it stays so."""
        if self.stopped is None and not self.never:
            for cause, why in (("evident", self._evident()), ("limit", self._over_limit())):
                if why is not None:
                    self.stopped, self.cause = why, cause
                    break
        return self.stopped is not None

    def final(self) -> Optional[str]:
        """At the run's end: why it failed, or None."""
        if self.should_stop():
            return self.stopped
        if self._failed and not self._reported and not self.never:
            return (
                f"all {len(self._failed)} failed trials ended before any trial reported a result: "
                "the script seems unable to run (`hpobench check-benchmark` runs it as one trial)"
            )
        return None

    def _evident(self) -> Optional[str]:
        first = range(EVIDENT_FAILURES)
        if self._reported or not all(t in self._failed for t in first):
            return None
        return (
            f"its first {EVIDENT_FAILURES} trials failed before any trial reported a result, so the "
            "run stopped: the script seems unable to run (`hpobench check-benchmark` runs it as one "
            "trial); if configurations of this space fail at their start, pass "
            "--max-failed-fraction 1 to keep going"
        )

    def _over_limit(self) -> Optional[str]:
        if self._thresholds is None or self._judged_failed < self._thresholds.fewest(self._judged):
            return None
        return (
            f"{self._judged_failed} of the first {self._judged} trials failed (judged in the order "
            f"they started): more than {self.max_fraction:.0%} (--max-failed-fraction) with 95% "
            "confidence, so the run stopped early"
        )
