"""`hpobench status`: every expected run, broken folders included, and SageMaker job states."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from results_data import REAL_METHODS, REAL_SEEDS, REAL_TAG, TOY_TAG, write_run, write_toy_experiment


@pytest.fixture
def broken_root(tmp_path: Path) -> Path:
    """The hand-made example plus one folder for each way a run can be broken."""
    root = write_toy_experiment(tmp_path / "results")
    write_run(root, "RS", 3, None, status="running", results="empty")
    write_run(root, "BO", 3, [(0, 1.0, 2.0, 1), (1, 2.0, 1.5, 2)], status="failed", results="truncated")
    write_run(root, "BO", 4, [(0, 1.0, 2.0, 1)], status=None)  # no metadata.json
    write_run(root, "BO", 5, None, results="none")  # complete, but results.csv.zip lost
    (root / TOY_TAG / "RS-5").mkdir()  # a run folder with no tuner folder
    (root / TOY_TAG / "notes.txt").write_text("not a run")
    return root


def _status_json(invoke, root: Path, *args: str) -> dict:
    result = invoke("status", "--experiment-tag", TOY_TAG, "--results-root", str(root), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_state_and_problem_is_shown(invoke, broken_root):
    payload = _status_json(invoke, broken_root, "--num-seeds", "6")
    runs = {(r["method"], r["seed"]): r for r in payload["runs"]}
    assert len(runs) == 12  # 2 methods x 6 seeds
    states = {key: r["state"] for key, r in runs.items()}
    assert states == {
        ("RS", 0): "complete",
        ("RS", 1): "complete",
        ("RS", 2): "interrupted",
        ("RS", 3): "running",
        ("RS", 4): "missing",
        ("RS", 5): "no metadata",
        ("BO", 0): "complete",
        ("BO", 1): "complete",
        ("BO", 2): "missing",
        ("BO", 3): "failed",
        ("BO", 4): "no metadata",
        ("BO", 5): "complete",
    }
    assert payload["counts"] == {
        "complete": 5,
        "running": 1,
        "interrupted": 1,
        "failed": 1,
        "no metadata": 2,
        "missing": 2,
    }
    assert "results.csv.zip empty" in runs["RS", 3]["note"]
    assert "results.csv.zip unreadable" in runs["BO", 3]["note"]
    assert runs["BO", 4]["note"] == "metadata.json missing"
    assert runs["BO", 5]["note"] == "results.csv.zip missing"
    assert runs["RS", 5]["note"] == "no tuner folder"
    assert runs["RS", 4]["folder"] is None
    # Trials, best and wall-clock of a complete run (RS seed 0: loss 5, 3, 4 in trials 0, 1).
    rs0 = runs["RS", 0]
    assert (rs0["trials_started"], rs0["trials_finished"], rs0["best"]) == (2, 1, 3.0)
    assert (rs0["wallclock_used"], rs0["budget"]) == (9.5, 10.0)
    assert all(r["benchmark"] == "toy" for r in payload["runs"])


def test_table_shows_states_and_counts(invoke, broken_root):
    result = invoke("status", "--experiment-tag", TOY_TAG, "--results-root", str(broken_root))
    assert result.exit_code == 0, result.output
    for text in ("complete", "interrupted", "running", "failed", "no metadata", "metadata.json missing"):
        assert text in result.output
    # Seeds default to those seen (0-5), so RS-4 and BO-2 are missing.
    assert "12 runs: 5 complete, 1 running, 1 interrupted, 1 failed, 2 no metadata, 2 missing" in result.output


def test_expected_methods_and_seeds(invoke, broken_root):
    payload = _status_json(
        invoke, broken_root, "--method", "RS", "--method", "ASHA", "--num-seeds", "2", "--start-seed", "1"
    )
    assert [(r["method"], r["seed"], r["state"]) for r in payload["runs"]] == [
        ("RS", 1, "complete"),
        ("RS", 2, "interrupted"),
        ("ASHA", 1, "missing"),
        ("ASHA", 2, "missing"),
    ]


def test_newest_complete_tuner_folder_wins(invoke, tmp_path):
    write_run(tmp_path, "RS", 0, [(0, 1.0, 3.0, 1)], timestamp="2026-01-01-00-00-00-000")
    write_run(tmp_path, "RS", 0, [(0, 1.0, 9.0, 1)], status="interrupted", timestamp="2026-01-02-00-00-00-000")
    (run,) = _status_json(invoke, tmp_path)["runs"]
    assert (run["state"], run["best"]) == ("complete", 3.0)
    assert "2 tuner folders, using toy-toy-0-2026-01-01-00-00-00-000" in run["note"]


def test_unreadable_metadata(invoke, tmp_path):
    tuner_dir = write_run(tmp_path, "RS", 0, [(0, 1.0, 3.0, 1)])
    (tuner_dir / "metadata.json").write_text('{"benchmark": "toy", ')  # cut short mid-write
    (run,) = _status_json(invoke, tmp_path)["runs"]
    assert (run["state"], run["note"], run["benchmark"]) == ("no metadata", "metadata.json unreadable", "toy")


def test_csv_and_markdown(invoke, broken_root, tmp_path):
    out = tmp_path / "status.csv"
    result = invoke(
        "status", "--experiment-tag", TOY_TAG, "--results-root", str(broken_root), "--format", "csv", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 12 and set(frame["state"]) >= {"complete", "failed", "no metadata"}
    result = invoke("status", "--experiment-tag", TOY_TAG, "--results-root", str(broken_root), "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "| toy | RS | 0 | complete |" in result.output


def test_unknown_experiment_is_one_line(invoke, tmp_path):
    result = invoke("status", "--experiment-tag", "absent", "--results-root", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.startswith("Error: No results for experiment tag 'absent'")


@pytest.mark.xdist_group("real_root")  # one worker makes the session's real runs once
def test_status_of_real_runs(invoke, real_root):
    result = invoke("status", "--experiment-tag", REAL_TAG, "--results-root", str(real_root), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["counts"] == {"complete": 4}
    for run in payload["runs"]:
        assert run["benchmark"] == "mlp_digits" and run["method"] in REAL_METHODS
        zip_path = Path(run["folder"]) / "results.csv.zip"
        frame = pd.read_csv(zip_path)
        assert run["best"] == pytest.approx(frame["val_accuracy"].max())
        assert run["trials_started"] >= frame["trial_id"].nunique() >= 1
        assert run["trials_finished"] <= run["trials_started"]
        assert run["budget"] == 90.0 and run["wallclock_used"] > 0
    assert sorted((r["method"], r["seed"]) for r in payload["runs"]) == sorted(
        (m, s) for m in REAL_METHODS for s in REAL_SEEDS
    )


# ---------------------------------------------------------------- --remote against moto


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real moto server on 127.0.0.1, reached over HTTP by boto3."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # Moto keeps its backends per process, not per server: start from none.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    try:
        yield endpoint
    finally:
        server.stop()


def _create_job(name: str, tags: dict[str, str]) -> None:
    import boto3

    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/x:1",
            "TrainingInputMode": "File",
        },
        RoleArn="arn:aws:iam::123456789012:role/hpobench",
        OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def _job_name(tag: str, method: str, seed: int, when: str = "20260101120000") -> str:
    from hpobench.remote.sagemaker.jobs import job_name_prefix

    return f"{job_name_prefix(tag, method, seed)}-{when}"


def test_remote_job_states(invoke, broken_root, moto_endpoint):
    _create_job(_job_name(TOY_TAG, "RS", 0), {})
    _create_job(_job_name(TOY_TAG, "BO", 1, "20260101110000"), {})
    newest_bo1 = _job_name(TOY_TAG, "BO", 1, "20260101130000")
    _create_job(newest_bo1, {})
    _create_job(_job_name(TOY_TAG, "BO", 7), {})
    _create_job(_job_name("toy-2", "RS", 3), {})  # another experiment
    _create_job("toy-RS-3-20260101", {})  # not named by hpobench
    payload = _status_json(invoke, broken_root, "--remote")
    runs = {(r["method"], r["seed"]): r for r in payload["runs"]}
    assert runs["RS", 0]["job"] == _job_name(TOY_TAG, "RS", 0)
    assert runs["RS", 0]["job_state"] == "Completed"
    assert runs["BO", 1]["job"] == newest_bo1
    # Launched remotely but not synced yet: missing here, its job shown.
    assert (runs["BO", 7]["state"], runs["BO", 7]["job"]) == ("missing", _job_name(TOY_TAG, "BO", 7))
    assert runs["RS", 3]["job_state"] == "no job"  # toy-2's job is not ours
    # Seed 7 is now expected of every method.
    assert (runs["RS", 7]["state"], runs["RS", 7]["job_state"]) == ("missing", "no job")
    table = invoke("status", "--experiment-tag", TOY_TAG, "--results-root", str(broken_root), "--remote")
    assert table.exit_code == 0, table.output
    assert "job state" in table.output and "Completed" in table.output


def test_remote_without_local_results(invoke, tmp_path, moto_endpoint):
    _create_job(_job_name(TOY_TAG, "ASHA", 0), {})
    payload = _status_json(invoke, tmp_path, "--remote")
    (run,) = payload["runs"]
    assert (run["method"], run["seed"], run["state"], run["job_state"]) == ("ASHA", 0, "missing", "Completed")


def test_remote_without_region_is_one_line(invoke, broken_root, moto_endpoint, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = invoke("status", "--experiment-tag", TOY_TAG, "--results-root", str(broken_root), "--remote")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: No AWS region configured; set AWS_DEFAULT_REGION")


def test_remote_unreachable_endpoint_is_one_line(invoke, broken_root, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = invoke("status", "--experiment-tag", TOY_TAG, "--results-root", str(broken_root), "--remote")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: Cannot list SageMaker training jobs for --remote")


def test_remote_jobs_of_a_dashed_method_are_not_taken_for_a_shorter_one(invoke, tmp_path, moto_endpoint):
    from hpobench.remote.sagemaker.plan import job_name_prefix

    _create_job(job_name_prefix(TOY_TAG, "ASHA-STOP", 0) + "-20260101000000", {})
    _create_job(job_name_prefix(TOY_TAG, "ASHA", 1) + "-20260101000000", {})
    payload = _status_json(invoke, tmp_path, "--remote")
    jobs = {(r["method"], r["seed"]): r["job"] for r in payload["runs"] if r["job"]}
    assert sorted(jobs) == [("ASHA", 1), ("ASHA-STOP", 0)]
