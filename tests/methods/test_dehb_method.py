"""DEHB from the dehb package as an hpobench method (issues 22, 29): the space translated once,
DEHB's own fidelities and bracket sizes (a fractional fidelity trained rounded up), each trial
stopped at its job's fidelity and its value told to that job under out-of-order completion,
failures told as the worst, better than random search on a multi-fidelity Branin with 4
asynchronous workers, a real run."""

from __future__ import annotations

import heapq
import math
from datetime import datetime

import numpy as np
import pytest
from branin_runs import branin
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import uniform
from syne_tune.optimizer.scheduler import SchedulerDecision

from hpobench.methods import MethodArguments, get_method
from hpobench.methods.dehb_method import resource_of
from hpobench.results import layout

NAME = "DEHB"


def build(name: str, seed: int, max_resource: int = 27, space: dict | None = None):
    space = space or {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0), "epochs": max_resource}
    return get_method(name).build(
        MethodArguments(space, "value", "min", "epoch", max_resource, random_seed=seed, max_resource_attr="epochs")
    )


def start(scheduler, trial_id: int) -> Trial:
    trial = Trial(trial_id=trial_id, config=scheduler.suggest().config, creation_time=datetime.now())
    scheduler.on_trial_add(trial)
    return trial


def value_at(config: dict, epoch: int) -> float:
    """Branin plus a term that shrinks with training: rankings hold at every resource."""
    return branin(config) + 30.0 / epoch


def test_every_built_in_benchmarks_space_translates_kind_by_kind():
    import ConfigSpace as CS

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
    from hpobench.methods.configspace import configspace_space

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
        translated, fixed = configspace_space(to_syne_tune_space(space), 0)
        for key, entry in space.items():
            if not is_domain(entry):
                assert fixed[key] == entry and key not in translated
                continue
            hyperparameter = translated[key]
            kinds.add(entry.kind)
            if entry.kind == "choice":
                assert isinstance(hyperparameter, CS.CategoricalHyperparameter)
                assert list(hyperparameter.choices) == list(entry.categories)
            else:
                kind = (
                    CS.UniformFloatHyperparameter
                    if entry.kind in ("uniform", "loguniform")
                    else CS.UniformIntegerHyperparameter
                )
                assert isinstance(hyperparameter, kind), (name, key)
                assert (hyperparameter.lower, hyperparameter.upper) == (entry.lower, entry.upper)
                assert hyperparameter.log == entry.kind.startswith("log")
    assert kinds == {"uniform", "loguniform", "randint", "lograndint", "choice"}


def test_suggestions_stay_inside_the_space_at_dehbs_own_fidelities_rounded_up():
    from syne_tune.config_space import choice, lograndint, loguniform, randint

    space = {
        "a": uniform(0.0, 1.0),
        "b": loguniform(1e-4, 1.0),
        "c": randint(1, 9),
        "d": lograndint(1, 512),
        "e": choice(["sgd", "adam"]),
        "epochs": 50,
    }
    scheduler = build(NAME, 0, 50, space)
    # DEHB's geometric spacing (eta 3) down from 50, not ASHA's rung levels 1, 3, 9, 27, 50.
    assert scheduler.fidelities == pytest.approx([50 / 27, 50 / 9, 50 / 3, 50])
    assert scheduler.levels == [2, 6, 17, 50]  # trained: each fidelity rounded up
    levels = set()
    for trial_id in range(60):  # past the first bracket's 27 jobs at the lowest fidelity
        trial = start(scheduler, trial_id)
        config = trial.config
        assert 0.0 <= config["a"] <= 1.0 and 1e-4 <= config["b"] <= 1.0
        assert isinstance(config["c"], int) and 1 <= config["c"] <= 9
        assert isinstance(config["d"], int) and 1 <= config["d"] <= 512
        assert config["e"] in ("sgd", "adam")
        assert all(type(v) in (int, float, str) for v in config.values())  # no numpy scalars
        levels.add(config["epochs"])
        scheduler.on_trial_result(trial, {"epoch": config["epochs"], "value": config["a"]})
    assert levels <= {2, 6, 17, 50} and len(levels) >= 2
    # mlp_digits' 30 epochs: 1.11, 3.33, 10, 30 (10.000000000000002 is not rounded up to 11).
    assert build(NAME, 0, 30).levels == [2, 4, 10, 30]
    assert build(NAME, 0, 9).levels == [1, 3, 9]


