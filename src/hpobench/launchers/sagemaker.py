"""Plan and submit one SageMaker training job per (method, seed).

Planning (`plan_remote`) is offline: job names, image, hyperparameters, result
paths, limits. Submitting (`launch_remote`) checks credentials, role and bucket
first, reuses jobs that already exist for the experiment, uploads the shared
source archive once, and creates the missing jobs through the SageMaker SDK's
`ModelTrainer`, backing off when AWS throttles or hits a resource limit.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from hpobench import __version__
from hpobench.errors import RunError, UsageError
from hpobench.launchers import aws
from hpobench.launchers.plan import ExperimentPlan, PlannedRun, plan_experiment
from hpobench.settings import RemoteSettings

RESULTS_PREFIX = "syne-tune"  # s3://{bucket}/syne-tune/{tag}/{method}-{seed}/, as in the seed
SOURCE_PREFIX = "hpobench/source"
OUTPUT_PREFIX = "hpobench/output"
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
TRIALS_LOCAL_PATH = "/opt/ml/trials"  # not synced: trial logs and model checkpoints
RUNTIME_FACTOR = 1.2
MAX_JOB_NAME = 63
# The SDK appends "-YYYYmmddHHMMSS"; a resubmission adds "-rN" before it.
NAME_SUFFIX_ROOM = 15 + 4
MAX_HYPERPARAMETER_LENGTH = 2500
# Still running or done: a re-launch does not submit these again.
KEEP_STATUSES = frozenset({"InProgress", "Completed", "Stopping"})
DEFAULT_BACKOFF = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
TAG_KEYS = ("experiment", "benchmark", "method", "seed")

Say = Callable[[str], None]


@dataclass(frozen=True)
class JobSpec:
    """One planned training job."""

    run: PlannedRun
    name_prefix: str  # every job of this (method, seed) is named {name_prefix}[-rN]-{time}
    hyperparameters: dict[str, str]
    tags: dict[str, str]
    results_uri: str
    max_runtime: int  # seconds


@dataclass(frozen=True)
class RemotePlan:
    """An experiment resolved into SageMaker jobs."""

    experiment: ExperimentPlan
    region: str
    bucket: str  # may be a placeholder in a dry run without --bucket
    instance_type: str
    image_uri: str
    jobs: tuple[JobSpec, ...]

    @property
    def instance_hours_at_most(self) -> float:
        return sum(job.max_runtime for job in self.jobs) / 3600


@dataclass
class JobOutcome:
    """What a launch did with one planned job."""

    spec: JobSpec
    status: str  # "submitted", "exists" (skipped), or a SageMaker status seen
    job_name: str


@dataclass
class ExistingJob:
    name: str
    status: str
    created: float = 0.0
    hyperparameters: dict[str, str] = field(default_factory=dict)


def plan_remote(
    settings: RemoteSettings,
    region: str,
    bucket: str,
    master_random_seed: Optional[int] = None,
) -> RemotePlan:
    """The jobs of an experiment (offline: no AWS call); UsageError on bad input."""
    experiment = plan_experiment(settings, master_random_seed=master_random_seed)
    benchmark = experiment.benchmark
    instance_type = settings.instance_type or benchmark.instance_type
    check_instance_type(instance_type)
    image = image_uri(benchmark.framework, benchmark.estimator_kwargs, region, instance_type)
    max_runtime = math.ceil(RUNTIME_FACTOR * experiment.max_wallclock_time)
    jobs = []
    for run in experiment.runs:
        hyperparameters = job_hyperparameters(experiment, run)
        jobs.append(
            JobSpec(
                run=run,
                name_prefix=job_name_prefix(experiment.experiment_tag, run.method, run.seed),
                hyperparameters=hyperparameters,
                tags={
                    "hpobench:experiment": experiment.experiment_tag,
                    "hpobench:benchmark": benchmark.name,
                    "hpobench:method": run.method,
                    "hpobench:seed": str(run.seed),
                },
                results_uri=results_uri(bucket, experiment.experiment_tag, run.name),
                max_runtime=max_runtime,
            )
        )
    return RemotePlan(experiment, region, bucket, instance_type, image, tuple(jobs))


def results_uri(bucket: str, experiment_tag: str, run_name: str) -> str:
    return f"s3://{bucket}/{RESULTS_PREFIX}/{experiment_tag}/{run_name}/"


def job_name_prefix(experiment_tag: str, method: str, seed: int) -> str:
    """`{tag}-{method}-{seed}-{hash}`, short enough for SageMaker's 63 characters once
    the SDK's timestamp is appended; the hash keeps names apart when a long tag is cut."""
    method_part = re.sub(r"[^A-Za-z0-9]+", "-", method).strip("-") or "m"
    digest = hashlib.sha256(f"{experiment_tag}/{method}/{seed}".encode()).hexdigest()[:6]
    rest = f"-{method_part}-{seed}-{digest}"
    room = MAX_JOB_NAME - NAME_SUFFIX_ROOM - len(rest)
    tag_part = experiment_tag[: max(room, 1)].rstrip("-")
    return (tag_part + rest)[: MAX_JOB_NAME - NAME_SUFFIX_ROOM]


