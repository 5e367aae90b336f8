"""The settings hpobench gives each method: one source for what its factory builds with and
what `hpobench list methods` shows as its key defaults.

A factory (`methods/factories.py`) passes these values to the library; where a library
does not take one (Syne Tune 0.16's BORE and CQR build their searchers themselves), the
value shown is the library's own. tests/methods/test_method_settings.py builds every method
and reads each value back from the objects built, so what `list methods` shows is what runs.
A leaf module: `list methods` imports it without any library.
"""

from __future__ import annotations

from typing import Any

# Successive halving as the seed's baselines run it (Syne Tune's defaults): rungs 1, 3, 9, ...
SUCCESSIVE_HALVING: dict[str, Any] = {"grace_period": 1, "reduction_factor": 3}
# Initial random configurations before the GP proposes, the default configuration among them
# (Syne Tune's GP searchers at 145f8020: 3 for BO, 6 for the multi-fidelity model).
BO: dict[str, Any] = {"initial_random_points": 3}
MOBSTER: dict[str, Any] = {**SUCCESSIVE_HALVING, "initial_random_points": 6}
# Syne Tune's KDE (TPE, BOHB): a third of its suggestions drawn at random.
KDE: dict[str, Any] = {"random_fraction": 0.33}
BOHB: dict[str, Any] = {**SUCCESSIVE_HALVING, **KDE}
# Syne Tune 0.16's own, not passed (its BORE and CQR classes do not take them).
BORE: dict[str, Any] = {"initial_random_points": 6}
CQR: dict[str, Any] = {"initial_random_points": 5}
# Syne Tune's default population (100) never evolves within a short budget.
REA: dict[str, Any] = {"population_size": 10, "sample_size": 5}
# Optuna's samplers: TPE multivariate with the constant liar for asynchronous workers; the
# random trials before the model are Optuna's defaults, passed so that they are the ones shown.
OPTUNA_TPE: dict[str, Any] = {"multivariate": True, "constant_liar": True, "n_startup_trials": 10}
OPTUNA_CMAES: dict[str, Any] = {"n_startup_trials": 1}
OPTUNA_GP: dict[str, Any] = {"n_startup_trials": 10}
# Multi-objective: NSGA-II with a smaller population than Optuna's 50, which a run of a few
# minutes would spend on its first (random) generation; MOTPE and the GP as the single-objective ones.
OPTUNA_NSGA2: dict[str, Any] = {"population_size": 20}
OPTUNA_MOTPE: dict[str, Any] = dict(OPTUNA_TPE)
OPTUNA_MOGP: dict[str, Any] = dict(OPTUNA_GP)
OPTUNA: dict[str, dict[str, Any]] = {
    "tpe": OPTUNA_TPE,
    "cmaes": OPTUNA_CMAES,
    "gp": OPTUNA_GP,
    "nsga2": OPTUNA_NSGA2,
    "motpe": OPTUNA_MOTPE,
    "mogp": OPTUNA_MOGP,
}
# MOASHA as Syne Tune 0.16 builds it (stopping type, one bracket, non-dominated sorting), on the
# seed's rungs.
MOASHA: dict[str, Any] = {**SUCCESSIVE_HALVING, "brackets": 1, "priority": "non-dominated sorting"}
NEVERGRAD_ONEPLUSONE: dict[str, Any] = {"optimizer": "OnePlusOne"}
# DEHB's paper defaults; fidelities DEHB's own between min_fidelity and the max resource.
DEHB: dict[str, Any] = {
    "min_fidelity": SUCCESSIVE_HALVING["grace_period"],
    "eta": SUCCESSIVE_HALVING["reduction_factor"],
    "mutation_factor": 0.5,
    "crossover_prob": 0.5,
    "strategy": "rand1_bin",
}
# SMAC3's hyperparameter-optimization facade's defaults, but one evaluation per configuration
# (its default repeats a configuration on up to 3 seeds).
SMAC: dict[str, Any] = {
    "initial_design": "Sobol",
    "configs_per_hyperparameter": 10,
    "retrain_after": 8,
    "max_config_calls": 1,
}
