"""`run-local` that nothing can corrupt: paths with spaces, concurrent runs, failed
trials, killed launchers (issue 12). Real trials of the embedded benchmarks, tiny budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpobench import layout

# gbt_breast_cancer needs neither torch nor a download: its trials take about a second.
GBT = ["--benchmark", "gbt_breast_cancer", "--method", "RS", "--set", "boosting_rounds=3",
       "--max-num-evaluations", "6", "--max-wallclock-time", "60"]  # fmt: skip


@pytest.mark.parametrize("backend", ["fast", "stock"])
def test_a_results_root_with_spaces_reaches_each_trial_intact(invoke, tmp_path, backend):
    root = tmp_path / "my results" / "a  b"
    result = invoke("run-local", *GBT, "--n-workers", "2", "--backend", backend,
                    "--results-root", str(root), "--experiment-tag", "spaces")  # fmt: skip
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(root / "spaces" / "RS-0")
    trials = sorted(p for p in tuner_dir.iterdir() if p.name.isdigit())
    assert len(trials) >= 3
    for trial in trials:  # each trial wrote its own checkpoint, in its own folder
        assert (trial / "checkpoints" / "model.pkl").is_file(), trial
    assert not (tmp_path / "my").exists()  # the path cut at the first space
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my results", "work"]


def _tuner_metadata(root: Path, tag: str, run: str) -> dict:
    (tuner_dir,) = layout.tuner_dirs(root / tag / run)
    return layout.read_metadata(tuner_dir) or {}


def test_a_broken_run_is_marked_failed_and_the_next_methods_still_run(invoke, monkeypatch, results_root):
    # Every trial crashes for real: the script parses this variable as an int.
    monkeypatch.setenv("HPOBENCH_TORCH_THREADS", "many")
    result = invoke("run-local", "--benchmark", "mlp_digits", "--method", "RS", "--method", "ASHA",
                    "--set", "epochs=2", "--max-wallclock-time", "60", "--experiment-tag", "broken")  # fmt: skip
    assert result.exit_code == 1, result.output
    for run in ("RS-0", "ASHA-0"):  # the second method ran although the first failed
        metadata = _tuner_metadata(results_root, "broken", run)
        assert metadata["hpobench_status"] == "failed"
        assert metadata["hpobench_trials_failed"] >= 3
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    assert errors[0].startswith("Error: 2 of 2 runs failed: RS-0 failed: trial")
    assert "ValueError" in errors[0] and "more than the limit of 50%" in errors[0]
    assert "Traceback" not in result.output


def test_failed_trials_within_the_limit_leave_the_run_complete(invoke, monkeypatch, results_root):
    monkeypatch.setenv("HPOBENCH_TORCH_THREADS", "many")
    result = invoke("run-local", "--benchmark", "mlp_digits", "--method", "RS", "--n-workers", "2",
                    "--set", "epochs=2", "--max-wallclock-time", "4", "--experiment-tag", "tolerant",
                    "--max-failed-fraction", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    metadata = _tuner_metadata(results_root, "tolerant", "RS-0")
    assert metadata["hpobench_status"] == "complete"
    failed, started = metadata["hpobench_trials_failed"], metadata["hpobench_trials_started"]
    assert failed > 3 and failed >= started - 2  # went on past 3; 2 were stopped at the end
    assert f"{failed} of {started} trials failed" in result.output


def test_the_failed_trial_limit_is_validated(invoke):
    result = invoke("run-local", "--benchmark", "mlp_digits", "--max-failed-fraction", "0")
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid --max-failed-fraction 0.0")
