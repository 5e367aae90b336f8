"""The fork server's request loop: a warm process that forks one child per trial.

Run as `python server.py SCRIPT`. The server imports what every run of the
training script imports once (`imports.py`), then answers the client's requests
on stdin with replies on stdout, one message a line (`protocol.py`): `Ready` once
warm (or `Fatal`), then for each `Start` a `Started` once forked and an `Exited`
once reaped; `Kill` ends a run's whole process tree; `Log` moves the server's own
log (a server kept warm for the launch's next run logs into that run's folder). A request of another kind or
shape ends the server, with the reason as the last line of its log.
What a child does is `child.py`'s; how a kill reaches a trial's whole process
tree is `process_tree.py`'s.

The server never touches CUDA: `CUDA_VISIBLE_DEVICES` is set in each child
before the script runs, and a CUDA context made before fork() is unusable in
the children. When stdin closes (the tuner exited, however it died) or on
SIGTERM, the server kills every trial's process group, reaps them and exits.

The server and its sibling modules need only the standard library: the client
may start it with another interpreter than hpobench's (the back-end's `binary`).
"""

from __future__ import annotations

import gc
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Optional

if not __package__:
    # Run as a file (`python server.py SCRIPT`), maybe by an interpreter without hpobench:
    # the sibling modules load as a package of their own, under a name no trial's module
    # has. By their plain names (`child`, `imports`) they would shadow a trial's modules.
    import importlib.machinery
    import importlib.util

    _package = importlib.machinery.ModuleSpec("_hpobench_forkserver", None, is_package=True)
    _package.submodule_search_locations = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules[_package.name] = importlib.util.module_from_spec(_package)
    __package__ = _package.name

from .child import SETUP_FAILED, redirect, run_child
from .imports import LEARN_VARIABLE, cuda_initialized, import_quietly, learnable, preimport
from .process_tree import become_subreaper, kill_group, kill_tree
from .protocol import (
    Exited,
    Fatal,
    Kill,
    Log,
    ProtocolError,
    Ready,
    Reply,
    Request,
    Retired,
    Start,
    Started,
    TornLine,
    decode_request,
    encode,
)