def test_dehbs_brackets_have_dehbs_sizes():
    """Told each result at once, DEHB runs its Hyperband brackets in turn: for 4 fidelities
    (eta 3) brackets of 27, 9, 3, 1 configurations from the lowest fidelity, then 9, 3, 1 from
    the second, 6, 2 from the third, 4 at the maximum (Awad et al. 2021, Algorithm 1)."""
    from itertools import groupby

    scheduler = build(NAME, 0, 50)
    resources = []
    for trial_id in range(27 + 9 + 3 + 1 + 9 + 3 + 1 + 6 + 2 + 4 + 1):
        trial = start(scheduler, trial_id)
        epochs = trial.config["epochs"]
        resources.append(epochs)
        result = {"epoch": epochs, "value": value_at(trial.config, epochs)}
        scheduler.on_trial_result(trial, result)
        scheduler.on_trial_complete(trial, result)
    runs = [(level, len(list(group))) for level, group in groupby(resources)]
    # The last two brackets meet at 50 (2 + 4); then the first bracket again.
    assert runs == [(2, 27), (6, 9), (17, 3), (50, 1), (6, 9), (17, 3), (50, 1), (17, 6), (50, 6), (2, 1)]


def test_a_trial_stops_at_its_jobs_fidelity_and_its_value_is_told_to_its_job():
    scheduler = build(NAME, 1, 50)  # fractional fidelities: 1.85, 5.56, 16.7, 50
    trials = [start(scheduler, i) for i in range(12)]
    told = []
    original = scheduler.dehb.tell
    scheduler.dehb.tell = lambda job, result: (
        told.append((dict(job["config"]), job["fidelity"], result)),
        original(job, result),
    )
    for index in np.random.default_rng(2).permutation(len(trials)):  # out of order
        trial = trials[index]
        fidelity = trial.config["epochs"]
        for epoch in range(1, fidelity + 1):
            decision = scheduler.on_trial_result(trial, {"epoch": epoch, "value": value_at(trial.config, epoch)})
            assert decision == SchedulerDecision.CONTINUE  # told to train that far, it ends by itself
        scheduler.on_trial_complete(trial, {"epoch": fidelity, "value": value_at(trial.config, fidelity)})
    assert len(told) == 12
    for config, fidelity, result in told:  # each job's own configuration, at its own fidelity
        trained = resource_of(fidelity)  # 1.85 -> 2 rounds: the value and the cost at 2
        assert trained == math.ceil(fidelity)
        assert result["fitness"] == pytest.approx(value_at(config, trained)) and result["cost"] == trained
    # A trial that does not know how far to train is stopped at its fidelity.
    trial = start(scheduler, 12)
    trial.config.pop("epochs")
    fidelity = resource_of(scheduler._running[12]["fidelity"])
    decisions = [scheduler.on_trial_result(trial, {"epoch": e, "value": 1.0}) for e in range(1, fidelity + 1)]
    assert decisions[-1] == SchedulerDecision.STOP and set(decisions[:-1]) <= {SchedulerDecision.CONTINUE}


