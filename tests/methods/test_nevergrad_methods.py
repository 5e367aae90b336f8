"""Nevergrad's (1+1) evolution strategy as an hpobench method (issue 22): the space translated
once, results told to their own candidate under out-of-order completion, failures told as the
worst, a real run (what every library's method does alike: test_library_methods.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from branin_runs import branin, build, start

from hpobench.results import layout

NAME = "NEVERGRAD-ONEPLUSONE"


def test_every_kind_translates_and_suggestions_stay_inside_the_space():
    from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform

    space = {
        "a": uniform(0.0, 1.0),
        "b": loguniform(1e-4, 1.0),
        "c": randint(1, 9),
        "d": lograndint(1, 512),
        "e": choice(["sgd", "adam"]),
        "epochs": 3,
    }
    scheduler = build(NAME, 0, space)
    for trial_id in range(30):
        config = start(scheduler, trial_id).config
        assert 0.0 <= config["a"] <= 1.0 and 1e-4 <= config["b"] <= 1.0
        assert isinstance(config["c"], int) and 1 <= config["c"] <= 9
        assert isinstance(config["d"], int) and 1 <= config["d"] <= 512
        assert config["e"] in ("sgd", "adam") and config["epochs"] == 3
        assert all(type(v) in (int, float, str) for v in config.values())  # no numpy scalars
        scheduler.on_trial_complete(_trial(trial_id, config), {"value": config["a"]})


def test_every_built_in_benchmarks_space_translates_kind_by_kind():
    from hpobench.benchmarks import benchmark_names, get_benchmark
    from hpobench.benchmarks.space import is_domain, to_syne_tune_space
    from hpobench.methods.nevergrad_methods import nevergrad_space

    kinds = set()
    for name in benchmark_names():
        space = get_benchmark(name).config_space
        parametrization, fixed = nevergrad_space(to_syne_tune_space(space), 0)
        parameters = dict(parametrization.items())
        for key, entry in space.items():
            if not is_domain(entry):
                assert fixed[key] == entry and key not in parameters
                continue
            parameter = parameters[key]
            kinds.add(entry.kind)
            if entry.kind == "choice":
                assert list(parameter.choices.value) == list(entry.categories), (name, key)
            else:
                assert (parameter.bounds[0].item(), parameter.bounds[1].item()) == pytest.approx(
                    (entry.lower, entry.upper)
                )
                assert (type(parameter).__name__ == "Log") == entry.kind.startswith("log"), (name, key)
                assert parameter.integer == (entry.kind in ("randint", "lograndint")), (name, key)
    assert {"uniform", "loguniform", "randint", "lograndint"} <= kinds  # choice: the every-kind test above


def _trial(trial_id: int, config: dict):
    from datetime import datetime

    from syne_tune.backend.trial_status import Trial

    return Trial(trial_id=trial_id, config=config, creation_time=datetime.now())


def test_results_are_told_to_their_own_candidate_whatever_the_order():
    scheduler = build(NAME, 0)
    trials = [start(scheduler, i) for i in range(8)]
    told = []
    original = scheduler.optimizer.tell
    scheduler.optimizer.tell = lambda candidate, loss: (told.append((candidate.value, loss)), original(candidate, loss))
    for index in np.random.default_rng(1).permutation(len(trials)):
        scheduler.on_trial_complete(trials[index], {"value": branin(trials[index].config)})
    assert len(told) == 8
    for value, loss in told:  # each loss is its own candidate's
        assert loss == pytest.approx(branin(value))


def test_failed_stopped_and_maximized_trials_are_told_as_such():
    scheduler = build(NAME, 0)
    failed, stopped, valueless = (start(scheduler, i) for i in range(3))
    losses = []
    original = scheduler.optimizer.tell
    scheduler.optimizer.tell = lambda candidate, loss: (losses.append(loss), original(candidate, loss))
    scheduler.on_trial_error(failed)
    scheduler.on_trial_remove(stopped)
    scheduler.on_trial_complete(valueless, {"value": float("nan")})
    assert losses == [math.inf] * 3
    scheduler.mode = "max"
    scheduler.on_trial_complete(good := start(scheduler, 3), {"value": 2.5})
    assert losses[-1] == -2.5 and good.config


def test_a_real_run_and_its_saved_optimizer(invoke, results_root):
    import dill

    result = invoke(
        *"run-local --benchmark gbt_breast_cancer --method".split(),
        NAME,
        *"--set boosting_rounds=5 --max-wallclock-time 120 --max-num-evaluations 25 --experiment-tag ng".split(),
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "ng" / f"{NAME}-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["hpobench_status"] == "complete" and metadata["hpobench_trials_started"] >= 5
    with (tuner_dir / layout.TUNER_FILE).open("rb") as saved:
        optimizer = dill.load(saved).scheduler.optimizer  # what a resume continues
    assert optimizer.num_tell >= 3
