"""Promotion-type ASHA on real runs: trials pause at rung levels and resume from
their checkpoints, on both local back-ends; a lost checkpoint is an error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hpobench.benchmarks import BENCHMARK_FACTORIES, BenchmarkDefinition
from hpobench.benchmarks.space import Uniform
from hpobench.results import layout
from hpobench.results.load import load_experiment as load_experiment_runs

ASSETS = Path(__file__).resolve().parents[1] / "assets"
# Stop on a count of results, not on time: trial start-up is slow on a loaded machine.
BUDGET = ["--n-workers", "2", "--max-num-evaluations", "24", "--max-wallclock-time", "120"]


def _results(root: Path, tag: str, run: str) -> pd.DataFrame:
    from syne_tune.experiments import load_experiment

    (tuner_dir,) = layout.tuner_dirs(root / tag / run)
    assert layout.read_metadata(tuner_dir)[layout.STATUS_KEY] == "complete"
    return load_experiment(str(tuner_dir.relative_to(root)), local_path=str(root)).results


@pytest.mark.parametrize("backend", ["fast", "stock"])
def test_asha_pauses_trials_and_resumes_them_from_their_checkpoints(backend, invoke, results_root):
    result = invoke(
        *"run-local --benchmark gbt_breast_cancer --method ASHA --backend".split(),
        backend,
        *"--experiment-tag promo --random-seed 1".split(),
        *BUDGET,
    )
    assert result.exit_code == 0, result.output
    frame = _results(results_root, "promo", "ASHA-0")
    paused = frame[frame["st_decision"] == "PAUSE"]
    assert len(paused) >= 2
    assert set(paused["round"]) <= {1, 3, 9, 27}  # only at rung levels
    resumed = 0
    for trial_id, rows in frame.groupby("trial_id"):
        rounds = rows.sort_values("st_worker_timestamp")["round"].tolist()
        # Each round once, in order: a resumed trial continues after the round it paused at.
        assert rounds == list(range(1, len(rounds) + 1)), (trial_id, rounds)
        resumed += len(rounds) > 1
    assert resumed >= 1


def test_asha_stop_stops_trials_and_keeps_its_name_with_a_dash(invoke, results_root):
    result = invoke(
        *(
            "run-local --benchmark gbt_breast_cancer --method ASHA-STOP --experiment-tag stop --random-seed 1 --set "
            "boosting_rounds=9 --n-workers 2 --max-num-evaluations 80 --max-wallclock-time 120"
        ).split()
    )
    assert result.exit_code == 0, result.output
    frame = _results(results_root, "stop", "ASHA-STOP-0")
    assert "PAUSE" not in set(frame["st_decision"])
    assert (frame["st_decision"] == "STOP").any()
    experiment = load_experiment_runs(results_root, "stop")
    assert [(run.method, run.seed, run.state) for run in experiment.runs] == [("ASHA-STOP", 0, "complete")]
    for command in ("results", "status"):
        shown = invoke(command, "--experiment-tag", "stop")
        assert shown.exit_code == 0, shown.output
        assert "ASHA-STOP" in shown.output


@pytest.fixture
def forgetful_benchmark(monkeypatch: pytest.MonkeyPatch) -> str:
    """A benchmark whose script loses its checkpoint whenever a trial stops."""
    monkeypatch.setattr("hpobench.benchmarks.definition.training_scripts_root", lambda: ASSETS)

    def forgetful() -> BenchmarkDefinition:
        return BenchmarkDefinition(
            name="forgetful",
            description="loses its checkpoints",
            script="forgetful/forgetful.py",
            config_space={"epochs": 9, "x": Uniform(lower=0.0, upper=1.0)},
            metric="loss",
            mode="min",
            max_resource_attr="epochs",
            resource_attr="epoch",
            max_wallclock_time=60,
            n_workers=2,
            instance_type="ml.c5.xlarge",
            framework="PyTorch",
            hardware="CPU",
        )

    monkeypatch.setitem(BENCHMARK_FACTORIES, "forgetful", forgetful)
    return "forgetful"


@pytest.mark.parametrize("backend", ["fast", "stock"])
def test_a_trial_resumed_without_its_checkpoint_retrains_and_the_run_completes(
    backend, forgetful_benchmark, invoke, results_root, caplog
):
    """Issue 23: the run used to fail at the first promotion. The resumed trial now trains
    from the start again, its repeated levels are not recorded twice, and the run completes."""
    result = invoke(
        "run-local",
        "--benchmark",
        forgetful_benchmark,
        *"--method ASHA --backend".split(),
        backend,
        *"--experiment-tag lost --random-seed 1".split(),
        *BUDGET,
    )
    assert result.exit_code == 0, result.output
    assert "its script started over" in caplog.text
    (tuner_dir,) = layout.tuner_dirs(results_root / "lost" / "ASHA-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == "complete"
    assert metadata["hpobench_retrained"]["trials"] >= 1
    frame = pd.read_csv(tuner_dir / "results.csv.zip")
    assert not frame.duplicated(["trial_id", "epoch"]).any()
    promoted = frame.groupby("trial_id")["epoch"].max()
    assert (promoted > 1).any()  # some trial went past its first rung after its resume


def test_a_benchmark_that_declares_no_checkpoints_refuses_promotion_before_any_trial(invoke, tmp_path, results_root):
    from user_benchmark import DEFINITION, write_benchmark

    definition = write_benchmark(
        tmp_path / "mine",
        "never_checkpoints",
        DEFINITION.replace('instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.xlarge"\ncheckpoints = false'),
    )
    result = invoke(
        "run-local",
        "--benchmark",
        str(definition),
        *"--method RS --method ASHA --experiment-tag nockpt --max-wallclock-time 5".split(),
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: ASHA pauses trials and resumes them from their checkpoints, but benchmark 'quadratic' "
        "declares checkpoints = false; use ASHA-STOP (stopping decisions, nothing resumed), or make its "
        "script save and load its state in --st_checkpoint_dir and declare checkpoints = true "
        "(docs/extending.md)"
    )
    assert not (results_root / "nockpt").exists()  # refused before RS ran too
    stopping = invoke(
        "run-local",
        "--benchmark",
        str(definition),
        *"--method ASHA-STOP --experiment-tag nockpt --max-wallclock-time 4".split(),
    )
    assert stopping.exit_code == 0, stopping.output
