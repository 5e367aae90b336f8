"""Optuna's samplers as hpobench methods, through Optuna's ask-and-tell interface.

Each trial hpobench starts is one `study.ask()`; its result is told to that same
Optuna trial, found by hpobench's trial id, whatever order trials finish in (never
paired by order). A trial that fails is told as failed; one that is stopped before
it completes (a run's end, a crash of its process) as pruned, with no value. The
configuration space is translated once, at construction (`optuna_space`).

Pending evaluations, i.e. trials still running when the next one is asked for:

- TPE runs multivariate with Optuna's constant liar: running trials count as
  observations with the worst value seen, so four workers do not propose one point
  four times (Optuna's answer to asynchronous workers);
- CMA-ES generates a population per generation and tells it back in any order;
  running trials are simply not told yet;
- the GP sampler (Optuna >= 4.x's GPSampler) treats running trials as the pending
  points of a q-batch acquisition (qLogEI).

The study (Optuna's in-memory storage and the sampler with its generator) is part
of the scheduler, so a tuner saved to tuner.dill and resumed continues it.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from syne_tune.config_space import Categorical, Domain, Float, Integer

from hpobench.methods.scheduler import AskTellScheduler

SAMPLERS = ("tpe", "cmaes", "gp", "nsga2", "motpe", "mogp")
# The multi-objective samplers: the same Optuna classes told one value per objective.
MULTI_OBJECTIVE = ("nsga2", "motpe", "mogp")


def optuna_space(config_space: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Optuna distributions of the searched entries, the fixed entries) of a Syne Tune space."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    searched: dict[str, Any] = {}  # Optuna distributions
    fixed: dict[str, Any] = {}
    for name, domain in config_space.items():
        if not isinstance(domain, Domain):
            fixed[name] = domain
            continue
        log = type(domain.get_sampler()).__name__ == "_LogUniform"
        if isinstance(domain, Float):
            searched[name] = FloatDistribution(float(domain.lower), float(domain.upper), log=log)
        elif isinstance(domain, Integer):
            searched[name] = IntDistribution(int(domain.lower), int(domain.upper), log=log)
        elif isinstance(domain, Categorical):
            searched[name] = CategoricalDistribution(list(domain.categories))
        else:  # every kind hpobench's spaces produce is above; a plugin's space may hold others
            raise ValueError(f"Optuna has no distribution for {name!r} ({type(domain).__name__})")
    return searched, fixed


def make_sampler(kind: str, seed: int) -> Any:
    """Optuna's sampler `kind`, with the settings `list methods` shows (`methods.defaults.OPTUNA`)."""
    import optuna

    from hpobench.methods.defaults import OPTUNA

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **OPTUNA[kind])
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False, **OPTUNA[kind])
    if kind in ("gp", "mogp"):
        return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False, **OPTUNA[kind])
    if kind == "motpe":
        return optuna.samplers.TPESampler(seed=seed, **OPTUNA[kind])
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, **OPTUNA[kind])
    raise ValueError(f"unknown Optuna sampler {kind!r}; one of {', '.join(SAMPLERS)}")


def preload(sampler: str) -> None:
    """Import what the sampler imports at its first model-based suggestion (the GP sampler:
    torch, about 2 s), so that a run's wall-clock budget does not pay for loading libraries."""
    if sampler in ("gp", "mogp"):
        import optuna._gp.acqf
        import optuna._gp.gp
        import optuna._gp.optim_mixed
        import optuna._gp.prior
        import optuna._gp.search_space  # noqa: F401


class OptunaScheduler(AskTellScheduler):
    """One Optuna study driven by ask-and-tell; Optuna trials found by hpobench trial id."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        mode: str,
        sampler: str,
        random_seed: int,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
        objectives: Optional[tuple[tuple[str, str], ...]] = None,
    ) -> None:
        import optuna

        super().__init__(config_space, metric, mode, random_seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.sampler = sampler
        self.distributions, self.fixed = optuna_space(config_space)
        # Several objectives: one direction each, and each trial told one value per objective.
        self.objectives = objectives if sampler in MULTI_OBJECTIVE and objectives else ((metric, mode),)
        self.study = optuna.create_study(
            directions=["minimize" if m == "min" else "maximize" for _, m in self.objectives],
            sampler=make_sampler(sampler, random_seed),
        )
        for point in points_to_evaluate or []:
            self.study.enqueue_trial({k: v for k, v in point.items() if k in self.distributions})
        preload(sampler)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)  # unpickled by a resumed run: loaded before its clock starts
        preload(self.sampler)

    def _ask(self) -> tuple[Any, dict[str, Any]]:
        asked = self.study.ask(self.distributions)
        return asked, {**self.fixed, **asked.params}

    def metric_names(self) -> list[str]:
        return [m for m, _ in self.objectives]

    def _told(self, result: dict[str, Any]) -> Any:
        if len(self.objectives) == 1:
            return super()._told(result)
        values = [result.get(m) for m, _ in self.objectives]
        usable = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
        return [float(v) for v in values] if usable else None  # type: ignore[arg-type]

    def _tell_value(self, handle: Any, value: Any) -> None:
        self.study.tell(handle, value)  # the study knows the directions

    def _tell_failed(self, handle: Any) -> None:
        from optuna.trial import TrialState

        self.study.tell(handle, state=TrialState.FAIL)

    def _tell_stopped(self, handle: Any) -> None:
        from optuna.trial import TrialState

        self.study.tell(handle, state=TrialState.PRUNED)

    def scheduler_kwargs(self) -> dict[str, Any]:
        import optuna

        return {
            "library": f"optuna {optuna.__version__}",
            "sampler": type(self.study.sampler).__name__,
            "random_seed": self.random_seed,
        }

    def metadata(self) -> dict[str, Any]:
        metadata = super().metadata()
        if len(self.objectives) > 1:
            metadata["metric_modes"] = [mode for _, mode in self.objectives]
        return metadata
