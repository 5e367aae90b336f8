"""Which process runs an experiment, recorded so others can tell whether it still does.

A PID alone is not enough: PIDs are reused, so a process is identified by host,
PID and start time, and only a process on this host can be checked.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, Optional

# Start times read back from /proc may differ from the recorded one by rounding.
START_TIME_TOLERANCE = 1.0


def current_process() -> dict[str, Any]:
    """This process: host, PID, start time (seconds since the epoch), command line and the
    SageMaker or Slurm job it runs in (None on a plain machine)."""
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": _start_time(os.getpid()),
        "command": " ".join(sys.argv),
        "job": current_job(),
    }


def current_job() -> Optional[str]:
    """The training job's name in a SageMaker container; JOBID_TASKID in a Slurm array task."""
    if os.environ.get("TRAINING_JOB_NAME"):
        return os.environ["TRAINING_JOB_NAME"]
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID") or None


def process_gone(record: Any) -> bool:
    """True only when the recorded process surely ended: it ran on this host and
    no process with its PID and start time exists. Unknown or remote: False."""
    if not isinstance(record, dict) or record.get("host") != socket.gethostname():
        return False
    pid, started = record.get("pid"), record.get("started")
    if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(started, (int, float)):
        return False
    now = _start_time(pid)
    return now is None or abs(now - started) > START_TIME_TOLERANCE


def describe_process(record: Any) -> str:
    """'pid 123 on host, started 2026-11-29 10:15:02: hpobench run-local ...', as far as known."""
    import time

    if not isinstance(record, dict):
        return "an unknown process"
    text = f"pid {record.get('pid', '?')} on {record.get('host', '?')}"
    started = record.get("started")
    if isinstance(started, (int, float)):
        text += f", started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}"
    if record.get("command"):
        text += f": {record['command']}"
    return text


def _start_time(pid: int) -> Optional[float]:
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.Error:
        return float("nan")  # exists, but we may not look: not gone
