"""What an experiment tag already holds, whichever engine ran it: the setups and master seed
its runs recorded, and which (method, seed) cells are complete or still running elsewhere.

One interface, `TagRecords`, with three sources: runs on disk (`RunsOnDisk`: run-local,
and what Slurm cells wrote), Slurm submissions (`remote.slurm.records.SlurmRecords`) and
SageMaker jobs (`remote.sagemaker.submit.SageMakerRecords`). The experiment is resolved
against it once, the same way for every engine (`plan.plan_experiment`, `plan.select_runs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Protocol

from hpobench.results import layout

Cell = tuple[str, int]  # (method, seed)
# A cell's state as the tag records it; any other (e.g. "") needs a run.
COMPLETE = "complete"
ACTIVE = "active"  # pending or running on an engine: never started twice


@dataclass(frozen=True)
class RecordedSetup:
    """One setup the tag recorded, and where."""

    where: str  # for messages: "RS-0 (complete)", "Slurm job 123", "SageMaker job NAME"
    values: Mapping[str, Any]  # under ExperimentSetup.comparable()'s keys; missing keys are not compared
    # False: its master seed counts, its setup does not bind the tag (a run that failed or
    # was interrupted: resuming it checks its setup, see local/resume.py).
    binding: bool = True

    @property
    def master_seed(self) -> Optional[int]:
        seed = self.values.get("random_seed_master")
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


class TagRecords(Protocol):
    """What one engine knows of an experiment tag."""

    def recorded(self) -> list[RecordedSetup]:
        """Every setup the tag recorded, the most authoritative first (its master seed wins)."""
        ...

    def states(self, cells: Sequence[Cell]) -> dict[Cell, str]:
        """COMPLETE, ACTIVE, or another word (a run is needed) for each of `cells`."""
        ...


def master_seed(records: TagRecords) -> Optional[int]:
    """The master seed the tag's runs already use, if any."""
    return next((r.master_seed for r in records.recorded() if r.master_seed is not None), None)


class NoRecords:
    """A tag nothing was recorded for (a dry run, which asks no engine)."""

    def recorded(self) -> list[RecordedSetup]:
        return []

    def states(self, cells: Sequence[Cell]) -> dict[Cell, str]:
        return {cell: "" for cell in cells}


class RunsOnDisk:
    """The runs under RESULTS_ROOT/TAG/: complete ones bind the tag's setup."""

    def __init__(self, results_root: Path, experiment_tag: str):
        self.results_root = results_root
        self.experiment_tag = experiment_tag

    def recorded(self) -> list[RecordedSetup]:
        tag_dir = self.results_root / self.experiment_tag
        if not tag_dir.is_dir():
            return []
        found = []
        for run_dir in sorted(p for p in tag_dir.iterdir() if p.is_dir()):
            for tuner_dir in layout.tuner_dirs(run_dir):
                metadata = layout.read_metadata(tuner_dir)
                if metadata is None:
                    continue
                status = metadata.get(layout.STATUS_KEY)
                found.append(
                    RecordedSetup(
                        f"{run_dir.name} ({status or 'no status'})", metadata, status == layout.STATUS_COMPLETE
                    )
                )
        return found

    def states(self, cells: Sequence[Cell]) -> dict[Cell, str]:
        return {cell: COMPLETE if self.complete(cell) else "" for cell in cells}

    def complete(self, cell: Cell) -> bool:
        folder = layout.run_dir(self.results_root, self.experiment_tag, layout.run_name(*cell))
        return layout.completed_tuner_dir(folder) is not None
