"""Launch an experiment on Slurm: one array task per (method, seed) cell, only where needed.

A launch holds the tag's lock (one launch or run-local per tag at a time),
reads what earlier launches submitted (`records`), asks Slurm once for the state
of their tasks (`queue`), and submits, as one array, only the cells that are
not complete, pending or running: never submitted, or ended without a complete
run (failed, cancelled, timed out, out of memory, preempted, node failure).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hpobench.errors import RunError, UsageError, last_line
from hpobench.local.inputs import prepare_inputs
from hpobench.local.lock import experiment_lock
from hpobench.plan import PlannedRun, check_methods_build, experiment_tag, plan_experiment, select_runs
from hpobench.remote.slurm import commands
from hpobench.remote.slurm.cells import CellState, SlurmRecords
from hpobench.remote.slurm.plan import LOGS_FOLDER, MAX_ARRAY_TASKS, MIN_SETUP, SlurmPlan, job_name, plan_slurm
from hpobench.remote.slurm.records import Submission, append_submission
from hpobench.settings import SlurmSettings

Say = Callable[[str], None]


@dataclass(frozen=True)
class CellOutcome:
    """What a launch did with one cell."""

    run: PlannedRun
    before: CellState  # the cell's state when the launch looked
    action: str  # "submitted" or "skipped"
    job: Optional[str]  # the task that runs (or ran) it, JOBID_TASKID


def plan_launch(settings: SlurmSettings, ask_slurm: bool = False) -> tuple[SlurmPlan, SlurmRecords]:
    """The plan, resolved against what the tag holds (its submissions, its runs on disk: the
    master seed they use), and those records; `ask_slurm` False: no Slurm call (a dry run)."""
    tag = experiment_tag(settings)
    records = SlurmRecords(settings.results_root, tag, job_name(tag, settings.results_root), ask_slurm)
    return plan_slurm(settings, plan_experiment(settings, records)), records


def launch_slurm(settings: SlurmSettings, say: Say = print) -> tuple[SlurmPlan, list[CellOutcome]]:
    """Submit the cells that need it; the plan and what happened to each cell."""
    require_commands()
    with experiment_lock(settings.results_root, experiment_tag(settings)):
        plan, records = plan_launch(settings, ask_slurm=True)
        experiment = plan.experiment
        _warn_short_time_limit(plan, say)
        check_cluster(plan, settings.partition)
        selection = select_runs(experiment, records, settings.force)
        if selection.todo:  # the cells run this venv: what they need is checked here, before any is submitted
            check_methods_build(
                experiment.benchmark,
                list(dict.fromkeys(run.method for run in selection.todo)),
                scalarization=experiment.scalarization,
            )
            prepare_inputs(experiment.benchmark)
        outcomes = submit_cells(plan, records, list(selection.todo), settings.force)
    return plan, outcomes


def require_commands(instead: str = "--engine sagemaker") -> None:
    """A UsageError unless Slurm's sbatch and squeue are on PATH; `instead` names the other way."""
    for command in ("sbatch", "squeue"):
        commands.require(command, instead)


def check_cluster(plan: SlurmPlan, partition: Optional[str]) -> None:
    """The partition exists and the results root is one the nodes can share (asks Slurm)."""
    if partition:
        check_partition(partition)
    check_shared_root(plan.results_root, partition)


def submit_cells(plan: SlurmPlan, records: SlurmRecords, todo: list[PlannedRun], force: bool) -> list[CellOutcome]:
    """Submit `todo` (arrays of at most MAX_ARRAY_TASKS); what happened to each cell of the plan
    (`records` hold the states the selection found)."""
    submitted: dict[tuple[str, int], str] = {}
    for start in range(0, len(todo), MAX_ARRAY_TASKS):
        submitted.update(submit_array(plan, todo[start : start + MAX_ARRAY_TASKS], force))
    outcomes = []
    for run in plan.experiment.runs:
        cell = (run.method, run.seed)
        before = records.cells[cell]
        if cell in submitted:
            outcomes.append(CellOutcome(run, before, "submitted", submitted[cell]))
        else:
            outcomes.append(CellOutcome(run, before, "skipped", before.job))
    return outcomes


