"""Syne Tune's `LocalBackend`, with the trial's arguments passed intact (see `trial_args`),
GPUs packed `--trials-per-gpu` to a GPU (see `gpu_packing`) and a resumed trial's
repeated results dropped (see `replays`)."""

from __future__ import annotations

import subprocess
from typing import Any

from syne_tune.backend import LocalBackend

from hpobench.local.forkserver.client import KILL_WAIT
from hpobench.local.gpu_packing import PackedGpus
from hpobench.local.replays import DropsReplayedResults
from hpobench.local.trial_args import prepare_trial


class StockLocalBackend(DropsReplayedResults, PackedGpus, LocalBackend):
    """A new Python per trial, as in Syne Tune; arguments are never split on spaces."""

    def _schedule(self, trial_id: int, config: dict[str, Any]) -> None:
        argv, env = prepare_trial(self, trial_id, config)
        trial_path = self.trial_path(trial_id)
        with open(trial_path / "std.out", "a") as stdout, open(trial_path / "std.err", "a") as stderr:
            self.trial_subprocess[trial_id] = subprocess.Popen(
                [self.binary, self.entry_point, *argv], stdout=stdout, stderr=stderr, env=env
            )
        self._busy_trial_id_candidates.add(trial_id)

    def _kill_process(self, trial_id: int) -> None:
        """SIGKILL the trial and its children, then reap it (briefly), as the fork server does:
        a stopped trial no longer writes into a checkpoint folder the tuner deletes or copies."""
        super()._kill_process(trial_id)
        try:
            self.trial_subprocess[trial_id].wait(timeout=KILL_WAIT)
        except subprocess.TimeoutExpired:
            pass  # reaped later, by the next status poll
