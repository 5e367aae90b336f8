"""A trial back-end that starts trials from a warm fork server instead of a new Python.

`FastLocalBackend` is Syne Tune's `LocalBackend` with two changes:

- a trial is a child forked by `hpobench.local.forkserver.server`, which has
  already imported what the script imports, so a trial starts in milliseconds
  rather than seconds; the child runs the unmodified script as `__main__` with
  the same arguments, environment (with its own `CUDA_VISIBLE_DEVICES`),
  working directory, `std.out`/`std.err` and checkpoint folder as a stock trial;
- each trial's `std.out` is read from where the last poll stopped, not from the
  start, so polling stays cheap and the tuner can poll often.

Stop and pause markers, time stamps, GPU packing and checkpoint handling are
the stock back-end's. The server dies with the tuner (it watches its stdin) and
kills every trial when it does. Within a launch, a run's server is kept warm for
the next run when `servers` (`warm_servers.WarmServers`) is given.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from syne_tune.backend import LocalBackend
from syne_tune.backend.trial_status import Status, TrialResult
from syne_tune.report import retrieve

from hpobench.errors import RunError
from hpobench.local.forkserver.client import LOST, SERVER_LOG, ForkServerClient, startup_environment
from hpobench.local.forkserver.warm_servers import WarmServers
from hpobench.local.gpu_packing import PackedGpus
from hpobench.local.replays import DropsReplayedResults
from hpobench.local.trial_args import prepare_trial

__all__ = ["FastLocalBackend", "ForkedTrial"]


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


class FastLocalBackend(DropsReplayedResults, PackedGpus, LocalBackend):
    """`LocalBackend` whose trials are forked from a warm, pre-imported server."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """LocalBackend's arguments (entry_point, binary, delete_checkpoints,
        pass_args_as_json, rotate_gpus, num_gpus_per_trial, gpus_to_use), with their
        meaning, plus `trials_per_gpu` (see `PackedGpus`)."""
        super().__init__(*args, **kwargs)
        self._client: Optional[ForkServerClient] = None
        self._retired: list[ForkServerClient] = []
        self._learn = True  # unless an import learned from a trial opened CUDA
        # The launch's servers: this run's comes from there and goes back there at the end.
        self.servers: Optional[WarmServers] = None
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
            self._client = self._new_server(env)
        if self._client.fatal:
            raise RunError(f"cannot start trials of {self.entry_point}: {self._client.fatal}")
        return self._client

    def _new_server(self, env: dict[str, str]) -> ForkServerClient:
        """The launch's warm server for this script, if one is idle; else a fresh one."""
        script, log = Path(self.entry_point), self.local_path / SERVER_LOG
        python = self.binary
        if self.servers is None:
            return ForkServerClient(script, log, learn=self._learn, python=python)
        warm = self.servers.take(script, python, env, log)
        return warm or self.servers.track(ForkServerClient(script, log, learn=self._learn, python=python))

    def _schedule(self, trial_id: int, config: dict[str, Any]) -> None:
        argv, env = prepare_trial(self, trial_id, config)
        stdout, stderr = self.trial_path(trial_id) / "std.out", self.trial_path(trial_id) / "std.err"
        stdout.touch()
        stderr.touch()
        client = self._server(env)
        run = client.new_run()
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
                self._trial_dict[trial_id].add_results(metrics=list(metrics), status=status, training_end_time=end_time)
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
        """End every trial still running; end the fork server too, unless the launch keeps it
        warm for its next run."""
        for client in self._retired:
            client.close()
        self._retired = []
        if self._client is not None and self.servers is not None:
            self.servers.give_back(self._client)
            self._client = None  # the next run's now
        elif self._client is not None:
            self._client.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None
        state["_retired"] = []
        state["servers"] = None
        return state

    def __str__(self) -> str:
        return f"fast local entry_point {Path(self.entry_point).name}"
