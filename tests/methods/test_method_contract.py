"""The contract every method keeps (issue 22), checked over all of them, built-in, from other
libraries and from a plugin, as 4 asynchronous workers drive them: trials finish in random
order, multi-fidelity methods decide at rungs (pause, resume, stop).

- every suggestion lies inside the space, in plain Python types;
- no configuration is suggested twice, unless the method says why it does (ALLOWS_REPEATS);
- what a method learns pairs each result with its own configuration: every (configuration,
  value) its model or optimizer holds is that configuration's value at some resource, never
  another trial's (read from each library's records by `learned`; the Syne Tune 0.16 searchers
  hpobench runs as they are have their own, finer test in test_method_pairing.py);
- the time each suggestion takes is recorded (`record_property`, in the JUnit report), not
  asserted: benchmarks/suggestion_time.py measures it.
"""

from __future__ import annotations

import functools
import heapq
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

import numpy as np
import pytest
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform
from syne_tune.optimizer.scheduler import SchedulerDecision

from hpobench.methods import MethodArguments, get_method, method_names
from hpobench.methods.spec import MethodSpec

MAX_EPOCHS = 9
SPACE = {
    "a": uniform(0.0, 1.0),
    "b": loguniform(1e-3, 1.0),
    "c": randint(1, 8),
    "d": lograndint(1, 256),
    "e": choice(["sgd", "adam", "rmsprop"]),
    "epochs": MAX_EPOCHS,
}
ALLOWS_REPEATS = {"DEHB": "a configuration promoted to a higher fidelity is evaluated again from scratch"}
# Checked against Syne Tune 0.16's private records in test_method_pairing.py.
PAIRED_ELSEWHERE = {"TPE", "BORE", "REA", "CQR"}


def objective(config: dict[str, Any]) -> float:
    return (
        (config["a"] - 0.3) ** 2
        + (math.log10(config["b"]) + 1.5) ** 2
        + (config["c"] - 3) ** 2 / 10
        + math.log2(config["d"]) / 8
        + {"sgd": 0.0, "adam": 0.3, "rmsprop": 0.6}[config["e"]]
    )


def value_at(config: dict[str, Any], epoch: int) -> float:
    return objective(config) + 1.0 / epoch


def plugin_method(args: MethodArguments) -> Any:
    """What a plugin registers: a factory taking MethodArguments (here Syne Tune's random search
    with a fixed first point, as tests/test_plugins.py's plugin)."""
    from syne_tune.optimizer.baselines import RandomSearch

    return RandomSearch(
        args.config_space,
        metrics=[args.metric],
        do_minimize=args.do_minimize,
        random_seed=args.random_seed,
        points_to_evaluate=[{"a": 0.5, "b": 0.01, "c": 2, "d": 16, "e": "adam"}],
    )


PLUGIN = MethodSpec(
    name="PLUGIN-FIRST-POINT", family="random search", multi_fidelity=False, needs="", factory=plugin_method
)


def spec_of(name: str) -> MethodSpec:
    return PLUGIN if name == PLUGIN.name else get_method(name)


def _observations(scheduler: Any) -> list[tuple[dict, float]]:
    return [(o.config, o.value) for o in scheduler.suggester._observations.values()]


def _rungs(scheduler: Any) -> list[tuple[dict, float]]:
    return [
        (scheduler._configs[trial_id], entry.value)
        for rung in scheduler._rungs.values()
        for trial_id, entry in rung.items()
    ]


def _last_value_searcher(scheduler: Any) -> list[tuple[dict, float]]:
    configs, values = scheduler.searcher.make_input_target()
    return list(zip(configs, values, strict=True))


def _optuna(scheduler: Any) -> list[tuple[dict, float]]:
    return [(t.params, t.value) for t in scheduler.study.trials if t.value is not None]


def _optuna_multi_objective(scheduler: Any) -> list[tuple[dict, float]]:
    return [(t.params, t.values[0]) for t in scheduler.study.trials if t.values is not None]


def _moasha(scheduler: Any) -> list[tuple[dict, float]]:
    return [
        (scheduler.configs[trial_id], metrics["loss"])
        for bracket in scheduler.brackets
        for _, recorded in bracket.rungs
        for trial_id, metrics in recorded.items()
    ]


def _nevergrad(scheduler: Any) -> list[tuple[dict, float]]:
    return scheduler.told  # recorded at the library's boundary by `spy`


def _dehb(scheduler: Any) -> list[tuple[dict, float]]:
    dehb = scheduler.dehb
    return [
        (dict(dehb.vector_to_configspace(item.config)), result.score)  # announced, not evaluated: inf
        for item in dehb.config_repository.configs
        for result in item.results.values()
        if math.isfinite(result.score)
    ]


