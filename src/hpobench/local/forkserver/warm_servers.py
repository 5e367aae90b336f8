"""Fork servers kept warm from one run of a launch to the next.

A launch runs its (method, seed) runs one after another, each with the same training
script. A fresh fork server per run imports torch & co. again: seconds each time, more
than all the trials of a tiny run. `WarmServers` lives as long as the launch; a run's
back-end takes the server the previous run gave back when it was started for the same
script, by the same interpreter, under the same start-up environment, and then moves the
server's log into its own folder.

A process that makes many launches of the same scripts (a notebook; the test suite's
in-process launches) can keep the servers warm across all of them: inside
`kept_for_the_process()`, every launch takes its servers from the process's `WarmServers`
and leaves the idle ones there (`for_launch`); at a launch's end, a server it took and did
not give back (its run never reached its end) is closed all the same.

A server comes back only when it holds nothing of the run before: every trial of that run
has ended (the back-end stopped them; any left are killed here, or the server is closed),
and it does not learn imports from trials (with `HPOBENCH_FORK_SERVER_LEARN=1` a server
carries what one run's trials imported into the next run's, so each run gets its own). A
server that retired or died is closed, never given out again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Optional

from hpobench.local.forkserver.client import ForkServerClient, startup_environment

__all__ = ["WarmServers", "for_launch", "kept_for_the_process"]


class WarmServers:
    """The fork servers of one launch: handed from run to run, all closed when it ends."""

    def __init__(self) -> None:
        self._idle: list[ForkServerClient] = []
        self._in_use: list[ForkServerClient] = []  # given out and not given back

    def take(self, script: Path, python: str, env: dict[str, str], log_path: Path) -> Optional[ForkServerClient]:
        """An idle server for `script` run by `python` whose start-up environment is that
        of a trial with `env`, its log moved to `log_path`; None if there is none."""
        for client in list(self._idle):
            client.poll()
            if client.closed:  # died while idle
                self._idle.remove(client)
                continue
            if (
                client.script == script
                and client.python == python
                and (client.startup_environment == startup_environment(env))
            ):
                self._idle.remove(client)
                self._in_use.append(client)
                client.move_log(log_path)
                return client
        return None

    def track(self, client: ForkServerClient) -> ForkServerClient:
        """Count a server a back-end started as given out (closed at the launch's end unless given back)."""
        self._in_use.append(client)
        return client

    def give_back(self, client: ForkServerClient) -> None:
        """A run is done with `client`: keep it for the next run if it is clean, else close it."""
        if client in self._in_use:
            self._in_use.remove(client)
        for run in client.running():
            client.kill(run)
        if client.closed or client.retired or client.fatal or client.learns or client.running():
            client.close()
        elif client not in self._idle:
            self._idle.append(client)

    def end_launch(self) -> None:
        """Close the servers given out and not given back, with whatever trials they still run."""
        for client in self._in_use:
            client.close()
        self._in_use.clear()

    def close(self) -> None:
        """End every server and every trial one still runs."""
        self.end_launch()
        for client in self._idle:
            client.close()
        self._idle.clear()

    def __enter__(self) -> WarmServers:
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        self.close()


_KEPT: Optional[WarmServers] = None  # the process's servers, inside `kept_for_the_process`


@contextmanager
def kept_for_the_process() -> Iterator[WarmServers]:
    """Keep fork servers warm across the launches made inside this block; all end with it."""
    global _KEPT
    if _KEPT is not None:  # nested: the outer block keeps them
        yield _KEPT
        return
    _KEPT = WarmServers()
    try:
        yield _KEPT
    finally:
        kept, _KEPT = _KEPT, None
        kept.close()


@contextmanager
def for_launch() -> Iterator[WarmServers]:
    """The servers of one launch: the process's (see `kept_for_the_process`) or its own,
    closed when it ends; either way the launch's unreturned servers end with it."""
    if _KEPT is None:
        with WarmServers() as servers:
            yield servers
        return
    try:
        yield _KEPT
    finally:
        _KEPT.end_launch()
