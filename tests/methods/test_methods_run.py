"""Every registered single-objective method tunes mlp_digits for a few real trials (processes,
checkpoints, a space with choices), and every multi-fidelity method makes early decisions
(pauses or stops) within its budget. gbt_breast_cancer's space is covered for every method on
its table, in simulated time (tests/tables/test_simulated_backend.py: the same decision
checks); the multi-objective methods run real trials in test_multi_objective_methods.py.

One launch runs every method, as a user's `run-local --method A --method B ...` does: its runs
share one warm fork server, so the suite pays the server's imports once, not once a method."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from method_decisions import assert_decisions_fit_the_method

from hpobench.benchmarks import get_benchmark
from hpobench.methods import get_method, method_names
from hpobench.results import layout

BENCHMARK = "mlp_digits"
SHORT = "epochs=4"  # short trials with two rung levels below the max resource (1 and 3) for ASHA-type methods
METHODS = [m for m in method_names() if not get_method(m).multi_objective]
pytestmark = pytest.mark.xdist_group("every_method")  # one worker makes the launch, once


@pytest.fixture(scope="module")
def every_method(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The results root of one launch of every method (seed 0), and the launch's CLI result."""
    from typer.testing import CliRunner

    from hpobench.cli import app

    root = tmp_path_factory.mktemp("every-method")
    options = [option for method in METHODS for option in ("--method", method)]
    args = ["run-local", "--benchmark", BENCHMARK, *options, "--experiment-tag", "every", "--results-root", str(root)]
    args += [*"--n-workers 2 --set".split(), SHORT, *"--max-num-evaluations 20 --max-wallclock-time 120".split()]
    args += ["--random-seed", "3"]
    previous = os.getcwd()
    os.chdir(root)  # what a tuner may drop in the working folder stays out of the checkout
    try:
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(previous)
    return root, result


@pytest.mark.parametrize("method", METHODS)
def test_method_runs_real_trials(method, every_method):
    from syne_tune.experiments import load_experiment

    root, result = every_method
    (tuner_dir,) = layout.tuner_dirs(root / "every" / f"{method}-0")
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "complete", result.output
    frame = load_experiment(str(tuner_dir.relative_to(root)), local_path=str(root)).results
    assert frame["trial_id"].nunique() >= 4
    assert frame[get_benchmark(BENCHMARK).metric].notna().all()
    assert_decisions_fit_the_method(method, frame, get_benchmark(BENCHMARK).resource_attr)


def test_the_launch_of_every_method_succeeded(every_method):
    _, result = every_method
    assert result.exit_code == 0, result.output
