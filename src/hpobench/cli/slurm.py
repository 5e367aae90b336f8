"""`hpobench launch-remote --engine slurm`: rendering of a Slurm launch and its dry run."""

from __future__ import annotations

import json
import sys
from typing import Any

from hpobench.cli.common import stdout_console


def launch(settings: Any, as_json: bool) -> None:
    """Dry run (no Slurm call) or launch, then print what happened per cell."""
    if settings.dry_run:
        _dry_run(settings, as_json)
        return
    from rich.console import Console

    from hpobench.remote.slurm.submit import launch_slurm

    err = Console(file=sys.stderr, width=160)
    plan, outcomes = launch_slurm(settings, say=lambda line: err.print(line, markup=False, soft_wrap=True))
    console = stdout_console()
    tag, root = plan.experiment.experiment_tag, plan.results_root
    console.print(outcomes_table(tag, outcomes))
    lines = [
        submitted_line(outcomes),
        f"Results go to {plan.tag_dir}/METHOD-SEED/; each task's log to {plan.slurm_dir}/logs/JOBID_TASKID.out.",
        f"Follow them with: hpobench status --experiment-tag {tag} --results-root {root}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _dry_run(settings: Any, as_json: bool) -> None:
    from hpobench.plan import select_runs
    from hpobench.remote.slurm.submit import plan_launch
    from hpobench.tag_records import master_seed

    plan, records = plan_launch(settings)
    experiment = plan.experiment
    todo = list(select_runs(experiment, records, settings.force).todo)
    done = {(run.method, run.seed) for run in experiment.runs if run not in todo}
    script = plan.script(todo, settings.force) if todo else None
    seed_origin = (
        ""
        if settings.random_seed is not None or master_seed(records) is not None
        else " (drawn for this dry run: the launch draws its own unless --random-seed is given)"
    )
    if as_json:
        sys.stdout.write(json.dumps(plan_document(plan, todo, done, script), indent=2) + "\n")
        return
    from hpobench.cli.console import table

    console = stdout_console()
    rows = [
        [
            run.method,
            run.seed,
            "complete (skipped)" if (run.method, run.seed) in done else f"array task {todo.index(run)}",
            str(plan.tag_dir / run.name),
        ]
        for run in experiment.runs
    ]
    console.print(table(f"Slurm cells of {experiment.experiment_tag}", ["method", "seed", "would be", "results"], rows))
    resources = plan.resources
    lines = [
        f"Each cell: {resources.cpus} CPU(s), {resources.gpus} GPU(s), time limit {resources.time_limit}"
        + (f", memory {resources.mem}" if resources.mem else ", the cluster's default memory")
        + f"; up to {plan.max_parallel or 'all'} cell(s) at once; master random seed "
        f"{experiment.master_random_seed}" + seed_origin + "."
    ]
    if script is None:
        lines.append("Every cell is complete: nothing would be submitted.")
    else:
        lines += [f"sbatch --parsable {plan.slurm_dir}/sbatch-<time>.sh, the script:", script.rstrip()]
    lines.append("Dry run: Slurm was not asked; cells it has queued or running are skipped at launch.")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def plan_document(plan: Any, todo: list[Any], done: set[Any], script: Any) -> dict[str, Any]:
    """The whole plan of a Slurm launch, as `--dry-run --json` prints it."""
    from dataclasses import asdict

    experiment = plan.experiment
    return {
        "engine": "slurm",
        "experiment_tag": experiment.experiment_tag,
        "benchmark": experiment.benchmark.name,
        "results_root": str(plan.results_root),
        "job_name": plan.job_name,
        "setup": plan.setup.comparable(),
        "resources": {**asdict(plan.resources), "extra": dict(plan.resources.extra)},
        "max_parallel": plan.max_parallel,
        "python": plan.python,
        "cells": [
            {
                "method": run.method,
                "seed": run.seed,
                "results": str(plan.tag_dir / run.name),
                "array_task": None if (run.method, run.seed) in done else todo.index(run),
                "reproduce_command": plan.setup.reproduce_command(run.method, run.seed),
            }
            for run in experiment.runs
        ],
        "log_pattern": str(plan.log_pattern()),
        "sbatch_command": ["sbatch", "--parsable", f"{plan.slurm_dir}/sbatch-<time>.sh"] if script else None,
        "script": script,
    }


def submitted_line(outcomes: list[Any]) -> str:
    """'Submitted N cell(s) as Slurm job J; skipped M (why).'"""
    submitted = [o for o in outcomes if o.action == "submitted"]
    skipped = [o for o in outcomes if o.action == "skipped"]
    jobs = sorted({o.job.split("_")[0] for o in submitted if o.job}, key=int)
    why = _counts(o.before.state for o in skipped)
    return (
        f"Submitted {len(submitted)} cell(s)"
        + (f" as Slurm job {', '.join(jobs)}" if jobs else "")
        + f"; skipped {len(skipped)}"
        + (f" ({why})" if why else "")
        + "."
    )


def outcomes_table(experiment_tag: str, outcomes: list[Any]) -> Any:
    """One row per cell: its state when the command looked, what was done, its job."""
    from hpobench.cli.console import table

    rows = []
    for outcome in outcomes:
        before = outcome.before
        shown = before.slurm and before.state != "complete" and before.slurm.lower() != before.state
        state = before.state + (f" ({before.slurm})" if shown else "")
        action = "submitted" if outcome.action == "submitted" else f"skipped: {before.state}"
        if outcome.action == "submitted" and before.state == "failed":
            action = "resubmitted"
        rows.append([outcome.run.method, outcome.run.seed, state, action, outcome.job or "-"])
    return table(f"Slurm cells of {experiment_tag}", ["method", "seed", "state", "action", "job"], rows)


def _counts(states: Any) -> str:
    from collections import Counter

    return ", ".join(f"{n} {state}" for state, n in Counter(states).items())
