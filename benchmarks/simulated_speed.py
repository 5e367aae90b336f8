"""How fast a simulated run replays a table, against one real run (issue 28, point 7).

On a table of `gbt_breast_cancer` (`--table PATH`, e.g. one `hpobench tabulate` wrote; else one
generated in that on-disk format: `--configs` configurations x 3 seeds x every round, made-up
values from tests/tables/table_factory.py), with `--workers` workers:

- RS and ASHA at the benchmark's default budget and at `--factor` (10) times it: results
  reported per second of wall-clock, each run timed alone in this process (process start-up,
  imports and the first read of the table excluded by a warm-up run of each method; each run's
  own set-up, its metadata, results file and tuner.dill included), the best of `--repeats`
  runs (the machine may be shared: its load average is printed before and after), and per
  second of this process's CPU time in the same run; the goal: at least 10,000 results per
  second of wall-clock for both methods at both budgets;
- `--sim-seeds` simulated seeds of ASHA at the default budget (one `run_local`), against one
  real run of ASHA (`hpobench run-local --benchmark gbt_breast_cancer --method ASHA
  --num-seeds 1`, in a fresh process, its whole wall-clock): the goal is less time for all
  the simulated seeds than for the one real run;
- `--others` (BO, MOBSTER, OPTUNA-TPE) at the default budget: results per second (their
  suggestions dominate).

    python benchmarks/simulated_speed.py
    python benchmarks/simulated_speed.py --table ~/syne-tune/tables/gbt_breast_cancer
    python benchmarks/simulated_speed.py --smoke   # seconds: tiny table, 2 seeds, a 3 s real run
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tables"))  # the table factory

from smoke_option import parse_with_smoke
from table_factory import write_test_table

BENCHMARK = "gbt_breast_cancer"
GOAL = 10_000  # results per second of wall-clock, RS and ASHA, both budgets
SMOKE = {"configs": 20, "sim_seeds": 2, "real_budget": 3.0, "others": ["OPTUNA-TPE"], "factor": 2, "repeats": 1}


def simulate(
    root: Path, table: Path, tag: str, method: str, budget: float, workers: int, seeds: int = 1
) -> tuple[int, float, float]:
    """(results reported, wall-clock seconds, CPU seconds of this process) of `seeds` simulated
    runs of `method`."""
    import pandas as pd

    from hpobench.local.launcher import run_local
    from hpobench.results import layout
    from hpobench.settings import LocalSettings, load_settings

    settings = load_settings(
        LocalSettings,
        benchmark=BENCHMARK,
        methods=(method,),
        experiment_tag=tag,
        results_root=root,
        backend="simulated",
        table=table,
        n_workers=workers,
        max_wallclock_time=budget,
        num_seeds=seeds,
        random_seed=0,
    )
    began, cpu = time.perf_counter(), time.process_time()
    run_local(settings)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    results = sum(
        len(pd.read_csv(tuner_dir / layout.RESULTS_FILE))
        for seed in range(seeds)
        for tuner_dir in layout.tuner_dirs(root / tag / layout.run_name(method, seed))
    )
    return results, elapsed, cpu


def best_of(repeats: int, root: Path, table: Path, tag: str, method: str, budget: float, workers: int):
    """The fastest of `repeats` runs (each its own tag): (results, wall-clock, CPU seconds)."""
    runs = [simulate(root, table, f"{tag}-{i}", method, budget, workers) for i in range(repeats)]
    return min(runs, key=lambda run: run[1])


def real_run(root: Path, budget: Optional[float]) -> float:
    """Wall-clock seconds of one real run of ASHA, as a user starts it."""
    command = [sys.executable, *"-m hpobench run-local --benchmark".split(), BENCHMARK]
    command += [*"--method ASHA --num-seeds 1 --experiment-tag real --results-root".split(), str(root)]
    if budget is not None:
        command += ["--max-wallclock-time", f"{budget:g}"]
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", type=Path, help="a table of gbt_breast_cancer (default: a generated one)")
    parser.add_argument("--configs", type=int, default=200, help="configurations of the generated table")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--factor", type=float, default=10, help="the long budget, in default budgets")
    parser.add_argument("--repeats", type=int, default=3, help="runs of RS and ASHA per budget; the fastest counts")
    parser.add_argument("--sim-seeds", type=int, default=20, help="simulated seeds of ASHA against one real run")
    parser.add_argument("--real-budget", type=float, help="the real run's budget (default: the benchmark's)")
    parser.add_argument("--others", nargs="*", default=["BO", "MOBSTER", "OPTUNA-TPE"])
    args = parse_with_smoke(parser, SMOKE)

    from hpobench.benchmarks import get_benchmark

    budget = get_benchmark(BENCHMARK).max_wallclock_time
    with tempfile.TemporaryDirectory(prefix="hpobench-simulated-speed-") as folder:
        root = Path(folder)
        table = args.table or write_test_table(root / "tables" / BENCHMARK, configs=args.configs, seeds=3)
        made = "" if args.table else f" (generated: {args.configs} configurations x 3 seeds x 50 rounds)"
        print(f"table: {table}{made}")
        print(f"load average (1, 5, 15 min) before: {load()} on {os.cpu_count()} CPUs")
        for method in ("RS", "ASHA", *args.others):  # imports, the table read once
            simulate(root, table, f"warm-up-{method.lower()}", method, budget, args.workers)
        columns = f"{'results':>9} {'seconds':>9} {'results/s':>10} {'CPU s':>8} {'per CPU s':>10}"
        print(f"{'method':<12} {'budget':>8} {columns}")

        def line(method: str, seconds_budget: float, results: int, seconds: float, cpu: float) -> None:
            print(
                f"{method:<12} {seconds_budget:>7g}s {results:>9} {seconds:>9.3f} {results / seconds:>10,.0f}"
                f" {cpu:>8.3f} {results / max(cpu, 1e-9):>10,.0f}"
            )

        slowest = float("inf")
        for method in ("RS", "ASHA"):
            for factor in (1, args.factor):
                tag = f"{method.lower()}-x{factor:g}"
                results, seconds, cpu = best_of(args.repeats, root, table, tag, method, budget * factor, args.workers)
                line(method, budget * factor, results, seconds, cpu)
                slowest = min(slowest, results / seconds)
        for method in args.others:
            line(method, budget, *simulate(root, table, f"other-{method.lower()}", method, budget, args.workers))
        verdict = "met" if slowest >= GOAL else "NOT met"
        print(
            f"goal: RS and ASHA at least {GOAL:,} results/s at {budget:g}s and {budget * args.factor:g}s: "
            f"slowest {slowest:,.0f}: {verdict}"
        )
        results, simulated, _ = simulate(root, table, "seeds", "ASHA", budget, args.workers, seeds=args.sim_seeds)
        real = real_run(root, args.real_budget)
        print(
            f"{args.sim_seeds} simulated seeds of ASHA at {budget:g}s: {simulated:.2f} s wall-clock ({results} results)"
        )
        print(f"one real run of ASHA at {args.real_budget or budget:g}s: {real:.2f} s wall-clock (process included)")
        print(f"simulated seeds per real run's time: {args.sim_seeds * real / simulated:.1f}")
        verdict = "met" if simulated < real else "NOT met"
        print(f"goal: {args.sim_seeds} simulated seeds in less wall-clock than one real run: {verdict}")
        print(f"load average (1, 5, 15 min) after: {load()}")


if __name__ == "__main__":
    main()
