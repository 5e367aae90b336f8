"""The HPO method registry: name -> what the method is (for `list methods`) and its factory.

Factories (`methods.factories`) are named functions with their library imports inside, so
listing methods stays instant. Each receives the same `MethodArguments` (`methods.spec`,
a leaf module that plugins import too). The key defaults shown are the settings the
factories build with (`methods.defaults`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from hpobench.errors import UsageError
from hpobench.methods import defaults
from hpobench.methods.factories import (
    asha,
    asha_bore,
    asha_cqr,
    asha_stop,
    bayesian_optimization,
    bohb,
    bore,
    cqr,
    dehb,
    mobster,
    mobster_stop,
    nevergrad_one_plus_one,
    optuna_cmaes,
    optuna_gp,
    optuna_tpe,
    random_search,
    regularized_evolution,
    smac,
    tpe,
)
from hpobench.methods.multi_objective_specs import MULTI_OBJECTIVE_SPECS
from hpobench.methods.notes import FIRST_TRIAL, METHOD_NOTES, MOBSTER_KERNEL, PLUGIN_FIRST_TRIAL
from hpobench.methods.spec import MethodSpec

_LI = "Li et al. 2020, A System for Massively Parallel Hyperparameter Tuning (MLSys)"
_KLEIN = "Klein et al. 2020, Model-based Asynchronous Hyperparameter and Neural Architecture Search (arXiv:2003.10865)"
_TIAO = "Tiao et al. 2021, BORE: Bayesian Optimization by Density-Ratio Estimation (ICML)"
_SALINAS = "Salinas et al. 2023, Optimizing Hyperparameters with Conformal Quantile Regression (ICML)"

_JOINT_GP = (
    f"joint GP over (configuration, resource): {MOBSTER_KERNEL}, "
    "learned noise; qLogEI at the acquisition rung, pending as fantasies"
)

_SPECS = [
    MethodSpec(
        name="RS",
        family="random search",
        multi_fidelity=False,
        needs="-",
        factory=random_search,
        library="syne-tune",
        model="none (uniform sampling)",
        reference="Bergstra & Bengio 2012, Random Search for Hyper-Parameter Optimization (JMLR)",
    ),
    MethodSpec(
        name="BO",
        family="Bayesian optimization (GP, BoTorch)",
        multi_fidelity=False,
        needs="botorch",
        factory=bayesian_optimization,
        library="hpobench, botorch",
        pending="fantasies: the GP sampled at running configurations",
        model="GP (Matérn-5/2, learned noise); qLogEI, pending as fantasies",
        defaults=defaults.BO,
        reference="Snoek et al. 2012, Practical Bayesian Optimization of Machine Learning Algorithms (NeurIPS)",
    ),
    MethodSpec(
        name="ASHA",
        family="successive halving",
        multi_fidelity=True,
        needs="-",
        factory=asha,
        library="hpobench",
        decisions="promotion",
        model="none (uniform sampling)",
        defaults=defaults.SUCCESSIVE_HALVING,
        reference=_LI,
    ),
    MethodSpec(
        name="ASHA-STOP",
        family="successive halving",
        multi_fidelity=True,
        needs="-",
        factory=asha_stop,
        library="hpobench",
        decisions="stopping",
        model="none (uniform sampling)",
        defaults=defaults.SUCCESSIVE_HALVING,
        reference=_LI,
    ),
    MethodSpec(
        name="MOBSTER",
        family="successive halving + GP (BoTorch)",
        multi_fidelity=True,
        needs="botorch",
        factory=mobster,
        library="hpobench, botorch",
        pending="fantasies at the level each running trial goes to",
        decisions="promotion",
        model=_JOINT_GP,
        defaults=defaults.MOBSTER,
        reference=_KLEIN,
    ),
    MethodSpec(
        name="MOBSTER-STOP",
        family="successive halving + GP (BoTorch)",
        multi_fidelity=True,
        needs="botorch",
        factory=mobster_stop,
        library="hpobench, botorch",
        pending="fantasies at the level each running trial goes to",
        decisions="stopping",
        model=_JOINT_GP,
        defaults=defaults.MOBSTER,
        reference=_KLEIN,
    ),
    MethodSpec(
        name="BOHB",
        family="successive halving + KDE",
        multi_fidelity=True,
        needs="-",
        factory=bohb,
        library="syne-tune",
        decisions="stopping",
        model="KDE (TPE-style)",
        defaults=defaults.BOHB,
        reference="Falkner et al. 2018, BOHB: Robust and Efficient Hyperparameter Optimization at Scale (ICML)",
    ),
    MethodSpec(
        name="TPE",
        family="Bayesian optimization (KDE)",
        multi_fidelity=False,
        needs="-",
        factory=tpe,
        library="syne-tune",
        model="KDE (TPE)",
        defaults=defaults.KDE,
        reference="Bergstra et al. 2011, Algorithms for Hyper-Parameter Optimization (NeurIPS)",
    ),
    MethodSpec(
        name="BORE",
        family="Bayesian optimization (density ratio)",
        multi_fidelity=False,
        needs="xgboost",
        factory=bore,
        library="syne-tune",
        model="classifier density ratio (XGBoost)",
        defaults=defaults.BORE,
        reference=_TIAO,
    ),
    MethodSpec(
        name="REA",
        family="evolutionary",
        multi_fidelity=False,
        needs="-",
        factory=regularized_evolution,
        library="syne-tune",
        model="regularized evolution",
        defaults=defaults.REA,
        reference="Real et al. 2019, Regularized Evolution for Image Classifier Architecture Search (AAAI)",
    ),
    MethodSpec(
        name="CQR",
        family="Bayesian optimization (conformal quantile regression)",
        multi_fidelity=False,
        needs="huggingface_hub, xgboost",
        factory=cqr,
        library="syne-tune",
        model="conformal quantile regression (gradient boosting)",
        defaults=defaults.CQR,
        reference=_SALINAS,
    ),
    MethodSpec(
        name="ASHABORE",
        family="successive halving + density ratio",
        multi_fidelity=True,
        needs="xgboost",
        factory=asha_bore,
        library="syne-tune",
        decisions="stopping",
        model="classifier density ratio (XGBoost)",
        defaults=defaults.SUCCESSIVE_HALVING,
        reference=f"{_LI}; {_TIAO}",
    ),
    MethodSpec(
        name="ASHACQR",
        family="successive halving + conformal quantile regression",
        multi_fidelity=True,
        needs="huggingface_hub, xgboost",
        factory=asha_cqr,
        library="syne-tune",
        decisions="stopping",
        model="conformal quantile regression (gradient boosting)",
        defaults=defaults.SUCCESSIVE_HALVING,
        reference=f"{_LI}; {_SALINAS}",
    ),
]

_OPTUNA = "optuna>=4, scipy"
_OPTUNA_SPECS = [
    MethodSpec(
        name="OPTUNA-TPE",
        family="Bayesian optimization (KDE)",
        multi_fidelity=False,
        needs=_OPTUNA,
        factory=optuna_tpe,
        model="multivariate TPE (Optuna's TPESampler)",
        defaults=defaults.OPTUNA_TPE,
        reference="Watanabe 2023, Tree-Structured Parzen Estimator: Understanding Its "
        "Algorithm Components (arXiv:2304.11127); Bergstra et al. 2011 (NeurIPS)",
        library="optuna",
        pending="constant liar (running trials count as the worst value seen)",
        extra="optuna",
    ),
    MethodSpec(
        name="OPTUNA-CMAES",
        family="evolution strategy",
        multi_fidelity=False,
        needs=f"{_OPTUNA}, cmaes",
        factory=optuna_cmaes,
        model="CMA-ES (Optuna's CmaEsSampler, population 4 + ⌊3 ln d⌋); categorical entries sampled at random",
        defaults=defaults.OPTUNA_CMAES,
        reference="Hansen 2016, The CMA Evolution Strategy: A Tutorial (arXiv:1604.00772)",
        library="optuna, cmaes",
        pending="a generation's members are told back in any order",
        extra="optuna",
    ),
    MethodSpec(
        name="OPTUNA-GP",
        family="Bayesian optimization (GP)",
        multi_fidelity=False,
        needs=f"{_OPTUNA}, torch",
        factory=optuna_gp,
        model="GP (Matérn-5/2, ARD), logEI; qLogEI with running trials (Optuna's GPSampler)",
        defaults=defaults.OPTUNA_GP,
        reference="Snoek et al. 2012, Practical Bayesian Optimization of Machine Learning Algorithms (NeurIPS)",
        library="optuna",
        pending="pending points of a q-batch acquisition (qLogEI)",
        extra="optuna",
    ),
]

_NEVERGRAD_SPECS = [
    MethodSpec(
        name="NEVERGRAD-ONEPLUSONE",
        family="evolution strategy",
        multi_fidelity=False,
        needs="nevergrad>=1",
        factory=nevergrad_one_plus_one,
        model="(1+1) evolution strategy with the one-fifth rule (Nevergrad's OnePlusOne)",
        defaults=defaults.NEVERGRAD_ONEPLUSONE,
        reference="Rechenberg 1973; Rapin & Teytaud 2018, Nevergrad - A gradient-free optimization platform (GitHub)",
        library="nevergrad",
        pending="asked candidates not yet told: each a mutation of the parent",
        extra="nevergrad",
    )
]

_DEHB_SPECS = [
    MethodSpec(
        name="DEHB",
        family="differential evolution + Hyperband",
        multi_fidelity=True,
        needs="dehb>=0.1.2",
        factory=dehb,
        decisions="re-run",
        model="differential evolution per fidelity, Hyperband brackets at DEHB's own fidelities (the dehb package)",
        defaults=defaults.DEHB,
        reference="Awad, Mallik & Hutter 2021, DEHB: Evolutionary Hyperband for Scalable, "
        "Robust and Efficient Hyperparameter Optimization (IJCAI)",
        library="dehb",
        pending="asynchronous brackets: a new bracket opens when every open one waits on a rung",
        extra="dehb",
    )
]

_SMAC_SPECS = [
    MethodSpec(
        name="SMAC",
        family="Bayesian optimization (random forest)",
        multi_fidelity=False,
        needs="smac>=2.4",
        factory=smac,
        model="random forest, log EI by local and random search (SMAC3's hyperparameter-"
        "optimization facade), one evaluation per configuration",
        defaults=defaults.SMAC,
        reference="Lindauer et al. 2022, SMAC3: A Versatile Bayesian Optimization Package "
        "for Hyperparameter Optimization (JMLR); Hutter et al. 2011",
        library="smac",
        pending="running in SMAC's run history: not in the forest's data, never handed out again",
        extra="smac",
    )
]

METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in _SPECS + _OPTUNA_SPECS + _NEVERGRAD_SPECS + _DEHB_SPECS + _SMAC_SPECS + MULTI_OBJECTIVE_SPECS
}


# Methods that one launch of hpobench itself uses (the tabulation's fixed design), found by
# `get_method` while `internal_method` holds them, never listed by `method_names`.
_INTERNAL: dict[str, MethodSpec] = {}


@contextlib.contextmanager
def internal_method(spec: MethodSpec) -> Iterator[None]:
    """Let `get_method` find `spec` while the block runs; it is not a method users choose,
    so `list methods` does not show it."""
    if spec.name in METHODS or spec.name in _INTERNAL:
        raise ValueError(f"method {spec.name!r} is registered already")
    _INTERNAL[spec.name] = spec
    try:
        yield
    finally:
        _INTERNAL.pop(spec.name, None)


def method_names() -> list[str]:
    """Registered method names: built-ins in registry order, then plugins."""
    from hpobench import plugins

    return plugins.names(plugins.METHOD_GROUP, list(METHODS))


def get_method(name: str) -> MethodSpec:
    """The method registered under `name`; a UsageError naming the valid ones otherwise."""
    from hpobench import plugins

    if name in METHODS:
        return METHODS[name]
    if name in _INTERNAL:
        return _INTERNAL[name]
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
        "multi_objective": spec.multi_objective,
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
