"""What an experiment tag holds on SageMaker (`tag_records.TagRecords`): its training jobs, of
every method, found by name; the newest job of each cell that is running or done binds the
tag's setup, and any job's arguments give its master seed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from hpobench import tag_records
from hpobench.experiment_setup import comparable_from_job_values
from hpobench.remote.sagemaker import aws, jobs
from hpobench.tag_records import Cell, RecordedSetup

# Still running or done: a re-launch does not submit these again.
KEEP_STATUSES = frozenset({"InProgress", "Completed", "Stopping"})
ACTIVE_STATUSES = frozenset({"InProgress", "Stopping"})


class SageMakerRecords:
    """The tag's jobs by (method, seed), newest first (ListTrainingJobs, then DescribeTrainingJob
    of each cell's newest kept job, and of one other job when none is kept)."""

    def __init__(self, session: Any, experiment_tag: str):
        from hpobench.methods import method_names

        self.client = session.client("sagemaker")
        with aws.calling("listing training jobs"):
            self.jobs: dict[Cell, list[Any]] = jobs.find_jobs(self.client, experiment_tag, method_names())
            for cell in self.jobs:
                found = self.kept(cell)
                if found is not None:
                    jobs.describe(self.client, found)
            if self.jobs and not any(job.hyperparameters for runs in self.jobs.values() for job in runs):
                newest = max((job for runs in self.jobs.values() for job in runs), key=lambda job: job.created)
                jobs.describe(self.client, newest)  # failed jobs only: still the tag's master seed

    def kept(self, cell: Cell) -> Optional[Any]:
        """The newest job of `cell` that is running or done, if any."""
        return next((job for job in self.jobs.get(cell, []) if job.status in KEEP_STATUSES), None)

    def attempts(self, cell: Cell) -> int:
        """How many jobs `cell` has had (a resubmission's name says which attempt it is)."""
        return len(self.jobs.get(cell, []))

    def recorded(self) -> list[RecordedSetup]:
        described = [job for runs in self.jobs.values() for job in runs if job.hyperparameters]
        return [
            RecordedSetup(
                f"SageMaker job {job.name}",
                comparable_from_job_values(job.hyperparameters),
                binding=job.status in KEEP_STATUSES,
            )
            for job in sorted(described, key=lambda job: -job.created)
        ]

    def states(self, cells: Sequence[Cell]) -> dict[Cell, str]:
        states = {}
        for cell in cells:
            job = self.kept(cell)
            if job is None:
                states[cell] = ""
            else:
                states[cell] = tag_records.ACTIVE if job.status in ACTIVE_STATUSES else tag_records.COMPLETE
        return states
