"""Names, tags and the one lookup of an experiment's SageMaker training jobs.

A job of (tag, method, seed) is named `{tag}-{method}-{seed}-{hash}[-rN]-{time}`:
the tag and method are cut when the name would pass SageMaker's 63 characters,
and the hash of the *full* (tag, method, seed) keeps cut names apart and tells
whether a job belongs to an experiment. Submission, re-launch and
`status --remote` all find jobs through `find_jobs`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_JOB_NAME = 63
# The SDK appends "-YYYYmmddHHMMSS"; a resubmission adds "-rN" before it.
NAME_SUFFIX_ROOM = 15 + 4
MAX_METHOD_PART = 12
# Every job of a tag starts with this much of it: what ListTrainingJobs searches for.
SEARCH_STEM = 10
_JOB_NAME = re.compile(r"^(?P<prefix>.+-(?P<seed>\d+)-[0-9a-f]{6})(?:-r(?P<attempt>\d+))?-\d{14}$")

TAG_EXPERIMENT = "hpobench:experiment"
TAG_BENCHMARK = "hpobench:benchmark"
TAG_METHOD = "hpobench:method"
TAG_SEED = "hpobench:seed"


def job_name_prefix(experiment_tag: str, method: str, seed: int) -> str:
    """`{tag}-{method}-{seed}-{hash}`, short enough for SageMaker's 63 characters once
    a resubmission's `-rN` and the SDK's timestamp are appended."""
    method_part = (re.sub(r"[^A-Za-z0-9]+", "-", method).strip("-") or "m")[:MAX_METHOD_PART]
    digest = hashlib.sha256(f"{experiment_tag}/{method}/{seed}".encode()).hexdigest()[:6]
    rest = f"-{method_part.rstrip('-')}-{seed}-{digest}"
    room = MAX_JOB_NAME - NAME_SUFFIX_ROOM - len(rest)
    tag_part = experiment_tag[: max(room, 1)].rstrip("-")
    return (tag_part + rest)[: MAX_JOB_NAME - NAME_SUFFIX_ROOM]


def job_tags(experiment_tag: str, benchmark: str, method: str, seed: int) -> dict[str, str]:
    """The tags every job carries (for the console and cost reports; lookup uses names)."""
    return {TAG_EXPERIMENT: experiment_tag, TAG_BENCHMARK: benchmark, TAG_METHOD: method, TAG_SEED: str(seed)}


@dataclass
class FoundJob:
    """A training job of the experiment."""

    name: str
    status: str  # InProgress, Completed, Failed, Stopping, Stopped
    method: str
    seed: int
    created: float
    hyperparameters: dict[str, str] = field(default_factory=dict)  # filled by `describe`


def find_jobs(client: Any, experiment_tag: str, method_names: Iterable[str]) -> dict[tuple[str, int], list[FoundJob]]:
    """(method, seed) -> the experiment's jobs of it, newest first (ListTrainingJobs)."""
    methods = list(method_names)
    found: dict[tuple[str, int], list[FoundJob]] = {}
    stem = experiment_tag[:SEARCH_STEM].rstrip("-")
    pages = client.get_paginator("list_training_jobs").paginate(NameContains=stem)
    for page in pages:
        for summary in page.get("TrainingJobSummaries", []):
            key = job_key(summary["TrainingJobName"], experiment_tag, methods)
            if key is None:
                continue
            found.setdefault(key, []).append(
                FoundJob(
                    summary["TrainingJobName"],
                    summary["TrainingJobStatus"],
                    key[0],
                    key[1],
                    summary["CreationTime"].timestamp(),
                )
            )
    for jobs in found.values():
        jobs.sort(key=lambda job: job.created, reverse=True)
    return found


def job_key(name: str, experiment_tag: str, method_names: list[str]) -> tuple[str, int] | None:
    """The (method, seed) of a job named by hpobench for this experiment, else None."""
    match = _JOB_NAME.match(name)
    if match is None:
        return None
    seed = int(match["seed"])
    for method in method_names:
        if job_name_prefix(experiment_tag, method, seed) == match["prefix"]:
            return method, seed
    return None


def describe(client: Any, job: FoundJob) -> dict[str, Any]:
    """DescribeTrainingJob of `job`; also records its hyperparameters on it."""
    described = client.describe_training_job(TrainingJobName=job.name)
    job.hyperparameters = dict(described.get("HyperParameters") or {})
    return described
