"""The job's entry, run the way SageMaker's container runs it, on a temporary /opt/ml."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from sagemaker_job import lay_out_opt_ml, run_job

from hpobench.benchmarks import get_benchmark
from hpobench.plan import plan_experiment
from hpobench.remote.sagemaker.bundle import build_bundle, script_destination
from hpobench.remote.sagemaker.entry import TRIAL_LOGS, parse_hyperparameters
from hpobench.remote.sagemaker.plan import plan_remote
from hpobench.results import layout
from hpobench.settings import LocalSettings, RemoteSettings

HYPERPARAMETERS = {  # as launch-remote sends them: all strings
    "experiment_tag": "container",
    "benchmark": "mlp_digits",
    "method": "RS",
    "seed": "1",
    "random_seed": "100",
    "n_workers": "1",
    "max_wallclock_time": "40.0",
    "max_num_evaluations": "1",
    "overrides": '{"epochs": "2"}',
    "hpobench_version": "0",
}


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    """A folder laid out like /opt/ml in the training container."""
    # The archive launch-remote would upload for this job.
    plan = plan_remote(RemoteSettings(benchmark="mlp_digits", methods=("RS",)), "us-east-1", "b")
    archive = build_bundle(plan.experiment.benchmark, plan.requirements).data
    return lay_out_opt_ml(tmp_path / "opt" / "ml", archive, HYPERPARAMETERS)


def _prepend_to_script(opt_ml: Path, code_line: str) -> None:
    """Change the archive's copy of the training script (what the container runs)."""
    destination = script_destination(get_benchmark("mlp_digits"))
    script = opt_ml / "input" / "data" / "code" / destination / "mlp_digits.py"
    future = "from __future__ import annotations\n"  # must stay the first statement
    script.write_text(script.read_text().replace(future, future + code_line + "\n", 1))


def test_entry_runs_one_method_and_seed_into_the_checkpoint_folder(opt_ml: Path):
    # The job's data channel, as SageMaker mounts it: the trials must see it.
    channel = opt_ml / "input" / "data" / "training"
    channel.mkdir()
    (channel / "marker.txt").write_text("from the channel")
    _prepend_to_script(
        opt_ml,
        "import os, pathlib; assert pathlib.Path(os.environ['SM_CHANNEL_TRAINING'], "
        "'marker.txt').read_text() == 'from the channel'",
    )
    result = run_job(opt_ml, SM_CHANNEL_TRAINING=str(channel))
    code = opt_ml / "input" / "data" / "code"
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The archive's own copy of hpobench ran, not the one installed here.
    assert f"from {code / 'hpobench'}" in output
    assert "--experiment_tag container" in output and "--seed 1" in output
    # The entry installed Syne Tune without its dependencies (here: already there).
    assert "Requirement already satisfied: syne-tune==0.16.*" in output

    checkpoints = opt_ml / "checkpoints"
    tuner_dirs = layout.tuner_dirs(checkpoints)
    assert len(tuner_dirs) == 1
    tuner_dir = tuner_dirs[0]
    assert tuner_dir.name.startswith("container-mlp_digits-1-")
    assert {p.name for p in tuner_dir.iterdir()} >= {"results.csv.zip", "metadata.json", "tuner.dill"}
    # Trial logs and checkpoints are not in the synced folder; no trial failed.
    assert not [p for p in checkpoints.rglob("*") if p.name in ("std.out", "std.err")]
    assert list((opt_ml / "trials").rglob("std.out"))

    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == layout.STATUS_COMPLETE
    assert (metadata["method"], metadata["seed"], metadata["n_workers"]) == ("RS", 1, 1)
    assert metadata["overrides"] == {"epochs": 2}
    # The same effective seed run-local gives seed 1 of this experiment.
    local = plan_experiment(LocalSettings(benchmark="mlp_digits", methods=("RS",), num_seeds=2, random_seed=100))
    assert metadata["random_seed"] == local.runs[1].random_seed == 101
    assert metadata["random_seed_master"] == 100


def test_entry_reads_sm_hps_when_arguments_are_missing():
    values = parse_hyperparameters(["--method", "BO"], json.dumps({**HYPERPARAMETERS, "seed": 3}))
    assert values["method"] == "BO" and values["seed"] == "3"
    assert values["overrides"] == '{"epochs": "2"}'


def test_entry_without_required_hyperparameters_stops_with_a_message():
    with pytest.raises(SystemExit, match="missing hyperparameters: experiment_tag, benchmark"):
        parse_hyperparameters(["--method", "RS"], None)


def test_failed_trials_logs_are_kept_with_the_results(opt_ml: Path):
    _prepend_to_script(opt_ml, "raise RuntimeError('boom: the training script is broken')")
    result = run_job(opt_ml)
    assert result.returncode != 0
    (tuner_dir,) = layout.tuner_dirs(opt_ml / "checkpoints")
    kept = tuner_dir / TRIAL_LOGS
    errors = sorted(kept.glob("*/std.err"))
    assert errors, sorted(p.relative_to(tuner_dir).as_posix() for p in tuner_dir.rglob("*"))
    assert all("RuntimeError: boom: the training script is broken" in p.read_text() for p in errors)
    (trial_logs,) = (opt_ml / "trials").glob(f"**/{tuner_dir.name}")  # not synced
    assert (trial_logs / "fork-server.log").is_file()  # the fast back-end ran the trials
    assert (kept / "fork-server.log").read_bytes() == (trial_logs / "fork-server.log").read_bytes()
    # What the user reads after `sync`: the run failed, and why.
    metadata = layout.read_metadata(tuner_dir)
    assert "boom: the training script is broken" in metadata.get("hpobench_error", "")


