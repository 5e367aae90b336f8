"""How fast a Slurm launch of 100 cells and a `status` of them answer (goals: seconds; < 2 s).

On the one-node test cluster (tests/slurm_cluster.py, started here in a temporary
folder unless --slurm-conf names a running cluster), each as a fresh process as a
user would run it:

- `hpobench launch-remote --engine slurm` of 100 cells (RS, BO, ASHA, MOBSTER x 25
  seeds of gbt_breast_cancer), held in the queue (`--slurm-option hold`) so that
  nothing trains; a fresh experiment tag per repetition;
- baseline: 100 `sbatch --hold` calls, one per cell, as a submitter without job arrays
  makes them; and one `sbatch` of a 100-task array, the floor of any launch;
- `hpobench status` of those 100 cells once each holds a complete run (4 x 25 runs of
  200 trials in the real on-disk format) and Slurm lists its task;
- baseline: one bare `squeue` call and `python -c pass`.

Every held job is cancelled at the end. Usage (root, Debian's slurm-wlm and munge):

    PYTHONPATH=src python benchmarks/slurm_speed.py [--repeat 3] [--slurm-conf FILE] [--seeds 25] [--trials 200]
    PYTHONPATH=src python benchmarks/slurm_speed.py --smoke   # seconds: 4 cells, the code path
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE)]

from results_speed import TRIALS, write_run  # noqa: E402  (the benchmarks/ folder)
from smoke_option import parse_with_smoke  # noqa: E402

METHODS = ("RS", "BO", "ASHA", "MOBSTER")
SEEDS = 25
STATUS_GOAL = 2.0
SMOKE = {"repeat": 1, "seeds": 1, "trials": 5}


def timed(command: list[str], repeat: int, env: dict[str, str]) -> float:
    """Median wall-clock seconds of `command` over `repeat` runs (a failure stops the script)."""
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def launch_command(root: Path, tag: str, seeds: int) -> list[str]:
    methods = [arg for m in METHODS for arg in ("--method", m)]
    return [
        sys.executable,
        *"-m hpobench launch-remote --engine slurm --benchmark gbt_breast_cancer".split(),
        *methods,
        "--num-seeds",
        str(seeds),
        *"--max-wallclock-time 60 --random-seed 0 --results-root".split(),
        str(root),
        "--experiment-tag",
        tag,
        *"--cpus-per-job 1 --slurm-option hold".split(),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--slurm-conf", type=Path, help="a running cluster's slurm.conf (default: start one)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"seeds per method (default: {SEEDS})")
    parser.add_argument("--trials", type=int, default=TRIALS, help=f"trials per complete run (default: {TRIALS})")
    args = parse_with_smoke(parser, SMOKE)
    with tempfile.TemporaryDirectory(prefix="hpobench-slurm-speed-") as scratch:
        cluster = None
        if args.slurm_conf is None:
            from slurm_cluster import SlurmCluster, skip_reason

            if skip_reason():
                sys.exit(f"Error: {skip_reason()}")
            cluster = SlurmCluster(Path(scratch) / "cluster")
            cluster.folder.mkdir()
            cluster.start()
            conf = cluster.conf
        else:
            conf = args.slurm_conf
        env = {
            **os.environ,
            "SLURM_CONF": str(conf),
            "PYTHONPATH": str(HERE.parent / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        root = Path(scratch) / "results"
        try:
            measure(args, root, Path(scratch), env)
        finally:
            for name in {
                json.loads(line)["job_name"]
                for p in root.glob("*/slurm/submissions.jsonl")
                for line in p.read_text().splitlines()
            } | {"hpobench-speed-baseline"}:
                subprocess.run(["scancel", f"--name={name}"], env=env, check=False)
            if cluster is not None:
                cluster.stop()


def measure(args: argparse.Namespace, root: Path, scratch: Path, env: dict[str, str]) -> None:
    repeat = args.repeat
    cells = len(METHODS) * args.seeds
    launches = []
    for i in range(repeat):
        start = time.perf_counter()
        subprocess.run(launch_command(root, f"cells-{i}", args.seeds), check=True, stdout=subprocess.DEVNULL, env=env)
        launches.append(time.perf_counter() - start)
    submitted = json.loads((root / "cells-0" / "slurm" / "submissions.jsonl").read_text())
    assert len(submitted["cells"]) == cells, submitted
    script = scratch / "one.sh"
    script.write_text("#!/bin/bash\ntrue\n")
    hold = ["sbatch", "--hold", "--job-name=hpobench-speed-baseline", "--output=/dev/null"]
    start = time.perf_counter()
    for _ in range(cells):
        subprocess.run([*hold, str(script)], check=True, stdout=subprocess.DEVNULL, env=env)
    per_cell = time.perf_counter() - start
    array = timed([*hold, f"--array=0-{cells - 1}", str(script)], repeat, env)

    rng = np.random.default_rng(0)
    results = scratch / "written"
    for method in METHODS:
        for seed in range(args.seeds):  # results_speed writes under TAG "speed"; move each run into the cell
            write_run(results, method, seed, rng, args.trials)
            target = root / "cells-0" / f"{method}-{seed}"
            (results / "speed" / f"{method}-{seed}").rename(target)
    status = timed(
        [sys.executable, "-m", "hpobench", "status", "--experiment-tag", "cells-0", "--results-root", str(root)],
        repeat,
        env,
    )
    squeue = timed(["squeue", "--noheader", "--array", "--states=all"], repeat, env)
    floor = timed([sys.executable, "-c", "pass"], repeat, env)

    launch = statistics.median(launches)
    print(f"{cells} cells (4 methods x {args.seeds} seeds), held; median of {repeat} runs, wall-clock seconds")
    print(
        f"hpobench launch-remote --engine slurm, {cells} cells:  {launch:6.3f} s (one sbatch of a {cells}-task array)"
    )
    print(
        f"baseline: {cells} sbatch calls, one per cell:          {per_cell:6.3f} s "
        f"({per_cell / launch:.1f}x the launch)"
    )
    print(f"baseline: one sbatch of a {cells}-task array:          {array:6.3f} s")
    print(
        f"hpobench status, {cells} complete cells ({args.trials} trials each): {status:6.3f} s "
        f"({'meets' if status < STATUS_GOAL else 'MISSES'} the {STATUS_GOAL:g} s goal)"
    )
    print(f"baseline: one squeue call:                        {squeue:6.3f} s")
    print(f"baseline: python -c pass:                         {floor:6.3f} s")


if __name__ == "__main__":
    main()
