"""The results layout on disk, shared by every command that reads or writes it.

    {results_root}/{experiment_tag}/{method}-{seed}/{experiment_tag}-{benchmark}-{seed}-{timestamp}/
        results.csv.zip  metadata.json  tuner.dill  <trial_id>/...

Syne Tune writes the tuner folder; hpobench adds its own keys to metadata.json,
among them `hpobench_status`, which says whether the run completed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional

METADATA_FILE = "metadata.json"
RESULTS_FILE = "results.csv.zip"
STATUS_KEY = "hpobench_status"
STATUS_RUNNING = "running"
STATUS_COMPLETE = "complete"
STATUS_INTERRUPTED = "interrupted"
STATUS_FAILED = "failed"
# Not written by anyone: `running` in metadata.json, but the launcher's process is gone.
STATUS_STALE = "stale"
PROCESS_KEY = "hpobench_process"  # host, pid and start time of the launcher
# How many trials a run started and how many of them failed, written when it ends.
TRIALS_STARTED_KEY = "hpobench_trials_started"
TRIALS_FAILED_KEY = "hpobench_trials_failed"
# What a run in simulated time replayed (tables/simulated.py): the table, its manifest and
# hash, the surrogate, who wrote the table. The fidelity report reads it.
SIMULATED_KEY = "hpobench_simulated"
TUNER_FILE = "tuner.dill"  # Syne Tune's pickled tuner: what a run resumes from
# The run's active time (seconds of budget spent), rewritten every second while it runs,
# so a run killed without warning still knows how much of its budget it had used.
CLOCK_FILE = ".hpobench-clock"
# A simulated run's table: {"table": path, "manifest_sha256": str|None, "manifest": {...}|None,
# "surrogate": str|None, "source": "hpobench"|"syne-tune"}; absent from real runs.
SIMULATED_KEY = "hpobench_simulated"


def run_name(method: str, seed: int) -> str:
    """The folder name of one (method, seed) run, ``{method}-{seed}``."""
    return f"{method}-{seed}"


def split_run_name(name: str) -> Optional[tuple[str, int]]:
    """``{method}-{seed}`` -> (method, seed), split at the last dash since method names
    may contain dashes (``ASHA-STOP-3``); None for any other name."""
    method, sep, seed_text = name.rpartition("-")
    if not sep or not method or not seed_text.isdigit():
        return None
    return method, int(seed_text)


def run_dir(results_root: Path, experiment_tag: str, run_name: str) -> Path:
    """The folder of one (method, seed) run: ``{root}/{tag}/{method}-{seed}``."""
    return results_root / experiment_tag / run_name


def tuner_name(experiment_tag: str, benchmark: str, method: str, seed: int, now: Optional[float] = None) -> str:
    """The tuner's name, timestamp included, relative to the results root.

    Syne Tune's own suffixing would cut the whole name to 63 characters, dropping
    the seed or more of the folder name for any but the shortest tags, so the
    timestamp (in Syne Tune's format) is added here instead.
    """
    moment = time.time() if now is None else now
    milliseconds = int(moment * 1000) % 1000
    timestamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(moment)) + f"-{milliseconds:03d}"
    return f"{experiment_tag}/{run_name(method, seed)}/{experiment_tag}-{benchmark}-{seed}-{timestamp}"


def tuner_dirs(path: Path) -> list[Path]:
    """The timestamped tuner folders of a run folder, oldest first."""
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_dir())


def read_metadata(tuner_dir: Path) -> Optional[dict[str, Any]]:
    """The tuner folder's metadata.json, or None if it is missing or unreadable."""
    try:
        with (tuner_dir / METADATA_FILE).open() as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def update_metadata(tuner_dir: Path, **entries: Any) -> None:
    """Add entries to metadata.json, replacing the file atomically."""
    write_metadata(tuner_dir, {**(read_metadata(tuner_dir) or {}), **entries})


def write_metadata(tuner_dir: Path, data: dict[str, Any]) -> None:
    """Write metadata.json whole, replacing the file atomically."""
    tmp = tuner_dir / (METADATA_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, tuner_dir / METADATA_FILE)


def write_clock(tuner_dir: Path, spent: float) -> None:
    """Record that `spent` seconds of the run's budget are used, now (atomically)."""
    tmp = tuner_dir / (CLOCK_FILE + ".tmp")
    tmp.write_text(json.dumps({"spent": spent, "at": time.time()}))
    os.replace(tmp, tuner_dir / CLOCK_FILE)


def read_clock(tuner_dir: Path) -> Optional[tuple[float, float]]:
    """(seconds of budget spent, wall-clock time when that was recorded), if recorded."""
    try:
        data = json.loads((tuner_dir / CLOCK_FILE).read_text())
        return float(data["spent"]), float(data["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def budget_spent(tuner_dir: Path, metadata: dict[str, Any]) -> float:
    """Seconds of its budget a run used: its clock, else what its end recorded, else 0."""
    from hpobench.results.record import RunRecord

    clock = read_clock(tuner_dir)
    ended = RunRecord.from_metadata(metadata).wallclock_used or 0.0
    return max(clock[0] if clock else 0.0, ended)


def completed_tuner_dir(path: Path) -> Optional[Path]:
    """The newest tuner folder of a run folder that completed, if any."""
    for tuner_dir in reversed(tuner_dirs(path)):
        metadata = read_metadata(tuner_dir)
        if metadata and metadata.get(STATUS_KEY) == STATUS_COMPLETE:
            return tuner_dir
    return None
