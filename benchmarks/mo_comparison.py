"""MOASHA against multi-objective random search on `gbt_breast_cancer_mo` (issue 32, point 5):
the hypervolume each reaches at half and at the full budget, mean and standard error over seeds.

Every run goes through the real local launcher (`hpobench run-local`, fast back-end, the
benchmark's 2 workers and default budget) into one results root; the hypervolume of a run at
time t is that of its results reported by then (`st_tuner_time`), in the benchmark's fixed
space (reference point (0.7, 3.0), normalized by bounds: values in [0, 1]), by
`hpobench.results.hypervolume`.

    python benchmarks/mo_comparison.py                       # 10 seeds x 2 methods x 60 s
    python benchmarks/mo_comparison.py --root DIR            # keep the runs; re-run resumes/skips
    python benchmarks/mo_comparison.py --root DIR --report-only
    python benchmarks/mo_comparison.py --smoke               # seconds: the code path, not the comparison
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from smoke_option import parse_with_smoke

BENCHMARK = "gbt_breast_cancer_mo"
METHODS = ["MOASHA", "MO-RS"]
TAG = "mo-comparison"
SMOKE = {"budget": 4.0, "seeds": 1}


def run_local(root: Path, seed: int, budget: Optional[float], master_seed: int) -> None:
    """`hpobench run-local` of seed `seed` of both methods in a fresh process, as a user would
    run it. One seed a call: the methods alternate seed by seed, so a change of the machine's
    load during the measurement falls on both alike (the training time is an objective)."""
    command = [sys.executable, "-m", "hpobench", "run-local", "--benchmark", BENCHMARK, "--experiment-tag", TAG]
    command += ["--results-root", str(root), "--start-seed", str(seed), "--num-seeds", "1"]
    command += ["--random-seed", str(master_seed)]
    if budget is not None:
        command += ["--max-wallclock-time", f"{budget:g}"]
    for method in METHODS:
        command += ["--method", method]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def hypervolume_at(tuner_dir: Path, times: list[float]) -> list[float]:
    """The run's hypervolume of the results reported by each of `times` (seconds of its budget)."""
    import numpy as np
    import pandas as pd

    from hpobench.benchmarks import get_benchmark
    from hpobench.results import layout
    from hpobench.results.hypervolume import ObjectiveSpace, objective_values, over_time

    benchmark = get_benchmark(BENCHMARK)
    try:
        frame = pd.read_csv(tuner_dir / layout.RESULTS_FILE).sort_values("st_tuner_time", kind="stable")
    except pd.errors.EmptyDataError:  # no trial reported within the budget: nothing dominated
        return [0.0 for _ in times]
    curve = over_time(objective_values(frame, benchmark.objectives), ObjectiveSpace.for_benchmark(benchmark))
    clock = frame["st_tuner_time"].to_numpy()
    at = np.searchsorted(clock, times, side="right") - 1  # the last row reported by then
    return [float(curve.hypervolume[i]) if i >= 0 else 0.0 for i in at]


def mean_and_error(values: list[float]) -> str:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return f"{mean:.4f} +- -"
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return f"{mean:.4f} +- {math.sqrt(variance / len(values)):.4f}"


def report(root: Path) -> None:
    from hpobench.results import layout

    budgets = set()
    rows: dict[str, dict[int, list[float]]] = {}
    for method in METHODS:
        per_seed: dict[int, list[float]] = {}
        for run_dir in sorted((root / TAG).glob(f"{method}-*")):
            if not run_dir.name.removeprefix(f"{method}-").isdigit():
                continue
            tuner_dir = layout.completed_tuner_dir(run_dir)
            if tuner_dir is None:
                continue
            budget = float(layout.read_metadata(tuner_dir)["stopping_criterion"]["max_wallclock_time"])
            budgets.add(budget)
            per_seed[int(run_dir.name.removeprefix(f"{method}-"))] = hypervolume_at(tuner_dir, [budget / 2, budget])
        rows[method] = per_seed
    if len(budgets) != 1:
        raise SystemExit(f"runs of {len(budgets)} budgets in {root / TAG}: compare runs of one budget")
    (budget,) = budgets
    print(f"\n{BENCHMARK}: hypervolume (normalized, reference point fixed), {budget:g} s per run")
    half, full = f"at {budget / 2:g} s", f"at {budget:g} s"
    print(f"{'method':<8} {'seeds':>5}  {half:>18}  {full:>18}")
    for method, by_seed in rows.items():
        per_seed = list(by_seed.values())
        half = mean_and_error([h for h, _ in per_seed])
        full = mean_and_error([f for _, f in per_seed])
        print(f"{method:<8} {len(per_seed):>5}  {half:>18}  {full:>18}")
    print_paired(rows, budget)


def print_paired(rows: dict[str, dict[int, list[float]]], budget: float) -> None:
    """Seed by seed (seed k of both methods ran back to back): how often the first method is
    higher, and Wilcoxon's signed-rank test of the differences."""
    from scipy.stats import wilcoxon

    first, second = METHODS
    seeds = sorted(set(rows[first]) & set(rows[second]))
    pairs = [(rows[first][seed], rows[second][seed]) for seed in seeds]
    for seed, (a, b) in zip(seeds, pairs, strict=True):
        print(f"seed {seed}: {first} {a[0]:.4f} / {a[1]:.4f}, {second} {b[0]:.4f} / {b[1]:.4f}")
    if len(pairs) < 2:
        return
    for index, label in ((0, f"{budget / 2:g} s"), (1, f"{budget:g} s")):
        differences = [a[index] - b[index] for a, b in pairs]
        higher = sum(d > 0 for d in differences)
        test = wilcoxon(differences) if any(differences) else None
        p = "-" if test is None else f"{test.pvalue:.3f}"
        print(
            f"at {label}: {first} higher on {higher} of {len(pairs)} seeds, mean difference "
            f"{sum(differences) / len(differences):+.4f}, Wilcoxon signed-rank p = {p}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None, help="seconds per run (default: the benchmark's, 60)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--master-seed", type=int, default=32)
    parser.add_argument("--root", type=Path, default=None, help="results root to keep (default: a temporary one)")
    parser.add_argument("--report-only", action="store_true", help="print the runs already under --root")
    args = parse_with_smoke(parser, SMOKE)
    if args.report_only:
        if args.root is None:
            raise SystemExit("--report-only needs --root")
        report(args.root)
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = args.root or Path(scratch)
        print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
        for seed in range(args.seeds):
            run_local(root, seed, args.budget, args.master_seed)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}", flush=True)
        report(root)


if __name__ == "__main__":
    main()
