"""Asynchronous successive halving (ASHA) for Syne Tune 0.16's scheduler interface,
promotion type (the seed's ASHA and MOBSTER) and stopping type.

Rung levels are r_min * eta^k below the maximum resource (grace period 1 and
reduction factor 3: 1, 3, 9, 27 for 50 boosting rounds).

*Promotion* (Li et al. 2020; Syne Tune's `PromotionRungSystem` before 0.16): a
trial runs to its next rung level and pauses there. When a worker frees up, the
best paused trial of the highest rung whose value is at least as good as the
rung's promotion quantile and that was not promoted yet is resumed from its
checkpoint up to the next rung (a rung needs 2 values before anyone is
promoted from it); otherwise the suggester starts a new configuration. The
trial is told where to stop through the benchmark's `max_resource_attr`
(e.g. `epochs`), so it ends exactly at the rung and its
checkpoint holds the state at the rung.

*Stopping*: trials run to the maximum resource unless, at a rung level, their
value is worse than the rung's quantile; then they are stopped for good.

The quantile of rung r_j is r_j / r_{j+1}, with the maximum resource after the
last rung, as in Syne Tune's rung systems (145f8020): 1/eta for every rung but
the last one, 27/50 = 0.54 for the last rung of 50 boosting rounds.

The suggester observes every rung-level result and sees, when asked for a new
configuration, the running trials with the resource they will report next.
"""

from __future__ import annotations

import bisect
import heapq
import logging
import math
from dataclasses import dataclass
from typing import Any, Literal, Optional

from syne_tune.backend.trial_status import Trial
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialSuggestion

from hpobench.methods.scheduler import SingleMetricScheduler
from hpobench.methods.suggesters import Config, Suggester

logger = logging.getLogger(__name__)

Kind = Literal["promotion", "stopping"]


def rung_levels(max_resource: int, grace_period: int = 1, reduction_factor: float = 3) -> list[int]:
    """grace_period * reduction_factor^k for every k where that is below `max_resource`."""
    levels = []
    level = float(grace_period)
    while round(level) < max_resource:
        levels.append(round(level))
        level *= reduction_factor
    return levels


@dataclass
class _RungEntry:
    value: float  # sign-adjusted: lower is better; inf when the metric was missing or nan
    promoted: bool = False


class _RungValues:
    """A rung's values kept sorted (non-finite ones counted apart) and its paused trials in a
    heap, so that a decision costs a look-up, not a pass over every trial the rung has seen
    (a simulated run decides on thousands of trials a second)."""

    def __init__(self) -> None:
        self.finite: list[float] = []  # sorted
        self.nonfinite = 0
        self.paused: list[tuple[float, int]] = []  # (value, trial id) heap; stale entries skipped

    def add(self, value: float, replaced: Optional[float] = None) -> None:
        if replaced is not None:
            self._remove(replaced)
        if math.isfinite(value):
            bisect.insort(self.finite, value)
        else:
            self.nonfinite += 1

    def _remove(self, value: float) -> None:
        if math.isfinite(value):
            del self.finite[bisect.bisect_left(self.finite, value)]
        else:
            self.nonfinite -= 1

    def __len__(self) -> int:
        return len(self.finite) + self.nonfinite

    def quantile(self, q: float) -> float:
        """np.quantile(values, q) (its default, linear method, to the bit), non-finite values
        counting as the worst finite one + 1, as `_in_top_fraction` has always taken them."""
        n = len(self)
        worst = self.finite[-1] + 1.0 if self.finite else math.inf

        def at(i: int) -> float:
            return self.finite[i] if i < len(self.finite) else worst

        virtual = (n - 1) * q  # numpy's virtual index of the linear method
        below = min(max(math.floor(virtual), 0), n - 1)
        above = min(below + 1, n - 1)
        gamma = virtual - math.floor(virtual)
        low, high = at(below), at(above)
        difference = high - low
        return high - difference * (1 - gamma) if gamma >= 0.5 else low + difference * gamma


@dataclass
class _Running:
    milestone: int  # the resource at which the next decision is taken
    resume_from: Optional[int] = None  # the rung a resumed trial continues from


