"""What a run leaves in its tuner folder when it ends, even on a disk that filled up.

A run writes for as long as it runs (trial logs, checkpoints, results), so a disk
can fill up under it. Its end must still be recorded, or `status` would show a
run that failed as `running` (or `stale`), and a metadata.json that Syne Tune was
rewriting when the disk filled would be cut short. So each run sets aside
RESERVE_BYTES beside its trials' folders when it starts and frees them at its end,
just before writing its status, its results file and its metadata (from the copy
in memory when the file on disk is cut short).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import first_line
from hpobench.results import layout

logger = logging.getLogger(__name__)

RESERVE_FILE = ".hpobench-reserve"
# Room for metadata.json (a few KB) and a results file of some thousand rows.
RESERVE_BYTES = 512 * 1024
FULL_DISK_ERRORS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
# What `status` and `results` need of metadata.json to name a run and read its results.
ESSENTIAL = (
    "benchmark",
    "method",
    "seed",
    "experiment_tag",
    "metric",
    "mode",
    "resource_attr",
    "max_wallclock_time",
    "random_seed_master",
)


def reserve(folder: Path) -> None:
    """Set RESERVE_BYTES aside in `folder`: an OSError if the disk is full already;
    none under a file-size limit (RLIMIT_FSIZE: space there is, only not in one file)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with open(folder / RESERVE_FILE, "wb") as handle:
            handle.write(bytes(RESERVE_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        (folder / RESERVE_FILE).unlink(missing_ok=True)
        if error.errno != errno.EFBIG:
            raise


def abandon(folder: Path) -> None:
    """Remove what `reserve` made for a run that could not start (`folder` and its parent, if empty)."""
    (folder / RESERVE_FILE).unlink(missing_ok=True)
    for empty in (folder, folder.parent):
        try:
            empty.rmdir()
        except OSError:  # not empty: earlier runs of this (method, seed) are there
            return


def disk_full(error: BaseException, results_root: Path) -> Optional[str]:
    """The reason, if `error` comes from a full disk under `results_root`: an OSError saying so
    anywhere in its chain, or any error while less than the reserve is free there (Syne Tune
    then fails on what it could not write, e.g. `could not convert string to float: ''`)."""
    seen: Optional[BaseException] = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in FULL_DISK_ERRORS:
            return seen.strerror or os.strerror(seen.errno)
        seen = seen.__cause__ or seen.__context__
    try:
        free = shutil.disk_usage(results_root).free
    except OSError:
        return None
    return f"{os.strerror(errno.ENOSPC)}: {free} bytes free" if free < RESERVE_BYTES else None


def describe_error(error: Exception, results_root: Path) -> str:
    """The tuner's error in one line; a full disk names the folder and the fix."""
    full = disk_full(error, results_root)
    if full is not None:
        return f"cannot write under {results_root} ({full}); free some space or pass another --results-root"
    return first_line(error)


def finish(
    tuner_dir: Path,
    status: str,
    started: float,
    best: Optional[float],
    error: str = "",
    metadata: Optional[dict[str, Any]] = None,
    results: Any = None,
    spare: Optional[Path] = None,
    **counts: Any,
) -> None:
    """Record how the run ended: free the reserve (in `spare`, default the tuner folder), then
    write the results (`results`: the results callback, whose rows are in memory) and
    metadata.json with the status.

    `metadata` is the tuner's own copy, written whole when the file is missing or was cut short."""
    ((spare or tuner_dir) / RESERVE_FILE).unlink(missing_ok=True)
    entries: dict[str, Any] = {
        layout.STATUS_KEY: status,
        "hpobench_wallclock_time": time.time() - started,
        "hpobench_best": best,
        **counts,
    }
    if error:
        entries["hpobench_error"] = error
    recorded = layout.read_metadata(tuner_dir)
    if recorded is None and metadata is None:
        return  # the tuner stopped before it wrote anything
    whole = {**(recorded if recorded is not None else metadata or {}), **entries}
    if results is not None and status == layout.STATUS_FAILED:
        try:
            results.store_results()  # the file the full disk may have cut short, whole again
        except OSError as failure:
            logger.warning("could not write the results of %s again: %s", tuner_dir, failure)
    # Whole, else what `status` needs to name the run and its end (a few hundred bytes).
    for data in (whole, {k: v for k, v in whole.items() if k in ESSENTIAL or k in entries}):
        try:
            layout.write_metadata(tuner_dir, data)
            return
        except OSError as failure:
            reason = failure
    logger.warning("could not record status %s in %s: %s", status, tuner_dir, reason)
