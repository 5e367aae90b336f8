"""Multi-objective methods (issue 32): each tunes gbt_breast_cancer_mo for real and records both
objectives with every result; MOASHA stops by a multi-objective rule; a single-objective method
is refused without a scalarization and tunes the weighted sum with one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hpobench.methods import METHODS, MethodArguments, get_method
from hpobench.results import layout

MO_METHODS = [name for name, spec in METHODS.items() if spec.multi_objective]
BENCHMARK = "gbt_breast_cancer_mo"


def test_the_issue_names_are_registered_as_multi_objective():
    assert set(MO_METHODS) == {"MO-RS", "MOASHA", "OPTUNA-NSGA2", "OPTUNA-MOTPE", "OPTUNA-EHVI"}


@pytest.fixture(scope="session")
def mo_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short real run of every multi-objective method (a few results each), shared."""
    root = tmp_path_factory.mktemp("mo-runs")
    command = [sys.executable, "-m", "hpobench", "run-local", "--benchmark", BENCHMARK, "--results-root", str(root)]
    command += ["--experiment-tag", "mo", "--max-num-evaluations", "4", "--max-wallclock-time", "30"]
    command += ["--random-seed", "3"] + [arg for name in MO_METHODS for arg in ("--method", name)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return root / "mo"


@pytest.mark.xdist_group("mo_runs")
@pytest.mark.parametrize("method", MO_METHODS)
def test_each_method_records_both_objectives_with_every_result(mo_runs, method):
    (tuner_dir,) = layout.tuner_dirs(mo_runs / f"{method}-0")
    results = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
    assert len(results) >= 2
    # hpobench_train_time is the worker time Syne Tune's Reporter measured, added to every result.
    assert results["val_log_loss"].notna().all()
    assert (results["hpobench_train_time"] == results["st_worker_time"]).all()
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["hpobench_status"] == "complete"
    assert metadata["metric_names"] == ["val_log_loss", "hpobench_train_time"]


def _moasha(modes: tuple[str, str] = ("min", "min")):
    from syne_tune.config_space import uniform

    args = MethodArguments(
        config_space={"x": uniform(0, 1), "epochs": 9},
        metric="a",
        mode=modes[0],
        objectives=(("a", modes[0]), ("b", modes[1])),
        resource_attr="epoch",
        max_resource=9,
        random_seed=0,
        points_to_evaluate=[],
    )
    return get_method("MOASHA").build(args)


def _report(scheduler, trial_id: int, a: float, b: float, epoch: int = 1) -> str:
    from datetime import datetime

    from syne_tune.backend.trial_status import Trial

    trial = Trial(trial_id=trial_id, config={"x": 0.5}, creation_time=datetime.now())
    if trial_id not in scheduler.trial_info:
        scheduler.on_trial_add(trial)
    return scheduler.on_trial_result(trial, {"epoch": epoch, "a": a, "b": b})


def test_moasha_continues_a_result_that_dominates_its_rung_and_stops_a_dominated_one():
    scheduler = _moasha()
    assert _report(scheduler, 0, 0.5, 0.5) == "CONTINUE"  # first at rung 1
    assert _report(scheduler, 1, 0.6, 0.6) == "STOP"  # dominated by trial 0: rank 1 of 2
    assert _report(scheduler, 2, 0.9, 0.9) == "STOP"
    # Dominates every result of the rung: rank 0 of 4. Syne Tune 0.16's priority (the sorted
    # order, not ranks) judged it by the row sorted last (trial 2: index 2 of 4) and stopped it.
    assert _report(scheduler, 3, 0.05, 0.05) == "CONTINUE"
    # Dominated by every result of the rung: rank 4 of 5.
    assert _report(scheduler, 4, 0.95, 0.95) == "STOP"


def test_moasha_turns_a_maximized_objective_around():
    scheduler = _moasha(("max", "min"))
    assert _report(scheduler, 0, 0.5, 0.5) == "CONTINUE"
    # Higher a is better here: (0.9, 0.4) dominates (0.5, 0.5); with both minimized it would not.
    assert _report(scheduler, 1, 0.9, 0.4) == "CONTINUE"
    assert _report(scheduler, 2, 0.1, 0.6) == "STOP"


def test_a_multi_objective_method_refuses_a_single_objective_benchmark(invoke):
    result = invoke("run-local", "--benchmark", "gbt_breast_cancer", "--method", "MOASHA", "--max-wallclock-time", "5")
    assert result.exit_code == 2, result.output
    assert "Error: Method MOASHA cannot tune benchmark 'gbt_breast_cancer'" in result.output
    assert "MOASHA is multi-objective" in result.output
