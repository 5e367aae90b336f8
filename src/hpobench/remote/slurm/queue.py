"""What Slurm says about an experiment's array tasks: one squeue call, then sacct if needed.

`squeue --states=all` lists pending and running tasks and, for a few minutes
after they end (slurmctld's MinJobAge), finished ones with their end state.
Tasks it no longer knows are asked of `sacct` in one call; without accounting
(no slurmdbd, "accounting storage is disabled") their end state is read from
the line slurmstepd writes into the task's log ("*** JOB 12 ON node CANCELLED
AT ... DUE TO TIME LIMIT ***"), else left UNKNOWN for the results folder to tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hpobench.remote.slurm import commands

# Slurm job states (squeue %T, sacct State): waiting, running, ended.
WAITING = frozenset(
    {"PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "SPECIAL_EXIT", "RESV_DEL_HOLD", "SUSPENDED"}
)
RUNNING = frozenset({"RUNNING", "CONFIGURING", "COMPLETING", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED"})
ACTIVE = WAITING | RUNNING
UNKNOWN = "UNKNOWN"
_TASK_ID = re.compile(r"^\d+_\d+$")
# slurmstepd's line in the task's output when Slurm ends it.
_STEPD_END = re.compile(r"\*\*\* JOB \d+ ON \S+ CANCELLED AT \S+(?: DUE TO (?P<why>[A-Z ]+?))? \*\*\*")
_DUE_TO = {"TIME LIMIT": "TIMEOUT", "PREEMPTION": "PREEMPTED", "NODE FAILURE": "NODE_FAIL", "JOB REQUEUE": "REQUEUED"}
_OOM = re.compile(r"oom[-_ ]kill|Out Of Memory|Exceeded job memory limit", re.IGNORECASE)
LOG_TAIL_BYTES = 16 * 1024


@dataclass(frozen=True)
class TaskState:
    """Slurm's state of one array task, JOBID_TASKID."""

    task_id: str
    state: str  # PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, ... or UNKNOWN
    reason: str = ""  # squeue's reason for a waiting task (Priority, Resources, ...)
    source: str = "squeue"  # squeue, sacct or log

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def describe(self) -> str:
        """'PENDING (Priority)', 'TIMEOUT', 'RUNNING'."""
        if self.reason and self.reason != "None" and self.state in WAITING:
            return f"{self.state} ({self.reason})"
        return self.state


@dataclass
class QueueView:
    """The states Slurm reported, and how it was asked."""

    tasks: dict[str, TaskState]
    accounting: Optional[bool]  # None: sacct was not needed


def query(job_name: str, task_ids: Iterable[str]) -> QueueView:
    """Slurm's state of each of `task_ids`: one squeue call, and one sacct call for the
    tasks squeue no longer knows (skipped when accounting is off)."""
    wanted = set(task_ids)
    listed = commands.run(
        ["squeue", "--noheader", "--array", "--states=all", f"--name={job_name}", "--format=%i|%T|%r"]
    )
    tasks = {t.task_id: t for t in parse_squeue(listed) if t.task_id in wanted}
    missing = sorted(wanted - set(tasks), key=_task_order)
    accounting: Optional[bool] = None
    if missing:
        found, accounting = _ask_sacct(missing)
        tasks.update(found)
    return QueueView(tasks, accounting)


def parse_squeue(text: str) -> list[TaskState]:
    """Lines of `squeue --array --format=%i|%T|%r`."""
    states = []
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 2 and _TASK_ID.match(parts[0]):
            states.append(TaskState(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return states


def parse_sacct(text: str) -> dict[str, TaskState]:
    """Lines of `sacct --parsable2 --format=JobID,State`; a task's last line wins (a requeued
    task has one line per start). 'CANCELLED by 0' is CANCELLED."""
    tasks: dict[str, TaskState] = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 2 and _TASK_ID.match(parts[0]):
            tasks[parts[0]] = TaskState(parts[0], parts[1].split()[0] if parts[1] else UNKNOWN, source="sacct")
    return tasks


def _ask_sacct(task_ids: list[str]) -> tuple[dict[str, TaskState], bool]:
    """States of tasks that ended, from Slurm's accounting; ({}, False) without it."""
    import shutil

    if shutil.which("sacct") is None:
        return {}, False
    jobs = sorted({task.split("_")[0] for task in task_ids}, key=int)
    try:
        text = commands.run(
            ["sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={','.join(jobs)}", "--format=JobID,State"]
        )
    except commands.SlurmCommandError as error:
        if "disabled" in error.output.lower():  # "Slurm accounting storage is disabled"
            return {}, False
        raise
    found = parse_sacct(text)
    return {t: found[t] for t in task_ids if t in found}, True


def state_from_log(log: Path) -> Optional[str]:
    """How Slurm ended a task, from what slurmstepd wrote into its log: TIMEOUT, PREEMPTED,
    NODE_FAIL, CANCELLED or OUT_OF_MEMORY; None if it says nothing (the last start counts)."""
    text = read_tail(log)
    starts = text.rfind("hpobench: task ")  # each (re)start of the task prints this first
    text = text[starts:] if starts >= 0 else text
    ends = list(_STEPD_END.finditer(text))
    if ends:
        why = ends[-1]["why"]
        return _DUE_TO.get(why or "", "CANCELLED" if why is None else why.replace(" ", "_"))
    if _OOM.search(text):
        return "OUT_OF_MEMORY"
    return None


def read_tail(path: Path, size: int = LOG_TAIL_BYTES) -> str:
    """The last `size` bytes of a file as text; '' if it cannot be read."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(handle.tell() - size, 0))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _task_order(task_id: str) -> tuple[int, int]:
    job, _, task = task_id.partition("_")
    return int(job), int(task)
