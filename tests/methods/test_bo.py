"""BO, the scheduler: results paired by trial id, pending trials tracked, a real run fits its GP quietly."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import loguniform, randint, uniform

from hpobench.methods import MethodArguments, get_method
from hpobench.methods.bo import GPBayesianOptimization
from hpobench.results import layout

SPACE = {"lr": loguniform(1e-4, 1e-1), "width": randint(4, 64), "dropout": uniform(0.0, 0.5), "epochs": 5}


def loss(config: dict) -> float:
    return (np.log10(config["lr"]) + 2.5) ** 2 + (config["width"] - 40) ** 2 / 400 + config["dropout"]


def build() -> GPBayesianOptimization:
    arguments = MethodArguments(SPACE, "loss", "min", "epoch", 5, random_seed=11)
    scheduler = get_method("BO").build(arguments)
    assert isinstance(scheduler, GPBayesianOptimization)
    return scheduler


def start(scheduler: GPBayesianOptimization, trial_id: int) -> Trial:
    """What the tuner does for one new trial."""
    suggestion = scheduler.suggest()
    trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
    scheduler.on_trial_add(trial)
    return trial


@pytest.mark.parametrize("order", ["reverse", "random"])
def test_results_of_pending_trials_reach_the_model_with_their_own_configuration(order: str) -> None:
    scheduler = build()
    trials = [start(scheduler, trial_id) for trial_id in range(6)]  # six busy workers
    assert sorted(scheduler.pending) == list(range(6))
    finishing = trials[::-1] if order == "reverse" else [trials[i] for i in np.random.default_rng(0).permutation(6)]
    for trial in finishing[:4]:
        scheduler.on_trial_result(trial, {"epoch": 5, "loss": loss(trial.config) + 1.0})
        scheduler.on_trial_complete(trial, {"epoch": 5, "loss": loss(trial.config)})
    start(scheduler, 6)
    fit = scheduler.suggester.last_fit
    assert fit is not None and fit.num_pending == 2  # the two still running, as fantasies
    by_id = {trial.trial_id: trial.config for trial in trials}
    assert sorted(fit.trial_ids) == sorted(trial.trial_id for trial in finishing[:4])
    for trial_id, config, value in zip(fit.trial_ids, fit.configs, fit.values, strict=True):
        assert config == {k: by_id[trial_id][k] for k in ("lr", "width", "dropout")}
        assert value == loss(by_id[trial_id])  # the final result, not an intermediate one


def test_failed_and_removed_trials_are_no_longer_pending() -> None:
    scheduler = build()
    trials = [start(scheduler, trial_id) for trial_id in range(5)]
    scheduler.on_trial_error(trials[1])
    scheduler.on_trial_remove(trials[2])
    for trial in trials[3:]:
        scheduler.on_trial_complete(trial, {"epoch": 5, "loss": loss(trial.config)})
    scheduler.on_trial_complete(trials[0], {"epoch": 5, "loss": float("nan")})
    assert scheduler.pending == {}
    start(scheduler, 5)
    assert scheduler.suggester.last_fit.num_pending == 0
    assert sorted(scheduler.suggester.last_fit.trial_ids) == [3, 4]
    assert scheduler.suggester.counts.dropped_values == 1


def test_with_one_worker_the_same_seed_repeats_the_same_suggestions() -> None:
    def configs() -> list[dict]:
        scheduler = build()
        for trial_id in range(7):
            trial = start(scheduler, trial_id)
            scheduler.on_trial_complete(trial, {"epoch": 5, "loss": loss(trial.config)})
        assert scheduler.suggester.counts.model == 4
        return [t.config for t in (start(scheduler, 7),)] + list(scheduler.suggester.last_fit.configs)

    assert configs() == configs()


def test_bo_is_a_scheduler_the_tuner_can_describe() -> None:
    scheduler = build()
    assert scheduler.metric_names() == ["loss"] and scheduler.metric_mode() == "min"
    trial = start(scheduler, 0)
    assert trial.config["epochs"] == 5 and isinstance(trial.config["width"], int)
    metadata = scheduler.metadata()
    assert metadata["scheduler_name"] == "GPBayesianOptimization"
    assert metadata["scheduler_kwargs"]["num_initial_random"] == 3


def test_a_real_run_fits_its_gp_and_prints_no_warnings(tmp_path: Path, this_hpobench_env: dict) -> None:
    from syne_tune import Tuner
    from syne_tune.experiments import load_experiment

    root = tmp_path / "results"
    command = [
        sys.executable,
        *(
            "-m hpobench run-local --benchmark gbt_breast_cancer --method BO --experiment-tag bo --n-workers 2 "
            "--max-num-evaluations 60 --max-wallclock-time 90 --random-seed 3 --results-root"
        ).split(),
        str(root),
        "--set",
        "boosting_rounds=5",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=this_hpobench_env)
    assert completed.returncode == 0, completed.stderr
    assert "Warning" not in completed.stderr, completed.stderr
    (tuner_dir,) = layout.tuner_dirs(root / "bo" / "BO-0")
    scheduler = Tuner.load(str(tuner_dir)).scheduler
    counts = scheduler.suggester.counts
    assert counts.model >= 3 and counts.model_failed == 0, counts
    # The GP saw each trial's own configuration and final value, as results.csv recorded them.
    frame = load_experiment(str(tuner_dir.relative_to(root)), local_path=str(root)).results
    fit = scheduler.suggester.last_fit
    for trial_id, config, value in zip(fit.trial_ids, fit.configs, fit.values, strict=True):
        rows = frame[frame["trial_id"] == trial_id]
        assert rows[scheduler.metric].iloc[-1] == pytest.approx(value)
        for name, chosen in config.items():
            assert rows[f"config_{name}"].iloc[0] == pytest.approx(chosen)
