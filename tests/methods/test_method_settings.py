"""What `list methods` shows is what runs (issue 29): every method's key defaults, as shown,
read back from the objects its factory builds (the scheduler, and the library's optimizer
inside it), for every registered method."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from syne_tune.config_space import choice, loguniform, randint, uniform

from hpobench.methods import METHODS, MethodArguments, method_record

SPACE = {"a": uniform(0.0, 1.0), "b": loguniform(1e-3, 1.0), "c": randint(1, 8), "e": choice(["x", "y"]), "epochs": 27}


def _successive_halving(scheduler: Any) -> dict[str, Any]:
    return {"grace_period": scheduler.grace_period, "reduction_factor": scheduler.reduction_factor}


def _syne_tune_rungs(scheduler: Any) -> dict[str, Any]:
    """Syne Tune 0.16's ASHA keeps its rung levels, largest first, in its one bracket."""
    (bracket,) = scheduler.brackets
    return {"grace_period": min(level for level, _ in bracket.rungs), "reduction_factor": scheduler.reduction_factor}


def _optuna(*names: str) -> Callable[[Any], dict[str, Any]]:
    return lambda scheduler: {name: getattr(scheduler.study.sampler, f"_{name}") for name in names}


def _smac(scheduler: Any) -> dict[str, Any]:
    facade = scheduler.smac
    design = facade._initial_design._design  # SMAC's own design, inside hpobench's reordering
    searched = len(list(facade.scenario.configspace.values()))
    intensifier = facade._optimizer._intensifier
    return {
        "initial_design": type(design).__name__.removesuffix("InitialDesign"),
        "configs_per_hyperparameter": design._n_configs // searched,
        "retrain_after": intensifier._config_selector._retrain_after,
        "max_config_calls": intensifier._max_config_calls,
    }


def _dehb(scheduler: Any) -> dict[str, Any]:
    dehb = scheduler.dehb
    names = ("min_fidelity", "eta", "mutation_factor", "crossover_prob", "strategy")
    return {name: getattr(dehb, name) for name in names}


# What each method was built with, read from the objects, under the names `list methods` shows.
BUILT: dict[str, Callable[[Any], dict[str, Any]]] = {
    "RS": lambda scheduler: {},
    "BO": lambda scheduler: {"initial_random_points": scheduler.suggester.num_initial_random},
    "ASHA": _successive_halving,
    "ASHA-STOP": _successive_halving,
    "MOBSTER": lambda s: {**_successive_halving(s), "initial_random_points": s.suggester.num_initial_random},
    "MOBSTER-STOP": lambda s: {**_successive_halving(s), "initial_random_points": s.suggester.num_initial_random},
    "BOHB": lambda s: {**_syne_tune_rungs(s), "random_fraction": s.searcher.searcher_kwargs["random_fraction"]},
    "TPE": lambda s: {"random_fraction": s.searcher.random_fraction},
    "BORE": lambda s: {"initial_random_points": s.searcher.init_random},
    "REA": lambda s: {"population_size": s.searcher.population_size, "sample_size": s.searcher.sample_size},
    "CQR": lambda s: {"initial_random_points": s.searcher.num_init_random_draws},
    "ASHABORE": _syne_tune_rungs,
    "ASHACQR": _syne_tune_rungs,
    "OPTUNA-TPE": _optuna("multivariate", "constant_liar", "n_startup_trials"),
    "OPTUNA-CMAES": _optuna("n_startup_trials"),
    "OPTUNA-GP": _optuna("n_startup_trials"),
    "NEVERGRAD-ONEPLUSONE": lambda s: {"optimizer": s.optimizer.name},
    "DEHB": _dehb,
    "SMAC": _smac,
    "MO-RS": lambda scheduler: {},
    "MOASHA": lambda s: {
        **_syne_tune_rungs(s),
        "brackets": len(s.brackets),
        "priority": {"NonDominatedRanks": "non-dominated sorting"}[type(s.multiobjective_priority).__name__],
    },
    "OPTUNA-NSGA2": _optuna("population_size"),
    "OPTUNA-MOTPE": _optuna("multivariate", "constant_liar", "n_startup_trials"),
    "OPTUNA-EHVI": _optuna("n_startup_trials"),
}


def test_every_method_is_read_back():
    assert set(BUILT) == set(METHODS), "a new method needs an entry in BUILT"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_shown_defaults_are_the_ones_built(name):
    spec = METHODS[name]
    objectives = (("loss", "min"), ("cost", "min")) if spec.multi_objective else ()
    scheduler = spec.build(
        MethodArguments(
            SPACE, "loss", "min", "epoch", 27, random_seed=0, max_resource_attr="epochs", objectives=objectives
        )
    )
    shown = method_record(spec)["defaults"]
    assert BUILT[name](scheduler) == shown


def test_list_methods_json_shows_the_same_defaults(invoke):
    result = invoke("list", "methods", "--json")
    assert result.exit_code == 0, result.output
    shown = {record["name"]: record["defaults"] for record in json.loads(result.output)}
    for name, spec in METHODS.items():
        assert shown[name] == json.loads(json.dumps(spec.defaults)), name
