"""Nevergrad's (1+1) evolution strategy as an hpobench method, through ask-and-tell.

Each trial hpobench starts is one `optimizer.ask()`; its result is told to that same
candidate, found by hpobench's trial id, whatever order trials finish in. Nevergrad
minimizes: a maximized metric is told negated. A trial that fails, or is stopped before
it completes, is told as +inf (never better than its parent); a result without a finite
value likewise. Running trials are candidates asked and not yet told: Nevergrad's
optimizers are built for that (`num_workers`), the (1+1) rule mutates the current parent
for each of them.

NGOpt, Nevergrad's own selector, is not offered: it chooses its algorithm from an
evaluation budget, and hpobench's runs are bounded by wall-clock time.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from syne_tune.config_space import Categorical, Domain, Float, Integer

from hpobench.methods.scheduler import AskTellScheduler, plain

# Nevergrad's bound on candidates asked and not told; far above any run's workers.
MAX_RUNNING = 256


def nevergrad_space(config_space: dict[str, Any], seed: int) -> tuple[Any, dict[str, Any]]:
    """(Nevergrad's parametrization of the searched entries, seeded; the fixed entries)."""
    import nevergrad as ng
    import numpy as np

    searched, fixed = {}, {}
    for name, domain in config_space.items():
        if not isinstance(domain, Domain):
            fixed[name] = domain
            continue
        log = type(domain.get_sampler()).__name__ == "_LogUniform"
        if isinstance(domain, (Float, Integer)):
            kind = ng.p.Log if log else ng.p.Scalar
            parameter = kind(lower=float(domain.lower), upper=float(domain.upper))
            searched[name] = parameter.set_integer_casting() if isinstance(domain, Integer) else parameter
        elif isinstance(domain, Categorical):
            searched[name] = ng.p.Choice(list(domain.categories))
        else:
            raise ValueError(f"Nevergrad has no parameter for {name!r} ({type(domain).__name__})")
    parametrization = ng.p.Dict(**searched)
    parametrization.random_state = np.random.RandomState(seed)
    return parametrization, fixed


class NevergradScheduler(AskTellScheduler):
    """One Nevergrad optimizer driven by ask-and-tell; candidates found by hpobench trial id."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        mode: str,
        optimizer: str,
        random_seed: int,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
    ) -> None:
        import nevergrad as ng

        super().__init__(config_space, metric, mode, random_seed)
        parametrization, self.fixed = nevergrad_space(config_space, random_seed)
        self.optimizer_name = optimizer
        self.optimizer = ng.optimizers.registry[optimizer](
            parametrization=parametrization, budget=None, num_workers=MAX_RUNNING
        )
        for point in reversed(points_to_evaluate or []):  # Nevergrad asks suggestions last in, first out
            self.optimizer.suggest({k: v for k, v in point.items() if k not in self.fixed})

    def _ask(self) -> tuple[Any, dict[str, Any]]:
        asked = self.optimizer.ask()
        return asked, {**self.fixed, **{k: plain(v) for k, v in asked.value.items()}}

    def _tell_value(self, handle: Any, value: float) -> None:
        self._tell(handle, value if self.mode == "min" else -value)  # Nevergrad minimizes

    def _tell_failed(self, handle: Any) -> None:
        self._tell(handle, math.inf)

    def _tell_stopped(self, handle: Any) -> None:
        self._tell(handle, math.inf)

    def _tell(self, handle: Any, loss: float) -> None:
        import warnings

        from nevergrad.common.errors import LossTooLargeWarning

        with warnings.catch_warnings():  # +inf is meant: Nevergrad clips it to its largest loss
            warnings.simplefilter("ignore", LossTooLargeWarning)
            self.optimizer.tell(handle, loss)

    def scheduler_kwargs(self) -> dict[str, Any]:
        import nevergrad as ng

        return {
            "library": f"nevergrad {ng.__version__}",
            "optimizer": self.optimizer_name,
            "random_seed": self.random_seed,
        }
