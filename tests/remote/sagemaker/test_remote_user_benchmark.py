"""launch-remote with a user's file-defined benchmark, against the moto server: what the
source archive holds of the user's folder, and the job's entry running it on a
temporary /opt/ml exactly as the container would."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import boto3
import pytest
from conftest import MOTO_BUCKET, MOTO_ROLE
from sagemaker_job import lay_out_opt_ml, run_job
from user_benchmark import write_benchmark

from hpobench.errors import UsageError
from hpobench.remote.sagemaker.bundle import ENTRY_SCRIPT
from hpobench.remote.sagemaker.submit import launch_remote
from hpobench.results import layout
from hpobench.settings import RemoteSettings

SECRET_LOOKING = ["id_rsa", ".env", "creds/service-account.json"]
LEFT_OUT = [*SECRET_LOOKING, ".venv/bin/python", "data/big.bin", ".git/config"]


def _user_folder(folder: Path) -> Path:
    """The user's project: script, definition, notes, and what must never be packed."""
    path = write_benchmark(folder)
    (folder / "notes.md").write_text("kept\n")
    (folder / "requirements.txt").write_text("syne-tune\npyyaml>=5\n")
    (folder / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (folder / ".env").write_text("AWS_SECRET_ACCESS_KEY=not-for-jobs\n")
    (folder / "creds").mkdir()
    (folder / "creds" / "service-account.json").write_text('{"type": "service_account"}\n')
    (folder / ".venv" / "bin").mkdir(parents=True)
    (folder / ".venv" / "bin" / "python").write_text("")
    (folder / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n")
    (folder / "data").mkdir()
    with (folder / "data" / "big.bin").open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # 50 MB of data the jobs must not carry
    (folder / ".hpobenchignore").write_text("data/\n")
    return path


def _settings(path: Path, **more) -> RemoteSettings:
    return RemoteSettings(
        benchmark=str(path),
        methods=("RS",),
        experiment_tag="mine",
        role=MOTO_ROLE,
        bucket=MOTO_BUCKET,
        random_seed=5,
        max_num_evaluations=4,
        **more,
    )


def _archive(session: boto3.Session) -> bytes:
    s3 = session.client("s3")
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=MOTO_BUCKET, Prefix="hpobench/source/")["Contents"]]
    return s3.get_object(Bucket=MOTO_BUCKET, Key=key)["Body"].read()


@pytest.fixture
def launched(aws, tmp_path: Path):
    """One job of the user's benchmark submitted to moto: (definition path, request, archive)."""
    path = _user_folder(tmp_path / "project")
    session = boto3.Session()
    requests: list[dict] = []
    session.events.register(
        "before-parameter-build.sagemaker.CreateTrainingJob", lambda params, **kw: requests.append(dict(params))
    )
    _, outcomes = launch_remote(_settings(path), say=print, boto_session=session)
    assert [o.status for o in outcomes] == ["submitted"]
    return path, requests[0], _archive(session)


