"""Every registered method tunes a real benchmark for a few trials."""

from __future__ import annotations

import pytest

from hpobench import layout
from hpobench.methods import method_names


@pytest.mark.parametrize("method", method_names())
def test_method_runs_real_trials(method, invoke, results_root):
    from syne_tune.experiments import load_experiment

    result = invoke(
        "run-local", "--benchmark", "mlp_digits", "--method", method, "--experiment-tag", "every",
        "--n-workers", "2", "--set", "epochs=3", "--max-num-evaluations", "15",
        "--max-wallclock-time", "120", "--random-seed", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "every" / f"{method}-0")
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "complete"
    frame = load_experiment(str(tuner_dir.relative_to(results_root)), local_path=str(results_root)).results
    assert frame["trial_id"].nunique() >= 4
    assert frame["val_accuracy"].notna().all()
