"""`hpobench status`'s records: every expected run as its results folder shows it, joined with
what Slurm says of the tag's cells (whenever the tag was launched on Slurm) and, when asked,
with the state of each cell's SageMaker training job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional


@dataclass
class ExperimentStatus:
    """One record per expected run, the count of each state, and what limits the view."""

    records: list[dict[str, Any]]
    counts: dict[str, int]
    note: str = ""


def experiment_status(
    results_root: Path,
    experiment_tag: str,
    methods: Optional[list[str]] = None,
    seeds: Optional[list[int]] = None,
    sagemaker: bool = False,
) -> ExperimentStatus:
    """Every expected run of the tag (`methods` and `seeds` default to every one found), from
    its results folder, Slurm's queue and, with `sagemaker`, its training job."""
    from hpobench.remote.slurm.status import add_to_records, slurm_status
    from hpobench.results import render
    from hpobench.results.load import load_experiment

    jobs: dict[Any, Any] = {}
    if sagemaker:
        from hpobench.methods import method_names
        from hpobench.remote.sagemaker.status import remote_jobs

        jobs = remote_jobs(experiment_tag, method_names())
    slurm = slurm_status(results_root, experiment_tag)  # None unless launched on Slurm
    seen = set(jobs) | (set(slurm.cells) if slurm else set())
    experiment = load_experiment(results_root, experiment_tag, methods, seeds, seen_elsewhere=seen)
    records = render.status_records(experiment)
    if sagemaker:
        for record in records:
            job = jobs.get((record["method"], record["seed"]))
            record["job"] = job.name if job else None
            record["job_state"] = job.state if job else "no job"
    if slurm is not None:
        add_to_records(records, slurm)
    counts = render.state_counts(record["state"] for record in records)
    return ExperimentStatus(records, counts, slurm.note if slurm else "")
