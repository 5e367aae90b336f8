"""The tuner's end of a fork server (`server.py`): start it, send requests, read replies.

The server runs as `python server.py SCRIPT`; requests go to its stdin and replies
come from its stdout, one message of `protocol.py` a line.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, Optional

from hpobench.errors import last_line
from hpobench.local.forkserver.imports import LEARN_VARIABLE
from hpobench.local.forkserver.protocol import (
    Exited,
    Fatal,
    Kill,
    Log,
    Ready,
    Reply,
    Request,
    Retired,
    Start,
    Started,
    decode_reply,
    encode,
)

# Run by file name, like `python script.py`: the server needs only the standard
# library, and the trials' sys.path starts with the script's folder, not hpobench's.
SERVER_SCRIPT = Path(__file__).with_name("server.py")
SERVER_LOG = "fork-server.log"
# Exit code given to trials whose server died under them (as if SIGKILLed).
LOST = -9
# How long the server may take to kill and reap its trials when the tuner ends.
SHUTDOWN_TIMEOUT = 15.0
# SIGKILL takes effect in milliseconds; this only bounds a wait on a stuck server.
KILL_WAIT = 2.0


# Read by Python or by native libraries when they start or load, not later: a
# trial forked from a server started without them would silently ignore them.
STARTUP_VARIABLE_PREFIXES = ("PYTHON", "LD_", "OMP_", "MKL_", "OPENBLAS_")


def startup_environment(env: Any) -> dict[str, str]:
    """The variables of `env` that take effect only when an interpreter starts."""
    return {key: value for key, value in env.items() if key.startswith(STARTUP_VARIABLE_PREFIXES)}


def fork_server_supported() -> bool:
    """Fork servers need os.fork and prctl: Linux. (macOS frameworks are not fork-safe.)"""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkServerClient:
    """The tuner's end of one fork server: send requests, collect pids and exit codes."""

    def __init__(self, script: Path, log_path: Path, learn: bool = True, python: Optional[str] = None):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = open(log_path, "ab")
        self.log_path = log_path
        self.script = script
        self.python = python or sys.executable
        # Whether the server imports what trials import (see `imports.LEARN_VARIABLE`).
        self.learns = learn and os.environ.get(LEARN_VARIABLE, "0") == "1"
        self.process = subprocess.Popen(
            [self.python, str(SERVER_SCRIPT), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            # learn: as the user set HPOBENCH_FORK_SERVER_LEARN (off unless "1"); else off.
            env={**os.environ, **({} if learn else {LEARN_VARIABLE: "0"})},
        )
        self.startup_environment = startup_environment(os.environ)
        assert self.process.stdin is not None and self.process.stdout is not None
        self._requests = self.process.stdin
        self._replies = self.process.stdout.fileno()
        os.set_blocking(self._replies, False)
        self._buffer = b""
        self.exits: dict[int, int] = {}
        self.errors: dict[int, str] = {}
        self.pids: dict[int, int] = {}
        self.started: set[int] = set()
        self.fatal: Optional[str] = None
        self.retired = False
        self.closed = False
        self._runs = 0

    def new_run(self) -> int:
        """A number for the next trial, unused by this server so far (it may serve several back-ends)."""
        self._runs += 1
        return self._runs - 1

    def running(self) -> set[int]:
        """The runs started and not reported ended."""
        self.poll()
        return self.started - set(self.exits)

    def move_log(self, log_path: Path) -> None:
        """Have the server write its own output to `log_path` from now on."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._send(Log(str(log_path)))
        self.log_path = log_path

    def start(self, run: int, argv: list[str], env: dict[str, str], cwd: str, stdout: Path, stderr: Path) -> None:
        """Ask for a child running the script with `argv`; its exit code arrives later."""
        self.started.add(run)
        self._send(Start(run, argv, env, cwd, str(stdout), str(stderr)))

    def kill(self, run: int, wait: float = KILL_WAIT) -> None:
        """SIGKILL the run's process group and wait (briefly) until it is reaped.

        Waiting keeps a stopped trial from writing into a checkpoint folder that
        the tuner is about to delete or copy, as after the stock back-end's kill.
        """
        if run in self.exits:
            return
        self._send(Kill(run))
        deadline = time.monotonic() + wait
        while run not in self.exits and not self.closed and time.monotonic() < deadline:
            self.poll(0.01)

    def exit_code(self, run: int) -> Optional[int]:
        """The run's exit code, or None while it runs."""
        self.poll()
        return self.exits.get(run)

    def poll(self, timeout: float = 0.0) -> None:
        """Read whatever replies have arrived (waiting up to `timeout` for the first)."""
        if self.closed and self.process.poll() is not None and not self._readable(0.0):
            return
        while self._readable(timeout):
            timeout = 0.0
            try:
                chunk = os.read(self._replies, 65536)
            except BlockingIOError:
                return
            if not chunk:
                self._lost()
                return
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                self._handle(decode_reply(line))

    def close(self) -> None:
        """Close the server's stdin: it kills and reaps every trial, then exits."""
        if self.closed:
            return
        self.closed = True
        try:
            self._requests.close()
        except OSError:
            pass  # the server is already gone
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT
        while self.process.poll() is None and time.monotonic() < deadline:
            self.poll(0.05)
        if self.process.poll() is None:
            self.process.kill()  # its trials die with it (PR_SET_PDEATHSIG)
            self.process.wait()
        self.poll()
        self._lost()
        self._log.close()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _handle(self, reply: Reply) -> None:
        if isinstance(reply, Fatal):
            self.fatal = reply.reason
        elif isinstance(reply, Retired):
            self.retired = True
        elif isinstance(reply, Exited):
            self.exits[reply.run] = reply.code
            if reply.error is not None:
                self.errors[reply.run] = reply.error
        elif isinstance(reply, Started):
            self.pids[reply.run] = reply.pid
        elif isinstance(reply, Ready):
            pass  # requests sent before it wait in the server's stdin

    def _lost(self) -> None:
        """The server is gone: runs it never reported on are lost.

        Its trials died with it (PR_SET_PDEATHSIG), but not what they started:
        kill their process groups, which outlive the leader while members remain.
        """
        self.closed = True
        for run in self.started - set(self.exits):
            if run in self.pids:
                try:
                    os.killpg(self.pids[run], signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass  # the whole group is gone already
            self.exits[run] = LOST
            self.errors[run] = self.fatal or self.server_error()

    def server_error(self) -> str:
        """The last line the server wrote to its log, to explain a lost trial."""
        try:
            said = last_line(self.log_path.read_text(errors="replace"))
        except OSError:
            said = ""
        reason = said or f"exit code {self.process.poll()}"
        return f"hpobench fork server ended ({reason}); see {self.log_path}"

    def _readable(self, timeout: float) -> bool:
        try:
            ready, _, _ = select.select([self._replies], [], [], timeout)
        except (OSError, ValueError):
            return False
        return bool(ready)

    def _send(self, message: Request) -> None:
        if self.closed:
            return
        try:
            self._requests.write(encode(message))
            self._requests.flush()
        except (BrokenPipeError, ValueError):
            self._lost()
