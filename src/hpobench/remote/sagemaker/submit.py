"""Submit one SageMaker training job per (method, seed).

`launch_remote` checks credentials, region, image, role (the SDK's own
validation) and bucket first, reuses jobs that already exist for the experiment,
uploads the shared source archive (and `--data`) once, and creates the missing
jobs, backing off when AWS throttles or hits a limit.

The SDK's `ModelTrainer` builds and submits the first job of a launch: it
writes and uploads its container driver scripts (about two dozen files) and
resolves its defaults, validating its config schema on every look-up (several
seconds per job). Every job of a launch shares that driver code, image, source
archive, instance type, role and limits, so the other jobs reuse the request the
SDK sent, with their own name, hyperparameters, checkpoint path and tags.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from hpobench.errors import RunError
from hpobench.plan import check_methods_build, select_runs
from hpobench.remote.sagemaker import aws
from hpobench.remote.sagemaker.plan import RESULTS_PREFIX, JobSpec, RemotePlan, plan_remote
from hpobench.remote.sagemaker.records import SageMakerRecords
from hpobench.settings import RemoteSettings

__all__ = ["RESULTS_PREFIX", "JobOutcome", "launch_remote", "plan_remote"]

SOURCE_PREFIX = "hpobench/source"
OUTPUT_PREFIX = "hpobench/output"
DEFAULT_BACKOFF = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0)

Say = Callable[[str], None]


@dataclass
class JobOutcome:
    """What a launch did with one planned job."""

    spec: JobSpec
    status: str  # "submitted" or "exists" (skipped)
    job_name: str


class SubmitError(RunError):
    """A job could not be submitted; the launch then reports what it did before."""


def launch_remote(
    settings: RemoteSettings,
    say: Say = print,
    backoff: Sequence[float] = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
    boto_session: Any = None,
) -> tuple[RemotePlan, list[JobOutcome]]:
    """Submit the experiment's missing jobs; returns the plan and what happened to each.

    Options, image, requirements, credentials, bucket, role and data are checked
    before anything is uploaded.
    """
    session = boto_session or aws.make_session(settings.region)
    # Offline first (the dry run's plan): bad options, instance types, images, requirements or
    # data fail before any AWS call. The data is hashed once, by the real plan below.
    offline = plan_remote(settings, session.region_name, "bucket", hash_data=False)
    check_methods_build(
        offline.experiment.benchmark,
        offline.experiment.methods,
        extras_here=False,
        scalarization=offline.experiment.scalarization,
    )
    submitter = Submitter(session)  # before any client exists: see Submitter
    role = aws.resolve_role(session, settings.role)
    bucket = settings.bucket or aws.default_bucket(session)
    aws.check_bucket(session, bucket)
    records = SageMakerRecords(session, offline.experiment.experiment_tag)
    plan = plan_remote(settings, session.region_name, bucket, records)
    selection = select_runs(plan.experiment, records, settings.force)
    todo: list[tuple[JobSpec, int]] = []
    outcomes: list[JobOutcome] = []
    for spec in plan.jobs:
        cell = (spec.run.method, spec.run.seed)
        kept = records.kept(cell)
        if spec.run not in selection.todo and kept is not None:
            outcomes.append(JobOutcome(spec, "exists", kept.name))
        else:
            todo.append((spec, records.attempts(cell)))
    if not todo:
        return plan, outcomes
    from hpobench.remote.sagemaker.bundle import build_bundle
    from hpobench.remote.sagemaker.data import check_data, stage_data

    # The SDK's role validation (it would otherwise run after the upload, at the first job).
    submitter.trainer_session = sagemaker_session(session, bucket)
    aws.check_role(submitter.trainer_session, role, say)
    if plan.data is not None:
        check_data(session, plan.data)

    bundle = build_bundle(plan.experiment.benchmark, plan.requirements, plan.experiment.methods)
    source_uri = upload_source(session, bucket, bundle)
    if plan.data is not None and stage_data(session, plan.data):
        say(f"Uploaded --data to {plan.data.s3_uri} (reused by later launches with the same data)")
    submitted: list[str] = []
    for spec, attempts in todo:
        # Names of resubmissions differ, so they never collide with the earlier job.
        base = spec.name_prefix if attempts == 0 else f"{spec.name_prefix}-r{attempts + 1}"
        try:
            create = functools.partial(submitter.submit, plan, spec, base, role, source_uri)
            name = _with_backoff(create, spec, say, backoff, sleep)
        except SubmitError as error:
            done = ", ".join(submitted) if submitted else "none"
            raise RunError(
                f"{error}. Submitted before the failure: {done}. Re-run the same command to submit the rest"
            ) from None
        submitted.append(name)
        outcomes.append(JobOutcome(spec, "submitted", name))
    order = {spec.name_prefix: i for i, spec in enumerate(plan.jobs)}
    outcomes.sort(key=lambda o: order[o.spec.name_prefix])
    return plan, outcomes


def _with_backoff(
    create: Callable[[], str], spec: JobSpec, say: Say, backoff: Sequence[float], sleep: Callable[[float], None]
) -> str:
    """Call `create`, waiting out throttling and resource limits along `backoff`."""
    import botocore.exceptions

    for attempt, delay in enumerate([*backoff, None]):
        try:
            return create()
        except botocore.exceptions.ClientError as error:
            code = aws.error_code(error)
            if code not in aws.RETRYABLE_CODES or delay is None:
                raise SubmitError(f"Submitting {spec.run.name} failed: {aws.describe(error)}") from None
            say(
                f"AWS answered {code} for {spec.run.name}; retrying in {delay:g}s "
                f"(retry {attempt + 1} of {len(backoff)})"
            )
            sleep(delay)
        except (botocore.exceptions.BotoCoreError, ValueError) as error:
            raise SubmitError(f"Submitting {spec.run.name} failed: {aws.describe(error)}") from None
    raise AssertionError("unreachable")


def upload_source(session: Any, bucket: str, bundle: Any) -> str:
    """Upload the archive unless an identical one (same content hash) is already there."""
    key = f"{SOURCE_PREFIX}/{bundle.file_name}"
    s3 = session.client("s3")
    with aws.calling(f"uploading the source archive to s3://{bucket}/{key}"):
        if not aws.object_exists(s3, bucket, key):
            s3.put_object(Bucket=bucket, Key=key, Body=bundle.data, Metadata={"sha256": bundle.sha256})
    return f"s3://{bucket}/{key}"


def sagemaker_session(boto_session: Any, bucket: str) -> Any:
    """The SDK's session, with the bucket given (so it never guesses one through STS)
    and the SDK's telemetry turned off."""
    from sagemaker.core.helper.session_helper import Session

    config = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
    return Session(boto_session=boto_session, default_bucket=bucket, sagemaker_config=config)