def job_hyperparameters(experiment: ExperimentPlan, run: PlannedRun) -> dict[str, str]:
    """What the in-container entry needs to reproduce `run-local` exactly."""
    values = {
        "experiment_tag": experiment.experiment_tag,
        "benchmark": experiment.benchmark.name,
        "method": run.method,
        "seed": str(run.seed),
        "random_seed": str(experiment.master_random_seed),
        "n_workers": str(experiment.n_workers),
        "max_wallclock_time": json.dumps(experiment.max_wallclock_time),
        "hpobench_version": __version__,
    }
    if experiment.max_num_evaluations is not None:
        values["max_num_evaluations"] = str(experiment.max_num_evaluations)
    if experiment.overrides:
        values["overrides"] = json.dumps({k: str(v) for k, v in experiment.overrides.items()})
    for key, value in values.items():
        check_hyperparameter(key, value)
    return values


def check_hyperparameter(key: str, value: str) -> None:
    """SageMaker's limits, and what its container driver does to values."""
    if len(value) > MAX_HYPERPARAMETER_LENGTH:
        raise UsageError(
            f"Hyperparameter {key} is {len(value)} characters; SageMaker allows "
            f"{MAX_HYPERPARAMETER_LENGTH}. Shorten the --set values"
        )
    if "'" in value:
        raise UsageError(
            f"Hyperparameter {key} contains a single quote ({value}), which breaks "
            "SageMaker's job script; remove it from the --set values"
        )
    # The driver JSON-decodes each value and re-encodes non-strings, so a tag such
    # as "1e5" would arrive as "100000.0".
    try:
        decoded = json.loads(value)
    except ValueError:
        return
    arrived = decoded if isinstance(decoded, str) else json.dumps(decoded)
    if arrived != value:
        raise UsageError(
            f"The value {value!r} of {key} would reach the SageMaker job as {arrived!r} "
            "(its driver decodes values as JSON); choose another value, e.g. add a letter"
        )


def check_instance_type(instance_type: str) -> None:
    """Raise a UsageError unless SageMaker training knows this instance type."""
    import difflib

    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    known = model.shape_for("TrainingInstanceType").enum
    if instance_type not in known:
        close = difflib.get_close_matches(instance_type, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"Unknown SageMaker training instance type {instance_type!r}{hint}")


def image_uri(framework: str, estimator_kwargs: dict[str, Any], region: str, instance_type: str) -> str:
    """The framework's training image for this region and instance type (offline)."""
    from sagemaker.core import image_uris

    name = framework.lower()
    try:
        version = estimator_kwargs.get("framework_version") or _newest_release(
            image_uris.list_versions(name, image_scope="training")
        )
        py_version = estimator_kwargs.get("py_version") or image_uris.list_py_versions(
            name, version, image_scope="training"
        )[-1]
        return str(
            image_uris.retrieve(
                framework=name,
                region=region,
                version=version,
                py_version=py_version,
                instance_type=instance_type,
                image_scope="training",
            )
        )
    except ValueError as error:
        raise UsageError(
            f"No {framework} training image for {instance_type} in {region}: {error}"
        ) from None


def _newest_release(versions: list[str]) -> str:
    """The newest full release (x.y.z), not an alias such as x.y."""
    from packaging.version import InvalidVersion, Version

    def key(text: str) -> Version:
        try:
            return Version(text)
        except InvalidVersion:
            return Version("0")

    full = [v for v in versions if v.count(".") == 2] or versions
    return max(full, key=key)


