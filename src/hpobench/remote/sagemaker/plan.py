"""Offline planning of SageMaker jobs: names, hyperparameters, image, requirements,
limits and the data channel.

Nothing here calls AWS, so `launch-remote --dry-run` needs no credentials, and a
bad option fails before anything is uploaded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Optional

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.errors import UsageError
from hpobench.experiment_setup import ExperimentSetup
from hpobench.methods import get_method
from hpobench.plan import ExperimentPlan, PlannedRun, plan_experiment
from hpobench.remote.sagemaker.data import DataChannel, plan_data_channel
from hpobench.remote.sagemaker.images import TrainingImage, training_image
from hpobench.remote.sagemaker.jobs import job_name_prefix, job_tags
from hpobench.remote.sagemaker.requirements import JobRequirements, job_requirements
from hpobench.remote.sagemaker.user_code import plugin_requirements
from hpobench.settings import RemoteSettings
from hpobench.tag_records import TagRecords

RESULTS_PREFIX = "syne-tune"  # s3://{bucket}/syne-tune/{tag}/{method}-{seed}/, as in the seed
# Time a job needs besides tuning: pulling the image, pip installing the requirements,
# downloading data, starting the launcher, writing results. `--max-runtime` overrides.
SETUP_ALLOWANCE = 20 * 60
# What the shortest job needs on top of its budget: start-up and writing results.
MIN_SETUP = 60
MAX_HYPERPARAMETER_LENGTH = 2500


@dataclass(frozen=True)
class JobSpec:
    """One planned training job."""

    run: PlannedRun
    name_prefix: str  # every job of this (method, seed) is named {name_prefix}[-rN]-{time}
    hyperparameters: dict[str, str]
    tags: dict[str, str]
    results_uri: str
    max_runtime: int  # seconds
    # Managed spot training's MaxWaitTimeInSeconds (waiting for capacity plus running); None: on demand.
    max_wait: Optional[int] = None

    def checkpoint_config(self) -> dict[str, str]:
        """CreateTrainingJob's CheckpointConfig: the run folder SageMaker syncs to S3 (and, when a
        spot job is restarted, brings back: its run resumes from it)."""
        from hpobench.remote.sagemaker.entry import DEFAULT_CHECKPOINT_DIR

        return {"S3Uri": self.results_uri, "LocalPath": DEFAULT_CHECKPOINT_DIR}

    def stopping_condition(self) -> dict[str, int]:
        """CreateTrainingJob's StoppingCondition."""
        condition = {"MaxRuntimeInSeconds": self.max_runtime}
        if self.max_wait is not None:
            condition["MaxWaitTimeInSeconds"] = self.max_wait
        return condition


@dataclass(frozen=True)
class RemotePlan:
    """An experiment resolved into SageMaker jobs."""

    experiment: ExperimentPlan
    region: str
    bucket: str  # may be a placeholder in a dry run without --bucket
    instance_type: str
    image: TrainingImage
    requirements: JobRequirements
    data: Optional[DataChannel]
    jobs: tuple[JobSpec, ...]

    @property
    def image_uri(self) -> str:
        return self.image.uri

    @property
    def instance_hours_at_most(self) -> float:
        return sum(job.max_runtime for job in self.jobs) / 3600


def plan_remote(
    settings: RemoteSettings, region: str, bucket: str, records: Optional[TagRecords] = None, hash_data: bool = True
) -> RemotePlan:
    """The jobs of an experiment resolved against the tag's `records` (default: none, as in
    a dry run); no AWS call. UsageError on bad input.

    `hash_data` False: a local `--data` folder is checked but not hashed (see
    `plan_data_channel`), for a check whose plan is thrown away.
    """
    experiment = plan_experiment(settings, records)
    benchmark = experiment.benchmark
    instance_type = settings.instance_type or benchmark.instance_type
    check_instance_type(instance_type)
    image = training_image(benchmark.framework, benchmark.estimator_kwargs, region, instance_type)
    needs = [get_method(method).needs for method in {run.method for run in experiment.runs}]
    needs += plugin_requirements(experiment.methods)
    requirements = job_requirements(benchmark.script_dir, needs, image.constraints)
    max_runtime = job_max_runtime(experiment.max_wallclock_time, settings.max_runtime)
    max_wait = spot_max_wait(max_runtime, settings.spot, settings.max_wait)
    data = plan_data_channel(settings.data, bucket, hash_data) if settings.data else None
    setup = experiment.setup
    jobs = []
    for run in experiment.runs:
        hyperparameters = job_hyperparameters(setup, benchmark, run)
        jobs.append(
            JobSpec(
                run=run,
                name_prefix=job_name_prefix(experiment.experiment_tag, run.method, run.seed),
                hyperparameters=hyperparameters,
                tags=job_tags(experiment.experiment_tag, benchmark.name, run.method, run.seed),
                results_uri=results_uri(bucket, experiment.experiment_tag, run.name),
                max_runtime=max_runtime,
                max_wait=max_wait,
            )
        )
    return RemotePlan(experiment, region, bucket, instance_type, image, requirements, data, tuple(jobs))


def job_max_runtime(budget: float, max_runtime: Optional[int] = None) -> int:
    """MaxRuntimeInSeconds: the tuning budget plus the set-up allowance, or the given
    limit when it leaves the budget at least MIN_SETUP seconds of set-up."""
    needed = math.ceil(budget) + MIN_SETUP
    if max_runtime is None:
        return math.ceil(budget) + SETUP_ALLOWANCE
    if max_runtime < needed:
        raise UsageError(
            f"--max-runtime {max_runtime} is below what the {budget:g} s tuning budget needs "
            f"({needed} s: the budget plus {MIN_SETUP} s to start and write results); "
            f"raise it or lower --max-wallclock-time"
        )
    return max_runtime


def spot_max_wait(max_runtime: int, spot: bool, max_wait: Optional[int]) -> Optional[int]:
    """MaxWaitTimeInSeconds of a spot job: --max-wait, else twice the max runtime (room for
    waiting and for interruptions); None without --spot."""
    if not spot:
        if max_wait is not None:
            raise UsageError("--max-wait applies to managed spot training; add --spot")
        return None
    if max_wait is None:
        return 2 * max_runtime
    if max_wait < max_runtime:
        raise UsageError(
            f"--max-wait {max_wait} is below the jobs' max runtime ({max_runtime} s); SageMaker "
            f"requires at least that: raise it to {max_runtime} or more"
        )
    return max_wait


def results_uri(bucket: str, experiment_tag: str, run_name: str) -> str:
    return f"s3://{bucket}/{RESULTS_PREFIX}/{experiment_tag}/{run_name}/"


def job_hyperparameters(setup: ExperimentSetup, benchmark: BenchmarkDefinition, run: PlannedRun) -> dict[str, str]:
    """What the in-container entry needs to reproduce `run-local` exactly: the setup's job
    arguments, with a file-defined benchmark's path inside the source archive."""
    from hpobench.remote.sagemaker.user_code import job_benchmark

    values = setup.job_values(run.method, run.seed, benchmark=job_benchmark(benchmark))
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