class Submitter:
    """Creates jobs: the first through the SDK's ModelTrainer, the others by reusing
    the request the SDK sent (captured with a botocore event hook).

    The hook is registered on the boto3 session before any client exists, because
    clients copy the session's event handlers when they are created.
    """

    def __init__(self, boto_session: Any) -> None:
        self.boto_session = boto_session
        self.request: Optional[dict[str, Any]] = None
        self.trainer_session: Any = None
        self.client: Any = None
        boto_session.events.register(
            "before-parameter-build.sagemaker.CreateTrainingJob",
            self._capture,
            unique_id=f"hpobench-capture-{id(self)}",
        )

    def _capture(self, params: dict[str, Any], **kwargs: Any) -> None:
        if self.request is None:
            self.request = copy.deepcopy(params)

    def submit(self, plan: RemotePlan, spec: JobSpec, base: str, role: str, source_uri: str) -> str:
        """Create the job of `spec`; returns its name."""
        if self.request is None:
            return self._submit_with_sdk(plan, spec, base, role, source_uri)
        request = copy.deepcopy(self.request)
        name = f"{base}-{datetime.now().strftime('%Y%m%d%H%M%S')}"  # the SDK's scheme
        request.update(
            TrainingJobName=name,
            HyperParameters=dict(spec.hyperparameters),
            CheckpointConfig=spec.checkpoint_config(),
            Tags=[{"Key": k, "Value": v} for k, v in spec.tags.items()],
        )
        if self.client is None:
            self.client = self.boto_session.client("sagemaker")
        self.client.create_training_job(**request)
        return name

    def _submit_with_sdk(self, plan: RemotePlan, spec: JobSpec, base: str, role: str, source_uri: str) -> str:
        from sagemaker.core.training.configs import (
            CheckpointConfig,
            Compute,
            InputData,
            OutputDataConfig,
            SourceCode,
            StoppingCondition,
            Tag,
        )
        from sagemaker.train import ModelTrainer

        from hpobench.remote.sagemaker.bundle import ENTRY_SCRIPT
        from hpobench.remote.sagemaker.data import CHANNEL_NAME
        from hpobench.remote.sagemaker.entry import DEFAULT_CHECKPOINT_DIR, job_environment
        from hpobench.remote.sagemaker.requirements import REQUIREMENTS_FILE

        assert self.trainer_session is not None  # launch_remote sets it before checking the role
        trainer = ModelTrainer(
            training_image=plan.image_uri,
            source_code=SourceCode(source_dir=source_uri, entry_script=ENTRY_SCRIPT, requirements=REQUIREMENTS_FILE),
            compute=Compute(
                instance_type=plan.instance_type,
                instance_count=1,
                enable_managed_spot_training=spec.max_wait is not None or None,
            ),
            base_job_name=base,
            role=role,
            sagemaker_session=self.trainer_session,
            hyperparameters=dict(spec.hyperparameters),
            checkpoint_config=CheckpointConfig(s3_uri=spec.results_uri, local_path=DEFAULT_CHECKPOINT_DIR),
            stopping_condition=StoppingCondition(
                max_runtime_in_seconds=spec.max_runtime, max_wait_time_in_seconds=spec.max_wait
            ),
            output_data_config=OutputDataConfig(
                s3_output_path=f"s3://{plan.bucket}/{OUTPUT_PREFIX}/{plan.experiment.experiment_tag}"
            ),
            environment=job_environment(),
            tags=[Tag(key=k, value=v) for k, v in spec.tags.items()],
            input_data_config=(
                [InputData(channel_name=CHANNEL_NAME, data_source=plan.data.s3_uri)] if plan.data is not None else None
            ),
        )
        with aws.role_validation(role):
            trainer.train(wait=False, logs=False)
        # train(wait=False) returns nothing; the SDK keeps the job it created here.
        return str(trainer._latest_training_job.training_job_name)
