"""SageMaker training-job state of each (method, seed) of an experiment (`status --remote`).

Jobs are found by `remote.jobs.find_jobs`, the lookup submission uses too; the
newest job of each (method, seed) is described with DescribeTrainingJob.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hpobench.errors import RunError


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
    from botocore.exceptions import BotoCoreError, ClientError

    from hpobench.remote.sagemaker import aws, jobs

    session = aws.make_session(None, flag="")
    try:
        client = session.client("sagemaker")
        found = jobs.find_jobs(client, tag, method_names)
        return {key: _state(jobs.describe(client, runs[0]), key, runs[0].name) for key, runs in found.items()}
    except (BotoCoreError, ClientError) as error:
        raise RunError(
            f"Cannot list SageMaker training jobs for --remote: {aws.describe(error)}; check "
            "AWS credentials, region and network"
        ) from None


def _state(job: dict[str, Any], key: tuple[str, int], name: str) -> RemoteJob:
    return RemoteJob(
        key[0],
        key[1],
        name,
        job.get("TrainingJobStatus", "?"),
        job.get("SecondaryStatus", ""),
        job.get("FailureReason", ""),
    )
