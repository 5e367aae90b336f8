"""Which interrupted run a re-run continues, and whether its saved state can be used.

Re-running the command of an interrupted (method, seed) run continues it in its
own tuner folder (`resumable_tuner.restore` does the continuing), unless
`--force` asks for a fresh start in a new folder. A run is continued when its
newest tuner folder did not complete and did not fail: `interrupted` (Ctrl-C,
SIGTERM, a Slurm time limit), or `running` while the re-run holds the run's lock,
so its launcher is gone (kill -9, a reboot, a preempted node, a spot
interruption). A failed run starts afresh: what failed it would fail it again.

What it continues from: `tuner.dill` (the tuner, saved atomically within a
second of every trial start and every few seconds while results arrive), the
clock file (the budget already spent) and the trials' logs and checkpoints.
State that cannot be loaded (missing, damaged, written by another hpobench or
Syne Tune) is refused with one line naming `--force`; nothing is deleted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hpobench import __version__
from hpobench.errors import UsageError, typed_first_line
from hpobench.experiment_setup import ExperimentSetup
from hpobench.results import layout

# Statuses of a newest tuner folder that a re-run continues (see the module docstring).
RESUMABLE = (layout.STATUS_INTERRUPTED, layout.STATUS_RUNNING)


@dataclass
class ResumePoint:
    """An interrupted run to continue: its folder, metadata, budget spent and clock."""

    tuner_dir: Path
    metadata: dict[str, Any]
    spent: float  # seconds of its budget used before it stopped
    clock_at: Optional[float]  # wall-clock time when `spent` was recorded (None: unknown)
    snapshot: Any = None  # the loaded tuner, once `load` ran

    @property
    def tuner_name(self) -> str:
        """The tuner's name relative to the results root (`tag/run/folder`)."""
        return "/".join(self.tuner_dir.parts[-3:])

    def describe(self, budget: float) -> str:
        return f"resuming at {self.spent:.0f} s of its {budget:g} s budget, from {self.tuner_dir}"


def find(run_folder: Path, run_name: str, setup: ExperimentSetup) -> Optional[ResumePoint]:
    """The interrupted run of `run_folder` to continue, if any; a UsageError if its state
    cannot be used (another setup, another version, its tuner state missing)."""
    dirs = layout.tuner_dirs(run_folder)
    if not dirs:
        return None
    newest = dirs[-1]
    metadata = layout.read_metadata(newest)
    if metadata is None or metadata.get(layout.STATUS_KEY) not in RESUMABLE:
        return None
    if not (newest / layout.TUNER_FILE).exists():
        if _nothing_ran(newest):
            return None  # stopped before its first trial: a fresh start loses nothing
        raise refusal(run_name, newest, f"its tuner state {layout.TUNER_FILE} is missing")
    conflict = setup.conflict(metadata)
    if conflict is not None:
        key, before, now = conflict
        raise UsageError(
            f"{run_name} of experiment {setup.experiment_tag!r} was interrupted with {key}={before!r}, "
            f"not {now!r}; run it again with its own setup to resume it, pass --force to start it "
            "afresh, or use another --experiment-tag"
        )
    _check_versions(metadata, run_name, newest)
    clock = layout.read_clock(newest)
    return ResumePoint(newest, metadata, layout.budget_spent(newest, metadata), clock[1] if clock else None)


def started_by_this_job(run_folder: Path) -> bool:
    """Whether the newest run in `run_folder` was started by the SageMaker job or Slurm task
    this process runs in: the job was started again (a spot interruption, a requeue), and
    continues its run even when it was submitted to run it afresh (`--force`)."""
    from hpobench.processes import current_job

    newest = layout.tuner_dirs(run_folder)[-1:]
    if not newest or current_job() is None:
        return False
    started_by = (layout.read_metadata(newest[0]) or {}).get(layout.PROCESS_KEY)
    return isinstance(started_by, dict) and started_by.get("job") == current_job()


def load(point: ResumePoint, run_name: str) -> ResumePoint:
    """`point` with its saved tuner loaded; a UsageError (`--force`) if it cannot be."""
    import dill

    path = point.tuner_dir / layout.TUNER_FILE
    try:
        with path.open("rb") as saved:
            point.snapshot = dill.load(saved)
    except Exception as error:  # unpickling raises anything a damaged or foreign file provokes
        reason = typed_first_line(error)[:120]
        raise refusal(run_name, point.tuner_dir, f"its tuner state cannot be loaded ({reason})") from None
    missing = [
        a for a in ("scheduler", "tuning_status", "trial_backend", "callbacks") if not hasattr(point.snapshot, a)
    ]
    if missing or point.snapshot.tuning_status is None:
        raise refusal(run_name, point.tuner_dir, "its tuner state is not a started hpobench tuner")
    return point


def refusal(run_name: str, tuner_dir: Path, why: str) -> UsageError:
    return UsageError(
        f"Cannot resume {run_name} from {tuner_dir}: {why}; pass --force to start it afresh "
        "in a new folder (that one is kept)"
    )


def _check_versions(metadata: dict[str, Any], run_name: str, tuner_dir: Path) -> None:
    """The pickled tuner holds hpobench's and Syne Tune's objects: only the versions that
    wrote it are sure to read it back the same."""
    from importlib.metadata import version

    versions = metadata.get("versions")
    recorded: dict[str, Any] = versions if isinstance(versions, dict) else {}
    now = {"hpobench": __version__, "syne_tune": version("syne-tune")}
    changed = [
        f"{name} {recorded.get(name)} (now {current})" for name, current in now.items() if recorded.get(name) != current
    ]
    if changed:
        raise refusal(run_name, tuner_dir, f"it was written by {' and '.join(changed)}")


def _nothing_ran(tuner_dir: Path) -> bool:
    """No trial folder and no result: nothing a fresh start would lose."""
    trials = [p for p in tuner_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return not trials and not (tuner_dir / layout.RESULTS_FILE).exists()


def resume_record(point: ResumePoint, restarted: list[int], superseded: list[int], kept: int) -> dict[str, Any]:
    """What metadata.json keeps of each resume (`hpobench_resumes`)."""
    return {
        "at": time.time(),
        "budget_spent_before": round(point.spent, 3),
        "trials_kept": kept,
        "trials_restarted": restarted,  # running when it stopped: resumed from their checkpoints
        # Started after the last saved state: unknown to the restored scheduler, so their
        # folders were moved to .superseded/ and their ids used again.
        "trials_superseded": superseded,
    }
