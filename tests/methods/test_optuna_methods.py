"""Optuna's samplers as hpobench methods (issue 22): the space translated once, results told
to their own Optuna trial under out-of-order completion, failures and stops told as such,
a real run (what every library's method does alike: test_library_methods.py)."""

from __future__ import annotations

import numpy as np
import pytest
from branin_runs import branin, build, start

from hpobench.results import layout

OPTUNA_METHODS = ["OPTUNA-TPE", "OPTUNA-CMAES", "OPTUNA-GP"]


def test_every_built_in_benchmarks_space_translates_kind_by_kind():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from hpobench.benchmarks import benchmark_names, get_benchmark
    from hpobench.benchmarks.space import (
        Choice,
        LogRandInt,
        LogUniform,
        RandInt,
        Uniform,
        is_domain,
        to_syne_tune_space,
    )
    from hpobench.methods.optuna_methods import optuna_space

    every_kind = {
        "a": Uniform(lower=0.0, upper=1.0),
        "b": LogUniform(lower=1e-4, upper=1.0),
        "c": RandInt(lower=1, upper=9),
        "d": LogRandInt(lower=1, upper=512),
        "e": Choice(categories=["sgd", "adam"]),
        "f": 3,
    }
    spaces = {name: get_benchmark(name).config_space for name in benchmark_names()}
    kinds = set()
    for name, space in {**spaces, "every kind": every_kind}.items():
        searched, fixed = optuna_space(to_syne_tune_space(space))
        for key, entry in space.items():
            if not is_domain(entry):
                assert fixed[key] == entry
                continue
            distribution = searched[key]
            kinds.add(entry.kind)
            if entry.kind == "choice":
                assert isinstance(distribution, CategoricalDistribution)
                assert list(distribution.choices) == list(entry.categories)
            else:
                kind = FloatDistribution if entry.kind in ("uniform", "loguniform") else IntDistribution
                assert isinstance(distribution, kind), (name, key)
                assert (distribution.low, distribution.high) == (entry.lower, entry.upper)
                assert distribution.log == entry.kind.startswith("log")
    assert kinds == {"uniform", "loguniform", "randint", "lograndint", "choice"}  # every kind met


@pytest.mark.parametrize("name", OPTUNA_METHODS)
def test_results_are_told_to_their_own_trial_whatever_the_order(name):
    scheduler = build(name, 0)
    trials = [start(scheduler, i) for i in range(12)]
    order = np.random.default_rng(1).permutation(len(trials))
    for index in order:  # completion in random order, ids far from the study's own numbers
        trial = trials[index]
        scheduler.on_trial_complete(trial, {"value": branin(trial.config)})
    told = scheduler.study.trials
    assert len(told) == 12 and all(t.value == pytest.approx(branin(t.params)) for t in told)
    for trial in trials:  # each hpobench trial's configuration is its Optuna trial's
        (match,) = [t for t in told if t.params == {k: trial.config[k] for k in ("x1", "x2")}]
        assert match.value == pytest.approx(branin(trial.config))
    assert all(trial.config["epochs"] == 1 for trial in trials)  # fixed entries kept


def test_failed_stopped_and_valueless_trials_are_told_as_such():
    from optuna.trial import TrialState

    scheduler = build("OPTUNA-TPE", 0)
    failed, stopped, valueless, good = (start(scheduler, i) for i in range(4))
    scheduler.on_trial_error(failed)
    scheduler.on_trial_remove(stopped)
    scheduler.on_trial_complete(valueless, {"value": float("nan")})
    scheduler.on_trial_complete(good, {"value": 1.5})
    states = [t.state for t in scheduler.study.trials]
    assert states == [TrialState.FAIL, TrialState.PRUNED, TrialState.FAIL, TrialState.COMPLETE]
    assert start(scheduler, 4).config  # and it goes on suggesting


def test_a_real_run_and_its_saved_study(invoke, results_root):
    import dill

    result = invoke(
        *(
            "run-local --benchmark gbt_breast_cancer --method OPTUNA-TPE --set boosting_rounds=5 "
            "--max-wallclock-time 120 --max-num-evaluations 25 --experiment-tag optuna"
        ).split()
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "optuna" / "OPTUNA-TPE-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["hpobench_status"] == "complete" and metadata["hpobench_trials_started"] >= 5
    assert metadata["scheduler_kwargs"]["sampler"] == "TPESampler"
    with (tuner_dir / layout.TUNER_FILE).open("rb") as saved:
        study = dill.load(saved).scheduler.study  # what a resume continues
    assert sum(t.value is not None for t in study.trials) >= 3
