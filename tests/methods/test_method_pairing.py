"""Syne Tune 0.16's model-based searchers, fed results out of order: which pair each result with its own configuration.

These read the searchers' private data (names asserted here, so an upgrade
fails by name): what each model is fitted on is exactly what decides whether
the method is the one its name says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import uniform

from hpobench.methods import MethodArguments, get_method
from hpobench.methods.notes import METHOD_NOTES

SPACE = {"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0), "epochs": 9}


def loss(config: dict) -> float:
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2


def start_trials(scheduler: Any, count: int) -> list[Trial]:
    """What the tuner does when `count` workers are free."""
    trials = []
    for trial_id in range(count):
        suggestion = scheduler.suggest()
        trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
        scheduler.on_trial_add(trial)
        trials.append(trial)
    return trials


def drive_out_of_order(
    name: str, resources: Callable[[int], list[int]] = lambda trial_id: [1]
) -> tuple[Any, list[Trial]]:
    """Start 6 trials, then feed their results latest-started first, as busy workers finish."""
    scheduler = get_method(name).build(MethodArguments(SPACE, "loss", "min", "epoch", 9, random_seed=4))
    trials = start_trials(scheduler, 6)
    for trial in reversed(trials):
        for epoch in resources(trial.trial_id):
            result = {"epoch": epoch, "loss": loss(trial.config) + 1.0 / epoch}
            scheduler.on_trial_result(trial, result)
        scheduler.on_trial_complete(trial, result)
    return scheduler, trials


def features(scheduler: Any, config: dict) -> tuple:
    """A configuration as the searcher stores it."""
    searcher = scheduler.searcher
    if hasattr(searcher, "_to_feature"):  # TPE's KDE
        return tuple(np.round(searcher._to_feature(config=config), 9))
    if hasattr(searcher, "_hp_ranges"):  # BORE
        return tuple(np.round(searcher._hp_ranges.to_ndarray(config), 9))
    return (round(config["x"], 9), round(config["y"], 9))


def stored_pairs(scheduler: Any) -> set[tuple[tuple, float]]:
    """(configuration, value) pairs the single-fidelity searcher will fit its model on."""
    searcher = scheduler.searcher
    if hasattr(searcher, "X") and hasattr(searcher, "y"):  # TPE
        pairs = zip(searcher.X, searcher.y, strict=True)
    elif hasattr(searcher, "inputs"):  # BORE
        pairs = zip(searcher.inputs, searcher.targets, strict=True)
    elif hasattr(searcher, "population"):  # REA
        return {(features(scheduler, e.config), round(e.score, 9)) for e in searcher.population}
    else:  # CQR
        configs, values = searcher.make_input_target()
        pairs = zip([features(scheduler, row) for row in configs.to_dict("records")], values, strict=True)
        return {(config, round(value, 9)) for config, value in pairs}
    return {(tuple(np.round(np.asarray(x, dtype=float), 9)), round(float(y), 9)) for x, y in pairs}


@pytest.mark.parametrize("name", ["TPE", "BORE", "REA", "CQR"])
def test_single_fidelity_searchers_pair_results_with_their_own_configuration(name: str) -> None:
    scheduler, trials = drive_out_of_order(name)
    expected = {(features(scheduler, t.config), round(loss(t.config) + 1.0, 9)) for t in trials}
    assert stored_pairs(scheduler) == expected


@pytest.mark.parametrize("name", ["BOHB", "ASHABORE", "ASHACQR"])
def test_multi_fidelity_searchers_pair_by_trial_id_but_mix_resources(name: str) -> None:
    """Documented in METHOD_NOTES: the model sees each trial's latest value, whatever its resource."""
    from syne_tune.optimizer.schedulers.searchers.last_value_multi_fidelity_searcher import (
        LastValueMultiFidelitySearcher,
    )

    # Trials 0-2 reach epoch 3, trials 3-5 stop at epoch 1 (as ASHA would leave them).
    scheduler, trials = drive_out_of_order(name, resources=lambda trial_id: [1, 2, 3] if trial_id < 3 else [1])
    searcher = scheduler.searcher
    assert isinstance(searcher, LastValueMultiFidelitySearcher)
    configs, values = searcher.make_input_target()
    assert list(searcher.trial_results) == [5, 4, 3, 2, 1, 0]  # keyed by trial id, in completion order
    for trial_id, config, value in zip(searcher.trial_results, configs, values, strict=True):
        trial = trials[trial_id]
        assert config == {k: trial.config[k] for k in ("x", "y")}
        epoch = 3 if trial_id < 3 else 1
        assert value == pytest.approx(loss(trial.config) + 1.0 / epoch)  # epoch-1 and epoch-3 values side by side
    assert "latest value" in METHOD_NOTES[name]


def test_stock_botorch_pairs_configurations_by_suggestion_order_with_results_by_completion_order() -> None:
    """Why BO is hpobench's own scheduler: Syne Tune 0.16's BOTorch fits mismatched pairs."""
    from syne_tune.optimizer.baselines import BOTorch

    scheduler = BOTorch(config_space=SPACE, metric="loss", do_minimize=True, random_seed=4)
    trials = start_trials(scheduler, 4)
    for trial in reversed(trials):
        scheduler.on_trial_complete(trial, {"epoch": 9, "loss": loss(trial.config)})
    searcher = scheduler.searcher
    fitted = list(zip(searcher._configs_with_results(), searcher.objectives(), strict=True))
    assert len(fitted) == 4
    mismatched = [config for config, value in fitted if not math.isclose(value, loss(config))]
    assert len(mismatched) == 4  # reverse order: every pair belongs to another trial
    assert "Syne Tune's BOTorch" in METHOD_NOTES["BO"]


def test_the_checked_methods_have_a_one_line_note() -> None:
    from hpobench.methods import method_names

    checked = {"RS", "BO", "TPE", "BORE", "REA", "CQR", "BOHB", "ASHABORE", "ASHACQR"}
    assert checked <= set(METHOD_NOTES) and set(METHOD_NOTES) <= set(method_names())
    assert all(len(text.splitlines()) == 1 for text in METHOD_NOTES.values())