def test_the_archive_holds_the_script_folder_without_secrets_or_ignored_files(launched):
    path, request, data = launched
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())
        packed_definition = tar.extractfile("hpobench_benchmark/quadratic.toml").read().decode()
        requirements = tar.extractfile("requirements.txt").read().decode().split()
    assert {
        "hpobench_benchmark/train.py",
        "hpobench_benchmark/notes.md",
        "hpobench_benchmark/requirements.txt",
        ENTRY_SCRIPT,
    } <= names
    assert packed_definition == path.read_text()
    assert "pyyaml>=5" in requirements  # the script's own requirements join hpobench's
    for left_out in LEFT_OUT:
        assert f"hpobench_benchmark/{left_out}" not in names, left_out
    assert not [n for n in names if n.startswith(("hpobench_benchmark/.venv", "hpobench_benchmark/data"))]
    hyperparameters = request["HyperParameters"]
    assert hyperparameters["benchmark"] == "hpobench_benchmark/quadratic.toml"
    assert hyperparameters["benchmark_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {t["Key"]: t["Value"] for t in request["Tags"]}["hpobench:benchmark"] == "quadratic"


def test_a_changed_definition_is_refused_on_relaunch(launched):
    path, _, _ = launched
    path.write_text(path.read_text().replace("upper = 1.0", "upper = 2.0"))
    with pytest.raises(UsageError, match=r"already has SageMaker job .* with another version of "):
        launch_remote(_settings(path), say=print, boto_session=boto3.Session())


def test_the_job_entry_runs_the_file_defined_benchmark_on_a_temporary_opt_ml(launched, tmp_path: Path):
    path, request, data = launched
    hyperparameters = request["HyperParameters"]
    opt_ml = lay_out_opt_ml(tmp_path / "opt" / "ml", data, hyperparameters)
    done = run_job(opt_ml)
    assert done.returncode == 0, done.stdout + done.stderr
    code = opt_ml / "input" / "data" / "code"
    (tuner_dir,) = layout.tuner_dirs(opt_ml / "checkpoints")
    assert tuner_dir.name.startswith("mine-quadratic-0-")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == layout.STATUS_COMPLETE
    # The packed definition ran: the same text, hence the same hash, as on this machine.
    assert metadata["benchmark_file"]["path"] == str(code / "hpobench_benchmark" / "quadratic.toml")
    assert metadata["benchmark_file"]["content"] == path.read_text()
    assert metadata["benchmark_sha256"] == hyperparameters["benchmark_sha256"]
    assert list((opt_ml / "trials").rglob("std.out"))


def test_dry_run_lists_what_would_be_packed_of_the_users_folder(invoke, tmp_path: Path):
    import json

    path = _user_folder(tmp_path / "project")
    result = invoke(
        "launch-remote",
        "--benchmark",
        str(path),
        *"--method RS --dry-run --json --region us-east-1 --bucket".split(),
        MOTO_BUCKET,
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    files = [f for f in plan["source_archive"]["files"] if f.startswith("hpobench_benchmark/")]
    assert sorted(files) == [
        "hpobench_benchmark/.hpobenchignore",
        "hpobench_benchmark/notes.md",
        "hpobench_benchmark/quadratic.toml",
        "hpobench_benchmark/requirements.txt",
        "hpobench_benchmark/train.py",
    ]
    assert plan["jobs"][0]["HyperParameters"]["benchmark"] == "hpobench_benchmark/quadratic.toml"


@pytest.mark.parametrize("copied", [False, True], ids=["built-in", "copied built-in"])
def test_a_built_in_script_travels_with_trial_support_and_starts_from_the_archive(tmp_path: Path, copied: bool):
    import json
    import shutil
    import subprocess
    import sys

    from hpobench.benchmarks import get_benchmark
    from hpobench.paths import TRIAL_SUPPORT, training_scripts_root
    from hpobench.remote.sagemaker.bundle import script_destination, stage_sources
    from hpobench.remote.sagemaker.plan import plan_remote

    name = "mlp_digits"
    if copied:  # dumped, edited and copied as docs/extending.md says
        shutil.copytree(training_scripts_root() / name, tmp_path / "mine" / name)
        shutil.copy(training_scripts_root() / TRIAL_SUPPORT, tmp_path / "mine")
        record = {**get_benchmark(name).model_dump(mode="json"), "name": "my_digits"}
        (tmp_path / "mine" / "my_digits.json").write_text(json.dumps(record))
        name = str(tmp_path / "mine" / "my_digits.json")
    benchmark = get_benchmark(name)
    plan = plan_remote(RemoteSettings(benchmark=name, methods=("RS",)), "us-east-1", "b")
    stage = tmp_path / "stage"
    stage_sources(benchmark, plan.requirements, stage)
    folder = stage / script_destination(benchmark)
    assert (folder.parent / TRIAL_SUPPORT).is_file()
    started = subprocess.run(
        [sys.executable, str(folder / benchmark.script_path.name), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr  # it imported trial_support from the archive's layout
