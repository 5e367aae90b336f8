"""The HPO method registry: name -> factory building a Syne Tune scheduler.

Factories are named functions with their Syne Tune imports inside, so listing
methods stays instant. Each receives the same `MethodArguments` (`methods.spec`,
a leaf module that plugins import too).
"""

from __future__ import annotations

from typing import Any, Literal

from hpobench.errors import UsageError
from hpobench.methods.notes import FIRST_TRIAL, METHOD_NOTES, MOBSTER_KERNEL, PLUGIN_FIRST_TRIAL
from hpobench.methods.spec import MethodArguments, MethodSpec


def _single_fidelity(args: MethodArguments) -> dict[str, Any]:
    return dict(
        config_space=args.config_space,
        metric=args.metric,
        do_minimize=args.do_minimize,
        random_seed=args.random_seed,
        points_to_evaluate=args.points_to_evaluate,
    )


def _multi_fidelity(args: MethodArguments) -> dict[str, Any]:
    return dict(_single_fidelity(args), time_attr=args.resource_attr, max_t=args.max_resource)


# Syne Tune's default population (100) never evolves within a short budget.
REA_DEFAULTS: dict[str, Any] = {"population_size": 10, "sample_size": 5}
# Successive halving as the seed's baselines run it (Syne Tune's defaults).
SH_DEFAULTS: dict[str, Any] = {"grace_period": 1, "reduction_factor": 3}


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

    return REA(**REA_DEFAULTS, **_single_fidelity(args))


