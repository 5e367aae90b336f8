"""A trial back-end that starts trials from a warm fork server instead of a new Python.

`FastLocalBackend` is Syne Tune's `LocalBackend` with two changes:

- a trial is a child forked by `hpobench.local.forkserver.server`, which has
  already imported what the script imports, so a trial starts in milliseconds
  rather than seconds; the child runs the unmodified script as `__main__` with
  the same arguments, environment (with its own `CUDA_VISIBLE_DEVICES`),
  working directory, `std.out`/`std.err` and checkpoint folder as a stock trial;
- each trial's `std.out` is read from where the last poll stopped, not from the
  start, so polling stays cheap and the tuner can poll often.

Stop and pause markers, time stamps, GPU rotation and checkpoint handling are
the stock back-end's. The server dies with the tuner (it watches its stdin) and
kills every trial when it does.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Optional

from syne_tune.backend import LocalBackend
from syne_tune.backend.trial_status import Status, TrialResult
from syne_tune.report import retrieve
from syne_tune.util import dump_json_with_numpy

from hpobench.errors import RunError
from hpobench.local.forkserver.server import LEARN_VARIABLE
from hpobench.local.trial_args import trial_argv

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

    def __init__(self, script: Path, log_path: Path, learn: Optional[bool] = None):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = open(log_path, "ab")
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            # None: as the user set HPOBENCH_FORK_SERVER_LEARN (off unless "1").
            env={**os.environ, **({} if learn is None else {LEARN_VARIABLE: "1" if learn else "0"})},
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

    def start(self, run: int, argv: list[str], env: dict[str, str], cwd: str,
              stdout: Path, stderr: Path) -> None:  # fmt: skip
        """Ask for a child running the script with `argv`; its exit code arrives later."""
        self.started.add(run)
        self._send({"op": "start", "run": run, "argv": argv, "env": env, "cwd": cwd,
                    "stdout": str(stdout), "stderr": str(stderr)})  # fmt: skip

    def kill(self, run: int, wait: float = KILL_WAIT) -> None:
        """SIGKILL the run's process group and wait (briefly) until it is reaped.

        Waiting keeps a stopped trial from writing into a checkpoint folder that
        the tuner is about to delete or copy, as after the stock back-end's kill.
        """
        if run in self.exits:
            return
        self._send({"op": "kill", "run": run})
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
                self._handle(json.loads(line))

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

    def _handle(self, message: dict[str, Any]) -> None:
        if "fatal" in message:
            self.fatal = str(message["fatal"])
        elif "retired" in message:
            self.retired = True
        elif "exit" in message:
            self.exits[int(message["run"])] = int(message["exit"])
            if "error" in message:
                self.errors[int(message["run"])] = str(message["error"])
        elif "pid" in message:
            self.pids[int(message["run"])] = int(message["pid"])

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
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        reason = lines[-1].strip() if lines else f"exit code {self.process.poll()}"
        return f"hpobench fork server ended ({reason}); see {self.log_path}"

    def _readable(self, timeout: float) -> bool:
        try:
            ready, _, _ = select.select([self._replies], [], [], timeout)
        except (OSError, ValueError):
            return False
        return bool(ready)

    def _send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self._requests.write((json.dumps(message) + "\n").encode())
            self._requests.flush()
        except (BrokenPipeError, ValueError):
            self._lost()


class ForkedTrial:
    """What `LocalBackend` keeps per trial in place of a `Popen`: `poll()` gives the exit code."""

    def __init__(self, client: ForkServerClient, run: int):
        self.client: Optional[ForkServerClient] = client
        self.run = run
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        """The exit code once the trial has ended (negative: killed by that signal), else None."""
        if self.returncode is None and self.client is not None:
            self.returncode = self.client.exit_code(self.run)
        return self.returncode

    def __getstate__(self) -> dict[str, Any]:
        # The tuner is pickled while trials run; a reloaded trial is no longer running.
        returncode = self.poll() if self.client else self.returncode
        return {"client": None, "run": self.run, "returncode": returncode}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.returncode is None:
            self.returncode = LOST


class FastLocalBackend(LocalBackend):
    """`LocalBackend` whose trials are forked from a warm, pre-imported server."""

    def __init__(self, entry_point: str, delete_checkpoints: bool = False,
                 num_gpus_per_trial: int = 1, gpus_to_use: Optional[list[int]] = None):  # fmt: skip
        super().__init__(
            entry_point=entry_point,
            delete_checkpoints=delete_checkpoints,
            num_gpus_per_trial=num_gpus_per_trial,
            gpus_to_use=gpus_to_use,
        )
        self._client: Optional[ForkServerClient] = None
        self._retired: list[ForkServerClient] = []
        self._learn = True  # unless an import learned from a trial opened CUDA
        self._runs = 0
        # Per trial: bytes of std.out already parsed, an unfinished last line, metrics so far.
        self._read_upto: dict[int, int] = {}
        self._partial: dict[int, bytes] = {}
        self._metrics: dict[int, list[dict[str, Any]]] = {}

    def _server(self, env: dict[str, str]) -> ForkServerClient:
        if self._client is not None:
            self._client.poll()
        if self._client is not None and self._client.retired:
            # An import it learned opened CUDA: its running trials finish, a fresh
            # server that learns nothing starts the next ones.
            self._learn = False
        if self._client is not None and (
            self._client.retired or self._client.startup_environment != startup_environment(env)
        ):
            # A changed PYTHONPATH, PYTHONUNBUFFERED, ... takes effect at interpreter
            # start only: a server started under the old values cannot honour them.
            self._retired.append(self._client)
            self._client = None
        if self._client is None or self._client.closed:
            self._client = ForkServerClient(
                Path(self.entry_point), self.local_path / SERVER_LOG, learn=None if self._learn else False
            )
        if self._client.fatal:
            raise RunError(f"cannot start trials of {self.entry_point}: {self._client.fatal}")
        return self._client

    def _schedule(self, trial_id: int, config: dict[str, Any]) -> None:
        self._prepare_for_schedule()
        trial_path = self.trial_path(trial_id)
        os.makedirs(trial_path, exist_ok=True)
        stdout, stderr = trial_path / "std.out", trial_path / "std.err"
        stdout.touch()
        stderr.touch()
        config_json = trial_path / "config.json"
        argv = trial_argv(
            config, config_json, self.checkpoint_trial_path(trial_id), self.pass_args_as_json
        )
        dump_json_with_numpy(config, str(config_json))
        env = dict(os.environ)
        self._allocate_gpu(trial_id, env)
        run = self._runs
        self._runs += 1
        client = self._server(env)
        client.start(run, argv, env, os.getcwd(), stdout, stderr)
        self.trial_subprocess[trial_id] = ForkedTrial(client, run)
        self._busy_trial_id_candidates.add(trial_id)

    def _kill_process(self, trial_id: int) -> None:
        trial = self.trial_subprocess[trial_id]
        if trial.client is not None:
            trial.client.kill(trial.run)

    def _read_status(self, trial_id: int) -> str:
        status = super()._read_status(trial_id)
        if status == Status.failed:
            self._explain_lost(trial_id)
        return status

    def _explain_lost(self, trial_id: int) -> None:
        """Write why a trial never ran (the server died, fork failed) to its std.err, once."""
        trial = self.trial_subprocess[trial_id]
        client = trial.client
        if client is None or trial.run not in client.errors:
            return
        message = client.errors.pop(trial.run)
        with open(self.trial_path(trial_id) / "std.err", "a") as stderr:
            stderr.write(message + "\n")

    def _all_trial_results(self, trial_ids: list[int]) -> list[TrialResult]:
        results = []
        for trial_id in trial_ids:
            status = self._read_status(trial_id)  # before reading: a finished trial has flushed
            if status != Status.in_progress:
                self._deallocate_gpu(trial_id)
            if os.path.exists(self.trial_path(trial_id) / "end"):
                end_time = self._read_time_stamp(trial_id=trial_id, name="end")
            else:
                end_time = datetime.now()
                if self._is_process_done(trial_id=trial_id):
                    self._write_time_stamp(trial_id=trial_id, name="end")
            metrics = self._read_new_reports(trial_id, finished=status != Status.in_progress)
            results.append(
                self._trial_dict[trial_id].add_results(
                    metrics=list(metrics), status=status, training_end_time=end_time
                )
            )
        return results

    def _read_new_reports(self, trial_id: int, finished: bool) -> list[dict[str, Any]]:
        """All reports of the trial so far, parsing only what std.out gained since last time."""
        metrics = self._metrics.setdefault(trial_id, [])
        path = self.trial_path(trial_id) / "std.out"
        offset = self._read_upto.get(trial_id, 0)
        try:
            if os.stat(path).st_size > offset:
                with open(path, "rb") as log:
                    log.seek(offset)
                    data = log.read()
                self._read_upto[trial_id] = offset + len(data)
                data = self._partial.pop(trial_id, b"") + data
                complete, _, rest = data.rpartition(b"\n")
                if rest:
                    self._partial[trial_id] = rest
                metrics += retrieve(complete.decode(errors="replace").split("\n"))
        except FileNotFoundError:
            pass
        if finished and trial_id in self._partial:  # a last line without newline
            metrics += retrieve([self._partial.pop(trial_id).decode(errors="replace")])
        return metrics

    def stop_all(self) -> None:
        """Stop running trials, then end the server, which reaps them: nothing is left behind."""
        try:
            super().stop_all()
        finally:
            self.close()

    def close(self) -> None:
        """End the fork server and every trial it still runs."""
        for client in [*self._retired, self._client]:
            if client is not None:
                client.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None
        state["_retired"] = []
        return state

    def __str__(self) -> str:
        return f"fast local entry_point {Path(self.entry_point).name}"
