"""Every registered method tunes both embedded benchmarks for a few real trials,
and every multi-fidelity method makes early decisions (pauses or stops) within its budget."""

from __future__ import annotations

import pytest

from hpobench.benchmarks import get_benchmark
from hpobench.methods import get_method, method_names
from hpobench.results import layout

# Short trials with two rung levels below the max resource (1 and 3) for ASHA-type methods.
SHORT = {"mlp_digits": "epochs=4", "gbt_breast_cancer": "boosting_rounds=4"}


@pytest.mark.parametrize("benchmark", list(SHORT))
@pytest.mark.parametrize("method", method_names())
def test_method_runs_real_trials(method, benchmark, invoke, results_root):
    from syne_tune.experiments import load_experiment

    result = invoke(
        "run-local",
        "--benchmark",
        benchmark,
        "--method",
        method,
        *"--experiment-tag every --n-workers 2 --set".split(),
        SHORT[benchmark],
        *"--max-num-evaluations 20 --max-wallclock-time 120 --random-seed 3".split(),
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "every" / f"{method}-0")
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "complete"
    frame = load_experiment(str(tuner_dir.relative_to(results_root)), local_path=str(results_root)).results
    assert frame["trial_id"].nunique() >= 4
    assert frame[get_benchmark(benchmark).metric].notna().all()
    early = frame["st_decision"].isin(["PAUSE", "STOP"])
    if method == "DEHB":  # each trial is told how far to train (its job's fidelity) and ends there
        resource = get_benchmark(benchmark).resource_attr
        assert frame.groupby("trial_id")[resource].max().nunique() >= 2, frame[resource].value_counts()
    elif get_method(method).multi_fidelity:
        assert early.any(), frame["st_decision"].value_counts()
    else:
        assert not early.any()
