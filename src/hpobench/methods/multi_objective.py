"""Multi-objective methods of hpobench's own and Syne Tune's (docs/multi-objective.md): random
search over several objectives (MO-RS) and Syne Tune 0.16's MOASHA with one direction per
objective. Optuna's NSGA-II, multi-objective TPE and GP (EHVI) are in `optuna_methods`.

Every scheduler here records each objective and its mode in its metadata; `metric_mode` is the
first objective's (what Syne Tune's summary of the best result reads).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import config_space_to_json_dict
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialSuggestion
from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA
from syne_tune.optimizer.schedulers.multiobjective.multiobjective_priority import NonDominatedPriority
from syne_tune.util import dump_json_with_numpy

from hpobench.methods.scheduler import SingleMetricScheduler
from hpobench.methods.suggesters import RandomSuggester


def objectives_metadata(objectives: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """What a multi-objective scheduler's metadata records of its objectives."""
    return {"metric_names": [m for m, _ in objectives], "metric_modes": [mode for _, mode in objectives]}


class MultiObjectiveRandomSearch(SingleMetricScheduler):
    """Random search on a multi-objective benchmark: configurations drawn uniformly (the default
    configuration first), whatever the results; every objective is recorded as a metric."""

    def __init__(
        self,
        config_space: dict[str, Any],
        objectives: tuple[tuple[str, str], ...],
        random_seed: int,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
    ) -> None:
        metric, mode = objectives[0]
        super().__init__(config_space, metric, mode, random_seed)
        self.objectives = objectives
        self.suggester = RandomSuggester(config_space, mode, random_seed, points_to_evaluate=points_to_evaluate)

    def metric_names(self) -> list[str]:
        return [m for m, _ in self.objectives]

    def suggest(self) -> Optional[TrialSuggestion]:
        return TrialSuggestion.start_suggestion(self.suggester.suggest([]))

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> str:
        return SchedulerDecision.CONTINUE

    def metadata(self) -> dict[str, Any]:
        return {**super().metadata(), **objectives_metadata(self.objectives)}


class NonDominatedRanks(NonDominatedPriority):
    """Syne Tune's non-dominated sort (Pareto fronts in turn, each ordered by an epsilon-net) as
    the rank of each row, which is what a rung compares: 0.16's `NonDominatedPriority` returns
    the sorted order (the row placed first, second, ...) instead, so its MOASHA judged a new
    result by the index of the row sorted last, not by the new result's own place."""

    def priority_unsafe(self, objectives: np.ndarray) -> np.ndarray:
        order = np.asarray(super().priority_unsafe(objectives), dtype=int)
        ranks = np.empty(len(order), dtype=float)
        ranks[order] = np.arange(len(order))
        return ranks


class MultiObjectiveASHA(MOASHA):
    """Syne Tune 0.16's MOASHA (stopping type, non-dominated sorting at each rung), with the rung's
    ranks fixed (`NonDominatedRanks`), one mode per objective (0.16 takes one `do_minimize` for
    all) and the default configuration first (0.16 has no `points_to_evaluate`)."""

    def __init__(
        self,
        config_space: dict[str, Any],
        objectives: tuple[tuple[str, str], ...],
        time_attr: str,
        max_t: int,
        grace_period: int,
        reduction_factor: float,
        random_seed: int,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
    ) -> None:
        super().__init__(
            config_space,
            metrics=[m for m, _ in objectives],
            do_minimize=True,  # the signs below turn each objective into one to minimize
            multiobjective_priority=NonDominatedRanks(),
            time_attr=time_attr,
            max_t=max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            random_seed=random_seed,
        )
        self.objectives = objectives
        self.grace_period = grace_period
        self.configs: dict[int, dict[str, Any]] = {}
        self.signs = {m: 1.0 if mode == "min" else -1.0 for m, mode in objectives}
        self._initial = list(points_to_evaluate or [])

    def on_trial_add(self, trial: Trial) -> None:
        super().on_trial_add(trial)
        self.configs[trial.trial_id] = trial.config  # what each rung entry's trial ran

    def suggest(self) -> Optional[TrialSuggestion]:
        # MOASHA samples from numpy's global generator, which the launcher seeds per run.
        suggestion = super().suggest()
        if self._initial and suggestion is not None:
            suggestion.config.update(self._initial.pop(0))
        return suggestion

    def metric_dict(self, reported_results: dict[str, Any]) -> dict[str, Any]:
        """Each objective as a value to minimize (MOASHA's rungs compare these)."""
        return {m: float(reported_results[m]) * self.signs[m] for m in self.metrics}

    def metric_mode(self) -> str:
        return self.objectives[0][1]

    def metadata(self) -> dict[str, Any]:
        # Not 0.16's: it records its whole __dict__ (the rungs' objects) as its settings.
        return {
            "scheduler_name": type(self).__name__,
            "scheduler_kwargs": {
                "time_attr": self.time_attr,
                "max_t": self.max_t,
                "grace_period": self.grace_period,
                "reduction_factor": self.reduction_factor,
                "brackets": len(self.brackets),
                "priority": type(self.multiobjective_priority).__name__,
                "random_seed": self.random_seed,
            },
            "config_space": dump_json_with_numpy(config_space_to_json_dict(self.config_space)),
            **objectives_metadata(self.objectives),
            "metric_mode": self.metric_mode(),
        }
