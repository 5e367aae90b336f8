"""The command-line arguments a trial's script receives, shared by both back-ends.

Syne Tune 0.16's `LocalBackend` joins `--name value` pairs into one string and
splits it on spaces, so a value with a space (a results root or HOME with a
space, hence every `--st_checkpoint_dir`) arrives cut, and trials then share one
truncated checkpoint folder outside the results root. `pass_args_as_json=True`
does not help: the JSON file's own path lies under the results root. Here each
name and each value is its own argument, as `python script.py --name value`
typed in a shell with quotes would give them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def trial_argv(config: dict[str, Any], config_json: Path, checkpoint_dir: Path, as_json: bool) -> list[str]:
    """`--name value` for each entry (or only the JSON file's path), then the checkpoint folder."""
    from syne_tune.constants import ST_CHECKPOINT_DIR, ST_CONFIG_JSON_FNAME_ARG

    entries: dict[str, Any] = {ST_CONFIG_JSON_FNAME_ARG: config_json} if as_json else dict(config)
    entries[ST_CHECKPOINT_DIR] = checkpoint_dir
    argv: list[str] = []
    for name, value in entries.items():
        argv += [f"--{name}", str(value)]
    return argv


def prepare_trial(backend: Any, trial_id: int, config: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """What both back-ends do before starting a trial: make its folder, write its
    config.json, pick its GPUs; returns its arguments and its environment."""
    from syne_tune.util import dump_json_with_numpy

    backend._prepare_for_schedule()
    trial_path = backend.trial_path(trial_id)
    os.makedirs(trial_path, exist_ok=True)
    config_json = trial_path / "config.json"
    argv = trial_argv(config, config_json, backend.checkpoint_trial_path(trial_id), backend.pass_args_as_json)
    dump_json_with_numpy(config, str(config_json))
    env = dict(os.environ)
    backend._allocate_gpu(trial_id, env)  # CUDA_VISIBLE_DEVICES, rotating over the GPUs
    return argv, env