def test_failed_stopped_and_maximized_trials_are_told_as_such():
    scheduler = build(NAME, 0)
    failed, stopped_early, stopped_silent, valueless = (start(scheduler, i) for i in range(4))
    fitness = []
    original = scheduler.dehb.tell
    scheduler.dehb.tell = lambda job, result: (fitness.append(result["fitness"]), original(job, result))
    scheduler.on_trial_error(failed)
    scheduler.on_trial_result(stopped_early, {"epoch": 0, "value": 4.0})  # below its fidelity of 1
    scheduler.on_trial_remove(stopped_early)
    scheduler.on_trial_remove(stopped_silent)
    scheduler.on_trial_complete(valueless, {"epoch": 1, "value": float("nan")})
    assert fitness == [math.inf, 4.0, math.inf, math.inf]
    scheduler.mode = "max"
    good = start(scheduler, 4)
    scheduler.on_trial_result(good, {"epoch": 1, "value": 2.5})
    assert fitness[-1] == -2.5


def best_of_async_run(name: str, seed: int, workers: int = 4, max_resource: int = 27) -> float:
    """Branin at the maximum resource reached within 40 full evaluations' worth of epochs, with
    `workers` trials whose epochs take random times: results arrive out of order."""
    np.random.seed(seed)
    durations = np.random.default_rng(10_000 + seed)
    scheduler = build(name, seed, max_resource)
    budget, spent, best, started = 40 * max_resource, 0, math.inf, 0
    events: list[tuple[float, int, int, Trial]] = []  # (time, trial id, epoch, trial)
    now = 0.0

    def launch() -> None:
        nonlocal started
        trial = start(scheduler, started)
        started += 1
        heapq.heappush(events, (now + durations.uniform(0.5, 1.5), trial.trial_id, 1, trial))

    for _ in range(workers):
        launch()
    while events and spent < budget:
        now, _, epoch, trial = heapq.heappop(events)
        spent += 1
        result = {"epoch": epoch, "value": value_at(trial.config, epoch)}
        if epoch == max_resource:
            best = min(best, branin(trial.config))
        decision = scheduler.on_trial_result(trial, result)
        if decision == SchedulerDecision.STOP:
            scheduler.on_trial_remove(trial)
        elif epoch < trial.config.get("epochs", max_resource):
            heapq.heappush(events, (now + durations.uniform(0.5, 1.5), trial.trial_id, epoch + 1, trial))
            continue
        else:
            scheduler.on_trial_complete(trial, result)
        launch()
    return best


def test_beats_random_search_on_multi_fidelity_branin_with_four_asynchronous_workers():
    seeds = range(10)
    dehb = [best_of_async_run(NAME, s) for s in seeds]
    random_search = [best_of_async_run("RS", s) for s in seeds]
    assert np.median(dehb) < np.median(random_search), (np.median(dehb), np.median(random_search))


def test_the_effective_seed_seeds_the_optimizer():
    def suggestions(seed: int) -> list[dict]:
        scheduler, configs = build(NAME, seed), []
        for trial_id in range(10):
            trial = start(scheduler, trial_id)
            scheduler.on_trial_complete(trial, {"epoch": 1, "value": branin(trial.config)})
            configs.append(trial.config)
        return configs

    assert suggestions(3) == suggestions(3) and suggestions(3) != suggestions(4)


def test_a_real_run_and_its_saved_optimizer(invoke, results_root):
    import dill

    result = invoke(
        *"run-local --benchmark gbt_breast_cancer --method".split(),
        NAME,
        *"--set boosting_rounds=9 --max-wallclock-time 8 --experiment-tag dehb".split(),
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "dehb" / f"{NAME}-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["hpobench_status"] == "complete" and metadata["hpobench_trials_started"] >= 5
    assert metadata["scheduler_kwargs"]["fidelities"] == [1, 3, 9]  # DEHB's own for 9 rounds
    assert metadata["scheduler_kwargs"]["resources"] == [1, 3, 9]
    with (tuner_dir / layout.TUNER_FILE).open("rb") as saved:
        scheduler = dill.load(saved).scheduler  # what a resume continues
    assert scheduler.dehb._tell_counter >= 3 and scheduler.dehb.logger is not None
    scheduler.suggest()  # the unpickled optimizer still asks
