"""What a launch saves by keeping its fork server warm from one run to the next.

    PYTHONPATH=src python benchmarks/warm_servers.py [--benchmark mlp_digits] [--methods RS ASHA]
        [--seeds 3] [--repeats 3]
    PYTHONPATH=src python benchmarks/warm_servers.py --smoke   # seconds: the code path, not the saving

One `hpobench run-local` launch of every (method, seed) run, each run short (`--set`,
`--max-num-evaluations`), in a fresh process, two ways, alternating `--repeats` times:

- warm: as `run-local` runs it; a run's fork server serves the next run
  (`local/forkserver/warm_servers.py`);
- per run: the same command with a fresh fork server for every run, as before the warm
  servers: in the child process `WarmServers` gives out nothing and closes each server at
  its run's end.

Prints per way the median wall-clock seconds of the launch and CPU seconds of it and all its
processes (the launcher, the servers, the trials), and the ratios per run / warm. The runs'
trials are the same work both ways; what differs is the servers' start-ups (each imports what
the script imports: torch for mlp_digits). Only meaningful on a quiet machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smoke_option import parse_with_smoke

SMOKE = {
    "benchmark": "gbt_breast_cancer",
    "methods": ["RS"],
    "seeds": 2,
    "repeats": 1,
    "set": ["boosting_rounds=4"],
    "max_num_evaluations": 2,
}

# The launcher of the "per run" way: run-local's CLI with a `WarmServers` that keeps nothing.
PER_RUN_SERVER = """
import sys
from hpobench.local.forkserver.warm_servers import WarmServers


def take_none(self, *args, **kwargs):
    return None


def close_it(self, client):
    if client in self._in_use:
        self._in_use.remove(client)
    client.close()


WarmServers.take = take_none
WarmServers.give_back = close_it
from hpobench.cli import main

sys.argv = ["hpobench", *sys.argv[1:]]
main()
"""


def launch(way: str, root: Path, tag: str, args: argparse.Namespace) -> tuple[float, float]:
    """(wall-clock s, CPU s of the launch and its processes) of one launch, `way` warm or per run."""
    options = ["run-local", "--benchmark", args.benchmark, "--experiment-tag", tag, "--results-root", str(root)]
    options += [option for method in args.methods for option in ("--method", method)]
    options += ["--num-seeds", str(args.seeds), "--n-workers", str(args.n_workers), "--random-seed", "3"]
    options += ["--max-num-evaluations", str(args.max_num_evaluations), "--max-wallclock-time", "300"]
    options += [option for entry in args.set for option in ("--set", entry)]
    python = [sys.executable, "-m", "hpobench"] if way == "warm" else [sys.executable, "-c", PER_RUN_SERVER]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run([*python, *options], capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"the {way} launch failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="mlp_digits")
    parser.add_argument("--methods", nargs="+", default=["RS", "ASHA"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--max-num-evaluations", type=int, default=6, help="each run stops after these results")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="as run-local's (default: epochs=4)")
    parser.add_argument("--repeats", type=int, default=3, help="launches each way, alternating")
    args = parse_with_smoke(parser, SMOKE)
    args.set = ["epochs=4"] if args.set is None else args.set
    runs = len(args.methods) * args.seeds
    print(f"{args.benchmark}: {runs} runs a launch ({' '.join(args.methods)} x {args.seeds} seeds), {args.set}")
    figures: dict[str, list[tuple[float, float]]] = {"warm": [], "per run": []}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for way in figures:
                tag = f"{way.replace(' ', '-')}-{repeat}"
                figures[way].append(launch(way, Path(folder), tag, args))
    print(f"{'fork server':<12} {'wall (s)':>9} {'CPU (s)':>9}")
    medians = {}
    for way, measured in figures.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        medians[way] = (wall, cpu)
        print(f"{way:<12} {wall:>9.2f} {cpu:>9.2f}")
    (warm_wall, warm_cpu), (cold_wall, cold_cpu) = medians["warm"], medians["per run"]
    print(f"per run / warm: wall {cold_wall / warm_wall:.2f}x, CPU {cold_cpu / warm_cpu:.2f}x")


if __name__ == "__main__":
    main()
