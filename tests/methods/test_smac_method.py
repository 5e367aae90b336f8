"""SMAC3's hyperparameter-optimization facade as an hpobench method (issue 22): results told to
their own TrialInfo under out-of-order completion, failures and stops told as such, a saved
optimizer that resumes where it was, a real run (what every library's method does alike:
test_library_methods.py)."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
from branin_runs import branin, build, start

from hpobench.results import layout

NAME = "SMAC"


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
    seen = set()
    for trial_id in range(12):
        trial = start(scheduler, trial_id)
        config = trial.config
        assert 0.0 <= config["a"] <= 1.0 and 1e-4 <= config["b"] <= 1.0
        assert isinstance(config["c"], int) and 1 <= config["c"] <= 9
        assert isinstance(config["d"], int) and 1 <= config["d"] <= 512
        assert config["e"] in ("sgd", "adam") and config["epochs"] == 3
        assert all(type(v) in (int, float, str) for v in config.values())  # no numpy scalars
        seen.add(tuple(sorted(config.items())))
        scheduler.on_trial_complete(trial, {"value": config["a"]})
    assert len(seen) == 12  # one evaluation per configuration


def test_results_are_told_to_their_own_trial_whatever_the_order():
    scheduler = build(NAME, 0)
    trials = [start(scheduler, i) for i in range(8)]
    for index in np.random.default_rng(1).permutation(len(trials)):
        scheduler.on_trial_complete(trials[index], {"value": branin(trials[index].config)})
    history = scheduler.smac.runhistory
    assert len(history) == 8
    for key, value in history.items():  # each cost is its own configuration's
        assert value.cost == pytest.approx(branin(dict(history.get_config(key.config_id))))


def test_failed_stopped_valueless_and_maximized_trials_are_told_as_such():
    from smac.runhistory.enumerations import StatusType

    scheduler = build(NAME, 0)
    failed, stopped, valueless = (start(scheduler, i) for i in range(3))
    scheduler.on_trial_error(failed)
    scheduler.on_trial_remove(stopped)
    scheduler.on_trial_complete(valueless, {"value": float("nan")})
    statuses = [value.status for value in scheduler.smac.runhistory.values()]
    assert statuses == [StatusType.CRASHED, StatusType.TIMEOUT, StatusType.CRASHED]
    scheduler.mode = "max"
    scheduler.on_trial_complete(start(scheduler, 3), {"value": 2.5})
    assert list(scheduler.smac.runhistory.values())[-1].cost == -2.5


def test_a_saved_optimizer_goes_on_as_the_running_one():
    import dill

    scheduler = build(NAME, 2)
    trials = [start(scheduler, i) for i in range(5)]
    for trial in trials[:4]:
        scheduler.on_trial_complete(trial, {"value": branin(trial.config)})
    restored = dill.loads(dill.dumps(scheduler))  # what tuner.dill holds while trial 4 runs
    for copy in (scheduler, restored):
        copy.on_trial_complete(trials[4], {"value": branin(trials[4].config)})
    assert [start(restored, i).config for i in range(5, 9)] == [start(scheduler, i).config for i in range(5, 9)]


def test_a_real_run_and_its_saved_optimizer(invoke, results_root):
    import dill

    result = invoke(
        *"run-local --benchmark gbt_breast_cancer --method".split(),
        NAME,
        *"--set boosting_rounds=5 --max-wallclock-time 120 --max-num-evaluations 25 --experiment-tag smac".split(),
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "smac" / f"{NAME}-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["hpobench_status"] == "complete" and metadata["hpobench_trials_started"] >= 5
    with (tuner_dir / layout.TUNER_FILE).open("rb") as saved:
        scheduler = dill.load(saved).scheduler  # what a resume continues
    assert len(scheduler.smac.runhistory) >= 3
    scheduler.suggest()

    # A resume loads the tuner in a process that has not imported SMAC yet: SMAC's logging
    # setup, run by that import, must leave the process's loggers and root level alone.
    probe = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "from hpobench.local import resume\n"
        "logging.getLogger().setLevel(logging.ERROR)\n"
        "ours = logging.getLogger('hpobench.probe')\n"
        "resume.load(resume.ResumePoint(Path(sys.argv[1]), {}, 0.0, None), 'SMAC-0')\n"
        "print(logging.getLogger().level, ours.disabled)\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe, str(tuner_dir)], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == [str(logging.ERROR), "False"]


SUGGESTIONS_OF_SEED_1 = """
import json, warnings
warnings.filterwarnings("ignore")
from branin_runs import branin, build, start
scheduler = build("SMAC", 1)
configs = []
for trial_id in range(23):  # past the initial design (20 on two hyperparameters): the forest suggests too
    trial = start(scheduler, trial_id)
    scheduler.on_trial_complete(trial, {"value": branin(trial.config)})
    configs.append(trial.config)
print(json.dumps(configs))
"""


def test_a_seed_suggests_the_same_configurations_in_processes_with_other_hash_seeds(tmp_path):
    # SMAC's local search orders its start points by a set, i.e. by hashes that change with
    # PYTHONHASHSEED: without smac_parts.py two processes diverge after the first fit.
    import os
    from pathlib import Path

    tests = str(Path(__file__).resolve().parents[1])
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (tests, env.get("PYTHONPATH", "")) if p)
        done = subprocess.run(
            [sys.executable, "-c", SUGGESTIONS_OF_SEED_1], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(done.stdout.strip().splitlines()[-1])
    assert runs[0] == runs[1]
