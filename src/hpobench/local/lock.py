"""One run-local per experiment tag at a time, and one launcher per (method, seed).

Two launchers on one tag would run the same (method, seed) twice, with different
master seeds. A Slurm cell runs one (method, seed) of a tag whose master seed
the launch fixed, beside the tag's other cells: it holds only its run's lock,
which run-local takes too, run by run. The locks are OS file locks (`filelock`),
so they are released however their holder ends, `kill -9` included; the
holder's identity is written next to each so that the refused command can name it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from hpobench.errors import RunError
from hpobench.processes import current_process, describe_process

LOCK_FILE = ".hpobench.lock"
HOLDER_FILE = ".hpobench.lock.holder.json"
# The (method, seed) locks of a tag: RESULTS_ROOT/TAG/.locks/METHOD-SEED.lock
RUN_LOCKS = ".locks"


@contextlib.contextmanager
def experiment_lock(results_root: Path, experiment_tag: str) -> Iterator[None]:
    """Hold the tag's lock while the block runs; a RunError naming the holder if taken."""
    folder = results_root / experiment_tag
    refusal = (
        f"Experiment {experiment_tag!r} under {results_root} is being run by another "
        "hpobench ({holder}); wait for it to end, or pass another --experiment-tag"
    )
    with _held(folder, LOCK_FILE, HOLDER_FILE, refusal, remove_if_unused=not folder.exists()):
        yield


@contextlib.contextmanager
def run_lock(results_root: Path, experiment_tag: str, run_name: str) -> Iterator[None]:
    """Hold one (method, seed)'s lock while the block runs; a RunError naming the holder."""
    folder = results_root / experiment_tag / RUN_LOCKS
    refusal = (
        f"{run_name} of experiment {experiment_tag!r} is being run by another hpobench ({{holder}}); wait for it to end"
    )
    with _held(folder, f"{run_name}.lock", f"{run_name}.holder.json", refusal):
        yield


@contextlib.contextmanager
def _held(
    folder: Path, lock_name: str, holder_name: str, refusal: str, remove_if_unused: bool = False
) -> Iterator[None]:
    """`remove_if_unused`: the folder is new; if it holds nothing but the lock when the block
    ends (a launch refused before anything ran), it is removed, while still locked."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / lock_name), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = describe_process(_read_holder(folder / holder_name))
        raise RunError(refusal.format(holder=holder)) from None
    holder_file = folder / holder_name
    try:
        try:
            holder_file.write_text(json.dumps(current_process()))
        except OSError:
            pass  # a full disk: the lock holds all the same, only unnamed
        yield
    finally:
        holder_file.unlink(missing_ok=True)
        if remove_if_unused and {p.name for p in folder.iterdir()} <= {lock_name}:
            # Removed before the release: a launcher that opens the old file meanwhile is
            # refused as if it were held; one that comes later makes a new folder and lock.
            (folder / lock_name).unlink(missing_ok=True)
            folder.rmdir()
        lock.release()


def _read_holder(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # the holder is starting or ending right now
