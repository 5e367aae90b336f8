"""launch-remote against a real moto server over HTTP: jobs, idempotence, --force,
back-off, and the one-line errors raised before anything is uploaded."""

from __future__ import annotations

import io
import math
import re
import sys
import tarfile

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from conftest import MOTO_BUCKET, MOTO_REGION, MOTO_ROLE
from packaging.requirements import Requirement

from hpobench.benchmarks import DEFAULT_BENCHMARK, get_benchmark
from hpobench.errors import RunError, UsageError
from hpobench.remote.sagemaker.plan import SETUP_ALLOWANCE
from hpobench.remote.sagemaker.requirements import IN_CONTAINER
from hpobench.remote.sagemaker.submit import launch_remote
from hpobench.settings import DEFAULT_METHODS, RemoteSettings

BENCHMARK = DEFAULT_BENCHMARK  # the seed's study, resnet_cifar10
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class Recorder:
    """Captures what a boto3 session sends (event hooks: nothing is patched)."""

    def __init__(self, session: boto3.Session) -> None:
        self.create_requests: list[dict] = []
        self.puts: list[str] = []
        session.events.register("before-parameter-build.sagemaker.CreateTrainingJob", self._create)
        session.events.register("before-parameter-build.s3.PutObject", self._put)

    def _create(self, params: dict, **kwargs) -> None:
        self.create_requests.append(dict(params))

    def _put(self, params: dict, **kwargs) -> None:
        self.puts.append(params["Key"])

    def source_uploads(self) -> list[str]:
        return [key for key in self.puts if key.startswith("hpobench/source/")]


def _settings(**overrides) -> RemoteSettings:
    values = dict(
        benchmark=BENCHMARK, num_seeds=5, experiment_tag="study", role=MOTO_ROLE, bucket=MOTO_BUCKET, random_seed=1234
    )
    values.update(overrides)
    return RemoteSettings(**values)


def _jobs() -> dict[str, dict]:
    client = boto3.client("sagemaker")
    names = [s["TrainingJobName"] for s in client.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]]
    return {name: client.describe_training_job(TrainingJobName=name) for name in names}


def _check_request(request: dict, benchmark) -> tuple[str, int]:
    """One CreateTrainingJob request of the study: its (method, seed), checked."""
    hp = request["HyperParameters"]
    method, seed = hp["method"], int(hp["seed"])
    name = request["TrainingJobName"]
    assert JOB_NAME.match(name) and name.startswith(f"study-{method}-{seed}-")
    assert all(isinstance(v, str) for v in hp.values())
    assert hp["experiment_tag"] == "study" and hp["benchmark"] == BENCHMARK
    assert hp["random_seed"] == "1234"  # the master seed: the job derives 1234 + seed
    assert float(hp["max_wallclock_time"]) == benchmark.max_wallclock_time
    assert int(hp["n_workers"]) == benchmark.n_workers
    spec = request["AlgorithmSpecification"]
    assert spec["TrainingImage"].startswith(f"763104351884.dkr.ecr.{MOTO_REGION}.amazonaws.com/pytorch-training:")
    processor = "gpu" if benchmark.instance_type.startswith(("ml.g", "ml.p")) else "cpu"
    assert f"-{processor}-py3" in spec["TrainingImage"]
    assert request["ResourceConfig"]["InstanceType"] == benchmark.instance_type
    assert request["ResourceConfig"]["InstanceCount"] == 1
    assert request["CheckpointConfig"] == {
        "S3Uri": f"s3://{MOTO_BUCKET}/syne-tune/study/{method}-{seed}/",
        "LocalPath": "/opt/ml/checkpoints",
    }
    # The tuning budget plus the stated set-up allowance.
    assert (
        request["StoppingCondition"]["MaxRuntimeInSeconds"] == math.ceil(benchmark.max_wallclock_time) + SETUP_ALLOWANCE
    )
    assert {t["Key"]: t["Value"] for t in request["Tags"]} == {
        "hpobench:experiment": "study",
        "hpobench:benchmark": BENCHMARK,
        "hpobench:method": method,
        "hpobench:seed": str(seed),
    }
    assert request["RoleArn"] == MOTO_ROLE
    # moto does not store Environment; the request carried it.
    assert request["Environment"]["HPOBENCH_JOB_CHECKPOINT_DIR"] == "/opt/ml/checkpoints"
    assert request["Environment"]["HPOBENCH_JOB_TRIALS_DIR"] == "/opt/ml/trials"
    return method, seed


