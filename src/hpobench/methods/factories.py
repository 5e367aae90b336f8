"""Each registered method's factory: MethodArguments -> a Syne Tune scheduler.

Named functions with their library imports inside, so listing methods stays instant. Every
setting hpobench chooses comes from `methods.defaults`, which `list methods` shows too.
"""

from __future__ import annotations

from typing import Any, Literal

from hpobench.errors import ExtraMissing
from hpobench.methods import defaults
from hpobench.methods.spec import MethodArguments


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
        _single_fidelity(args), time_attr=args.resource_attr, max_t=args.max_resource, **defaults.SUCCESSIVE_HALVING
    )


def require_extra(method: str, module: str, extra: str) -> None:
    """A UsageError naming the extra to install when `module` is not importable."""
    from importlib import import_module

    try:
        import_module(module)
    except ImportError:
        raise ExtraMissing(
            f"Method {method} needs {module}, which is not installed; install the extra: "
            f'pip install "hpobench[{extra}]"'
        ) from None


# -- Syne Tune 0.16's own classes ------------------------------------------------------


def random_search(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import RandomSearch

    kwargs = _single_fidelity(args)
    return RandomSearch(metrics=[kwargs.pop("metric")], **kwargs)


def tpe(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import TPE

    return TPE(**_single_fidelity(args), **defaults.KDE)


def bore(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import BORE

    return BORE(**_single_fidelity(args))


def regularized_evolution(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import REA

    return REA(**defaults.REA, **_single_fidelity(args))


def cqr(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import CQR

    return CQR(**_single_fidelity(args))


def bohb(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import BOHB

    return BOHB(**_multi_fidelity(args), **defaults.KDE)


def asha_bore(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHABORE

    return ASHABORE(**_multi_fidelity(args))


def asha_cqr(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHACQR

    return ASHACQR(**_multi_fidelity(args))


# -- hpobench's own: BO, ASHA, MOBSTER -------------------------------------------------


def bayesian_optimization(args: MethodArguments) -> Any:
    """hpobench's GP-BO: results paired by trial id, learned noise, pending trials as fantasies."""
    from hpobench.methods.bo import GPBayesianOptimization

    return GPBayesianOptimization(**_single_fidelity(args), num_initial_random=defaults.BO["initial_random_points"])


def _successive_halving(args: MethodArguments, kind: Literal["promotion", "stopping"], suggester: Any) -> Any:
    from hpobench.methods.successive_halving import SuccessiveHalving

    return SuccessiveHalving(
        config_space=args.config_space,
        metric=args.metric,
        mode=args.mode,
        resource_attr=args.resource_attr,
        max_resource=args.max_resource,
        suggester=suggester,
        kind=kind,
        **defaults.SUCCESSIVE_HALVING,
        max_resource_attr=args.max_resource_attr,
        random_seed=args.random_seed,
    )


def _random_suggester(args: MethodArguments) -> Any:
    from hpobench.methods.suggesters import RandomSuggester

    return RandomSuggester(args.config_space, args.mode, args.random_seed, points_to_evaluate=args.points_to_evaluate)


def asha(args: MethodArguments) -> Any:
    """Promotion-type ASHA with random configurations (the seed's ASHA)."""
    return _successive_halving(args, "promotion", _random_suggester(args))


def asha_stop(args: MethodArguments) -> Any:
    """Stopping-type ASHA with random configurations."""
    return _successive_halving(args, "stopping", _random_suggester(args))


def _joint_gp_suggester(args: MethodArguments) -> Any:
    from hpobench.methods.gp import GPSuggester

    return GPSuggester(
        args.config_space,
        args.mode,
        args.random_seed,
        num_initial_random=defaults.MOBSTER["initial_random_points"],
        points_to_evaluate=args.points_to_evaluate,
        max_resource=args.max_resource,
    )


def mobster(args: MethodArguments) -> Any:
    """Promotion-type ASHA whose new configurations come from a joint (config, resource) GP."""
    return _successive_halving(args, "promotion", _joint_gp_suggester(args))


def mobster_stop(args: MethodArguments) -> Any:
    """Stopping-type ASHA whose new configurations come from a joint (config, resource) GP."""
    return _successive_halving(args, "stopping", _joint_gp_suggester(args))


# -- other libraries' methods, through ask-and-tell ------------------------------------


def _optuna(args: MethodArguments, sampler: str, name: str) -> Any:
    require_extra(name, "optuna", "optuna")
    if sampler == "cmaes":
        require_extra(name, "cmaes", "optuna")
    from hpobench.methods.optuna_methods import OptunaScheduler

    return OptunaScheduler(
        args.config_space,
        args.metric,
        args.mode,
        sampler,
        args.random_seed,
        args.points_to_evaluate,
        objectives=args.objectives,
    )


def optuna_tpe(args: MethodArguments) -> Any:
    return _optuna(args, "tpe", "OPTUNA-TPE")


def optuna_cmaes(args: MethodArguments) -> Any:
    return _optuna(args, "cmaes", "OPTUNA-CMAES")


def optuna_gp(args: MethodArguments) -> Any:
    return _optuna(args, "gp", "OPTUNA-GP")


def nevergrad_one_plus_one(args: MethodArguments) -> Any:
    require_extra("NEVERGRAD-ONEPLUSONE", "nevergrad", "nevergrad")
    from hpobench.methods.nevergrad_methods import NevergradScheduler

    return NevergradScheduler(
        args.config_space,
        args.metric,
        args.mode,
        defaults.NEVERGRAD_ONEPLUSONE["optimizer"],
        args.random_seed,
        args.points_to_evaluate,
    )


def dehb(args: MethodArguments) -> Any:
    require_extra("DEHB", "dehb", "dehb")
    from hpobench.methods.dehb_method import DEHBScheduler

    return DEHBScheduler(
        args.config_space,
        args.metric,
        args.mode,
        args.resource_attr,
        args.max_resource,
        args.random_seed,
        args.max_resource_attr,
        points_to_evaluate=args.points_to_evaluate,
        **defaults.DEHB,
    )


def smac(args: MethodArguments) -> Any:
    require_extra("SMAC", "smac", "smac")
    from hpobench.methods.smac_method import SMACScheduler

    return SMACScheduler(args.config_space, args.metric, args.mode, args.random_seed, args.points_to_evaluate)


# -- multi-objective -------------------------------------------------------------------


def _require_objectives(args: MethodArguments, name: str) -> None:
    if not args.multi_objective:
        raise ValueError(f"{name} is multi-objective; the benchmark has one objective ({args.metric})")


def mo_random_search(args: MethodArguments) -> Any:
    """Random search recording every objective (MO-RS)."""
    from hpobench.methods.multi_objective import MultiObjectiveRandomSearch

    _require_objectives(args, "MO-RS")
    return MultiObjectiveRandomSearch(args.config_space, args.objectives, args.random_seed, args.points_to_evaluate)


def moasha(args: MethodArguments) -> Any:
    """Syne Tune's MOASHA with one mode per objective and the default configuration first."""
    from hpobench.methods.multi_objective import MultiObjectiveASHA

    _require_objectives(args, "MOASHA")
    return MultiObjectiveASHA(
        args.config_space,
        args.objectives,
        time_attr=args.resource_attr,
        max_t=args.max_resource,
        grace_period=defaults.MOASHA["grace_period"],
        reduction_factor=defaults.MOASHA["reduction_factor"],
        random_seed=args.random_seed,
        points_to_evaluate=args.points_to_evaluate,
    )


def optuna_nsga2(args: MethodArguments) -> Any:
    _require_objectives(args, "OPTUNA-NSGA2")
    return _optuna(args, "nsga2", "OPTUNA-NSGA2")


def optuna_motpe(args: MethodArguments) -> Any:
    _require_objectives(args, "OPTUNA-MOTPE")
    return _optuna(args, "motpe", "OPTUNA-MOTPE")


def optuna_ehvi(args: MethodArguments) -> Any:
    _require_objectives(args, "OPTUNA-EHVI")
    return _optuna(args, "mogp", "OPTUNA-EHVI")