def _smac(scheduler: Any) -> list[tuple[dict, float]]:
    from smac.runhistory.enumerations import StatusType

    history = scheduler.smac.runhistory
    return [
        (dict(history.get_config(key.config_id)), value.cost)
        for key, value in history.items()
        if value.status == StatusType.SUCCESS
    ]


# What each method learns from, as (configuration, value) pairs; None: it learns nothing.
LEARNED: dict[str, Optional[Callable[[Any], list[tuple[dict, float]]]]] = {
    "RS": None,
    "PLUGIN-FIRST-POINT": None,
    "BO": _observations,
    "MOBSTER": _observations,
    "MOBSTER-STOP": _observations,
    "ASHA": _rungs,
    "ASHA-STOP": _rungs,
    "BOHB": _last_value_searcher,
    "ASHABORE": _last_value_searcher,
    "ASHACQR": _last_value_searcher,
    "OPTUNA-TPE": _optuna,
    "OPTUNA-CMAES": _optuna,
    "OPTUNA-GP": _optuna,
    "NEVERGRAD-ONEPLUSONE": _nevergrad,
    "DEHB": _dehb,
    "SMAC": _smac,
    "MO-RS": None,
    "MOASHA": _moasha,
    "OPTUNA-NSGA2": _optuna_multi_objective,
    "OPTUNA-MOTPE": _optuna_multi_objective,
    "OPTUNA-EHVI": _optuna_multi_objective,
    **{name: None for name in PAIRED_ELSEWHERE},
}


def spy(scheduler: Any) -> None:
    """Nevergrad keeps no (configuration, value) records: note what is told, as it is told."""
    if hasattr(scheduler, "optimizer") and hasattr(scheduler.optimizer, "tell"):
        scheduler.told = []
        tell = scheduler.optimizer.tell
        scheduler.optimizer.tell = lambda candidate, loss: (
            scheduler.told.append((candidate.value, loss)),
            tell(candidate, loss),
        )


@dataclass
class Run:
    """What `drive` saw: the scheduler, the new configurations in order, the seconds each
    suggestion took, the decisions the method returned and how many paused trials it resumed."""

    scheduler: Any
    configs: list[dict]
    seconds: list[float]
    decisions: Counter = field(default_factory=Counter)
    resumed: int = 0


def drive(name: str, seed: int, evaluations: int, workers: int = 4) -> Run:
    """The tuner's loop: `workers` trials at once, each epoch taking a random time, the method's
    decisions (pause, resume, stop) carried out."""
    np.random.seed(seed)
    durations = np.random.default_rng(100 + seed)
    # A multi-objective method tunes the loss and a cost that grows with the epochs.
    objectives = (("loss", "min"), ("cost", "min")) if spec_of(name).multi_objective else ()
    scheduler = spec_of(name).build(
        MethodArguments(
            SPACE,
            "loss",
            "min",
            "epoch",
            MAX_EPOCHS,
            random_seed=seed,
            max_resource_attr="epochs",
            objectives=objectives,
        )
    )
    spy(scheduler)
    trials: dict[int, Trial] = {}
    reached: dict[int, int] = {}  # trial id -> last epoch reported
    events: list[tuple[float, int]] = []
    run, now = Run(scheduler, [], []), 0.0
    configs, seconds = run.configs, run.seconds

    def launch() -> bool:
        began = time.perf_counter()
        suggestion = scheduler.suggest()
        seconds.append(time.perf_counter() - began)
        if suggestion is None:
            return False
        if suggestion.spawn_new_trial_id:
            trial_id = len(trials)
            trials[trial_id] = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
            reached[trial_id] = 0
            configs.append(suggestion.config)
            scheduler.on_trial_add(trials[trial_id])
        else:  # a paused trial resumed from its checkpoint, told how far to go now
            trial_id = suggestion.checkpoint_trial_id
            run.resumed += 1
            trials[trial_id].config = suggestion.config or trials[trial_id].config
        heapq.heappush(events, (now + durations.uniform(0.5, 1.5), trial_id))
        return True

    for _ in range(workers):
        launch()
    while events and len(configs) <= evaluations:
        now, trial_id = heapq.heappop(events)
        trial = trials[trial_id]
        reached[trial_id] += 1
        epoch = reached[trial_id]
        result = {"epoch": epoch, "loss": value_at(trial.config, epoch), "cost": epoch * trial.config["a"]}
        decision = scheduler.on_trial_result(trial, result)
        run.decisions[decision] += 1
        if decision == SchedulerDecision.CONTINUE and epoch < trial.config.get("epochs", MAX_EPOCHS):
            heapq.heappush(events, (now + durations.uniform(0.5, 1.5), trial_id))
            continue
        if decision == SchedulerDecision.CONTINUE:
            scheduler.on_trial_complete(trial, result)
        else:
            scheduler.on_trial_remove(trial)
        launch()
    return run


