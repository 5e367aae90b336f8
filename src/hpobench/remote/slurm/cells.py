"""Each cell's state on Slurm: its results folder first, then Slurm's view of its newest task.

A cell is complete only when its results folder holds a complete run (run-local
marks a run complete after its results are written), whatever Slurm says; a
task killed half-way (time limit, preemption, a node failure) leaves a run
folder that is never counted as complete. Otherwise the cell is pending or
running while Slurm has its task queued or running, and failed once the task
ended without a complete run, with Slurm's reason (TIMEOUT, OUT_OF_MEMORY,
PREEMPTED, NODE_FAIL, CANCELLED, FAILED) and the last error line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hpobench import tag_records
from hpobench.remote.slurm import queue
from hpobench.remote.slurm.plan import LOGS_FOLDER, SLURM_FOLDER
from hpobench.remote.slurm.records import Cell, Submission, latest_tasks, read_submissions
from hpobench.results import layout

COMPLETE = "complete"
PENDING = "pending"
RUNNING = "running"
FAILED = "failed"
NOT_SUBMITTED = "not submitted"
_ERROR_LINE = re.compile(r"(^Error: |Error\b|error:)")


@dataclass(frozen=True)
class CellState:
    """One (method, seed) as its results folder and Slurm see it."""

    method: str
    seed: int
    state: str  # complete, pending, running, failed, not submitted
    job: Optional[str] = None  # its newest array task, JOBID_TASKID
    slurm: str = ""  # what Slurm says: 'PENDING (Priority)', 'RUNNING', 'TIMEOUT', ...
    log: Optional[Path] = None  # the task's stdout and stderr
    error: str = ""  # why a failed cell failed, in one line

    @property
    def needs_submission(self) -> bool:
        """Never submitted, or ended without a complete run."""
        return self.state in (NOT_SUBMITTED, FAILED)


def log_path(slurm_dir: Path, task_id: str) -> Path:
    """RESULTS_ROOT/TAG/slurm/logs/JOBID_TASKID.out (the script's --output=%A_%a.out)."""
    return slurm_dir / LOGS_FOLDER / f"{task_id}.out"


def cell_states(
    tag_dir: Path, cells: list[Cell], submissions: list[Submission], view: Optional[queue.QueueView]
) -> dict[Cell, CellState]:
    """The state of each of `cells`; `view` None: Slurm was not asked (states from files)."""
    latest = latest_tasks(submissions)
    slurm_dir = tag_dir / SLURM_FOLDER
    states = {}
    for method, seed in cells:
        run_dir = layout.run_dir(tag_dir.parent, tag_dir.name, layout.run_name(method, seed))
        task = latest.get((method, seed))
        if task is None:
            done = layout.completed_tuner_dir(run_dir) is not None
            states[(method, seed)] = CellState(method, seed, COMPLETE if done else NOT_SUBMITTED)
            continue
        task_id = task[0]
        known = view.tasks.get(task_id) if view is not None else None
        states[(method, seed)] = _state(method, seed, run_dir, task_id, log_path(slurm_dir, task_id), known, view)
    return states


def _state(
    method: str,
    seed: int,
    run_dir: Path,
    task_id: str,
    log: Path,
    known: Optional[queue.TaskState],
    view: Optional[queue.QueueView],
) -> CellState:
    if layout.completed_tuner_dir(run_dir) is not None:
        return CellState(method, seed, COMPLETE, task_id, known.describe() if known else "", log)
    if known is not None and known.active:
        state = PENDING if known.state in queue.WAITING else RUNNING
        return CellState(method, seed, state, task_id, known.describe(), log)
    if view is None:  # Slurm not asked: the files alone cannot tell queued from ended
        return CellState(method, seed, RUNNING if _running_on_disk(run_dir) else PENDING, task_id, "not asked", log)
    ended = known.state if known is not None and known.state != queue.UNKNOWN else None
    ended = queue.state_from_log(log) or ended or ("FAILED" if log.exists() else queue.UNKNOWN)
    return CellState(method, seed, FAILED, task_id, ended, log, _why(run_dir, log, ended))


def _running_on_disk(run_dir: Path) -> bool:
    newest = layout.tuner_dirs(run_dir)[-1:] or []
    return any((layout.read_metadata(d) or {}).get(layout.STATUS_KEY) == layout.STATUS_RUNNING for d in newest)


def _why(run_dir: Path, log: Path, ended: str) -> str:
    """One line: run-local's own failure message, else the log's last error line."""
    for tuner_dir in reversed(layout.tuner_dirs(run_dir)):
        error = (layout.read_metadata(tuner_dir) or {}).get("hpobench_error")
        if isinstance(error, str) and error:
            return error
    if not log.exists():
        return (
            f"no log at {log}: the task may never have started; is the results root on a "
            "file system the compute nodes share?"
        )
    lines = [line.strip() for line in queue.read_tail(log).splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    if ended == "COMPLETED":
        return "the task ended without a complete run (see its log)"
    return (errors or lines or [""])[-1]


class SlurmRecords:
    """What a tag holds on Slurm (`tag_records.TagRecords`): its submissions, then its runs
    on disk. `ask_slurm` False (a dry run): cell states from the results folders alone."""

    def __init__(self, results_root: Path, experiment_tag: str, job_name: str, ask_slurm: bool = True):
        self.tag_dir = results_root / experiment_tag
        self.disk = tag_records.RunsOnDisk(results_root, experiment_tag)
        self.submissions = read_submissions(self.tag_dir / SLURM_FOLDER)
        self.job_name = job_name
        self.ask_slurm = ask_slurm
        self.cells: dict[Cell, CellState] = {}  # the states found by `states`, with their Slurm details

    def recorded(self) -> list[tag_records.RecordedSetup]:
        submitted = [tag_records.RecordedSetup(f"Slurm job {s.job_id}", s.setup) for s in self.submissions]
        return submitted + self.disk.recorded()

    def states(self, cells: Sequence[Cell]) -> dict[Cell, str]:
        if not self.ask_slurm:
            return self.disk.states(cells)
        wanted = set(cells)
        tasks = [task for cell, (task, _) in latest_tasks(self.submissions).items() if cell in wanted]
        view = queue.query(self.job_name, tasks) if tasks else None
        self.cells = cell_states(self.tag_dir, list(cells), self.submissions, view)
        return {cell: _AS_RECORDED.get(state.state, state.state) for cell, state in self.cells.items()}


_AS_RECORDED = {COMPLETE: tag_records.COMPLETE, PENDING: tag_records.ACTIVE, RUNNING: tag_records.ACTIVE}