def _check_source_archive(recorder: Recorder, requests: list[dict], benchmark) -> None:
    """One source archive, uploaded once and shared by every job, with the job's requirements."""
    spec = requests[0]["AlgorithmSpecification"]
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in requests[0]["InputDataConfig"]}
    assert len(recorder.source_uploads()) == 1
    driver_keys = [k for k in recorder.puts if k not in recorder.source_uploads()]
    assert driver_keys and len(driver_keys) == len(set(driver_keys))
    assert all(f"s3://{MOTO_BUCKET}/{k}".startswith(channels["sm_drivers"]) for k in driver_keys)
    source_key = recorder.source_uploads()[0]
    code_uris = {
        channel["DataSource"]["S3DataSource"]["S3Uri"]
        for request in requests
        for channel in request["InputDataConfig"]
        if channel["ChannelName"] == "code"
    }
    assert code_uris == {f"s3://{MOTO_BUCKET}/{source_key}"}
    body = boto3.client("s3").get_object(Bucket=MOTO_BUCKET, Key=source_key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        requirements = tar.extractfile("requirements.txt").read().decode().splitlines()
        constraints = tar.extractfile("constraints.txt").read().decode().splitlines()
        no_deps = tar.extractfile("requirements-no-deps.txt").read().decode().splitlines()
    assert requirements[0] == "-c constraints.txt"
    requirements = requirements[1:]
    torch_version = spec["TrainingImage"].split(":")[1].split("-")[0]
    assert f"torch=={torch_version}" in constraints
    names = {Requirement(line).name for line in requirements}
    assert len(requirements) == len(names)  # merged by name: each project once
    script_file = benchmark.script_dir / "requirements.txt"
    script_names = {
        Requirement(line).name
        for line in script_file.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    names |= {Requirement(line).name for line in no_deps}  # installed by the entry
    assert script_names <= names and set(IN_CONTAINER) - {"tomli"} <= names
    assert "botorch" in names and "xgboost" not in names  # BO and MOBSTER, no BORE


def test_launch_submits_one_job_per_method_and_seed(aws):
    session = boto3.Session()
    recorder = Recorder(session)
    said: list[str] = []
    _plan, outcomes = launch_remote(_settings(), say=said.append, boto_session=session)
    benchmark = get_benchmark(BENCHMARK)

    assert [o.status for o in outcomes] == ["submitted"] * 20
    requests = recorder.create_requests
    assert len(requests) == 20
    expected_runs = {(m, s) for m in DEFAULT_METHODS for s in range(5)}
    seen_runs = {_check_request(request, benchmark) for request in requests}
    assert seen_runs == expected_runs
    assert len({r["TrainingJobName"] for r in requests}) == 20
    # Jobs differ only in what makes them one (method, seed); the rest is the request
    # the SDK built for the first job.
    per_job = {"TrainingJobName", "HyperParameters", "CheckpointConfig", "Tags"}
    shared = [{k: v for k, v in r.items() if k not in per_job} for r in requests]
    assert all(other == shared[0] for other in shared[1:])
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in requests[0]["InputDataConfig"]}
    assert set(channels) == {"code", "sm_drivers"}
    assert requests[0]["AlgorithmSpecification"]["ContainerEntrypoint"] == ["/bin/bash"]  # the SDK runs the entry

    _check_source_archive(recorder, requests, benchmark)

    # What SageMaker (here: moto) now holds.
    stored = _jobs()
    assert len(stored) == 20
    for job in stored.values():
        assert job["ResourceConfig"]["InstanceType"] == benchmark.instance_type
        assert job["CheckpointConfig"]["S3Uri"].startswith(f"s3://{MOTO_BUCKET}/syne-tune/study/")


def test_relaunch_submits_nothing_new_and_force_resubmits(aws, invoke, monkeypatch):
    monkeypatch.setenv("HPOBENCH_ROLE", MOTO_ROLE)
    monkeypatch.setenv("HPOBENCH_BUCKET", MOTO_BUCKET)

    def launch(*extra: str):
        return invoke(
            "launch-remote", "--benchmark", "mlp_digits", "--experiment-tag", "again", "--method", "RS", *extra
        )

    first = launch("--num-seeds", "2")
    assert first.exit_code == 0, first.output
    assert "Submitted 2 job(s); 0 already existed" in first.output
    assert f"s3://{MOTO_BUCKET}/syne-tune/again/" in first.output
    assert f"hpobench sync --experiment-tag again --bucket {MOTO_BUCKET}" in first.output
    jobs = _jobs()
    assert len(jobs) == 2
    master_seeds = {job["HyperParameters"]["random_seed"] for job in jobs.values()}
    assert len(master_seeds) == 1  # drawn once for the whole experiment

    again = launch("--num-seeds", "2")
    assert again.exit_code == 0, again.output
    assert "Submitted 0 job(s); 2 already existed" in again.output
    assert _jobs().keys() == jobs.keys()

    # A wider launch reuses the recorded master seed and adds only the new seed.
    wider = launch("--num-seeds", "3")
    assert wider.exit_code == 0, wider.output
    assert "Submitted 1 job(s); 2 already existed" in wider.output
    after = _jobs()
    assert len(after) == 3
    assert {job["HyperParameters"]["random_seed"] for job in after.values()} == master_seeds

    forced = launch("--num-seeds", "1", "--force")
    assert forced.exit_code == 0, forced.output
    assert "Submitted 1 job(s); 0 already existed" in forced.output
    final = _jobs()
    assert len(final) == 4
    rs0 = sorted(name for name in final if name.startswith("again-RS-0-"))
    assert len(rs0) == 2 and any(name.startswith(rs0[0].rsplit("-", 1)[0] + "-r2-") for name in rs0)


def test_relaunch_with_other_options_is_refused(aws, invoke):
    args = [
        *"launch-remote --benchmark mlp_digits --experiment-tag opts --method RS --role".split(),
        MOTO_ROLE,
        "--bucket",
        MOTO_BUCKET,
    ]
    assert invoke(*args).exit_code == 0
    result = invoke(*args, "--n-workers", "1")
    assert result.exit_code == 2, result.output
    assert re.search(
        r"Error: Experiment 'opts' already has SageMaker job opts-RS-0-\S+ with n_workers=2, "
        r"not 1; use another --experiment-tag, or --force",
        result.output,
    )
    overridden = invoke(*args, "--set", "epochs=3")
    assert overridden.exit_code == 2, overridden.output
    assert "with overrides={}, not {'epochs': 3}" in overridden.output
    packed = invoke(*args, "--trials-per-gpu", "2")
    assert packed.exit_code == 2, packed.output
    assert "with trials_per_gpu=1, not 2" in packed.output


def _failing_calls(session: boto3.Session, operation: str, code: str, times: int) -> list[int]:
    """Answer the first `times` calls of `operation` with an AWS error, before anything
    is sent (a botocore before-call hook); later calls go to moto."""
    calls: list[int] = []

    def hook(model, **kwargs):
        calls.append(1)
        if len(calls) > times:
            return None
        response = AWSResponse("http://moto", 400, {}, None)
        return response, {
            "Error": {"Code": code, "Message": f"{code} (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    session.events.register(f"before-call.sagemaker.{operation}", hook)
    return calls


def test_submission_backs_off_on_resource_limits_and_says_so(aws):
    # A role given by name is looked up in IAM.
    arn = boto3.client("iam").create_role(RoleName="hpobench-runner", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session = boto3.Session()
    calls = _failing_calls(session, "CreateTrainingJob", "ResourceLimitExceeded", times=2)
    said: list[str] = []
    slept: list[float] = []
    _, outcomes = launch_remote(
        _settings(
            benchmark="mlp_digits", methods=("RS",), num_seeds=2, experiment_tag="limits", role="hpobench-runner"
        ),
        say=said.append,
        backoff=(1.5, 3.0, 6.0),
        sleep=slept.append,
        boto_session=session,
    )
    assert [o.status for o in outcomes] == ["submitted", "submitted"]
    assert len(calls) == 4 and slept == [1.5, 3.0]
    assert said == [
        "AWS answered ResourceLimitExceeded for RS-0; retrying in 1.5s (retry 1 of 3)",
        "AWS answered ResourceLimitExceeded for RS-0; retrying in 3s (retry 2 of 3)",
    ]
    jobs = _jobs()
    assert len(jobs) == 2 and {job["RoleArn"] for job in jobs.values()} == {arn}


def test_throttling_that_outlasts_the_back_off_fails_with_the_reason(aws):
    session = boto3.Session()
    _failing_calls(session, "CreateTrainingJob", "ThrottlingException", times=10)
    said: list[str] = []
    with pytest.raises(
        RunError,
        match=r"^Submitting RS-0 failed: .*ThrottlingException.*"
        r"Submitted before the failure: none\.",
    ):
        launch_remote(
            _settings(benchmark="mlp_digits", methods=("RS",), num_seeds=1, experiment_tag="slow"),
            say=said.append,
            backoff=(0.0, 0.0),
            sleep=lambda _: None,
            boto_session=session,
        )
    assert len(said) == 2 and not _jobs()


def test_launch_failing_halfway_reports_what_was_submitted_and_rerun_completes(aws):
    settings = _settings(benchmark="mlp_digits", methods=("RS",), num_seeds=3, experiment_tag="half")
    session = boto3.Session()
    calls: list[int] = []

    def fail_third(model, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            response = AWSResponse("http://moto", 400, {}, None)
            return response, {"Error": {"Code": "ValidationException", "Message": "bad (injected)"}}
        return None

    session.events.register("before-call.sagemaker.CreateTrainingJob", fail_third)
    with pytest.raises(RunError) as failure:
        launch_remote(settings, say=lambda _: None, backoff=(), boto_session=session)
    message = str(failure.value)
    assert message.startswith("Submitting RS-2 failed: An error occurred (ValidationException)")
    assert "Submitted before the failure: half-RS-0-" in message and ", half-RS-1-" in message
    assert message.endswith("Re-run the same command to submit the rest")
    assert len(_jobs()) == 2

    _, outcomes = launch_remote(settings, say=lambda _: None, boto_session=boto3.Session())
    assert [o.status for o in outcomes] == ["exists", "exists", "submitted"]
    assert len(_jobs()) == 3


# env, flags, the error line, its exit code (2: input the user fixes; 1: a service not reached)
ERROR_CASES = [
    (
        {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
        [],
        "Error: No AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        2,
    ),
    ({}, ["--role", None], "Error: Missing SageMaker execution role; pass --role", 2),
    ({}, ["--role", "no-such-role"], "Error: IAM role 'no-such-role' does not exist", 2),
    ({}, ["--bucket", "missing-bucket"], "Error: S3 bucket 'missing-bucket' does not exist; create it", 2),
    ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, [], "is not reachable", 1),
    ({}, ["--instance-type", "ml.c5.3xlarge"], "Error: Unknown SageMaker training instance type 'ml.c5.3xlarge'", 2),
    ({}, ["--instance-type", "large"], "Error: Invalid --instance-type: 'large' is not a SageMaker instance type", 2),
    ({"AWS_DEFAULT_REGION": None}, [], "Error: No AWS region configured; pass --region", 2),
    ({}, ["--bucket", None], "Error: S3 bucket 'sagemaker-us-east-1-123456789012' does not exist", 2),
    ({}, ["--max-runtime", "30"], "Error: --max-runtime 30 is below what the 60 s tuning budget needs", 2),
    ({}, ["--data", "/no/such/data"], "Error: Invalid --data '/no/such/data': no such folder or file", 2),
    ({}, ["--data", f"s3://{MOTO_BUCKET}/empty/"], f"Error: --data s3://{MOTO_BUCKET}/empty/ holds no objects", 2),
]


@pytest.mark.parametrize("env, flags, message, code", ERROR_CASES)
def test_bad_setup_is_one_line_error_before_any_upload(aws, invoke, monkeypatch, env, flags, message, code):
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    given = {"--role": MOTO_ROLE, "--bucket": MOTO_BUCKET}
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        given[flag] = value
    args = [*"launch-remote --benchmark mlp_digits --method RS --experiment-tag bad".split()]
    for flag, value in given.items():
        if value is not None:
            args += [flag, value]
    result = invoke(*args)
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
    objects = boto3.client("s3").list_objects_v2(Bucket=MOTO_BUCKET).get("KeyCount", 0)
    assert objects == 0 and not _jobs()


# ---------------------------------------------------------------- role, tags, data


def _simulated_policy(session: boto3.Session, answer: str) -> list[dict]:
    """Answer iam:SimulatePrincipalPolicy (moto lacks it) before anything is sent:
    'allowed', 'implicitDeny' for every action, or the error code 'AccessDenied'."""
    calls: list[dict] = []

    def record(params, **kwargs):
        calls.append(dict(params))

    def hook(**kwargs):
        if answer == "AccessDenied":
            return AWSResponse("http://moto", 403, {}, None), {
                "Error": {"Code": "AccessDenied", "Message": "not allowed to simulate"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
        results = [
            {"EvalActionName": a, "EvalResourceName": "*", "EvalDecision": answer} for a in calls[-1]["ActionNames"]
        ]
        return AWSResponse("http://moto", 200, {}, None), {
            "EvaluationResults": results,
            "IsTruncated": False,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    session.events.register("before-parameter-build.iam.SimulatePrincipalPolicy", record)
    session.events.register("before-call.iam.SimulatePrincipalPolicy", hook)
    return calls


def _sagemaker_role() -> str:
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    iam = boto3.client("iam")
    return iam.create_role(RoleName="trainer", AssumeRolePolicyDocument=trust)["Role"]["Arn"]


def _uploads() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=MOTO_BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.mark.parametrize("answer", ["allowed", "implicitDeny", "AccessDenied"])
def test_the_sdks_role_validation_runs_before_anything_is_uploaded(aws, monkeypatch, answer):
    monkeypatch.delenv("SAGEMAKER_VALIDATE_ROLE")  # the SDK's own check, for real
    role = _sagemaker_role()
    session = boto3.Session()
    calls = _simulated_policy(session, answer)
    said: list[str] = []
    settings = _settings(benchmark="mlp_digits", methods=("RS",), num_seeds=1, experiment_tag="roles", role=role)
    if answer == "implicitDeny":
        with pytest.raises(UsageError) as denied:
            launch_remote(settings, say=said.append, boto_session=session)
        message = str(denied.value)
        assert message.startswith(f"IAM role {role} cannot run SageMaker training jobs (Missing permissions: ")
        assert "ecr:GetAuthorizationToken" in message and message.endswith("or pass another --role")
        assert "\n" not in message
        assert len(calls) == 1 and not _uploads() and not _jobs()  # nothing uploaded
        return
    _, outcomes = launch_remote(settings, say=said.append, boto_session=session)
    assert [o.status for o in outcomes] == ["submitted"] and calls
    unverified = [line for line in said if line.startswith("Could not verify the permissions")]
    assert bool(unverified) == (answer == "AccessDenied"), said


def test_a_forty_character_tag_is_launched_and_found_by_status_remote(aws, invoke, tmp_path):
    tag = "a-very-long-experiment-tag-for-sagemaker"
    assert len(tag) == 40
    _, outcomes = launch_remote(
        _settings(benchmark="mlp_digits", methods=("RS", "ASHA"), num_seeds=2, experiment_tag=tag),
        say=lambda _: None,
        boto_session=boto3.Session(),
    )
    assert [o.status for o in outcomes] == ["submitted"] * 4
    result = invoke(
        "status", "--experiment-tag", tag, "--results-root", str(tmp_path / "none"), "--format", "json", "--remote"
    )
    assert result.exit_code == 0, result.output
    import json

    runs = {(r["method"], r["seed"]): r["job"] for r in json.loads(result.output)["runs"]}
    assert runs == {(o.spec.run.method, o.spec.run.seed): o.job_name for o in outcomes}
    # A re-launch finds them through the same lookup.
    _, again = launch_remote(
        _settings(benchmark="mlp_digits", methods=("RS", "ASHA"), num_seeds=2, experiment_tag=tag),
        say=lambda _: None,
        boto_session=boto3.Session(),
    )
    assert [o.status for o in again] == ["exists"] * 4


def test_without_a_tag_the_benchmarks_tag_is_used_and_a_relaunch_finds_its_jobs(aws):
    settings = _settings(benchmark="mlp_digits", methods=("RS",), num_seeds=2, experiment_tag=None)
    _, outcomes = launch_remote(settings, say=lambda _: None, boto_session=boto3.Session())
    assert [o.status for o in outcomes] == ["submitted"] * 2
    assert all(o.job_name.startswith("mlp-digits-RS-") for o in outcomes)
    _, again = launch_remote(settings, say=lambda _: None, boto_session=boto3.Session())
    assert [o.status for o in again] == ["exists"] * 2


def test_a_data_folder_is_staged_once_and_attached_to_every_job(aws, tmp_path, monkeypatch):
    import hpobench.remote.sagemaker.data

    hashed: list[int] = []  # hpobench's own hashing, counted: a launch reads the data once
    content_hash = hpobench.remote.sagemaker.data.content_hash
    monkeypatch.setattr(
        hpobench.remote.sagemaker.data, "content_hash", lambda files: hashed.append(len(files)) or content_hash(files)
    )
    data = tmp_path / "data"
    (data / "cifar").mkdir(parents=True)
    (data / "cifar" / "batch_1.bin").write_bytes(b"\x01" * 1000)
    (data / "id_rsa").write_text("PRIVATE KEY")
    session = boto3.Session()
    recorder = Recorder(session)
    said: list[str] = []
    plan, _ = launch_remote(
        _settings(benchmark="mlp_digits", methods=("RS",), num_seeds=2, experiment_tag="data", data=str(data)),
        say=said.append,
        boto_session=session,
    )
    uri = plan.data.s3_uri
    assert said == [f"Uploaded --data to {uri} (reused by later launches with the same data)"]
    assert hashed == [1]
    prefix = uri.removeprefix(f"s3://{MOTO_BUCKET}/")
    assert sorted(k for k in _uploads() if k.startswith(prefix)) == [prefix + "cifar/batch_1.bin"]
    for request in recorder.create_requests:
        channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]}
        assert channels["training"] == uri
    # Another experiment with the same data reuses the upload.
    said.clear()
    again = Recorder(session2 := boto3.Session())
    launch_remote(
        _settings(benchmark="mlp_digits", methods=("RS",), experiment_tag="data2", data=str(data)),
        say=said.append,
        boto_session=session2,
    )
    assert said == [] and not [k for k in again.puts if k.startswith(prefix)]


@pytest.mark.parametrize("decision", ["explicitDeny", "AccessDenied"])
def test_launch_remote_checks_the_role_before_uploading(iam_stub, invoke, decision):
    """Through the command line, with the role answered by an HTTP stub in front of moto."""
    iam_stub.decision = decision
    role = _sagemaker_role()
    result = invoke(
        *"launch-remote --benchmark mlp_digits --method RS --experiment-tag checked --role".split(),
        role,
        "--bucket",
        MOTO_BUCKET,
    )
    assert iam_stub.simulated, "the SDK's role validation did not run"
    if decision == "explicitDeny":
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith(f"Error: IAM role {role} cannot run SageMaker training jobs (Missing")
        assert not _uploads() and not _jobs()
        return
    # Unverifiable (the caller may not simulate): said once, and the launch goes on.
    assert result.exit_code == 0, result.output
    assert "Could not verify the permissions of role" in result.output
    assert "Submitted 1 job(s)" in result.output and len(_jobs()) == 1


def test_spot_jobs_ask_for_managed_spot_training_and_sync_their_results(aws):
    """Issue 20: an interrupted spot job is restarted by SageMaker with its checkpoint folder
    (the run's results) restored, and its run resumes from it (test_remote_entry)."""
    session = boto3.Session()
    recorder = Recorder(session)
    _plan, outcomes = launch_remote(_settings(num_seeds=2, spot=True), say=lambda line: None, boto_session=session)
    runtime = math.ceil(get_benchmark(BENCHMARK).max_wallclock_time) + SETUP_ALLOWANCE
    assert len(recorder.create_requests) == len(outcomes) == 2 * len(DEFAULT_METHODS)
    for request in recorder.create_requests:  # the first through the SDK, the others reusing it
        assert request["EnableManagedSpotTraining"] is True
        assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": runtime, "MaxWaitTimeInSeconds": 2 * runtime}
        assert request["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    described = next(iter(_jobs().values()))
    assert described["StoppingCondition"]["MaxWaitTimeInSeconds"] == 2 * runtime


@pytest.mark.parametrize(
    "flags,message",
    [
        (
            ["--region", "us-west-2", "--spot", "--max-wait", "60"],
            "Error: --max-wait 60 is below the jobs' max runtime (",
        ),
        (
            ["--region", "us-west-2", "--max-wait", "9000"],
            "Error: --max-wait applies to managed spot training; add --spot",
        ),
        (["--engine", "slurm", "--spot"], "Error: --spot is an option of --engine sagemaker, not of --engine slurm"),
    ],
)
def test_spot_options_that_cannot_work_are_one_line(invoke, flags, message):
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run", *flags)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message) and len(result.output.strip().splitlines()) == 1


def test_a_spot_dry_run_says_so(invoke):
    result = invoke(
        *"launch-remote --benchmark mlp_digits --dry-run --region us-west-2 --spot --max-wait 7200 --json".split()
    )
    assert result.exit_code == 0, result.output
    import json

    job = json.loads(result.output)["jobs"][0]
    assert job["EnableManagedSpotTraining"] is True and job["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200


def test_a_launch_of_another_method_into_a_tag_shares_its_master_seed(aws, invoke, monkeypatch):
    """Issue 30: a launch of ASHA into a tag that holds RS jobs drew a fresh master seed, so
    seed index k of RS and ASHA no longer shared their random numbers."""
    monkeypatch.setenv("HPOBENCH_ROLE", MOTO_ROLE)
    monkeypatch.setenv("HPOBENCH_BUCKET", MOTO_BUCKET)
    launch = "launch-remote --benchmark mlp_digits --experiment-tag mixed --num-seeds 2 --method".split()
    assert invoke(*launch, "RS").exit_code == 0
    (rs_seed,) = {job["HyperParameters"]["random_seed"] for job in _jobs().values()}
    second = invoke(*launch, "ASHA")
    assert second.exit_code == 0, second.output
    assert "Submitted 2 job(s)" in second.output
    jobs = _jobs()
    assert len(jobs) == 4
    assert {job["HyperParameters"]["random_seed"] for job in jobs.values()} == {rs_seed}
    other = invoke(*launch, "BO", "--random-seed", str(int(rs_seed) + 1))
    assert other.exit_code == 2, other.output
    assert f"Error: Experiment 'mixed' already uses master random seed {rs_seed}, not {int(rs_seed) + 1}" in (
        other.output
    )
    assert len(_jobs()) == 4


def test_a_method_whose_library_is_missing_here_is_still_launched_its_job_installs_it(aws, monkeypatch):
    monkeypatch.setitem(sys.modules, "dehb", None)  # as if not installed on this machine
    _, outcomes = launch_remote(_settings(methods=("DEHB",), num_seeds=1))
    assert [o.status for o in outcomes] == ["submitted"]


def test_a_method_that_cannot_tune_the_benchmark_is_refused_before_any_upload(aws, tmp_path):
    from user_benchmark import DEFINITION, write_benchmark

    # DEHB needs a maximum resource above its grace period: one epoch is refused by its factory.
    path = write_benchmark(tmp_path / "user", definition=DEFINITION.replace("epochs = 3", "epochs = 1"))
    session = boto3.Session(region_name=MOTO_REGION)
    recorder = Recorder(session)
    with pytest.raises(UsageError, match=r"^Method DEHB cannot tune benchmark 'quadratic': ValueError: DEHB needs"):
        launch_remote(_settings(benchmark=str(path), methods=("RS", "DEHB"), num_seeds=1), boto_session=session)
    assert recorder.source_uploads() == [] and _jobs() == {}


def test_multi_objective_jobs_carry_their_method_and_the_tags_scalarization(aws, invoke, monkeypatch):
    """Issue 32: MOASHA and a scalarized RS on gbt_breast_cancer_mo are one job each, whose
    arguments name the method and the scalarization; a launch without it is another setup."""
    monkeypatch.setenv("HPOBENCH_ROLE", MOTO_ROLE)
    monkeypatch.setenv("HPOBENCH_BUCKET", MOTO_BUCKET)
    launch = "launch-remote --benchmark gbt_breast_cancer_mo --experiment-tag mo".split()
    first = invoke(*launch, "--method", "MOASHA", "--method", "RS", "--scalarization", "weighted:0.5,0.5")
    assert first.exit_code == 0, first.output
    jobs = _jobs()
    arguments = {job["HyperParameters"]["method"]: job["HyperParameters"] for job in jobs.values()}
    assert set(arguments) == {"MOASHA", "RS"}
    for values in arguments.values():
        assert values["benchmark"] == "gbt_breast_cancer_mo" and values["scalarization"] == "weighted:0.5,0.5"
    refused = invoke(*launch, "--method", "MO-RS")
    assert refused.exit_code == 2, refused.output
    assert "with scalarization='weighted:0.5,0.5', not None" in refused.output
    alone = invoke(*"launch-remote --benchmark gbt_breast_cancer_mo --experiment-tag mo2 --method RS".split())
    assert alone.exit_code == 2 and "--scalarization weighted:0.5,0.5" in alone.output
    assert len(_jobs()) == 2
