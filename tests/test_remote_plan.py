"""launch-remote without AWS: job names, hyperparameters, the source archive, --dry-run."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import tarfile
import threading

import pytest
from conftest import clear_aws_environment
from packaging.requirements import Requirement

from hpobench.benchmarks import get_benchmark
from hpobench.errors import UsageError
from hpobench.remote.plan import check_hyperparameter, job_name_prefix
from hpobench.remote.bundle import (
    ENTRY_SCRIPT,
    build_bundle,
    copy_filtered,
    hpobench_requirements,
    merge_requirements,
)
from hpobench.settings import EXPERIMENT_TAG_MAX_LENGTH

JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
SDK_SUFFIX = "-20261127235959"  # what the SDK appends: -YYYYmmddHHMMSS


@pytest.mark.parametrize("method", ["RS", "BO", "ASHA", "MOBSTER", "ASHA_BO"])
@pytest.mark.parametrize(
    "tag", ["t", "resnet-cifar10", "a" * EXPERIMENT_TAG_MAX_LENGTH, "a--b-" * 7 + "x" * 5]
)
def test_job_names_fit_sagemaker_for_any_valid_tag(tag, method):
    for seed in (0, 7, 12345):
        prefix = job_name_prefix(tag, method, seed)
        for name in (prefix + SDK_SUFFIX, prefix + "-r12" + SDK_SUFFIX):
            assert len(name) <= 63 and JOB_NAME.match(name), name
        assert prefix.startswith(tag[:10].rstrip("-"))


def test_job_names_stay_distinct_when_long_tags_are_cut():
    base = "x" * EXPERIMENT_TAG_MAX_LENGTH
    names = {job_name_prefix(base[:-1] + c, "MOBSTER", 3) for c in "abc"}
    assert len(names) == 3
    assert job_name_prefix("tag", "RS", 1) != job_name_prefix("tag", "RS", 11)


@pytest.mark.parametrize(
    "value, message",
    [
        ("it's", "single quote"),
        ("x" * 2501, "SageMaker allows 2500"),
        ("1e5", "would reach the SageMaker job as '100000.0'"),
    ],
)
def test_hyperparameter_values_sagemaker_would_break_are_refused(value, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        check_hyperparameter("experiment_tag", value)


def test_values_that_survive_the_driver_are_accepted():
    for value in ("resnet-cifar10", "3", "60.0", "1e-05", '{"epochs": "2"}', "abc"):
        check_hyperparameter("key", value)


def test_requirements_are_merged_by_name_not_concatenated():
    merged = merge_requirements(
        ["torch>=2.2", "numpy>=1.24", "syne-tune==0.16.*", "tomli>=2.0; python_version < '3.11'"],
        ["Torch>=2.3", "numpy", "scikit_learn>=1.3", "syne-tune[extra]==0.16.*"],
    )
    parsed = {
        Requirement(line).name.lower().replace("_", "-"): Requirement(line) for line in merged
    }
    assert len(merged) == len(parsed) == 5
    assert parsed["torch"].specifier.contains("2.3.0") and not parsed["torch"].specifier.contains(
        "2.2.5"
    )
    assert parsed["syne-tune"].extras == {"extra"}
    assert parsed["scikit-learn"].specifier.contains("1.3.0")
    assert str(parsed["tomli"].marker) == 'python_version < "3.11"'


def test_invalid_requirement_is_a_one_line_usage_error():
    with pytest.raises(UsageError, match="Invalid requirement 'torch>>2'"):
        merge_requirements(["torch>>2"])


def test_archive_filter_leaves_out_secrets_caches_and_environments(tmp_path):
    source = tmp_path / "src"
    for relative in ["keep.py", "sub/keep.txt", ".git/config", ".env", ".env.local", ".venv/bin/python",
                     "__pycache__/x.pyc", "sub/__pycache__/y.pyc", ".aws/credentials", "id.pem",
                     "sub/credentials", "hpobench.toml"]:  # fmt: skip
        path = source / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("secret" if "keep" not in relative else "ok")
    copy_filtered(source, tmp_path / "out")
    copied = sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    )
    assert copied == ["keep.py", "sub/keep.txt"]


def test_source_archive_is_reproducible_and_holds_package_script_and_merged_requirements():
    benchmark = get_benchmark("mlp_digits")
    first, second = build_bundle(benchmark), build_bundle(benchmark)
    assert first.data == second.data and first.sha256 == second.sha256
    with tarfile.open(fileobj=io.BytesIO(first.data)) as tar:
        names = tar.getnames()
        requirements = tar.extractfile("requirements.txt").read().decode().splitlines()
    assert ENTRY_SCRIPT in names
    assert "hpobench/remote/entry.py" in names
    assert "hpobench/training_scripts/mlp_digits/mlp_digits.py" in names
    assert not any(n.startswith("hpobench/training_scripts/gbt_breast_cancer") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") or "/.git" in n for n in names)
    # Both sources are in, each project once; launch-only packages stay out.
    by_name = [Requirement(line).name for line in requirements]
    assert len(by_name) == len(set(by_name))
    own = {Requirement(r).name for r in hpobench_requirements()} - {"sagemaker", "boto3"}
    script = {
        Requirement(r).name
        for r in (benchmark.script_dir / "requirements.txt").read_text().splitlines()
    }
    assert own | script == set(by_name)
    assert "sagemaker" not in by_name and "pydantic-settings" in by_name


class _Listener:
    """A TCP port that records whether anything connected to it."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.socket.close()


