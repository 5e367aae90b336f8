"""What each Slurm submission of an experiment was, kept next to its results.

RESULTS_ROOT/TAG/slurm/submissions.jsonl holds one line per sbatch call: the
array's job id, which (method, seed) each array task runs, the script, and the
experiment setup it was submitted with. Re-launches and `status` read it to map
Slurm's task ids back to cells, without asking Slurm once per cell.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUBMISSIONS_FILE = "submissions.jsonl"

Cell = tuple[str, int]  # (method, seed)


@dataclass(frozen=True)
class Submission:
    """One sbatch call: an array whose task i runs cells[i]."""

    job_id: str
    job_name: str
    submitted: float  # seconds since the epoch
    cells: tuple[Cell, ...]
    script: str  # the script submitted, as a path
    setup: dict[str, Any]  # ExperimentSetup.comparable() of the launch
    # The cells' arguments besides the setup's (a tabulation's design: SlurmPlan.cell_arguments).
    arguments: dict[str, str] = field(default_factory=dict)

    def task_ids(self) -> dict[Cell, str]:
        """Cell -> Slurm's id of its array task, JOBID_TASKID."""
        return {cell: f"{self.job_id}_{index}" for index, cell in enumerate(self.cells)}

    def to_json(self) -> str:
        record = {
            "job_id": self.job_id,
            "job_name": self.job_name,
            "submitted": self.submitted,
            "cells": [list(c) for c in self.cells],
            "script": self.script,
            "setup": self.setup,
        }
        if self.arguments:
            record["arguments"] = self.arguments
        return json.dumps(record, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Submission:
        record = json.loads(line)
        cells = tuple((str(method), int(seed)) for method, seed in record["cells"])
        return cls(
            str(record["job_id"]),
            str(record["job_name"]),
            float(record["submitted"]),
            cells,
            str(record["script"]),
            dict(record["setup"]),
            {str(k): str(v) for k, v in dict(record.get("arguments") or {}).items()},
        )


def read_submissions(slurm_dir: Path) -> list[Submission]:
    """Every submission recorded for the experiment, oldest first; [] if none.

    A line that cannot be read (a launch killed mid-write) is skipped: it names no job
    that a whole line elsewhere does not."""
    path = slurm_dir / SUBMISSIONS_FILE
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    submissions = []
    for line in lines:
        try:
            submissions.append(Submission.from_json(line))
        except (ValueError, KeyError, TypeError):
            continue
    return submissions


def append_submission(slurm_dir: Path, submission: Submission) -> None:
    """Record a submission: one whole line, flushed to disk before the launch goes on."""
    slurm_dir.mkdir(parents=True, exist_ok=True)
    with (slurm_dir / SUBMISSIONS_FILE).open("a") as handle:
        handle.write(submission.to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def latest_tasks(submissions: list[Submission]) -> dict[Cell, tuple[str, Submission]]:
    """Each cell's newest array task (task id, its submission)."""
    latest: dict[Cell, tuple[str, Submission]] = {}
    for submission in submissions:  # oldest first: newer ones replace
        for cell, task_id in submission.task_ids().items():
            latest[cell] = (task_id, submission)
    return latest