ALL = [*method_names(), PLUGIN.name]
# Methods driven for 28 evaluations by the tests of what makes them that method (below): their
# contract reads that run (one xdist group: the worker that holds the cache); the others' 16.
DRIVEN_LONG = ("ASHA", "ASHA-STOP", "MOBSTER", "MOBSTER-STOP")


def test_every_method_states_what_it_learns_from():
    assert set(LEARNED) == set(ALL), "a new method needs an entry in LEARNED"
    assert set(ALLOWS_REPEATS) <= set(ALL) and PAIRED_ELSEWHERE <= set(method_names())


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.xdist_group("driven_long")) if n in DRIVEN_LONG else n for n in ALL]
)
def test_method_contract(name: str, record_property):
    run = driven_long(name) if name in DRIVEN_LONG else drive(name, seed=0, evaluations=16)
    scheduler, configs, seconds = run.scheduler, run.configs, run.seconds
    assert len(configs) >= 12, f"{name} stopped suggesting"
    for config in configs:  # inside the space, plain types
        assert 0.0 <= config["a"] <= 1.0 and 1e-3 <= config["b"] <= 1.0
        assert type(config["c"]) is int and 1 <= config["c"] <= 8
        assert type(config["d"]) is int and 1 <= config["d"] <= 256
        assert config["e"] in ("sgd", "adam", "rmsprop")
        assert type(config["epochs"]) is int and 1 <= config["epochs"] <= MAX_EPOCHS
        assert all(type(v) in (int, float, str) for v in config.values()), config
    searched = [tuple((k, v) for k, v in sorted(c.items()) if k != "epochs") for c in configs]
    if name not in ALLOWS_REPEATS:
        assert len(set(searched)) == len(searched), f"{name} suggested a configuration twice"
    learned = LEARNED[name]
    if learned is not None:
        pairs = learned(scheduler)
        assert pairs, f"{name} learned nothing"
        for config, value in pairs:  # its own value at some resource, never another trial's
            own = [value_at(config, epoch) for epoch in range(1, MAX_EPOCHS + 1)]
            assert any(math.isclose(value, v, rel_tol=1e-6) for v in own), (name, config, value)
    record_property("median_suggestion_seconds", statistics.median(seconds))
    record_property("max_suggestion_seconds", max(seconds))


# What makes each of hpobench's own methods that method (issue 29), under the same 4
# asynchronous workers. BO's pairing by trial id is the contract's check above (LEARNED: each
# value the GP holds is its own configuration's); DEHB's bracket sizes are checked in
# test_dehb_method.py, every method's default first trial in test_default_first_trial.py.
# A run of 28 evaluations is driven once per method and read by every test below (a drive is
# seeded, so it is the same run; MOBSTER's GP fits make each one take seconds): one xdist
# group keeps them in the worker that holds the cache.


@functools.cache
def driven_long(name: str) -> Run:
    return drive(name, seed=0, evaluations=28)


@pytest.mark.xdist_group("driven_long")
@pytest.mark.parametrize("name", ["ASHA", "MOBSTER"])
def test_a_promotion_type_method_pauses_and_resumes_trials_and_stops_none(name):
    run = driven_long(name)
    assert run.decisions[SchedulerDecision.PAUSE] >= 5 and run.resumed >= 2, (run.decisions, run.resumed)
    assert run.decisions[SchedulerDecision.STOP] == 0


@pytest.mark.xdist_group("driven_long")
@pytest.mark.parametrize("name", ["ASHA-STOP", "MOBSTER-STOP"])
def test_a_stopping_type_method_stops_trials_and_pauses_none(name):
    run = driven_long(name)
    assert run.decisions[SchedulerDecision.STOP] >= 5, run.decisions
    assert run.decisions[SchedulerDecision.PAUSE] == 0 and run.resumed == 0


@pytest.mark.xdist_group("driven_long")
@pytest.mark.parametrize("name", ["MOBSTER", "MOBSTER-STOP"])
def test_mobsters_model_learns_from_several_rungs_and_acquires_at_the_seeds_level(name):
    run = driven_long(name)
    suggester = run.scheduler.suggester
    fit = suggester.last_fit
    assert suggester.counts.model >= 3 and fit is not None and len(set(fit.resources)) >= 2
    per_level = Counter(fit.resources)
    enough = [level for level, n in per_level.items() if n >= 3]
    assert fit.resource_for_acquisition == (max(enough) if enough else min(per_level))
