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

from pathlib import Path
from typing import Any


def trial_argv(
    config: dict[str, Any], config_json: Path, checkpoint_dir: Path, as_json: bool
) -> list[str]:
    """`--name value` for each entry (or only the JSON file's path), then the checkpoint folder."""
    from syne_tune.constants import ST_CHECKPOINT_DIR, ST_CONFIG_JSON_FNAME_ARG

    entries: dict[str, Any] = {ST_CONFIG_JSON_FNAME_ARG: config_json} if as_json else dict(config)
    entries[ST_CHECKPOINT_DIR] = checkpoint_dir
    argv: list[str] = []
    for name, value in entries.items():
        argv += [f"--{name}", str(value)]
    return argv
