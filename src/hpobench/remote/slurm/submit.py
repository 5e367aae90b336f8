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
from hpobench.plan import PlannedRun, check_methods_build, plan_experiment
from hpobench.remote.slurm import commands, queue
from hpobench.remote.slurm.cells import COMPLETE, PENDING, RUNNING, CellState, cell_states
from hpobench.remote.slurm.plan import LOGS_FOLDER, MAX_ARRAY_TASKS, MIN_SETUP, SLURM_FOLDER, SlurmPlan, plan_slurm
from hpobench.remote.slurm.records import Submission, append_submission, latest_tasks, read_submissions
from hpobench.results import layout
from hpobench.settings import SlurmSettings

Say = Callable[[str], None]


@dataclass(frozen=True)
class CellOutcome:
    """What a launch did with one cell."""

    run: PlannedRun
    before: CellState  # the cell's state when the launch looked
    action: str  # "submitted" or "skipped"
    job: Optional[str]  # the task that runs (or ran) it, JOBID_TASKID


def plan_launch(settings: SlurmSettings) -> SlurmPlan:
    """The plan (offline), with the master seed this tag already uses, from its earlier
    submissions or its runs on disk; a UsageError if --random-seed names another."""
    tag = plan_experiment(settings, master_random_seed=0).experiment_tag
    recorded = recorded_master_seed(settings.results_root / tag)
    if recorded is not None and settings.random_seed is not None and settings.random_seed != recorded:
        raise UsageError(
            f"Experiment {tag!r} already uses master random seed {recorded}, not "
            f"{settings.random_seed}; leave out --random-seed, or use another --experiment-tag"
        )
    return plan_slurm(settings, plan_experiment(settings, master_random_seed=recorded))


def recorded_master_seed(tag_dir: Path) -> Optional[int]:
    """The master seed of the tag's earlier submissions, else of its runs on disk."""
    for submission in read_submissions(tag_dir / SLURM_FOLDER):
        seed = submission.setup.get("random_seed_master")
        if isinstance(seed, int):
            return seed
    return layout.recorded_master_seed(tag_dir.parent, tag_dir.name)


def launch_slurm(settings: SlurmSettings, say: Say = print) -> tuple[SlurmPlan, list[CellOutcome]]:
    """Submit the cells that need it; the plan and what happened to each cell."""
    for command in ("sbatch", "squeue"):
        commands.require(command)
    plan = plan_launch(settings)
    experiment = plan.experiment
    _warn_short_time_limit(plan, say)
    with experiment_lock(plan.results_root, experiment.experiment_tag):
        submissions = read_submissions(plan.slurm_dir)
        check_same_setup(plan, submissions, settings.force)
        if settings.partition:
            check_partition(settings.partition)
        check_shared_root(plan.results_root, settings.partition)
        cells = [(run.method, run.seed) for run in experiment.runs]
        wanted = set(cells)
        tasks = [task for cell, (task, _) in latest_tasks(submissions).items() if cell in wanted]
        view = queue.query(plan.job_name, tasks) if tasks else None
        states = cell_states(plan.tag_dir, cells, submissions, view)
        if settings.force:
            _check_nothing_runs(plan, submissions, list(states.values()))
        todo = [run for run in experiment.runs if _needs(states[(run.method, run.seed)], settings.force)]
        if todo:  # the cells run this venv: what they need is checked here, before any is submitted
            check_methods_build(experiment.benchmark, list(dict.fromkeys(run.method for run in todo)))
            prepare_inputs(experiment.benchmark)
        submitted: dict[tuple[str, int], str] = {}
        for start in range(0, len(todo), MAX_ARRAY_TASKS):
            chunk = todo[start : start + MAX_ARRAY_TASKS]
            submitted.update(submit_array(plan, chunk, settings.force))
    outcomes = []
    for run in experiment.runs:
        cell = (run.method, run.seed)
        before = states[cell]
        if cell in submitted:
            outcomes.append(CellOutcome(run, before, "submitted", submitted[cell]))
        else:
            outcomes.append(CellOutcome(run, before, "skipped", before.job))
    return plan, outcomes


def _check_nothing_runs(plan: SlurmPlan, submissions: list[Submission], states: list[CellState]) -> None:
    """--force with a new setup must not leave cells of the old one running beside it."""
    active = [s for s in states if s.state in (PENDING, RUNNING)]
    changed = any(plan.setup.conflict(s.setup) for s in submissions)
    if active and changed:
        jobs = " ".join(sorted({s.job.split("_")[0] for s in active if s.job}))
        raise UsageError(
            f"{len(active)} cell(s) of the earlier setup are still pending or running; cancel them "
            f"first (scancel {jobs}), then launch again with --force"
        )


def _needs(state: CellState, force: bool) -> bool:
    """Submit a cell that is not complete, pending or running; with --force a complete one too."""
    return state.needs_submission or (force and state.state == COMPLETE)


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
    submission = Submission(job_id, plan.job_name, time.time(), cells, str(path), plan.setup.comparable())
    append_submission(plan.slurm_dir, submission)
    return submission.task_ids()


def check_same_setup(plan: SlurmPlan, submissions: list[Submission], force: bool) -> None:
    """A tag is one setup: refuse a launch whose setup differs from an earlier submission's
    or from a completed run's (as run-local does), unless --force re-runs every cell."""
    for submission in submissions:
        conflict = plan.setup.conflict(submission.setup)
        if conflict is not None and not force:
            key, before, now = conflict
            raise UsageError(
                f"Experiment {plan.experiment.experiment_tag!r} was submitted to Slurm (job "
                f"{submission.job_id}) with {key}={before!r}, not {now!r}; use another "
                "--experiment-tag, or --force to run every cell again with the new setup"
            )
    if force:
        return
    for run in plan.experiment.runs:
        done = layout.completed_tuner_dir(layout.run_dir(plan.results_root, plan.experiment.experiment_tag, run.name))
        if done is not None:
            plan.setup.check_reuse(layout.read_metadata(done) or {}, run.name)


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