def launch_remote(
    settings: RemoteSettings,
    say: Say = print,
    backoff: Sequence[float] = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
    boto_session: Any = None,
) -> tuple[RemotePlan, list[JobOutcome]]:
    """Submit the experiment's missing jobs; returns the plan and what happened to each.

    Credentials, role and bucket are checked before anything is uploaded.
    """
    session = boto_session or aws.make_session(settings.region)
    # Offline first: bad options or instance types fail before any AWS call.
    plan_remote(settings, session.region_name, "bucket", master_random_seed=0)
    role = aws.resolve_role(session, settings.role)
    bucket = settings.bucket or aws.default_bucket(session)
    aws.check_bucket(session, bucket)
    existing = existing_jobs(session, settings)
    recorded_seed = _recorded_master_seed(existing)
    plan = plan_remote(settings, session.region_name, bucket, master_random_seed=recorded_seed)
    todo: list[tuple[JobSpec, int]] = []
    outcomes: list[JobOutcome] = []
    for spec in plan.jobs:
        previous = existing.get(spec.name_prefix, [])
        kept = [job for job in previous if job.status in KEEP_STATUSES]
        if kept and not settings.force:
            _check_same_setup(kept[0], spec, plan)
            outcomes.append(JobOutcome(spec, "exists", kept[0].name))
            continue
        todo.append((spec, len(previous)))
    if not todo:
        return plan, outcomes
    from hpobench.launchers.source_bundle import build_bundle

    bundle = build_bundle(plan.experiment.benchmark)
    source_uri = upload_source(session, bucket, bundle)
    trainer_session = sagemaker_session(session, bucket)
    submitted: list[str] = []
    for spec, attempts in todo:
        try:
            name = submit_job(trainer_session, plan, spec, role, source_uri, attempts, say,
                              backoff, sleep)  # fmt: skip
        except SubmitError as error:
            done = ", ".join(submitted) if submitted else "none"
            raise RunError(
                f"{error}. Submitted before the failure: {done}. "
                "Re-run the same command to submit the rest"
            ) from None
        submitted.append(name)
        outcomes.append(JobOutcome(spec, "submitted", name))
    order = {spec.name_prefix: i for i, spec in enumerate(plan.jobs)}
    outcomes.sort(key=lambda o: order[o.spec.name_prefix])
    return plan, outcomes


class SubmitError(RunError):
    """A job could not be submitted; the launch then reports what it did before."""


def existing_jobs(session: Any, settings: RemoteSettings) -> dict[str, list[ExistingJob]]:
    """Jobs already created for this experiment, by name prefix, newest first."""
    experiment = plan_experiment(settings, master_random_seed=0)
    prefixes = {
        job_name_prefix(experiment.experiment_tag, run.method, run.seed) for run in experiment.runs
    }
    client = session.client("sagemaker")
    found: dict[str, list[ExistingJob]] = {}
    common = _common_prefix(sorted(prefixes))
    name_pattern = re.compile(r"^(?P<prefix>.+?)(-r\d+)?-\d{14}$")
    with aws.calling("listing training jobs"):
        pages = client.get_paginator("list_training_jobs").paginate(
            NameContains=common, SortBy="CreationTime", SortOrder="Descending"
        )
        for page in pages:
            for summary in page["TrainingJobSummaries"]:
                match = name_pattern.match(summary["TrainingJobName"])
                if match and match["prefix"] in prefixes:
                    found.setdefault(match["prefix"], []).append(
                        ExistingJob(
                            summary["TrainingJobName"],
                            summary["TrainingJobStatus"],
                            created=summary["CreationTime"].timestamp(),
                        )
                    )
        for jobs in found.values():
            jobs.sort(key=lambda job: job.created, reverse=True)
            kept = next((job for job in jobs if job.status in KEEP_STATUSES), None)
            if kept is not None:
                described = client.describe_training_job(TrainingJobName=kept.name)
                kept.hyperparameters = dict(described.get("HyperParameters") or {})
    return found


def _common_prefix(names: list[str]) -> str:
    import os

    return os.path.commonprefix(names) if names else ""


def _recorded_master_seed(existing: dict[str, list[ExistingJob]]) -> Optional[int]:
    for jobs in existing.values():
        for job in jobs:
            seed = job.hyperparameters.get("random_seed")
            if seed is not None and seed.isdigit():
                return int(seed)
    return None


