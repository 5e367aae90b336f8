"""The job's entry, run the way SageMaker's container runs it, on a temporary /opt/ml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sagemaker_job import lay_out_opt_ml, run_job

from hpobench import layout
from hpobench.benchmarks import get_benchmark
from hpobench.plan import plan_experiment
from hpobench.remote.entry import parse_hyperparameters
from hpobench.remote.bundle import build_bundle
from hpobench.remote.requirements import job_requirements
from hpobench.settings import LocalSettings

HYPERPARAMETERS = {  # as launch-remote sends them: all strings
    "experiment_tag": "container", "benchmark": "mlp_digits", "method": "RS", "seed": "1",
    "random_seed": "100", "n_workers": "1", "max_wallclock_time": "40.0",
    "max_num_evaluations": "1", "overrides": '{"epochs": "2"}', "hpobench_version": "0",
}  # fmt: skip


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    """A folder laid out like /opt/ml in the training container."""
    benchmark = get_benchmark("mlp_digits")
    archive = build_bundle(benchmark, job_requirements(benchmark.script_dir, ["-"], [])).data
    return lay_out_opt_ml(tmp_path / "opt" / "ml", archive, HYPERPARAMETERS)


def test_entry_runs_one_method_and_seed_into_the_checkpoint_folder(opt_ml: Path):
    result = run_job(opt_ml)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    code = opt_ml / "input" / "data" / "code"
    # The archive's own copy of hpobench ran, not the one installed here.
    assert f"from {code / 'hpobench'}" in output
    assert "--experiment_tag container" in output and "--seed 1" in output

    checkpoints = opt_ml / "checkpoints"
    tuner_dirs = layout.tuner_dirs(checkpoints)
    assert len(tuner_dirs) == 1
    tuner_dir = tuner_dirs[0]
    assert tuner_dir.name.startswith("container-mlp_digits-1-")
    assert {p.name for p in tuner_dir.iterdir()} >= {
        "results.csv.zip",
        "metadata.json",
        "tuner.dill",
    }
    # Trial logs and checkpoints are not in the synced folder.
    assert not [p for p in checkpoints.rglob("*") if p.name in ("std.out", "std.err")]
    assert list((opt_ml / "trials").rglob("std.out"))

    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == layout.STATUS_COMPLETE
    assert (metadata["method"], metadata["seed"], metadata["n_workers"]) == ("RS", 1, 1)
    assert metadata["overrides"] == {"epochs": 2}
    # The same effective seed run-local gives seed 1 of this experiment.
    local = plan_experiment(LocalSettings(benchmark="mlp_digits", methods=("RS",), num_seeds=2,
                                          random_seed=100))  # fmt: skip
    assert metadata["random_seed"] == local.runs[1].random_seed == 101
    assert metadata["random_seed_master"] == 100


def test_entry_reads_sm_hps_when_arguments_are_missing():
    values = parse_hyperparameters(["--method", "BO"], json.dumps({**HYPERPARAMETERS, "seed": 3}))
    assert values["method"] == "BO" and values["seed"] == "3"
    assert values["overrides"] == '{"epochs": "2"}'


def test_entry_without_required_hyperparameters_stops_with_a_message():
    with pytest.raises(SystemExit, match="missing hyperparameters: experiment_tag, benchmark"):
        parse_hyperparameters(["--method", "RS"], None)
