"""The HPO method registry: name -> factory building a Syne Tune scheduler.

Factories are named functions with their Syne Tune imports inside, so listing
methods stays instant. Each receives the same `MethodArguments`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from hpobench.errors import UsageError


@dataclass(frozen=True)
class MethodArguments:
    """Everything a method needs to know about the benchmark it tunes."""

    config_space: dict[str, Any]  # Syne Tune domains and fixed values
    metric: str
    mode: str  # "min" or "max"
    resource_attr: str
    max_resource: int
    random_seed: int
    points_to_evaluate: Optional[list[dict[str, Any]]] = None

    @property
    def do_minimize(self) -> bool:
        return self.mode == "min"

    @classmethod
    def for_benchmark(cls, benchmark: Any, random_seed: int) -> MethodArguments:
        """The arguments that tune `benchmark` (a BenchmarkDefinition); imports Syne Tune."""
        from hpobench.benchmarks.space import to_syne_tune_space

        return cls(
            config_space=to_syne_tune_space(benchmark.config_space),
            metric=benchmark.metric,
            mode=benchmark.mode,
            resource_attr=benchmark.resource_attr,
            max_resource=int(benchmark.max_resource),
            random_seed=random_seed,
            points_to_evaluate=benchmark.points_to_evaluate,
        )


@dataclass(frozen=True)
class MethodSpec:
    """A registered HPO method and what it needs."""

    name: str
    family: str
    multi_fidelity: bool
    needs: str
    factory: Callable[[MethodArguments], Any]

    def build(self, args: MethodArguments) -> Any:
        """The Syne Tune scheduler for `args`."""
        return self.factory(args)


def _single_fidelity(args: MethodArguments) -> dict[str, Any]:
    return dict(
        config_space=args.config_space,
        metric=args.metric,
        do_minimize=args.do_minimize,
        random_seed=args.random_seed,
        points_to_evaluate=args.points_to_evaluate,
    )


def _multi_fidelity(args: MethodArguments) -> dict[str, Any]:
    return dict(
        _single_fidelity(args),
        time_attr=args.resource_attr,
        max_t=args.max_resource,
    )


def random_search(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import RandomSearch

    kwargs = _single_fidelity(args)
    return RandomSearch(metrics=[kwargs.pop("metric")], **kwargs)


def bayesian_optimization(args: MethodArguments) -> Any:
    """hpobench's GP-BO: results paired by trial id, learned noise, pending trials as fantasies."""
    from hpobench.methods.bo import GPBayesianOptimization

    return GPBayesianOptimization(**_single_fidelity(args))


def tpe(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import TPE

    return TPE(**_single_fidelity(args))


def bore(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import BORE

    return BORE(**_single_fidelity(args))


def regularized_evolution(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import REA

    # Syne Tune's default population (100) never evolves within a short budget.
    return REA(population_size=10, sample_size=5, **_single_fidelity(args))


def cqr(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import CQR

    return CQR(**_single_fidelity(args))


def asha(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHA

    return ASHA(**_multi_fidelity(args))


def bohb(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import BOHB

    return BOHB(**_multi_fidelity(args))


def asha_bore(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHABORE

    return ASHABORE(**_multi_fidelity(args))


def asha_cqr(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHACQR

    return ASHACQR(**_multi_fidelity(args))


def mobster(args: MethodArguments) -> Any:
    """ASHA whose configurations come from a GP fitted to the latest result of every trial."""
    from syne_tune.optimizer.schedulers.asha import AsynchronousSuccessiveHalving
    from syne_tune.optimizer.schedulers.searchers.last_value_multi_fidelity_searcher import (
        LastValueMultiFidelitySearcher,
    )

    from hpobench.methods.mobster_searcher import ObservedBoTorchSearcher

    searcher = LastValueMultiFidelitySearcher(
        config_space=args.config_space,
        random_seed=args.random_seed,
        points_to_evaluate=args.points_to_evaluate,
        searcher=ObservedBoTorchSearcher,
    )
    return AsynchronousSuccessiveHalving(
        config_space=args.config_space,
        metric=args.metric,
        do_minimize=args.do_minimize,
        max_t=args.max_resource,
        time_attr=args.resource_attr,
        searcher=searcher,
        random_seed=args.random_seed,
    )


_SPECS = [
    MethodSpec("RS", "random search", False, "-", random_search),
    MethodSpec("BO", "Bayesian optimization (GP, BoTorch)", False, "botorch", bayesian_optimization),
    MethodSpec("ASHA", "successive halving", True, "-", asha),
    MethodSpec("MOBSTER", "successive halving + GP (BoTorch)", True, "botorch", mobster),
    MethodSpec("BOHB", "successive halving + KDE", True, "-", bohb),
    MethodSpec("TPE", "Bayesian optimization (KDE)", False, "-", tpe),
    MethodSpec("BORE", "Bayesian optimization (density ratio)", False, "xgboost", bore),
    MethodSpec("REA", "evolutionary", False, "-", regularized_evolution),
    MethodSpec("CQR", "Bayesian optimization (conformal quantile regression)", False,
               "huggingface_hub, xgboost", cqr),
    MethodSpec("ASHABORE", "successive halving + density ratio", True, "xgboost", asha_bore),
    MethodSpec("ASHACQR", "successive halving + conformal quantile regression", True,
               "huggingface_hub, xgboost", asha_cqr),
]  # fmt: skip

METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in _SPECS}


def method_names() -> list[str]:
    """Registered method names: built-ins in registry order, then plugins."""
    from hpobench import plugins

    return plugins.names(plugins.METHOD_GROUP, list(METHODS))


def get_method(name: str) -> MethodSpec:
    """The method registered under `name`; a UsageError naming the valid ones otherwise."""
    from hpobench import plugins

    if name in METHODS:
        return METHODS[name]
    plugin = plugins.find(plugins.METHOD_GROUP, name, list(METHODS))
    if plugin is not None:
        return plugins.load_method(plugin)
    raise UsageError(
        f"Unknown method {name!r}; choose from: {', '.join(method_names())} "
        "(see `hpobench list methods`)"
    )
