"""What hpobench's schedulers ask for new configurations: the suggester protocol,
and its model-free member, `RandomSuggester`.

A suggester is told every rung-level result (`observe`) and, when a worker is
free, asked for a configuration given the evaluations still running
(`suggest(pending)`). The GP suggester behind BO and MOBSTER (`methods/gp.py`)
follows the same protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Protocol

import numpy as np

Config = dict[str, Any]
Pending = Sequence[tuple[Config, Optional[int]]]  # (configuration, resource it will report next)


class Suggester(Protocol):
    """Proposes configurations; learns (if it is model-based) from observed results."""

    def observe(self, trial_id: int, config: Config, value: float, resource: Optional[int] = None) -> None:
        """Record that `config` (trial `trial_id`) reached `value` after `resource` units."""

    def suggest(self, pending: Pending) -> Optional[Config]:
        """The next configuration to start, or None when there is none left."""


class RandomSuggester:
    """Configurations drawn uniformly (in each domain's own scale) from the space.

    It has its own seeded generator, so the sequence of configurations depends on
    `random_seed` only: not on results, timing or the number of workers.
    """

    def __init__(
        self,
        config_space: dict[str, Any],
        mode: str,
        random_seed: int,
        *,
        points_to_evaluate: Optional[list[Config]] = None,
    ) -> None:
        self.config_space = config_space
        self.mode = mode
        self._random = np.random.RandomState(random_seed)
        from hpobench.methods.initial_points import initial_points

        # Completed by the seed's rule; None or [] here: none (MethodArguments resolves the default).
        self._initial = initial_points(points_to_evaluate or [], config_space)

    def observe(self, trial_id: int, config: Config, value: float, resource: Optional[int] = None) -> None:
        """Nothing to do: random search does not learn."""

    def suggest(self, pending: Pending) -> Optional[Config]:
        """The next user-given point first, then a random draw; never None."""
        # Drawn even for a given point, so that trial n's random configuration does not depend
        # on how many points were given.
        config = self._sample()
        if self._initial:
            config.update(self._initial.pop(0))
        return config

    def _sample(self) -> Config:
        from syne_tune.config_space import Domain

        return {
            name: domain.sample(random_state=self._random) if isinstance(domain, Domain) else domain
            for name, domain in self.config_space.items()
        }
