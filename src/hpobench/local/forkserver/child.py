"""What runs in a forked child: a trial's process group, files, environment, seeds and script.

Each child puts itself in its own process group, asks to be killed when the
server dies, takes the trial's environment, argv, working directory and log
files, re-seeds the random generators it inherited, and runs the unmodified
script as `__main__`, ending as the interpreter would.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path
from typing import Any

from .protocol import Start

PR_SET_PDEATHSIG = 1
# A child's report of the modules it imported is written in pieces below
# PIPE_BUF, so reports of children exiting together never interleave mid-line.
LEARN_CHUNK = 3072
# Exit code of a child whose set-up (log files, working directory) failed.
SETUP_FAILED = 1


def run_child(script: Path, request: Start, inherited: tuple[int, ...], learn_write: int) -> int:
    """Become the trial and run its script; returns its exit code.

    `inherited` are the server's own descriptors, closed here; the modules the trial
    imported are reported on `learn_write`.
    """
    os.setpgid(0, 0)
    _die_with_parent(signal.SIGKILL)
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in inherited:
        os.close(fd)
    try:
        redirect(0, os.devnull, os.O_RDONLY)
        redirect(1, request.stdout, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        redirect(2, request.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.environ.clear()
        os.environ.update(request.env)
        os.chdir(request.cwd)
    except OSError as error:
        print(f"hpobench fork server: cannot start trial: {error}", file=sys.stderr, flush=True)
        return SETUP_FAILED
    _reseed_random_generators()
    known = set(sys.modules)
    code = run_script(script, request.argv)
    _report_new_modules(known, learn_write)
    return code


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


def redirect(fd: int, path: str, flags: int) -> None:
    """Point descriptor `fd` at the file `path`, opened with `flags`."""
    opened = os.open(path, flags, 0o644)
    os.dup2(opened, fd)
    os.close(opened)


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
