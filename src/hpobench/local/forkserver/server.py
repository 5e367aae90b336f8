"""A warm process that forks one child per trial: `python server.py SCRIPT`.

The server imports what every run of the training script imports (torch,
numpy, syne_tune, ...; see `script_imports` for the exact rule) once, then waits
for requests on stdin, one JSON object per line:

    {"op": "start", "run": 3, "argv": [...], "env": {...}, "cwd": "...",
     "stdout": ".../std.out", "stderr": ".../std.err"}
    {"op": "kill", "run": 3}

and answers on stdout, one JSON object per line: `{"ready": [modules]}` once
warm (or `{"fatal": why}`), `{"run": 3, "pid": 1234}` once forked, and
`{"run": 3, "exit": 0}` once reaped (negative: killed by that signal).
Each child puts itself in its own process group, asks to be killed when the
server dies, takes the trial's environment, argv, working directory and log
files, re-seeds the random generators it inherited, and runs the unmodified
script as `__main__`.

The server never touches CUDA: `CUDA_VISIBLE_DEVICES` is set in each child
before the script runs, and a CUDA context made before fork() is unusable in
the children. When stdin closes (the tuner exited, however it died) or on
SIGTERM, the server kills every trial's process group, reaps them and exits.

A kill reaches the trial's whole process tree, as with Syne Tune's stock
back-end: its process group, and every descendant found through /proc, also
those that started their own session. The server is a child subreaper, so
descendants whose parent died are still found below it.
"""

from __future__ import annotations

import ast
import ctypes
import gc
import importlib
import json
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any, Optional

PR_SET_PDEATHSIG = 1
# Orphaned descendants of trials are re-parented to the server rather than to
# init, so the server still finds (and kills) them: Linux 3.4+.
PR_SET_CHILD_SUBREAPER = 36
# Rounds of "list the tree, kill it": a process forking while we kill gets caught next round.
KILL_ROUNDS = 3
# Modules that libraries import lazily on first use, at a cost each trial would
# pay again: torch's optimizers pull in torch._dynamo (seconds) on construction.
LAZY_IMPORTS = {"torch": ("torch.optim", "torch._dynamo")}
# A child's report of the modules it imported is written in pieces below
# PIPE_BUF, so reports of children exiting together never interleave mid-line.
LEARN_CHUNK = 3072
# "1" turns on learning the modules trials import at run time (see `Server`). Off
# by default: a module one trial imported would be imported, with its import-time
# side effects, into every later trial.
LEARN_VARIABLE = "HPOBENCH_FORK_SERVER_LEARN"
# Not learned from trials: their import may open the GPU (see `_learnable`).
GPU_MODULES = {"triton", "_inductor", "cudnn", "nccl", "cupy", "jax", "jaxlib", "pynvml"}
# Exit code of a child whose set-up (log files, working directory) failed.
SETUP_FAILED = 1


