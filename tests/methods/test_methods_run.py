"""Every registered single-objective method tunes mlp_digits for a few real trials (processes,
checkpoints, a space with choices), and every multi-fidelity method makes early decisions
(pauses or stops) within its budget. gbt_breast_cancer's space is covered for every method on
its table, in simulated time (tests/tables/test_simulated_backend.py: the same decision
checks); the multi-objective methods run real trials in test_multi_objective_methods.py."""

from __future__ import annotations

import pytest
from method_decisions import assert_decisions_fit_the_method

from hpobench.benchmarks import get_benchmark
from hpobench.methods import get_method, method_names
from hpobench.results import layout

BENCHMARK = "mlp_digits"
SHORT = "epochs=4"  # short trials with two rung levels below the max resource (1 and 3) for ASHA-type methods


@pytest.mark.parametrize("method", [m for m in method_names() if not get_method(m).multi_objective])
def test_method_runs_real_trials(method, invoke, results_root):
    from syne_tune.experiments import load_experiment

    result = invoke(
        "run-local",
        "--benchmark",
        BENCHMARK,
        "--method",
        method,
        *"--experiment-tag every --n-workers 2 --set".split(),
        SHORT,
        *"--max-num-evaluations 20 --max-wallclock-time 120 --random-seed 3".split(),
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "every" / f"{method}-0")
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "complete"
    frame = load_experiment(str(tuner_dir.relative_to(results_root)), local_path=str(results_root)).results
    assert frame["trial_id"].nunique() >= 4
    assert frame[get_benchmark(BENCHMARK).metric].notna().all()
    assert_decisions_fit_the_method(method, frame, get_benchmark(BENCHMARK).resource_attr)
