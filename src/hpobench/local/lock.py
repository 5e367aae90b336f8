"""One run-local per experiment tag at a time.

Two launchers on one tag would run the same (method, seed) twice, with different
master seeds. The lock is an OS file lock (`filelock`), so it is released
however its holder ends, `kill -9` included; the holder's identity is written
next to it so that the refused command can name it.
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


@contextlib.contextmanager
def experiment_lock(results_root: Path, experiment_tag: str) -> Iterator[None]:
    """Hold the tag's lock while the block runs; a RunError naming the holder if taken."""
    from filelock import FileLock, Timeout

    folder = results_root / experiment_tag
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RunError(
            f"Experiment {experiment_tag!r} under {results_root} is being run by another "
            f"hpobench ({describe_process(_read_holder(folder))}); wait for it to end, "
            "or pass another --experiment-tag"
        ) from None
    holder = folder / HOLDER_FILE
    try:
        try:
            holder.write_text(json.dumps(current_process()))
        except OSError:
            pass  # a full disk: the lock holds all the same, only unnamed
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _read_holder(folder: Path) -> object:
    try:
        return json.loads((folder / HOLDER_FILE).read_text())
    except (OSError, ValueError):
        return None  # the holder is starting or ending right now
