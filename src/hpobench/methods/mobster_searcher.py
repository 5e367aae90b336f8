"""The GP searcher behind MOBSTER.

Syne Tune 0.16's `BoTorchSearcher` records a configuration only when it
suggests it. Its multi-fidelity wrapper (`LastValueMultiFidelitySearcher`)
builds a fresh searcher before every suggestion and feeds it the results of
configurations that searcher never suggested, so the GP is fitted on no inputs,
fails, and the searcher silently falls back to random sampling. This subclass
records the configuration of every observed result as well, so the GP is fitted
on all trials seen so far.
"""

from __future__ import annotations

from typing import Any

from syne_tune.optimizer.schedulers.searchers.botorch.botorch_searcher import BoTorchSearcher


class ObservedBoTorchSearcher(BoTorchSearcher):
    """A BoTorchSearcher that learns from results of configurations it did not suggest."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # How often a suggestion came from a fitted GP, and how often the parent
        # gave up on the GP and sampled at random: for tests and diagnostics.
        self.num_model_suggestions = 0
        self.num_random_fallbacks = 0
        self._in_model_step = False

    def on_trial_complete(self, trial_id: int, config: dict[str, Any], metric: float) -> None:
        # Keys of observed results are tuples, so they never collide with the
        # integer keys `suggest` gives its own pending configurations. The
        # parent builds its inputs and targets from these two dicts in insertion
        # order, so they must be filled together.
        key = ("observed", int(trial_id))
        self.trial_configs[key] = config
        self.trial_observations[key] = metric

    def _sample_next_candidate(self) -> dict | None:
        fallbacks = self.num_random_fallbacks
        self._in_model_step = True
        try:
            config = super()._sample_next_candidate()
        finally:
            self._in_model_step = False
        if self.num_random_fallbacks == fallbacks:
            self.num_model_suggestions += 1
        return config

    def _get_random_config(self) -> dict:
        # Inside the model step, the parent samples at random only when fitting
        # the GP or optimizing the acquisition function failed.
        if self._in_model_step:
            self.num_random_fallbacks += 1
        return super()._get_random_config()
