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
