"""Offline planning of SageMaker jobs: names, hyperparameters, image, limits.

Nothing here calls AWS, so `launch-remote --dry-run` needs no credentials, and a
bad option fails before anything is uploaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Optional

from hpobench import __version__
from hpobench.errors import UsageError
from hpobench.plan import ExperimentPlan, PlannedRun, plan_experiment
from hpobench.settings import RemoteSettings

RESULTS_PREFIX = "syne-tune"  # s3://{bucket}/syne-tune/{tag}/{method}-{seed}/, as in the seed
RUNTIME_FACTOR = 1.2
MAX_JOB_NAME = 63
# The SDK appends "-YYYYmmddHHMMSS"; a resubmission adds "-rN" before it.
NAME_SUFFIX_ROOM = 15 + 4
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
    from hpobench.remote.user_code import job_benchmark

    values = {
        "experiment_tag": experiment.experiment_tag,
        "benchmark": job_benchmark(experiment.benchmark),
        "method": run.method,
        "seed": str(run.seed),
        "random_seed": str(experiment.master_random_seed),
        "n_workers": str(experiment.n_workers),
        "max_wallclock_time": json.dumps(experiment.max_wallclock_time),
        "hpobench_version": __version__,
    }
    if experiment.benchmark.origin.sha256:  # a definition file: an edit is a changed option
        values["benchmark_sha256"] = experiment.benchmark.origin.sha256
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


def image_uri(
    framework: str, estimator_kwargs: dict[str, Any], region: str, instance_type: str
) -> str:
    """The framework's training image for this region and instance type (offline)."""
    from sagemaker.core import image_uris

    name = framework.lower()
    try:
        version = estimator_kwargs.get("framework_version") or _newest_release(
            image_uris.list_versions(name, image_scope="training")
        )
        py_version = (
            estimator_kwargs.get("py_version")
            or image_uris.list_py_versions(name, version, image_scope="training")[-1]
        )
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
