"""Results a resumed trial reports again, when its script started over instead of resuming.

A promotion-type method (ASHA, MOBSTER) pauses a trial at a rung and later
resumes it, expecting the script to load its checkpoint and continue. A script
that does not (it saves none, or ignores `--st_checkpoint_dir`) trains from the
start again and reports the resource levels it had already reported. Those
results are not new evaluations: recording them would list a (trial, level)
twice and hand the scheduler a second decision at a rung it already decided.
The back-end drops them, so the trial goes on correctly from the level where it
was paused, and the time it spent retraining is the cost of not checkpointing;
the launcher warns and records how many trials retrained (`hpobench_retrained`).

A benchmark may declare `checkpoints = false`; then a promotion-type method is
refused before its first trial (`plan.plan_experiment`).

A resumed run (`resumable_tuner.restore`) reads again what its interrupted trials
reported after its state was last saved; those results keep the run's clock at
the time they were reported (`replay_clock`), not the time they were read back.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Optional

logger = logging.getLogger(__name__)


class DropsReplayedResults:
    """Mixin for a trial back-end: each trial's results at a resource level it already
    reported (a resumed trial that started over) are dropped, and counted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resource_attr: Optional[str] = None  # set by the launcher; None: nothing dropped
        self.reached: dict[int, float] = {}  # the highest level each trial reported
        self.retrained: dict[int, int] = {}  # trial -> results dropped
        # A resumed run's (resumed at, budget spent, wall-clock time when spent was recorded).
        self.replay_clock: Optional[tuple[float, float, Optional[float]]] = None

    def fetch_status_results(self, trial_ids: list[int]) -> Any:
        statuses, results = super().fetch_status_results(trial_ids)  # type: ignore[misc]
        if self.replay_clock is not None:
            for _, result in results:
                _keep_report_time(result, *self.replay_clock)
        if self.resource_attr is None:
            return statuses, results
        kept = []
        for trial_id, result in results:
            level = result.get(self.resource_attr)
            if isinstance(level, bool) or not isinstance(level, (int, float)) or math.isnan(level):
                kept.append((trial_id, result))
                continue
            if trial_id in self.reached and level <= self.reached[trial_id]:
                if trial_id not in self.retrained:
                    logger.warning(
                        "trial %d was resumed at %s %g but its script started over (%s %g): it "
                        "retrains from the start, and its results up to %g are not recorded twice; "
                        "make the script load its checkpoint from --st_checkpoint_dir to save that time",
                        trial_id,
                        self.resource_attr,
                        self.reached[trial_id],
                        self.resource_attr,
                        level,
                        self.reached[trial_id],
                    )
                self.retrained[trial_id] = self.retrained.get(trial_id, 0) + 1
                continue
            self.reached[trial_id] = level
            kept.append((trial_id, result))
        return statuses, kept


def _keep_report_time(result: dict[str, Any], resumed_at: float, spent: float, clock_at: Optional[float]) -> None:
    """A result reported before the run was resumed gets the run's clock at that moment:
    the clock ran with the wall clock while the run was up, and stopped at `spent`."""
    reported = result.get("st_worker_timestamp")
    if not isinstance(reported, (int, float)) or reported >= resumed_at or "st_tuner_time" in result:
        return
    at = spent if clock_at is None else spent + reported - clock_at
    result["st_tuner_time"] = max(0.0, min(spent, at))