def _check_same_setup(job: ExistingJob, spec: JobSpec, plan: RemotePlan) -> None:
    """A job that exists may only stand in for the same experiment setup."""
    recorded = job.hyperparameters
    for key, wanted in spec.hyperparameters.items():
        if key == "hpobench_version" or key not in recorded:
            continue
        if recorded[key] != wanted:
            raise UsageError(
                f"{spec.run.name} of experiment {plan.experiment.experiment_tag!r} already has "
                f"job {job.name} with {key}={recorded[key]}, not {wanted}; use another "
                "--experiment-tag, or --force to submit anyway"
            )


def upload_source(session: Any, bucket: str, bundle: Any) -> str:
    """Upload the archive unless an identical one (same content hash) is already there."""
    import botocore.exceptions

    key = f"{SOURCE_PREFIX}/{bundle.file_name}"
    s3 = session.client("s3")
    with aws.calling(f"uploading the source archive to s3://{bucket}/{key}"):
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) not in ("404", "NoSuchKey", "NotFound"):
                raise
            s3.put_object(Bucket=bucket, Key=key, Body=bundle.data,
                          Metadata={"sha256": bundle.sha256})  # fmt: skip
    return f"s3://{bucket}/{key}"


def sagemaker_session(boto_session: Any, bucket: str) -> Any:
    """The SDK's session, with the bucket given (so it never guesses one through STS)
    and the SDK's telemetry turned off."""
    from sagemaker.core.helper.session_helper import Session

    config = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
    return Session(boto_session=boto_session, default_bucket=bucket, sagemaker_config=config)


def submit_job(
    trainer_session: Any,
    plan: RemotePlan,
    spec: JobSpec,
    role: str,
    source_uri: str,
    attempts: int,
    say: Say,
    backoff: Sequence[float],
    sleep: Callable[[float], None],
) -> str:
    """Create one training job, waiting out throttling; returns its name."""
    import botocore.exceptions
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        OutputDataConfig,
        SourceCode,
        StoppingCondition,
        Tag,
    )
    from sagemaker.train import ModelTrainer

    from hpobench.launchers.remote_entry import CHECKPOINT_DIR_ENV, TRIALS_DIR_ENV
    from hpobench.launchers.source_bundle import ENTRY_SCRIPT, REQUIREMENTS_FILE

    base_name = spec.name_prefix if attempts == 0 else f"{spec.name_prefix}-r{attempts + 1}"
    for attempt, delay in enumerate([*backoff, None]):
        trainer = ModelTrainer(
            training_image=plan.image_uri,
            source_code=SourceCode(
                source_dir=source_uri, entry_script=ENTRY_SCRIPT, requirements=REQUIREMENTS_FILE
            ),
            compute=Compute(instance_type=plan.instance_type, instance_count=1),
            base_job_name=base_name,
            role=role,
            sagemaker_session=trainer_session,
            hyperparameters=dict(spec.hyperparameters),
            checkpoint_config=CheckpointConfig(
                s3_uri=spec.results_uri, local_path=CHECKPOINT_LOCAL_PATH
            ),
            stopping_condition=StoppingCondition(max_runtime_in_seconds=spec.max_runtime),
            output_data_config=OutputDataConfig(
                s3_output_path=f"s3://{plan.bucket}/{OUTPUT_PREFIX}/{plan.experiment.experiment_tag}"
            ),
            environment={
                "PYTHONUNBUFFERED": "1",
                CHECKPOINT_DIR_ENV: CHECKPOINT_LOCAL_PATH,
                TRIALS_DIR_ENV: TRIALS_LOCAL_PATH,
            },
            tags=[Tag(key=k, value=v) for k, v in spec.tags.items()],
        )
        try:
            trainer.train(wait=False, logs=False)
        except botocore.exceptions.ClientError as error:
            code = aws.error_code(error)
            if code not in aws.RETRYABLE_CODES or delay is None:
                raise SubmitError(
                    f"Submitting {spec.run.name} failed: {aws.describe(error)}"
                ) from None
            say(
                f"AWS answered {code} for {spec.run.name}; retrying in {delay:g}s "
                f"(retry {attempt + 1} of {len(backoff)})"
            )
            sleep(delay)
            continue
        except (botocore.exceptions.BotoCoreError, ValueError) as error:
            raise SubmitError(
                f"Submitting {spec.run.name} failed: {aws.describe(error)}"
            ) from None
        # train(wait=False) returns nothing; the SDK keeps the job it created here.
        return str(trainer._latest_training_job.training_job_name)
    raise AssertionError("unreachable")
