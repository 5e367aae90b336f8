"""Syne Tune's `LocalBackend`, with the trial's arguments passed intact (see `trial_args`)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from syne_tune.backend import LocalBackend
from syne_tune.util import dump_json_with_numpy

from hpobench.local.trial_args import trial_argv


class StockLocalBackend(LocalBackend):
    """A new Python per trial, as in Syne Tune; arguments are never split on spaces."""

    def _schedule(self, trial_id: int, config: dict[str, Any]) -> None:
        self._prepare_for_schedule()
        trial_path = self.trial_path(trial_id)
        os.makedirs(trial_path, exist_ok=True)
        config_json = trial_path / "config.json"
        argv = trial_argv(
            config, config_json, self.checkpoint_trial_path(trial_id), self.pass_args_as_json
        )
        dump_json_with_numpy(config, str(config_json))
        env = dict(os.environ)
        self._allocate_gpu(trial_id, env)
        with open(trial_path / "std.out", "a") as stdout, open(trial_path / "std.err", "a") as stderr:
            self.trial_subprocess[trial_id] = subprocess.Popen(
                [self.binary, self.entry_point, *argv], stdout=stdout, stderr=stderr, env=env
            )
        self._busy_trial_id_candidates.add(trial_id)