def cqr(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import CQR

    return CQR(**_single_fidelity(args))


def _optuna(args: MethodArguments, sampler: str, name: str) -> Any:
    require_extra(name, "optuna", "optuna")
    if sampler == "cmaes":
        require_extra(name, "cmaes", "optuna")
    from hpobench.methods.optuna_methods import OptunaScheduler

    return OptunaScheduler(
        args.config_space, args.metric, args.mode, sampler, args.random_seed, args.points_to_evaluate
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
        args.config_space, args.metric, args.mode, "OnePlusOne", args.random_seed, args.points_to_evaluate
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
        SH_DEFAULTS["grace_period"],
        SH_DEFAULTS["reduction_factor"],
        args.points_to_evaluate,
    )


def smac(args: MethodArguments) -> Any:
    require_extra("SMAC", "smac", "smac")
    from hpobench.methods.smac_method import SMACScheduler

    return SMACScheduler(args.config_space, args.metric, args.mode, args.random_seed, args.points_to_evaluate)


def require_extra(method: str, module: str, extra: str) -> None:
    """A UsageError naming the extra to install when `module` is not importable."""
    from importlib import import_module

    try:
        import_module(module)
    except ImportError:
        raise UsageError(
            f"Method {method} needs {module}, which is not installed; install the extra: "
            f'pip install "hpobench[{extra}]"'
        ) from None


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
        grace_period=SH_DEFAULTS["grace_period"],
        reduction_factor=SH_DEFAULTS["reduction_factor"],
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


def bohb(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import BOHB

    return BOHB(**_multi_fidelity(args))


def asha_bore(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHABORE

    return ASHABORE(**_multi_fidelity(args))


def asha_cqr(args: MethodArguments) -> Any:
    from syne_tune.optimizer.baselines import ASHACQR

    return ASHACQR(**_multi_fidelity(args))


def _joint_gp_suggester(args: MethodArguments) -> Any:
    from hpobench.methods.gp import GPSuggester

    return GPSuggester(
        args.config_space,
        args.mode,
        args.random_seed,
        points_to_evaluate=args.points_to_evaluate,
        max_resource=args.max_resource,
    )


def mobster(args: MethodArguments) -> Any:
    """Promotion-type ASHA whose new configurations come from a joint (config, resource) GP."""
    return _successive_halving(args, "promotion", _joint_gp_suggester(args))


def mobster_stop(args: MethodArguments) -> Any:
    """Stopping-type ASHA whose new configurations come from a joint (config, resource) GP."""
    return _successive_halving(args, "stopping", _joint_gp_suggester(args))


_LI = "Li et al. 2020, A System for Massively Parallel Hyperparameter Tuning (MLSys)"
_KLEIN = "Klein et al. 2020, Model-based Asynchronous Hyperparameter and Neural Architecture Search (arXiv:2003.10865)"
_TIAO = "Tiao et al. 2021, BORE: Bayesian Optimization by Density-Ratio Estimation (ICML)"
_SALINAS = "Salinas et al. 2023, Optimizing Hyperparameters with Conformal Quantile Regression (ICML)"

_JOINT_GP = (
    f"joint GP over (configuration, resource): {MOBSTER_KERNEL}, "
    "learned noise; qLogEI at the acquisition rung, pending as fantasies"
)
_MOBSTER_DEFAULTS = {**SH_DEFAULTS, "initial_random_points": 6}

_SPECS = [
    MethodSpec(
        "RS",
        "random search",
        False,
        "-",
        random_search,
        library="syne-tune",
        model="none (uniform sampling)",
        reference="Bergstra & Bengio 2012, Random Search for Hyper-Parameter Optimization (JMLR)",
    ),
    MethodSpec(
        "BO",
        "Bayesian optimization (GP, BoTorch)",
        False,
        "botorch",
        bayesian_optimization,
        library="hpobench, botorch",
        pending="fantasies: the GP sampled at running configurations",
        model="GP (Matérn-5/2, learned noise); qLogEI, pending as fantasies",
        defaults={"initial_random_points": 3},
        reference="Snoek et al. 2012, Practical Bayesian Optimization of Machine Learning Algorithms (NeurIPS)",
    ),
    MethodSpec(
        "ASHA",
        "successive halving",
        True,
        "-",
        asha,
        library="hpobench",
        decisions="promotion",
        model="none (uniform sampling)",
        defaults=SH_DEFAULTS,
        reference=_LI,
    ),
    MethodSpec(
        "ASHA-STOP",
        "successive halving",
        True,
        "-",
        asha_stop,
        library="hpobench",
        decisions="stopping",
        model="none (uniform sampling)",
        defaults=SH_DEFAULTS,
        reference=_LI,
    ),
    MethodSpec(
        "MOBSTER",
        "successive halving + GP (BoTorch)",
        True,
        "botorch",
        mobster,
        library="hpobench, botorch",
        pending="fantasies at the level each running trial goes to",
        decisions="promotion",
        model=_JOINT_GP,
        defaults=_MOBSTER_DEFAULTS,
        reference=_KLEIN,
    ),
    MethodSpec(
        "MOBSTER-STOP",
        "successive halving + GP (BoTorch)",
        True,
        "botorch",
        mobster_stop,
        library="hpobench, botorch",
        pending="fantasies at the level each running trial goes to",
        decisions="stopping",
        model=_JOINT_GP,
        defaults=_MOBSTER_DEFAULTS,
        reference=_KLEIN,
    ),
    MethodSpec(
        "BOHB",
        "successive halving + KDE",
        True,
        "-",
        bohb,
        library="syne-tune",
        decisions="stopping",
        model="KDE (TPE-style), random fraction 0.33",
        defaults=SH_DEFAULTS,
        reference="Falkner et al. 2018, BOHB: Robust and Efficient Hyperparameter Optimization at Scale (ICML)",
    ),
    MethodSpec(
        "TPE",
        "Bayesian optimization (KDE)",
        False,
        "-",
        tpe,
        library="syne-tune",
        model="KDE (TPE), random fraction 0.33",
        reference="Bergstra et al. 2011, Algorithms for Hyper-Parameter Optimization (NeurIPS)",
    ),
    MethodSpec(
        "BORE",
        "Bayesian optimization (density ratio)",
        False,
        "xgboost",
        bore,
        library="syne-tune",
        model="classifier density ratio (XGBoost)",
        defaults={"initial_random_points": 6},
        reference=_TIAO,
    ),
    MethodSpec(
        "REA",
        "evolutionary",
        False,
        "-",
        regularized_evolution,
        library="syne-tune",
        model="regularized evolution",
        defaults=REA_DEFAULTS,
        reference="Real et al. 2019, Regularized Evolution for Image Classifier Architecture Search (AAAI)",
    ),
    MethodSpec(
        "CQR",
        "Bayesian optimization (conformal quantile regression)",
        False,
        "huggingface_hub, xgboost",
        cqr,
        library="syne-tune",
        model="conformal quantile regression (gradient boosting)",
        defaults={"initial_random_points": 5},
        reference=_SALINAS,
    ),
    MethodSpec(
        "ASHABORE",
        "successive halving + density ratio",
        True,
        "xgboost",
        asha_bore,
        library="syne-tune",
        decisions="stopping",
        model="classifier density ratio (XGBoost)",
        defaults=SH_DEFAULTS,
        reference=f"{_LI}; {_TIAO}",
    ),
    MethodSpec(
        "ASHACQR",
        "successive halving + conformal quantile regression",
        True,
        "huggingface_hub, xgboost",
        asha_cqr,
        library="syne-tune",
        decisions="stopping",
        model="conformal quantile regression (gradient boosting)",
        defaults=SH_DEFAULTS,
        reference=f"{_LI}; {_SALINAS}",
    ),
]

_OPTUNA = "optuna>=4, scipy"
_OPTUNA_SPECS = [
    MethodSpec(
        "OPTUNA-TPE",
        "Bayesian optimization (KDE)",
        False,
        _OPTUNA,
        optuna_tpe,
        model="multivariate TPE (Optuna's TPESampler)",
        defaults={"multivariate": True, "constant_liar": True, "n_startup_trials": 10},
        reference="Watanabe 2023, Tree-Structured Parzen Estimator: Understanding Its "
        "Algorithm Components (arXiv:2304.11127); Bergstra et al. 2011 (NeurIPS)",
        library="optuna",
        pending="constant liar (running trials count as the worst value seen)",
        extra="optuna",
    ),
    MethodSpec(
        "OPTUNA-CMAES",
        "evolution strategy",
        False,
        f"{_OPTUNA}, cmaes",
        optuna_cmaes,
        model="CMA-ES (Optuna's CmaEsSampler); categorical entries sampled at random",
        reference="Hansen 2016, The CMA Evolution Strategy: A Tutorial (arXiv:1604.00772)",
        library="optuna, cmaes",
        pending="a generation's members are told back in any order",
        extra="optuna",
    ),
    MethodSpec(
        "OPTUNA-GP",
        "Bayesian optimization (GP)",
        False,
        f"{_OPTUNA}, torch",
        optuna_gp,
        model="GP (Matérn-5/2, ARD), logEI; qLogEI with running trials (Optuna's GPSampler)",
        defaults={"n_startup_trials": 10},
        reference="Snoek et al. 2012, Practical Bayesian Optimization of Machine Learning Algorithms (NeurIPS)",
        library="optuna",
        pending="pending points of a q-batch acquisition (qLogEI)",
        extra="optuna",
    ),
]

_NEVERGRAD_SPECS = [
    MethodSpec(
        "NEVERGRAD-ONEPLUSONE",
        "evolution strategy",
        False,
        "nevergrad>=1",
        nevergrad_one_plus_one,
        model="(1+1) evolution strategy with the one-fifth rule (Nevergrad's OnePlusOne)",
        reference="Rechenberg 1973; Rapin & Teytaud 2018, Nevergrad - A gradient-free optimization platform (GitHub)",
        library="nevergrad",
        pending="asked candidates not yet told: each a mutation of the parent",
        extra="nevergrad",
    )
]

_DEHB_SPECS = [
    MethodSpec(
        "DEHB",
        "differential evolution + Hyperband",
        True,
        "dehb>=0.1.2",
        dehb,
        decisions="re-run",
        model="differential evolution per fidelity, Hyperband brackets at DEHB's own fidelities (the dehb package)",
        defaults={
            "min_fidelity": SH_DEFAULTS["grace_period"],
            "eta": SH_DEFAULTS["reduction_factor"],
            "mutation_factor": 0.5,
            "crossover_prob": 0.5,
        },
        reference="Awad, Mallik & Hutter 2021, DEHB: Evolutionary Hyperband for Scalable, "
        "Robust and Efficient Hyperparameter Optimization (IJCAI)",
        library="dehb",
        pending="asynchronous brackets: a new bracket opens when every open one waits on a rung",
        extra="dehb",
    )
]

_SMAC_SPECS = [
    MethodSpec(
        "SMAC",
        "Bayesian optimization (random forest)",
        False,
        "smac>=2.4",
        smac,
        model="random forest, log EI by local and random search (SMAC3's hyperparameter-"
        "optimization facade), one evaluation per configuration",
        defaults={"initial_design": "Sobol, 10 per hyperparameter", "retrain_after": 8, "max_config_calls": 1},
        reference="Lindauer et al. 2022, SMAC3: A Versatile Bayesian Optimization Package "
        "for Hyperparameter Optimization (JMLR); Hutter et al. 2011",
        library="smac",
        pending="running in SMAC's run history: not in the forest's data, never handed out again",
        extra="smac",
    )
]

METHODS: dict[str, MethodSpec] = {
    spec.name: spec for spec in _SPECS + _OPTUNA_SPECS + _NEVERGRAD_SPECS + _DEHB_SPECS + _SMAC_SPECS
}


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
    raise UsageError(f"Unknown method {name!r}; choose from: {', '.join(method_names())} (see `hpobench list methods`)")


def method_record(spec: MethodSpec) -> dict[str, Any]:
    """What `list methods` shows of a method, JSON-friendly."""
    return {
        "name": spec.name,
        "family": spec.family,
        "multi_fidelity": spec.multi_fidelity,
        "decisions": spec.decisions,
        "model": spec.model,
        "defaults": dict(spec.defaults),
        "needs": spec.needs,
        "reference": spec.reference,
        "library": _library(spec),
        "pending": spec.pending,
        "extra": spec.extra,
        "note": spec.note or METHOD_NOTES.get(spec.name, ""),
        "first_trial": FIRST_TRIAL.get(spec.name, PLUGIN_FIRST_TRIAL),
    }


def _library(spec: MethodSpec) -> str:
    """Its packages with their installed versions (`optuna 5.1.0, cmaes 0.12.0`); one that is
    missing says how to install it."""
    from importlib.metadata import PackageNotFoundError, version

    shown = []
    for package in (p.strip() for p in spec.library.split(",") if p.strip() and p.strip() != "-"):
        try:
            shown.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            how = f': pip install "hpobench[{spec.extra}]"' if spec.extra else ""
            shown.append(f"{package} (not installed{how})")
    return ", ".join(shown) or "-"