def test_dry_run_needs_no_aws_configuration_and_calls_nothing(tmp_path, monkeypatch):
    clear_aws_environment(monkeypatch, tmp_path)
    listener = _Listener()
    # Any AWS client would be sent here: nothing may arrive.
    monkeypatch.setenv("AWS_ENDPOINT_URL", listener.url)
    monkeypatch.setenv("COLUMNS", "250")  # table cells unfolded
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hpobench", "launch-remote", "--benchmark", "mlp_digits",
             "--num-seeds", "2", "--experiment-tag", "dry", "--dry-run", "--bucket", "my-bucket",
             "--region", "eu-west-1", "--max-wallclock-time", "100"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    assert listener.connections == 0
    out = result.stdout
    assert "dry-RS-0-" in out and "dry-MOBSTER-1-" in out
    assert "s3://my-bucket/syne-tune/dry/ASHA-1/" in out
    assert "ml.c5.2xlarge" in out and "2m" in out  # 1.2 x 100 s
    assert "8 job(s)" in out and "at most 0.27 instance-hours" in out  # 8 x 120 s
    assert "dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:" in out
    assert "Nothing was submitted" in out


def test_dry_run_rejects_an_unknown_instance_type(invoke):
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run",
                    "--instance-type", "ml.c5.3xlarge")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        "Error: Unknown SageMaker training instance type 'ml.c5.3xlarge'; did you mean"
        in result.output
    )


def test_instance_type_that_is_not_one_is_refused(invoke):
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run",
                    "--instance-type", "g4dn.xlarge")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        "Error: Invalid --instance-type: 'g4dn.xlarge' is not a SageMaker instance type"
        in result.output
    )
    assert "Traceback" not in result.output


def test_dry_run_refuses_a_tag_the_container_driver_would_change(invoke):
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run",
                    "--experiment-tag", "1e5")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "would reach the SageMaker job as '100000.0'" in result.output


def test_one_hpobench_toml_serves_run_local_and_launch_remote(invoke, isolated, monkeypatch):
    monkeypatch.delenv("HPOBENCH_RESULTS_ROOT")
    (isolated / "work" / "hpobench.toml").write_text(
        f'results_root = "{isolated / "from-toml"}"\nbucket = "toml-bucket"\nn_workers = 1\n'
    )
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--method", "RS", "--dry-run",
                    "--experiment-tag", "toml")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "s3://toml-bucket/syne-tune/toml/RS-0/" in result.output

    from hpobench.settings import LocalSettings, RemoteSettings, load_settings

    assert load_settings(LocalSettings).results_root == isolated / "from-toml"
    assert load_settings(RemoteSettings).n_workers == 1
    (isolated / "work" / "hpobench.toml").write_text('bucket = "b-b-b"\nnonsense = 1\n')
    bad = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run")
    assert bad.exit_code == 2
    assert "Unknown setting 'nonsense' in hpobench.toml" in bad.output