def submit_array(plan: SlurmPlan, runs: list[PlannedRun], force: bool) -> dict[tuple[str, int], str]:
    """sbatch one array over `runs`; record it; cell -> its task id."""
    script = plan.script(runs, force)
    plan.slurm_dir.mkdir(parents=True, exist_ok=True)
    (plan.slurm_dir / LOGS_FOLDER).mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**9:09d}"
    path = plan.slurm_dir / f"sbatch-{stamp}.sh"
    path.write_text(script)
    try:
        answer = commands.run(["sbatch", "--parsable", str(path)])
    except commands.SlurmCommandError as error:
        path.unlink(missing_ok=True)  # never submitted: leave no script that looks as if it was
        raise RunError(
            f"Slurm refused the job: {last_line(error.output) or error}; fix the option it "
            f"names (--dry-run prints the script)"
        ) from None
    job_id = answer.strip().split(";")[0]
    if not job_id.isdigit():
        raise RunError(f"sbatch answered {answer.strip()!r}, not a job id; see `squeue --name {plan.job_name}`")
    cells = tuple((run.method, run.seed) for run in runs)
    submission = Submission(
        job_id, plan.job_name, time.time(), cells, str(path), plan.setup.comparable(), dict(plan.cell_arguments)
    )
    append_submission(plan.slurm_dir, submission)
    return submission.task_ids()


def check_partition(partition: str) -> None:
    """A UsageError naming the cluster's partitions unless `partition` is one of them."""
    listed = commands.run(["sinfo", "--noheader", "--format=%R"])
    names = sorted({line.strip() for line in listed.splitlines() if line.strip()})
    if partition not in names:
        raise UsageError(
            f"Unknown Slurm partition {partition!r}; this cluster has: {', '.join(names) or 'none'} (see `sinfo -s`)"
        )


# Folders every node has its own of.
NODE_LOCAL_FOLDERS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"))
NODE_LOCAL_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})


def check_shared_root(results_root: Path, partition: Optional[str]) -> None:
    """Refuse a results root that is surely node-local on a cluster of several nodes: the
    cells would write where neither the launch nor `status` can read."""
    where = node_local(results_root)
    if where is None:
        return
    listed = commands.run(["sinfo", "--noheader", "--format=%n", *([f"--partition={partition}"] if partition else [])])
    nodes = len({line.strip() for line in listed.splitlines() if line.strip()})
    problem = shared_root_problem(results_root, where, nodes)
    if problem:
        raise UsageError(problem)


def shared_root_problem(results_root: Path, where: str, nodes: int) -> Optional[str]:
    """The refusal for a node-local results root on `nodes` nodes (None on one node)."""
    if nodes <= 1:
        return None
    return (
        f"Results root {results_root} is {where}, which each of the cluster's {nodes} nodes has "
        "its own of; pass a --results-root on a file system the compute nodes share"
    )


def node_local(path: Path) -> Optional[str]:
    """'under /tmp' or 'on tmpfs' for a path that is surely node-local; None otherwise
    (a local disk may still be exported to the nodes: only the task logs can tell)."""
    resolved = path.resolve()
    for folder in NODE_LOCAL_FOLDERS:
        if resolved == folder or folder in resolved.parents:
            return f"under {folder}"
    kind = _file_system(resolved)
    return f"on {kind}" if kind in NODE_LOCAL_FILE_SYSTEMS else None


def _file_system(path: Path) -> Optional[str]:
    """The type of the file system holding `path`, from /proc/mounts (None if unknown)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    best, kind = -1, None
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = Path(parts[1].replace("\\040", " "))
        if (path == point or point in path.parents) and len(point.parts) > best:
            best, kind = len(point.parts), parts[2]
    return kind


def _warn_short_time_limit(plan: SlurmPlan, say: Say) -> None:
    seconds = plan.resources.time_limit_seconds
    needed = plan.experiment.max_wallclock_time + MIN_SETUP
    if seconds is not None and seconds < needed:
        say(
            f"Warning: --time-limit {plan.resources.time_limit} is shorter than the "
            f"{plan.experiment.max_wallclock_time:g} s budget plus {MIN_SETUP} s to start and write "
            "results: Slurm will stop each cell before its budget is spent (the cell then shows "
            "TIMEOUT and a re-launch runs it again from the start)"
        )
