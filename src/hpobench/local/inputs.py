"""Before a study's first trial: the benchmark's data and model are there (or downloaded once).

A benchmark that declares `prepares_inputs` has a script that, run with
HPOBENCH_PREPARE_ONLY=1 and a full configuration, finds (or downloads) its data
and model, then exits. Running that once, before any trial, turns missing data
into one error line that names what to provide, instead of every trial failing
with it; and a download happens once, not in each trial at once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.errors import UsageError, last_line

logger = logging.getLogger(__name__)

PREPARE_VARIABLE = "HPOBENCH_PREPARE_ONLY"


def prepare_inputs(benchmark: BenchmarkDefinition) -> None:
    """Run the script's prepare step; a UsageError with the script's own last line if it fails."""
    if not benchmark.prepares_inputs:
        return
    from hpobench.benchmarks.check import check_configurations

    config = check_configurations(benchmark, levels=1)[0]
    argv: list[str] = []
    for name, value in config.items():
        argv += [f"--{name}", str(value)]
    # No GPU: preparing data must not hold one (nor initialize CUDA in a parent of trials).
    env = {**os.environ, PREPARE_VARIABLE: "1", "CUDA_VISIBLE_DEVICES": ""}
    logger.info("%s: finding (or downloading) its data before the first trial", benchmark.name)
    done = subprocess.run(
        [sys.executable, str(benchmark.script_path), *argv],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        said = last_line(done.stderr) or f"its script exited with {done.returncode} while finding its data"
        raise UsageError(said if said.startswith(benchmark.name) else f"{benchmark.name}: {said}")
