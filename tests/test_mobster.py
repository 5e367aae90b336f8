"""MOBSTER really fits its GP (Syne Tune 0.16's stock wiring silently never does)."""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np

from hpobench.benchmarks import get_benchmark
from hpobench.methods import MethodArguments, get_method
from hpobench.methods.mobster_searcher import ObservedBoTorchSearcher


def _arguments() -> MethodArguments:
    return MethodArguments.for_benchmark(get_benchmark("mlp_digits"), random_seed=7)


def _objective(config: dict, epoch: int) -> float:
    """A smooth made-up accuracy: best near learning_rate 1e-2, improving with epochs."""
    distance = abs(np.log10(config["learning_rate"]) + 2.0)
    return float(1.0 - 0.3 * distance - 0.2 / epoch)


def _drive(scheduler, num_trials: int) -> list[dict]:
    """Ask for configurations and feed back two epochs of results for each, as the tuner does."""
    from syne_tune.backend.trial_status import Trial

    configs = []
    for trial_id in range(num_trials):
        suggestion = scheduler.suggest()
        trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
        scheduler.on_trial_add(trial)
        for epoch in (1, 2):
            result = {"epoch": epoch, "val_accuracy": _objective(trial.config, epoch)}
            scheduler.on_trial_result(trial, result)
        configs.append(trial.config)
    return configs


def test_mobster_fits_a_gp_on_every_observed_trial(caplog):
    scheduler = get_method("MOBSTER").build(_arguments())
    with caplog.at_level(logging.WARNING):
        _drive(scheduler, num_trials=10)
    inner = scheduler.searcher.searcher  # the searcher fitted on the last results
    assert isinstance(inner, ObservedBoTorchSearcher)
    assert inner.dataset_size() >= 9  # it saw the other trials' results
    assert inner.num_model_suggestions >= 1
    assert inner.num_random_fallbacks == 0
    assert "unable to fit" not in caplog.text


def test_stock_syne_tune_wiring_falls_back_to_random_search(caplog):
    """The failure the test above guards against, shown on Syne Tune's own wiring."""
    from syne_tune.optimizer.schedulers.asha import AsynchronousSuccessiveHalving

    args = _arguments()
    scheduler = AsynchronousSuccessiveHalving(
        config_space=args.config_space,
        metric=args.metric,
        do_minimize=False,
        max_t=args.max_resource,
        time_attr=args.resource_attr,
        searcher="botorch",
        random_seed=7,
    )
    with caplog.at_level(logging.WARNING):
        _drive(scheduler, num_trials=10)
    assert "Botorch was unable to fit the model" in caplog.text
