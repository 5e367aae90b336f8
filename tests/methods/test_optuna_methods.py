"""Optuna's samplers as hpobench methods (issue 22): the space translated once, results told
to their own Optuna trial under out-of-order completion, failures and stops told as such,
each better than random search on Branin with 4 asynchronous workers, a real run."""

from __future__ import annotations

import heapq
import math
import sys
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import uniform

from hpobench.methods import MethodArguments, get_method
from hpobench.results import layout

OPTUNA_METHODS = ["OPTUNA-TPE", "OPTUNA-CMAES", "OPTUNA-GP"]


def branin(config: dict) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    x1, x2 = config["x1"], config["x2"]
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def build(name: str, seed: int, space: dict | None = None) -> Any:
    space = space or {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0), "epochs": 1}
    return get_method(name).build(MethodArguments(space, "value", "min", "epoch", 1, random_seed=seed))


def start(scheduler: Any, trial_id: int) -> Trial:
    suggestion = scheduler.suggest()
    trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
    scheduler.on_trial_add(trial)
    return trial


def best_of_async_run(name: str, seed: int, workers: int = 4, evaluations: int = 40) -> float:
    """The tuner's loop with `workers` trials of random durations: results arrive out of order."""
    np.random.seed(seed)  # as run-local seeds numpy's global generator
    durations = np.random.default_rng(10_000 + seed)
    scheduler = build(name, seed)
    running: list[tuple[float, int, Trial]] = []
    best, started, finished, now = math.inf, 0, 0, 0.0
    while finished < evaluations:
        while len(running) < workers and started < evaluations:
            heapq.heappush(running, (now + durations.uniform(1.0, 10.0), started, start(scheduler, started)))
            started += 1
        now, _, trial = heapq.heappop(running)
        result = {"epoch": 1, "value": branin(trial.config)}
        scheduler.on_trial_result(trial, result)
        scheduler.on_trial_complete(trial, result)
        best, finished = min(best, result["value"]), finished + 1
    return best


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


@pytest.mark.parametrize("name", OPTUNA_METHODS)
def test_each_beats_random_search_on_branin_with_four_asynchronous_workers(name):
    seeds = range(10)
    random_search = np.median([best_of_async_run("RS", seed) for seed in seeds])
    method = np.median([best_of_async_run(name, seed) for seed in seeds])
    assert method < random_search, (name, method, random_search)


@pytest.mark.parametrize("name", OPTUNA_METHODS)
def test_the_effective_seed_seeds_the_sampler(name):
    def suggestions(seed: int) -> list[dict]:
        scheduler = build(name, seed)
        configs = []
        for trial_id in range(12):  # one worker: each result told before the next suggestion
            trial = start(scheduler, trial_id)
            scheduler.on_trial_complete(trial, {"value": branin(trial.config)})
            configs.append(trial.config)
        return configs

    assert suggestions(3) == suggestions(3)
    assert suggestions(3) != suggestions(4)


def test_a_real_run_and_its_saved_study(invoke, results_root):
    import dill

    result = invoke(
        *(
            "run-local --benchmark gbt_breast_cancer --method OPTUNA-TPE --set boosting_rounds=5 "
            "--max-wallclock-time 8 --experiment-tag optuna"
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


def test_a_missing_extra_is_one_line(invoke, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if not installed
    result = invoke(
        *(
            "run-local --benchmark gbt_breast_cancer --method OPTUNA-TPE --max-wallclock-time 5 --experiment-tag "
            "no-optuna"
        ).split()
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "Error: Method OPTUNA-TPE needs optuna, which is not installed; install the extra: "
        'pip install "hpobench[optuna]"'
    )


def test_a_remote_job_installs_the_library():
    from hpobench.remote.sagemaker.plan import plan_remote
    from hpobench.settings import RemoteSettings

    plan = plan_remote(RemoteSettings(benchmark="gbt_breast_cancer", methods=("OPTUNA-CMAES",)), "us-east-1", "b")
    text = plan.requirements.requirements_text()
    assert "optuna>=4" in text and "cmaes" in text
