"""`hpobench status` of an experiment launched on Slurm: results folders plus Slurm's queue.

Used whenever RESULTS_ROOT/TAG/slurm/ records submissions. Slurm is asked once
per call (`queue.query`), whatever the number of cells; without Slurm's commands
on PATH (reading results away from the cluster) the states come from the files
alone and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import UsageError
from hpobench.remote.slurm import cells as cell_state
from hpobench.remote.slurm import commands, queue
from hpobench.remote.slurm.plan import SLURM_FOLDER
from hpobench.remote.slurm.records import Cell, latest_tasks, read_submissions

# Results states that Slurm's view replaces: the run has not finished on disk.
UNFINISHED = frozenset({"missing", "running", "stale", "interrupted", "resumable", "no metadata"})


@dataclass
class SlurmStatus:
    """Each submitted cell's state, and what limits the view."""

    cells: dict[Cell, cell_state.CellState]
    note: str = ""


def slurm_status(results_root: Path, tag: str) -> Optional[SlurmStatus]:
    """The Slurm view of experiment `tag`, or None if it was never launched on Slurm."""
    tag_dir = results_root / tag
    submissions = read_submissions(tag_dir / SLURM_FOLDER)
    if not submissions:
        return None
    tasks = latest_tasks(submissions)
    note = ""
    try:
        view = queue.query(submissions[-1].job_name, [t for t, _ in tasks.values()])
        if view.accounting is False:
            note = "Slurm accounting is off: ended tasks' states come from their logs"
    except UsageError:  # squeue not on PATH
        view, note = None, "Slurm's squeue is not on PATH: states come from the results folders alone"
    except commands.SlurmCommandError as error:  # e.g. the controller does not answer
        view, note = None, f"Slurm did not answer ({error}): states come from the results folders alone"
    return SlurmStatus(cell_state.cell_states(tag_dir, list(tasks), submissions, view), note)


def add_to_records(records: list[dict[str, Any]], status: SlurmStatus) -> None:
    """Each record of a submitted cell gets its job, Slurm's state and its log; a run that has
    not finished on disk takes the cell's state (pending, running, failed)."""
    for record in records:
        cell = status.cells.get((record["method"], record["seed"]))
        if cell is None:
            record.update(job=None, job_state="not submitted", log=None)
            continue
        record.update(job=cell.job, job_state=cell.slurm or "-", log=str(cell.log) if cell.log else None)
        if record["state"] in UNFINISHED and cell.state != cell_state.NOT_SUBMITTED:
            record["state"] = cell.state
        if cell.error and cell.error not in (record["note"] or ""):
            record["note"] = "; ".join(filter(None, [cell.error, record["note"]]))
