"""Killing a trial's whole process tree, and adopting orphans so that none escapes.

A kill reaches the trial's whole process tree, as with Syne Tune's stock
back-end: its process group, and every descendant found through /proc, also
those that started their own session. The server is a child subreaper, so
descendants whose parent died are still found below it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Optional

# Orphaned descendants of trials are re-parented to the server rather than to
# init, so the server still finds (and kills) them: Linux 3.4+.
PR_SET_CHILD_SUBREAPER = 36
# Rounds of "list the tree, kill it": a process forking while we kill gets caught next round.
KILL_ROUNDS = 3


def kill_tree(pid: int, include_root: bool = True) -> None:
    """SIGKILL `pid`'s process group and every descendant of `pid`, in any session."""
    for _ in range(KILL_ROUNDS):
        tree = descendants(pid)
        if include_root:
            kill_group(pid)
        for member in tree:
            kill_group(member)
        if not tree:
            return


def descendants(pid: int, children: Optional[dict[int, list[int]]] = None) -> list[int]:
    """Every process below `pid` (children, their children, ...), from /proc (or from
    `children`, a `children_map` read once for several look-ups)."""
    if children is None:
        children = children_map()
    found: list[int] = []
    pending = list(children.get(pid, []))
    while pending:
        member = pending.pop()
        found.append(member)
        pending.extend(children.get(member, []))
    return found


def children_map() -> dict[int, list[int]]:
    """Each process's children, from one pass over /proc; empty without /proc."""
    children: dict[int, list[int]] = {}
    try:
        entries = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return children  # no /proc: only the process group is killed
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(entry)
    return children


def kill_group(pid: int) -> None:
    """SIGKILL `pid`'s process group, or `pid` alone while it leads none."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            continue  # not a group leader yet (killed before setpgid): kill the process


def become_subreaper() -> None:
    """Adopt the orphans of trials (Linux), so `kill_tree` still finds them."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