def test_failed_trials_logs_arrive_with_sync_and_status_says_why(opt_ml: Path, aws, invoke, results_root):
    import boto3
    from conftest import MOTO_BUCKET

    _prepend_to_script(opt_ml, "raise RuntimeError('boom: the training script is broken')")
    assert run_job(opt_ml).returncode != 0
    # What SageMaker does with the checkpoint folder while and after the job runs.
    checkpoints = opt_ml / "checkpoints"
    s3 = boto3.client("s3")
    for path in checkpoints.rglob("*"):
        if path.is_file():
            key = f"syne-tune/container/RS-1/{path.relative_to(checkpoints).as_posix()}"
            s3.upload_file(str(path), MOTO_BUCKET, key)
    synced = invoke("sync", "--experiment-tag", "container", "--bucket", MOTO_BUCKET)
    assert synced.exit_code == 0, synced.output
    run_dir = results_root / "container" / "RS-1"
    errors = list(run_dir.glob(f"*/{TRIAL_LOGS}/*/std.err"))
    assert errors and "RuntimeError: boom" in errors[0].read_text()
    status = invoke("status", "--experiment-tag", "container", "--format", "json")
    assert status.exit_code == 0, status.output
    (run,) = json.loads(status.output)["runs"]
    assert run["state"] == "failed"
    assert "RuntimeError: boom: the training script is broken (log: trial-logs/" in run["note"]


def test_a_spot_job_restarted_by_sagemaker_resumes_its_run(tmp_path: Path):
    """Issue 20: the container is killed at half the budget (a spot interruption); SageMaker
    starts the job again on a new instance with the checkpoint folder restored from S3 and
    without the trial logs (not synced): the run continues from what was restored."""
    import signal
    import time

    import pandas as pd
    from sagemaker_job import start_job

    budget = 10.0
    hyperparameters = {**HYPERPARAMETERS, "max_wallclock_time": str(budget), "overrides": '{"epochs": "3"}'}
    del hyperparameters["max_num_evaluations"]
    plan = plan_remote(RemoteSettings(benchmark="mlp_digits", methods=("RS",)), "us-east-1", "b")
    opt_ml = lay_out_opt_ml(
        tmp_path / "opt" / "ml", build_bundle(plan.experiment.benchmark, plan.requirements).data, hyperparameters
    )
    checkpoints = opt_ml / "checkpoints"
    name = "container-RS-1-20261204120000"  # SageMaker sets TRAINING_JOB_NAME in the container
    job = start_job(opt_ml, TRAINING_JOB_NAME=name)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job.poll() is None:
        clock = next((layout.read_clock(d) for d in layout.tuner_dirs(checkpoints)), None)
        if clock is not None and clock[0] >= budget / 2:
            break
        time.sleep(0.1)
    else:
        job.kill()
        pytest.fail(f"the job did not reach half its budget: {job.communicate()[1]}")
    # The instance goes away, every process of the job with it: trials run in process groups
    # of their own, so the whole tree is killed and waited for (a trial still writing its
    # checkpoint made the removal of the trials' folder below fail under load).
    import psutil

    family = [psutil.Process(job.pid), *psutil.Process(job.pid).children(recursive=True)]
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    job.wait()
    psutil.wait_procs(family, timeout=30)
    (tuner_dir,) = layout.tuner_dirs(checkpoints)
    assert layout.read_metadata(tuner_dir)[layout.STATUS_KEY] == layout.STATUS_RUNNING
    import shutil

    shutil.rmtree(opt_ml / "trials")  # a new instance: only the synced folder comes back

    again = run_job(opt_ml, TRAINING_JOB_NAME=name)  # the same job, restarted
    assert again.returncode == 0, again.stdout + again.stderr
    assert layout.tuner_dirs(checkpoints) == [tuner_dir]
    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == layout.STATUS_COMPLETE
    (resumed,) = metadata["hpobench_resumes"]
    assert budget / 2 - 1 <= resumed["budget_spent_before"] <= budget
    # The restarted job spent what was left of the budget, not a new one (a fresh budget would
    # add all of it after the resume); how far past the budget a run ends grows with load.
    assert metadata["hpobench_wallclock_time"] >= budget
    assert metadata["hpobench_wallclock_time"] - resumed["budget_spent_before"] < budget
    results = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
    assert not results.duplicated(["trial_id", "epoch"]).any()
    assert results["st_tuner_time"].diff().dropna().min() > -0.05

    # A new job of this (method, seed) (launch-remote --force) runs it afresh, beside it.
    forced = run_job(opt_ml, TRAINING_JOB_NAME="container-RS-1-20261205120000")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    old, new = layout.tuner_dirs(checkpoints)
    assert old == tuner_dir and "hpobench_resumes" not in layout.read_metadata(new)