class Server:
    """The request loop: fork a child on `Start`, kill its process tree on `Kill`, report exits,
    move the log on `Log`."""

    def __init__(self, script: Path, requests: int, replies: int):
        self.script = script
        self.requests = requests
        self.replies = replies
        self.children: dict[int, int] = {}  # pid -> run
        self.pids: dict[int, int] = {}  # run -> pid, while alive
        self.buffer = b""
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_write, False)
        # Children report here the modules they imported that the server lacks
        # (lazy imports inside libraries); the server imports them while idle.
        self.learn_read, self.learn_write = os.pipe()
        self.learned = b""
        self.to_learn: list[str] = []
        self.learn = os.environ.get(LEARN_VARIABLE, "0") == "1"
        self.retired = False

    def serve(self) -> None:
        """Answer requests until stdin closes or SIGTERM arrives; then kill every trial."""
        signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake select() through the fd
        signal.set_wakeup_fd(self.wake_write)
        try:
            while self._step():
                pass
        finally:
            self.kill_all()

    def _step(self) -> bool:
        idle_wait = 0.0 if self.to_learn else 1.0
        ready, _, _ = select.select([self.requests, self.wake_read, self.learn_read], [], [], idle_wait)
        if self.wake_read in ready:
            os.read(self.wake_read, 4096)
        if self.learn_read in ready:
            self._collect_learned()
        self._reap()
        if self.requests not in ready:
            if self.to_learn:  # no request waits: a good moment for a slow import
                self._learn_one()
            return True
        chunk = os.read(self.requests, 65536)
        if not chunk:
            return False  # the tuner is gone
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            try:
                request = decode_request(line)
            except TornLine as torn:  # a request cut short by Ctrl-C in the tuner
                print(f"fork server: skipped {torn}", file=sys.stderr, flush=True)
                continue
            self._handle(request)
        return True

    def _collect_learned(self) -> None:
        self.learned += os.read(self.learn_read, 65536)
        *lines, self.learned = self.learned.split(b"\n")
        for line in lines:
            name = line.decode(errors="replace").strip()
            if (
                self.learn
                and not self.retired
                and learnable(name)
                and name not in sys.modules
                and name not in self.to_learn
            ):
                self.to_learn.append(name)

    def _learn_one(self) -> None:
        name = self.to_learn.pop(0)
        import_quietly([name], self.script.resolve().parent, sys.stderr)
        gc.freeze()
        if cuda_initialized():
            # Children forked from now on could not use CUDA. Running trials are
            # fine; the client starts a fresh server that learns nothing.
            print(f"fork server: importing {name} initialised CUDA; retiring", file=sys.stderr, flush=True)
            self.retired = True
            self.to_learn.clear()
            self._reply(Retired(name))

    def _handle(self, request: Request) -> None:
        if isinstance(request, Log):
            for stream in (sys.stdout, sys.stderr):
                stream.flush()  # what was said so far stays in the previous log
            try:
                redirect(2, request.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            except OSError as error:  # a full disk, a folder gone: the trials need no log of ours
                print(f"fork server: cannot log to {request.path} ({error}); logging here", file=sys.stderr, flush=True)
                return
            os.dup2(2, 1)
            return
        run = request.run
        if isinstance(request, Start):
            if self.retired:
                self._reply(Exited(run, SETUP_FAILED, "fork server retired"))
                return
            try:
                pid = self._fork(request)
            except OSError as error:  # out of processes or memory
                self._reply(Exited(run, SETUP_FAILED, f"fork failed: {error}"))
                return
            self.children[pid] = run
            self.pids[run] = pid
            self._reply(Started(run, pid))
        elif isinstance(request, Kill):
            target = self.pids.get(run)
            if target is not None:
                kill_tree(target)

    def _fork(self, request: Start) -> int:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child would write the server's buffered text again
        pid = os.fork()
        if pid == 0:  # the trial
            code = SETUP_FAILED
            try:
                inherited = (self.requests, self.replies, self.wake_read, self.wake_write, self.learn_read)
                code = run_child(self.script, request, inherited, self.learn_write)
            finally:
                os._exit(code)
        try:
            os.setpgid(pid, pid)  # also here, so a kill right after fork reaches the group
        except OSError:
            pass  # the child did it first, or already exited
        return pid

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            run = self.children.pop(pid, None)
            if run is None:
                continue
            self.pids.pop(run, None)
            self._reply(Exited(run, os.waitstatus_to_exitcode(status)))

    def _reply(self, message: Reply) -> None:
        try:
            os.write(self.replies, encode(message))
        except BrokenPipeError:
            pass  # the tuner is gone; stdin's EOF ends the loop

    def kill_all(self) -> None:
        """Kill every trial's process group and reap them, so nothing outlives the server."""
        # Every descendant (the trials, theirs, orphans re-parented to the server), found
        # before any is killed; then each trial's group again, in case /proc is unreadable.
        kill_tree(os.getpid(), include_root=False)
        for pid in list(self.children):
            kill_group(pid)
        deadline = time.monotonic() + 10.0
        while self.children and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            run = self.children.pop(pid, None)
            if run is not None:
                self.pids.pop(run, None)
                self._reply(Exited(run, os.waitstatus_to_exitcode(status)))


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: pre-import, then serve requests from stdin until it closes."""
    args = sys.argv[1:] if argv is None else argv
    script = Path(args[0])
    # Requests and replies get their own descriptors; 0 and 1 become harmless, so
    # a stray print() during pre-import cannot corrupt the protocol.
    requests, replies = os.dup(0), os.dup(1)
    redirect(0, os.devnull, os.O_RDONLY)
    os.dup2(2, 1)
    # Ctrl-C reaches the whole terminal group; the tuner decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Keep torch.cuda.is_available(), if an import calls it, from initialising CUDA.
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"
    sys.path[0] = str(script.resolve().parent)
    imported = preimport(script, sys.stderr)
    if cuda_initialized():
        message = "an import of the training script initialised CUDA; use --backend stock"
        os.write(replies, encode(Fatal(message)))
        sys.exit(1)
    # Objects imported so far live as long as the server: keeping the collector
    # off them spares each child from touching (and so copying) their pages.
    gc.freeze()
    os.write(replies, encode(Ready(imported)))
    become_subreaper()
    code = 0
    try:
        Server(script, requests, replies).serve()
    except ProtocolError as error:  # the client speaks otherwise: a bug, its trials are killed
        print(f"fork server: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        # Every trial is reaped; tearing down torch & co. would only keep the tuner waiting.
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
