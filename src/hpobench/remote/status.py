"""SageMaker training-job state of each (method, seed) of an experiment (`status --remote`).

Jobs are found by name (``{tag}-{method}-{seed}-...``) with ListTrainingJobs;
a job's tags (keys ending in ``method``, ``seed``, ``tag``/``experiment``), when
present, take precedence over what its name says. The newest job of a
(method, seed) is described with DescribeTrainingJob. boto3 is imported here only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from hpobench.errors import RunError, UsageError


@dataclass(frozen=True)
class RemoteJob:
    """The newest SageMaker training job of one (method, seed)."""

    method: str
    seed: int
    name: str
    status: str  # InProgress, Completed, Failed, Stopping, Stopped
    secondary_status: str = ""
    failure_reason: str = ""

    @property
    def state(self) -> str:
        """'Completed', or e.g. 'InProgress (Training)', 'Failed: reason'."""
        if self.failure_reason:
            return f"{self.status}: {self.failure_reason}"
        if self.secondary_status and self.secondary_status != self.status:
            return f"{self.status} ({self.secondary_status})"
        return self.status


def remote_jobs(tag: str, method_names: list[str]) -> dict[tuple[str, int], RemoteJob]:
    """(method, seed) -> newest training job of experiment `tag`, over HTTP via boto3."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

    try:
        client = boto3.client("sagemaker")
        newest: dict[tuple[str, int], dict[str, Any]] = {}
        pages = client.get_paginator("list_training_jobs").paginate(NameContains=tag)
        for page in pages:
            for summary in page.get("TrainingJobSummaries", []):
                name = summary["TrainingJobName"]
                if not name.startswith(f"{tag}-"):
                    continue
                key = _job_key(client, summary, tag, method_names)
                if key is None:
                    continue
                kept = newest.get(key)
                if kept is None or summary["CreationTime"] > kept["CreationTime"]:
                    newest[key] = summary
        return {key: _describe(client, key, job["TrainingJobName"]) for key, job in newest.items()}
    except NoRegionError:
        raise UsageError(
            "No AWS region configured for --remote; set AWS_DEFAULT_REGION (or a profile's region)"
        ) from None
    except (BotoCoreError, ClientError) as error:
        raise RunError(
            f"Cannot list SageMaker training jobs for --remote: {error}; check AWS credentials, "
            "region and network"
        ) from None


def _describe(client: Any, key: tuple[str, int], name: str) -> RemoteJob:
    job = client.describe_training_job(TrainingJobName=name)
    return RemoteJob(
        key[0],
        key[1],
        name,
        job.get("TrainingJobStatus", "?"),
        job.get("SecondaryStatus", ""),
        job.get("FailureReason", ""),
    )


def _job_key(
    client: Any, summary: dict[str, Any], tag: str, method_names: list[str]
) -> Optional[tuple[str, int]]:
    """The job's (method, seed) from its tags, else from its name; None if not ours."""
    tags = _tags(client, summary["TrainingJobArn"])
    if tags.get("tag", tags.get("experiment", tag)) != tag:
        return None  # another experiment whose tag starts with ours
    parsed = parse_job_name(summary["TrainingJobName"], tag, method_names)
    method = tags.get("method") or (parsed[0] if parsed else None)
    seed_text = tags.get("seed") or (str(parsed[1]) if parsed else "")
    if not method or not seed_text.isdigit():
        return None
    return method, int(seed_text)


def _tags(client: Any, arn: str) -> dict[str, str]:
    """Tags by the last word of their key, lower-cased: 'hpobench:method' -> 'method'."""
    result: dict[str, str] = {}
    for item in client.list_tags(ResourceArn=arn).get("Tags", []):
        words = re.split(r"[:/._\-]", item["Key"].lower())
        if "random" not in words:  # a random-seed tag is not the seed index
            result[words[-1]] = item["Value"]
    return result


def parse_job_name(name: str, tag: str, method_names: list[str]) -> Optional[tuple[str, int]]:
    """``{tag}-{method}-{seed}[-...]`` -> (method, seed) for a registered method, else None."""
    rest = name[len(tag) + 1 :] if name.startswith(f"{tag}-") else ""
    canonical = {m.lower(): m for m in method_names}
    # Longest names first, so a method whose name extends another's is matched whole.
    for lowered in sorted(canonical, key=len, reverse=True):
        match = re.match(rf"{re.escape(lowered)}-(\d+)(?:-|$)", rest, flags=re.IGNORECASE)
        if match:
            return canonical[lowered], int(match.group(1))
    return None
