"""How long `hpobench check-benchmark` takes, beside the benchmark's own tuning budget.

Each benchmark is checked REPEATS times in a fresh process (real runs of its
training script: two resource levels, then one more from the checkpoint); the
median wall-clock time is printed with the benchmark's default
max_wallclock_time, which one (method, seed) of a study spends. Goal: seconds.

    .venv/bin/python benchmarks/check_benchmark_speed.py [--repeats 3] [NAME ...]
    .venv/bin/python benchmarks/check_benchmark_speed.py --smoke   # one check of gbt_breast_cancer
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from smoke_option import parse_with_smoke

SMOKE = {"repeats": 1, "names": ["gbt_breast_cancer"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("names", nargs="*", default=["mlp_digits", "gbt_breast_cancer"])
    args = parse_with_smoke(parser, SMOKE)
    from hpobench.benchmarks import get_benchmark

    print(f"{'benchmark':20} {'check s (median)':>17} {'budget s':>9}  passed")
    for name in args.names:
        times, passed = [], True
        for _ in range(args.repeats):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "hpobench", "check-benchmark", name],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - start)
            passed = passed and done.returncode == 0
        budget = get_benchmark(name).max_wallclock_time
        print(f"{name:20} {statistics.median(times):17.2f} {budget:9.0f}  {'yes' if passed else 'NO'}")


if __name__ == "__main__":
    main()
