"""Shared fixtures: every test runs in its own folder with a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hpobench.cli import app


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No HPOBENCH_* variables, no hpobench.toml, results under a temporary root."""
    for name in list(os.environ):
        if name.startswith("HPOBENCH_") or name == "SYNETUNE_FOLDER":
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HPOBENCH_RESULTS_ROOT", str(tmp_path / "results"))
    return tmp_path


@pytest.fixture
def results_root(isolated: Path) -> Path:
    return isolated / "results"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    """Run the CLI in-process; returns click's Result."""

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


# ---------------------------------------------------------------- AWS (moto over HTTP)

MOTO_REGION = "us-east-1"
MOTO_BUCKET = "hpobench-test-bucket"
MOTO_ROLE = "arn:aws:iam::123456789012:role/hpobench-test"


@pytest.fixture(scope="session")
def moto_server():
    """A real moto server on 127.0.0.1 (free port), shared by the session's tests."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # request lines, moto tracebacks
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def clear_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS variables, and config/credentials files that do not exist."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "SAGEMAKER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.sagemaker, ~/.config/sagemaker


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Clients reach the moto server through AWS_ENDPOINT_URL with dummy credentials;
    moto's state is reset and the test bucket created. Yields the endpoint URL."""
    import urllib.request

    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    clear_aws_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
    # moto does not implement iam:SimulatePrincipalPolicy, which the SDK's role check calls.
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    boto3.client("s3").create_bucket(Bucket=MOTO_BUCKET)
    return moto_server


@pytest.fixture
def this_hpobench_env() -> dict[str, str]:
    """The environment for a subprocess that must run the hpobench under test.

    The tests chdir to a temporary folder, where a relative PYTHONPATH no longer
    finds it; Python's default warning filters, as a user's terminal has them.
    """
    import hpobench

    source = str(Path(hpobench.__file__).resolve().parents[1])
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    return {**environment, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
