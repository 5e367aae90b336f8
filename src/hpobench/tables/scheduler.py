"""The scheduler of a tabulation run: a fixed design handed out in order, first in first out.

This module imports Syne Tune at the top; import it only where a tuner runs.

Each suggestion is the next configuration of the design still to evaluate, trained to the
benchmark's maximum resource (the design's configurations carry it); once every one is out,
`suggest` returns None, which Syne Tune 0.16's Tuner takes as "configuration space exhausted":
it waits for the running trials and ends the run. Nothing is stopped or paused.

The scheduler keeps, per trial, which design configuration it runs and when it was decided
(wall-clock `time.time()`, taken in `suggest`, just before the tuner starts the trial): the
table's elapsed times count from that moment. The tuner pickles the scheduler into tuner.dill,
so this record survives the run and a resumed run continues the design where it stopped.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from syne_tune.backend.trial_status import Trial
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialSuggestion

from hpobench.methods.scheduler import SingleMetricScheduler


class FixedDesignScheduler(SingleMetricScheduler):
    """Evaluates `design[i]` for each i of `todo`, in order; then suggests nothing."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        mode: str,
        design: list[dict[str, Any]],
        todo: list[int],
        description: dict[str, Any],
        random_seed: Optional[int] = None,
    ) -> None:
        super().__init__(config_space, metric, mode, random_seed)
        self.design = [dict(config) for config in design]
        self.todo = list(todo)
        self.description = dict(description)  # what metadata.json records of the design
        self.position = 0  # the next of `todo` to hand out
        self.decided: Optional[tuple[int, float]] = None  # handed out, not yet given a trial id
        # trial id -> (index in the design, time.time() of the decision to start it)
        self.trials: dict[int, tuple[int, float]] = {}

    def suggest(self) -> Optional[TrialSuggestion]:
        if self.position >= len(self.todo):
            return None
        index = self.todo[self.position]
        self.position += 1
        self.decided = (index, time.time())
        return TrialSuggestion.start_suggestion(dict(self.design[index]))

    def on_trial_add(self, trial: Trial) -> None:
        if self.decided is not None:  # the tuner adds the trial right after `suggest`
            self.trials[trial.trial_id] = self.decided
            self.decided = None

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> str:
        return SchedulerDecision.CONTINUE

    def scheduler_kwargs(self) -> dict[str, Any]:
        return {**self.description, "to_evaluate": list(self.todo)}