def script_imports(script: Path) -> list[str]:
    """Absolute modules every run of the script imports: import statements at top
    level or inside functions, but not under an `if` or `match` (only some runs
    take that branch; `if __name__ == "__main__":` counts as taken)."""
    try:
        tree = ast.parse(script.read_bytes(), filename=str(script))
    except (OSError, SyntaxError, ValueError):
        return []  # the trial itself will report the error
    names: list[str] = []
    for node in _unconditional_nodes(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            # `from torch import nn` may name a submodule; importing it is cheap if not.
            names += [f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"]
    return list(dict.fromkeys(names))


def _unconditional_nodes(node: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.If, ast.Match, ast.IfExp)) and not _is_main_guard(child):
            continue
        found.append(child)
        found += _unconditional_nodes(child)
    return found


def _is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":` - always taken when the script runs."""
    test = getattr(node, "test", None)
    return (
        isinstance(node, ast.If)
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def preimport(script: Path, log: Any) -> list[str]:
    """Import the script's third-party modules; returns those imported.

    Modules next to the script or beside its folder are left out: they are the
    trial's own code and must be imported fresh by each trial, as a new process would.
    """
    names = script_imports(script)
    names += [lazy for name in names for lazy in LAZY_IMPORTS.get(name, ())]
    return import_quietly(names, script.resolve().parent, log)


def import_quietly(names: list[str], local_dir: Path, log: Any) -> list[str]:
    """Import what can be imported of `names`, leaving out the script's own modules."""
    imported = []
    for name in names:
        if name in ("__future__", "__main__") or _is_local(name, local_dir):
            continue
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as error:  # a trial reports its own import errors
            if "." not in name:
                print(f"fork server: could not pre-import {name}: {error!r}", file=log, flush=True)
    return imported


def _learnable(name: str) -> bool:
    """Modules a trial imported that the server may import too: not GPU runtimes,
    whose import may touch the device, and not the trial's own `__main__`."""
    parts = name.lower().split(".")
    return not any(part in GPU_MODULES or "cuda" in part for part in parts) and parts[0] != "__main__"


def _is_local(name: str, local_dir: Path) -> bool:
    """A module of the trial's own code: next to the script, or beside its folder (where
    hpobench's built-in scripts find trial_support.py)."""
    top = name.split(".")[0]
    return any(
        (folder / f"{top}.py").exists() or (folder / top / "__init__.py").exists()
        for folder in (local_dir, local_dir.parent)
    )


def cuda_initialized() -> bool:
    """Whether something imported so far initialised CUDA (forked children could not use it)."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    try:
        return bool(cuda is not None and cuda.is_initialized())
    except Exception:  # a broken torch is the trial's problem
        return False


class Server:
    """The request loop: fork on `start`, kill a process group on `kill`, report exits."""

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
                request = json.loads(line)
            except ValueError:
                continue  # a request cut short by Ctrl-C in the tuner
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
                and _learnable(name)
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
            self._reply({"retired": name})

    def _handle(self, request: dict[str, Any]) -> None:
        run = int(request["run"])
        if request["op"] == "start":
            if self.retired:
                self._reply({"run": run, "exit": SETUP_FAILED, "error": "fork server retired"})
                return
            try:
                pid = self._fork(request)
            except OSError as error:  # out of processes or memory
                self._reply({"run": run, "exit": SETUP_FAILED, "error": f"fork failed: {error}"})
                return
            self.children[pid] = run
            self.pids[run] = pid
            self._reply({"run": run, "pid": pid})
        elif request["op"] == "kill":
            target = self.pids.get(run)
            if target is not None:
                kill_tree(target)

    def _fork(self, request: dict[str, Any]) -> int:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child would write the server's buffered text again
        pid = os.fork()
        if pid == 0:  # the trial
            code = SETUP_FAILED
            try:
                code = self._run_child(request)
            finally:
                os._exit(code)
        try:
            os.setpgid(pid, pid)  # also here, so a kill right after fork reaches the group
        except OSError:
            pass  # the child did it first, or already exited
        return pid

    def _run_child(self, request: dict[str, Any]) -> int:
        os.setpgid(0, 0)
        _die_with_parent(signal.SIGKILL)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in (self.requests, self.replies, self.wake_read, self.wake_write, self.learn_read):
            os.close(fd)
        try:
            _redirect(0, os.devnull, os.O_RDONLY)
            _redirect(1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            _redirect(2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.environ.clear()
            os.environ.update(request["env"])
            os.chdir(request["cwd"])
        except OSError as error:
            print(f"hpobench fork server: cannot start trial: {error}", file=sys.stderr, flush=True)
            return SETUP_FAILED
        _reseed_random_generators()
        known = set(sys.modules)
        code = run_script(self.script, request["argv"])
        _report_new_modules(known, self.learn_write)
        return code

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
            self._reply({"run": run, "exit": os.waitstatus_to_exitcode(status)})

    def _reply(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        try:
            os.write(self.replies, data)
        except BrokenPipeError:
            pass  # the tuner is gone; stdin's EOF ends the loop

    def kill_all(self) -> None:
        """Kill every trial's process group and reap them, so nothing outlives the server."""
        # Every descendant (the trials, theirs, orphans re-parented to the server), found
        # before any is killed; then each trial's group again, in case /proc is unreadable.
        kill_tree(os.getpid(), include_root=False)
        for pid in list(self.children):
            _kill_group(pid)
        deadline = time.monotonic() + 10.0
        while self.children and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            run = self.children.pop(pid, None)
            if run is not None:
                self.pids.pop(run, None)
                self._reply({"run": run, "exit": os.waitstatus_to_exitcode(status)})


def run_script(script: Path, argv: list[str]) -> int:
    """Run `script` as `__main__` with `argv`, as `python script args` would; returns the exit code."""
    import runpy
    import traceback

    sys.argv = [str(script), *argv]
    # `python script.py` puts the script's folder first on sys.path.
    sys.path[0] = str(script.resolve().parent)
    code = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except BaseException:  # printed as the interpreter does
        traceback.print_exc()
        code = 1
    code = _finalize(code)
    return code


def _finalize(code: int) -> int:
    """What the interpreter does at exit: join threads, run atexit hooks, flush."""
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]  # waits for non-daemon threads
    except Exception:
        pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed stream, as at interpreter exit
            pass
    return code


def _report_new_modules(known: set[str], learn_write: int) -> None:
    """Tell the server which modules this trial imported that it had not (best effort)."""
    new = [
        name for name, module in list(sys.modules.items()) if name not in known and getattr(module, "__file__", None)
    ]
    chunk = ""
    for name in [*new, ""]:
        if chunk and (not name or len(chunk) + len(name) + 1 > LEARN_CHUNK):
            try:
                os.write(learn_write, chunk.encode())
            except OSError:
                return
            chunk = ""
        if name:
            chunk += name + "\n"


def _exit_code(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)  # sys.exit("message") prints the message, exits 1
    return 1


def _redirect(fd: int, path: str, flags: int) -> None:
    opened = os.open(path, flags, 0o644)
    os.dup2(opened, fd)
    os.close(opened)


def kill_tree(pid: int, include_root: bool = True) -> None:
    """SIGKILL `pid`'s process group and every descendant of `pid`, in any session."""
    for _ in range(KILL_ROUNDS):
        tree = descendants(pid)
        if include_root:
            _kill_group(pid)
        for member in tree:
            _kill_group(member)
        if not tree:
            return


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    try:
        entries = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []  # no /proc: only the process group is killed
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(entry)
    found: list[int] = []
    pending = list(children.get(pid, []))
    while pending:
        member = pending.pop()
        found.append(member)
        pending.extend(children.get(member, []))
    return found


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            continue  # not a group leader yet (killed before setpgid): kill the process


def _become_subreaper() -> None:
    """Adopt the orphans of trials (Linux), so `kill_tree` still finds them."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _die_with_parent(signum: int) -> None:
    """Ask Linux to kill this process when its parent (the server) dies."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the server died before prctl took effect
        os._exit(SETUP_FAILED)


def _reseed_random_generators() -> None:
    """A new process draws fresh seeds; forked children would all share the server's."""
    import random

    random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: pre-import, then serve requests from stdin until it closes."""
    args = sys.argv[1:] if argv is None else argv
    script = Path(args[0])
    # Requests and replies get their own descriptors; 0 and 1 become harmless, so
    # a stray print() during pre-import cannot corrupt the protocol.
    requests, replies = os.dup(0), os.dup(1)
    _redirect(0, os.devnull, os.O_RDONLY)
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
        os.write(replies, (json.dumps({"fatal": message}) + "\n").encode())
        sys.exit(1)
    # Objects imported so far live as long as the server: keeping the collector
    # off them spares each child from touching (and so copying) their pages.
    gc.freeze()
    os.write(replies, (json.dumps({"ready": imported}) + "\n").encode())
    _become_subreaper()
    try:
        Server(script, requests, replies).serve()
    finally:
        # Every trial is reaped; tearing down torch & co. would only keep the tuner waiting.
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
