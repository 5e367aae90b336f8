"""Slurm's own command-line tools (sbatch, squeue, sacct, sinfo), called as processes.

hpobench talks to Slurm only through these commands, as a user at a login node
would: no library, nothing installed on the compute nodes. Each call is one
process; errors become one line that names the command and what Slurm said.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Optional

from hpobench.errors import RunError, UsageError, last_line

# A controller that does not answer within this is down or unreachable.
TIMEOUT = 60.0


class SlurmCommandError(RunError):
    """A Slurm command ran and failed; `output` holds what it printed."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


def require(command: str, instead: str = "--engine sagemaker") -> str:
    """The path of `command`, or a UsageError naming the fix (`instead`: the other engine)."""
    path = shutil.which(command)
    if path is None:
        raise UsageError(
            f"Slurm's `{command}` is not on PATH: run hpobench on a login node of the cluster "
            f"(or install Slurm's client commands), or use {instead}"
        )
    return path


def run(arguments: list[str], stdin: Optional[str] = None) -> str:
    """Run a Slurm command; its stdout, or a SlurmCommandError with its last error line."""
    command = [require(arguments[0]), *arguments[1:]]
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SlurmCommandError(
            f"`{arguments[0]}` did not answer within {TIMEOUT:g} s: is slurmctld reachable (scontrol ping)?"
        ) from None
    except OSError as error:
        raise SlurmCommandError(f"`{arguments[0]}` could not run: {error.strerror or error}") from None
    if done.returncode != 0:
        said = last_line(done.stderr) or last_line(done.stdout) or f"exit code {done.returncode}"
        raise SlurmCommandError(f"`{arguments[0]}` failed: {said}", done.stderr + done.stdout)
    return done.stdout
