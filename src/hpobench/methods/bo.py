"""BO as a Syne Tune 0.16 scheduler: hpobench's GP suggester, results paired by trial id.

The tuner calls `suggest`, then `on_trial_add` with the trial it started for
that suggestion; results arrive later through `on_trial_complete` in whatever
order workers finish. Every trial added and not yet done is pending, and is
passed to the suggester as a fantasy. A trial's value is its last reported
metric (the one at the end of training), as Syne Tune's single-fidelity
schedulers use.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Optional

from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import cast_config_values, postprocess_config
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialSuggestion

from hpobench.methods.gp import GPSuggester
from hpobench.methods.scheduler import SingleMetricScheduler

logger = logging.getLogger(__name__)


class GPBayesianOptimization(SingleMetricScheduler):
    """GP-based Bayesian optimization (Matérn-5/2 GP, learned noise, qLogEI with pending fantasies)."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        do_minimize: bool = True,
        random_seed: Optional[int] = None,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
        num_initial_random: Optional[int] = None,
    ) -> None:
        """Arguments as Syne Tune's single-fidelity schedulers take them; `num_initial_random` None: 3."""
        super().__init__(config_space, metric, "min" if do_minimize else "max", random_seed)
        self.suggester = GPSuggester(
            config_space,
            self.mode,
            self.random_seed,
            num_initial_random=num_initial_random,
            points_to_evaluate=points_to_evaluate,
        )
        self.pending: dict[int, dict[str, Any]] = {}  # trial id -> config, for trials still running

    def suggest(self) -> Optional[TrialSuggestion]:
        """The next configuration to start, knowing which are still running."""
        config = self.suggester.suggest(pending=[(config, None) for config in self.pending.values()])
        if config is None:
            return None
        config = cast_config_values(config, self.config_space)
        return TrialSuggestion.start_suggestion(postprocess_config(config, self.config_space))

    def on_trial_add(self, trial: Trial) -> None:
        self.pending[trial.trial_id] = dict(trial.config)

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> str:
        return SchedulerDecision.CONTINUE

    def on_trial_complete(self, trial: Trial, result: dict[str, Any]) -> None:
        self.pending.pop(trial.trial_id, None)
        self.suggester.observe(trial.trial_id, trial.config, result.get(self.metric, math.nan))

    def on_trial_error(self, trial: Trial) -> None:
        # A failed trial is no longer pending; it has no value to learn from.
        self.pending.pop(trial.trial_id, None)
        logger.info("trial %s failed; BO goes on without it", trial.trial_id)

    def on_trial_remove(self, trial: Trial) -> None:
        self.pending.pop(trial.trial_id, None)

    def scheduler_kwargs(self) -> dict[str, Any]:
        return {
            "searcher": "hpobench GPSuggester (BoTorch SingleTaskGP, qLogEI)",
            "num_initial_random": self.suggester.num_initial_random,
            "random_seed": self.random_seed,
        }
