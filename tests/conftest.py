"""Shared fixtures: every test runs in its own folder with a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hpobench.cli import app

# glibc hands every freed block above its mmap threshold back to the kernel, and the next
# allocation faults its pages in again: SMAC's Branin test took 7.4 million page faults (16 s
# of system time, more than its computing) that way. The suite's workers and every process they
# start (read by glibc at process start, hence set here, before pytest-xdist starts the workers)
# keep freed memory for reuse instead; what a test measures of memory (peaks) is unaffected.
for _variable, _value in (
    ("MALLOC_MMAP_THRESHOLD_", "4294967296"),
    ("MALLOC_TRIM_THRESHOLD_", "4294967296"),
    ("MALLOC_TOP_PAD_", "268435456"),
):
    os.environ.setdefault(_variable, _value)

# Started first by the parallel run (see docs/development.md): tests, and groups, that take a
# minute or more, so that none of them starts last and keeps one worker busy after the others.
FIRST = (
    "tests/remote/slurm/test_slurm_cluster.py",
    "test_beats_random_search_on_branin",
    "test_a_real_study_on",
    "test_a_spot_job_restarted",
    "tests/methods/test_methods_run.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, name in enumerate(FIRST) if name in item.nodeid), len(FIRST))

    items.sort(key=rank)  # stable: the others keep their order


@pytest.fixture(scope="session", autouse=True)
def warm_fork_servers():
    """A worker's in-process launches share warm fork servers, as one launch's runs do
    (`warm_servers.kept_for_the_process`): the suite pays a script's imports (torch: seconds)
    once a worker, not once a test. Trials are still forked fresh from a server that ran none
    of its trials' code; launches in subprocesses (resume, signals, jobs) keep their own, and
    tests/local/test_warm_servers.py checks a launch's own."""
    from hpobench.local.forkserver.warm_servers import kept_for_the_process

    with kept_for_the_process():
        yield


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No HPOBENCH_* variables, no hpobench.toml, results under a temporary root."""
    for name in list(os.environ):
        # COLUMNS and LINES: pytest-xdist's workers get an 80-column terminal size; output
        # that is not a terminal is rendered wide (cli/common.py), as in a serial run.
        if name.startswith("HPOBENCH_") or name in ("SYNETUNE_FOLDER", "COLUMNS", "LINES"):
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


class IamSimulationStub:
    """A small HTTP server in front of moto: it answers iam:SimulatePrincipalPolicy
    (which moto lacks) with `decision` ('allowed', 'implicitDeny', 'explicitDeny' or
    the error 'AccessDenied') and forwards every other request to moto unchanged."""

    def __init__(self, moto_url: str) -> None:
        import http.server
        import threading

        self.moto_url = moto_url
        self.decision = "allowed"
        self.simulated: list[list[str]] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if b"Action=SimulatePrincipalPolicy" in body:
                    status, headers, payload = stub._simulate(body)
                else:
                    status, headers, payload = stub._forward(self.command, self.path, self.headers, body)
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _simulate(self, body: bytes) -> tuple[int, list, bytes]:
        from urllib.parse import parse_qs

        fields = parse_qs(body.decode())
        actions = [v[0] for k, v in sorted(fields.items()) if k.startswith("ActionNames.member.")]
        self.simulated.append(actions)
        if self.decision == "AccessDenied":
            error = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>"
                "not authorized to perform iam:SimulatePrincipalPolicy</Message></Error>"
                "<RequestId>stub</RequestId></ErrorResponse>"
            )
            return 403, [("Content-Type", "text/xml")], error.encode()
        members = "".join(
            f"<member><EvalActionName>{a}</EvalActionName><EvalResourceName>*</EvalResourceName>"
            f"<EvalDecision>{self.decision}</EvalDecision></member>"
            for a in actions
        )
        xml = (
            '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>"
            f"{members}</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata>"
            "<RequestId>stub</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>"
        )
        return 200, [("Content-Type", "text/xml")], xml.encode()

    def _forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, list, bytes]:
        import urllib.error
        import urllib.request

        skip = ("host", "content-length", "expect", "connection")
        request = urllib.request.Request(
            self.moto_url + path,
            data=body if body or method in ("PUT", "POST") else None,
            method=method,
            headers={k: v for k, v in headers.items() if k.lower() not in skip},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, list(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, list(error.headers.items()), error.read()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def iam_stub(aws: str, monkeypatch: pytest.MonkeyPatch):
    """Route AWS through an IamSimulationStub; the SDK's role validation is on."""
    stub = IamSimulationStub(aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL", stub.url)
    monkeypatch.delenv("SAGEMAKER_VALIDATE_ROLE")
    try:
        yield stub
    finally:
        stub.close()


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


# ---------------------------------------------------------------- Slurm (a real one-node cluster)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory):
    """munged, slurmctld and slurmd from Debian's packages, started for the session and
    stopped by PID (tests/slurm_cluster.py). Skipped where Slurm is not installed, with
    the reason; under CI=true (where .ci/run installs it) a missing Slurm fails instead."""
    from slurm_cluster import SlurmCluster, skip_reason

    reason = skip_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Slurm tests must run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def slurm(slurm_cluster, monkeypatch: pytest.MonkeyPatch):
    """Slurm's commands reach the test cluster (SLURM_CONF); yields the cluster."""
    for name, value in slurm_cluster.env.items():
        monkeypatch.setenv(name, value)
    return slurm_cluster


@pytest.fixture(scope="session")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny real runs of mlp_digits (see results_data.make_real_experiment), made once a session."""
    from results_data import make_real_experiment

    return make_real_experiment(tmp_path_factory.getbasetemp() / "real-results")


@pytest.fixture
def toy_root(tmp_path: Path) -> Path:
    """The hand-made results of results_data.write_toy_experiment."""
    from results_data import write_toy_experiment

    return write_toy_experiment(tmp_path / "toy-results")
