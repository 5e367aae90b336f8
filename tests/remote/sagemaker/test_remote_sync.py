"""hpobench sync: results written by a job to S3 land where run-local writes them."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest
from conftest import MOTO_BUCKET

from hpobench.local.launcher import run_local
from hpobench.remote.sagemaker.sync import _safe_relative
from hpobench.results import layout
from hpobench.settings import LocalSettings


@pytest.fixture
def finished_run(tmp_path: Path) -> Path:
    """A real, tiny run-local result folder (what a job leaves in its checkpoint folder)."""
    root = tmp_path / "produced"
    settings = LocalSettings(
        experiment_tag="synced",
        benchmark="mlp_digits",
        methods=("RS",),
        n_workers=1,
        max_wallclock_time=30,
        max_num_evaluations=1,
        overrides={"epochs": "2"},
        results_root=root,
        random_seed=7,
    )
    outcomes = run_local(settings)
    assert [o.status for o in outcomes] == ["complete"]
    return root


def _in_a_run_folder(path: Path, tag_dir: Path) -> bool:
    """Below a {method}-{seed}/ folder of the tag (what a job's checkpoint folder holds)."""
    parts = path.relative_to(tag_dir).parts
    return len(parts) > 1 and not parts[0].startswith(".")


def _upload(root: Path, tag: str) -> list[str]:
    s3 = boto3.client("s3")
    keys = []
    for path in sorted((root / tag).rglob("*")):
        # A job syncs its {method}-{seed}/ folder; the tag folder's own files and hidden
        # folders (the launcher's and the runs' locks) stay on the machine that ran it.
        if path.is_file() and _in_a_run_folder(path, root / tag):
            key = f"syne-tune/{tag}/{path.relative_to(root / tag).as_posix()}"
            s3.upload_file(str(path), MOTO_BUCKET, key)
            keys.append(key)
    return keys


def test_sync_round_trip_is_loadable_and_incremental(aws, finished_run, results_root, invoke):
    keys = _upload(finished_run, "synced")
    assert any(k.endswith("/results.csv.zip") for k in keys)

    result = invoke("sync", "--experiment-tag", "synced", "--bucket", MOTO_BUCKET)
    assert result.exit_code == 0, result.output
    assert f"{len(keys)} file(s) downloaded, 0 unchanged; runs: RS-0" in result.output

    # Same layout as run-local, file for file.
    produced = sorted(
        p.relative_to(finished_run).as_posix()
        for p in finished_run.rglob("*")
        if p.is_file() and _in_a_run_folder(p, finished_run / "synced")
    )
    synced = sorted(p.relative_to(results_root).as_posix() for p in results_root.rglob("*") if p.is_file())
    assert synced == produced
    tuner_dir = layout.completed_tuner_dir(results_root / "synced" / "RS-0")
    assert tuner_dir is not None and tuner_dir.name.startswith("synced-mlp_digits-0-")

    from syne_tune.experiments import load_experiment

    experiment = load_experiment(
        str(tuner_dir.relative_to(results_root)), load_tuner=True, local_path=str(results_root)
    )
    assert experiment.results is not None and len(experiment.results) > 0
    assert "val_accuracy" in experiment.results.columns
    assert experiment.metadata["method"] == "RS" and experiment.metadata["random_seed_master"] == 7
    assert experiment.tuner is not None

    again = invoke("sync", "--experiment-tag", "synced", "--bucket", MOTO_BUCKET)
    assert again.exit_code == 0, again.output
    assert f"0 file(s) downloaded, {len(keys)} unchanged" in again.output

    # A running job updates its results: only that file comes down again.
    changed = next(k for k in keys if k.endswith("/metadata.json"))
    time.sleep(1.1)  # S3 times have one-second resolution
    boto3.client("s3").put_object(Bucket=MOTO_BUCKET, Key=changed, Body=b'{"hpobench_status": "complete", "x": 1}')
    third = invoke("sync", "--experiment-tag", "synced", "--bucket", MOTO_BUCKET)
    assert third.exit_code == 0, third.output
    assert f"1 file(s) downloaded, {len(keys) - 1} unchanged" in third.output
    local = results_root / changed.removeprefix("syne-tune/")
    assert b'"x": 1' in local.read_bytes()
    assert not list(results_root.rglob("*.hpobench-partial"))


def test_sync_of_an_unknown_experiment_is_a_one_line_error(aws, invoke):
    result = invoke("sync", "--experiment-tag", "nothing-here", "--bucket", MOTO_BUCKET)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"Error: No results for experiment 'nothing-here' under s3://{MOTO_BUCKET}/syne-tune/nothing-here/; "
        "check --experiment-tag and --bucket (jobs upload results while they run)"
    )


def test_sync_from_a_missing_bucket_is_a_one_line_error(aws, invoke):
    result = invoke("sync", "--experiment-tag", "x", "--bucket", "not-a-bucket")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: S3 bucket 'not-a-bucket' does not exist")


def test_sync_takes_the_bucket_from_the_environment(aws, invoke, monkeypatch, results_root):
    monkeypatch.setenv("HPOBENCH_BUCKET", MOTO_BUCKET)
    boto3.client("s3").put_object(Bucket=MOTO_BUCKET, Key="syne-tune/env/RS-0/t/ok.txt", Body=b"ok")
    result = invoke("sync", "--experiment-tag", "env")
    assert result.exit_code == 0, result.output
    assert (results_root / "env" / "RS-0" / "t" / "ok.txt").read_bytes() == b"ok"


@pytest.mark.parametrize("key", ["RS-0/../../outside", "/RS-0/x", "top-level-file", "RS-0/dir/"])
def test_keys_that_would_leave_the_run_folders_are_not_synced(key):
    assert _safe_relative(key) is None