class SuccessiveHalving(SingleMetricScheduler):
    """ASHA with promotion or stopping decisions, new configurations from a suggester."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        mode: str,
        resource_attr: str,
        max_resource: int,
        suggester: Suggester,
        *,
        kind: Kind = "promotion",
        grace_period: int = 1,
        reduction_factor: float = 3,
        max_resource_attr: Optional[str] = None,
        random_seed: Optional[int] = None,
    ) -> None:
        super().__init__(config_space, metric, mode, random_seed)
        if kind not in ("promotion", "stopping"):
            raise ValueError(f"kind must be 'promotion' or 'stopping', not {kind!r}")
        self.resource_attr = resource_attr
        self.max_resource = int(max_resource)
        self.suggester = suggester
        self.kind = kind
        self.grace_period = grace_period
        self.reduction_factor = reduction_factor
        self.max_resource_attr = max_resource_attr
        self.rung_levels = rung_levels(self.max_resource, grace_period, reduction_factor)
        self._rungs: dict[int, dict[int, _RungEntry]] = {level: {} for level in self.rung_levels}
        self._values: dict[int, _RungValues] = {level: _RungValues() for level in self.rung_levels}
        self._configs: dict[int, Config] = {}  # the suggester's configuration of each trial
        self._running: dict[int, _Running] = {}
        self._paused: set[int] = set()
        self._suggested: Optional[Config] = None  # handed out by suggest, not yet added
        self.num_promotions = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A scheduler saved before rungs kept their values sorted gets them from its rungs."""
        self.__dict__.update(state)
        if "_values" not in state:
            self._values = {level: _RungValues() for level in self.rung_levels}
            for level, rung in self._rungs.items():
                for trial_id, entry in rung.items():
                    self._values[level].add(entry.value)
                    if trial_id in self._paused and not entry.promoted and math.isfinite(entry.value):
                        heapq.heappush(self._values[level].paused, (entry.value, trial_id))

    # ------------------------------------------------------------ decisions

    def suggest(self) -> Optional[TrialSuggestion]:
        """Resume a promotable paused trial if there is one, else start a new configuration."""
        if self.kind == "promotion":
            promoted = self._promote()
            if promoted is not None:
                return promoted
        pending = [(self._configs[t], run.milestone) for t, run in self._running.items()]
        config = self.suggester.suggest(pending)
        if config is None:
            return None
        self._suggested = config
        return TrialSuggestion.start_suggestion(self._with_stop_at(config, self._first_milestone()))

    def on_trial_add(self, trial: Trial) -> None:
        config = self._suggested if self._suggested is not None else dict(trial.config)
        self._suggested = None
        self._configs[trial.trial_id] = config
        self._running[trial.trial_id] = _Running(self._first_milestone())

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> str:
        trial_id = trial.trial_id
        running = self._running.get(trial_id)
        if running is None:  # a trial this scheduler did not start (e.g. added by hand)
            self.on_trial_add(trial)
            running = self._running[trial_id]
        resource = result.get(self.resource_attr)
        if not isinstance(resource, (int, float)) or isinstance(resource, bool) or resource != resource:
            logger.warning("trial %s reported no %r; no decision taken", trial_id, self.resource_attr)
            return SchedulerDecision.CONTINUE
        resource = int(resource)
        if running.resume_from is not None and resource <= running.resume_from:
            # The script started over instead of loading its checkpoint: a level this trial
            # already reported, decided on once (hpobench's back-ends drop these; see
            # local/replays.py). It goes on to the levels above.
            return SchedulerDecision.CONTINUE
        value = self._value(result)
        if resource in self._rungs or resource >= self.max_resource:
            self._observe(trial_id, value, resource)
        if resource >= self.max_resource or resource < running.milestone:
            return SchedulerDecision.CONTINUE
        # The trial reached (or, reporting sparsely, passed) its next rung level.
        rung = self._rungs[running.milestone]
        replaced = rung[trial_id].value if trial_id in rung else None
        rung[trial_id] = _RungEntry(value)
        values = self._values[running.milestone]
        values.add(value, replaced)
        if self.kind == "promotion":
            del self._running[trial_id]
            self._paused.add(trial_id)
            if math.isfinite(value):
                heapq.heappush(values.paused, (value, trial_id))
            return SchedulerDecision.PAUSE
        if not self._in_top_fraction(rung, running.milestone, value):
            del self._running[trial_id]
            return SchedulerDecision.STOP
        running.milestone = self._next_milestone(running.milestone)
        return SchedulerDecision.CONTINUE

    def on_trial_complete(self, trial: Trial, result: dict[str, Any]) -> None:
        self._running.pop(trial.trial_id, None)

    def on_trial_error(self, trial: Trial) -> None:
        self._running.pop(trial.trial_id, None)
        self._paused.discard(trial.trial_id)  # a failed trial is never resumed
        logger.warning("trial %s failed", trial.trial_id)

    def on_trial_remove(self, trial: Trial) -> None:
        # Called after every PAUSE and STOP: a paused trial stays promotable.
        self._running.pop(trial.trial_id, None)

    def scheduler_name(self) -> str:
        return f"hpobench.SuccessiveHalving({self.kind})"

    def scheduler_kwargs(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "grace_period": self.grace_period,
            "reduction_factor": self.reduction_factor,
            "rung_levels": self.rung_levels,
            "max_resource": self.max_resource,
            "suggester": type(self.suggester).__name__,
        }

    # ------------------------------------------------------------ helpers

    def _promote(self) -> Optional[TrialSuggestion]:
        """The best promotable paused trial, highest rung first, as a resume suggestion."""
        for level in reversed(self.rung_levels):
            rung, heap = self._rungs[level], self._values[level].paused
            # The heap's smallest entry still paused here, not promoted, with this value: the
            # best candidate (value, then trial id), as a pass over the whole rung would find.
            while heap and not self._promotable(rung, *heap[0]):
                heapq.heappop(heap)
            if not heap:
                continue
            value, trial_id = heap[0]
            if not self._in_top_fraction(rung, level, value):
                continue
            heapq.heappop(heap)
            rung[trial_id].promoted = True
            self._paused.discard(trial_id)
            milestone = self._next_milestone(level)
            self._running[trial_id] = _Running(milestone, resume_from=level)
            self.num_promotions += 1
            config = self._with_stop_at(self._configs[trial_id], milestone)
            return TrialSuggestion.resume_suggestion(trial_id, config)
        return None

    def _in_top_fraction(self, rung: dict[int, _RungEntry], level: int, value: float) -> bool:
        """Whether `value` is at least as good as the quantile level / next level of the
        rung at `level` (1/eta below the last rung).

        As Syne Tune's rung systems did: the quantile interpolates linearly, and
        a rung with a single value has no cutoff yet: a trial arriving there
        continues (stopping type), but nobody is promoted from it (promotion
        type). Missing or nan values count as worse than any finite one.
        """
        if not math.isfinite(value):
            return False
        if len(rung) < 2:
            return self.kind == "stopping"
        values = self._values[level]
        if rung is not self._rungs[level]:  # a rung given from elsewhere (tests): its values
            values = _RungValues()
            for entry in rung.values():
                values.add(entry.value)
        return value <= values.quantile(level / self._next_milestone(level))

    def _promotable(self, rung: dict[int, _RungEntry], value: float, trial_id: int) -> bool:
        entry = rung.get(trial_id)
        return trial_id in self._paused and entry is not None and not entry.promoted and entry.value == value

    def _observe(self, trial_id: int, value: float, resource: int) -> None:
        if not math.isfinite(value):
            return  # a diverged or silent trial teaches the model nothing
        raw = value if self.mode == "min" else -value
        self.suggester.observe(trial_id, self._configs[trial_id], raw, resource)

    def _first_milestone(self) -> int:
        return self.rung_levels[0] if self.rung_levels else self.max_resource

    def _next_milestone(self, level: int) -> int:
        later = [r for r in self.rung_levels if r > level]
        return later[0] if later else self.max_resource

    def _with_stop_at(self, config: Config, milestone: int) -> Config:
        """The trial's configuration, told to stop at `milestone` when it pauses there."""
        config = dict(config)
        if self.kind == "promotion" and self.max_resource_attr in config:
            config[self.max_resource_attr] = milestone
        return config
