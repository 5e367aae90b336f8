"""Compare RS, BO, ASHA and MOBSTER on `gbt_breast_cancer` under one wall-clock budget,
and the promotion variants with their stopping variants.

Every run goes through the real local launcher (`hpobench run-local`, fast
back-end, the benchmark's 2 workers) into a temporary results root, then:

- per method over seeds: mean final best with standard error, average rank over
  time, and when each method reaches random search's mean final best (the
  statistics of `hpobench results`, from `hpobench.results.aggregate`);
- for ASHA vs ASHA-STOP and MOBSTER vs MOBSTER-STOP (on the first
  `--stop-seeds` seeds): trial-epochs (boosting rounds) trained per
  configuration evaluated, and the final best.

    python benchmarks/method_comparison.py --budget 25 --seeds 5 --stop-seeds 2
    python benchmarks/method_comparison.py --smoke   # seconds: the code path, not the comparison

To compare two versions of hpobench under the same load, run one seed at a time into one
results root per version, alternating (`--start-seed S --seeds 1`, with PYTHONPATH pointing
at each version's src), then print each root with `--report-only`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from smoke_option import parse_with_smoke

BENCHMARK = "gbt_breast_cancer"
MAIN_METHODS = ["RS", "BO", "ASHA", "MOBSTER"]
PAIRS = [("ASHA", "ASHA-STOP"), ("MOBSTER", "MOBSTER-STOP")]
TAG = "method-comparison"
SMOKE = {"budget": 1.0, "seeds": 1, "stop_seeds": 1}
# Where the early anytime curve is read: how a method starts shows there.
EARLY_SECONDS = (5.0, 10.0)


def run_local(root: Path, methods: list[str], seeds: int, budget: float, master_seed: int, start_seed: int = 0) -> None:
    """`hpobench run-local` in a fresh process, as a user would run it (the hpobench that
    PYTHONPATH or the environment provides)."""
    command = [
        sys.executable,
        *"-m hpobench run-local --benchmark".split(),
        BENCHMARK,
        "--experiment-tag",
        TAG,
        "--results-root",
        str(root),
        "--num-seeds",
        str(seeds),
        "--start-seed",
        str(start_seed),
        "--max-wallclock-time",
        str(budget),
        "--random-seed",
        str(master_seed),
    ]
    for method in methods:
        command += ["--method", method]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def format_number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_main_comparison(root: Path, budget: float) -> None:
    from hpobench.results.aggregate import summarize
    from hpobench.results.load import load_experiment

    experiment = load_experiment(root, TAG, methods=MAIN_METHODS)
    (summary,) = summarize(experiment)
    print(
        f"\n{summary.benchmark}, {summary.metric} ({summary.mode}), {budget:g} s per run; "
        f"target = {summary.target_source}: {format_number(summary.target)}"
    )
    early = [t for t in EARLY_SECONDS if t < budget]
    print(
        f"{'method':<10} {'seeds':>5} {'final best (mean +- se)':>25} {'avg rank':>9} "
        f"{'reach target':>13} {'median time to target':>22}"
        + "".join(f" {f'mean best at {t:g} s':>17}" for t in early)
    )
    for m in summary.methods:
        best = f"{format_number(m.final_best_mean)} +- {format_number(m.final_best_stderr)}"
        median = "never" if m.time_to_target_median in (None, float("inf")) else (f"{m.time_to_target_median:.1f} s")
        at = [format_number(mean_best_at(summary.grid, m.mean, t)) for t in early]
        print(
            f"{m.method:<10} {len(m.seeds):>5} {best:>25} {format_number(m.average_rank, 2):>9} "
            f"{m.target_reached:>6}/{len(m.seeds):<6} {median:>22}" + "".join(f" {a:>17}" for a in at)
        )


def mean_best_at(grid: Any, mean: Any, seconds: float) -> float | None:
    """The mean best-so-far at the last grid point not after `seconds` (None before any result)."""
    import numpy as np

    points = np.flatnonzero(np.asarray(grid) <= seconds)
    if not len(points) or mean is None or not np.isfinite(mean[points[-1]]):
        return None
    return float(mean[points[-1]])


def print_epochs_per_configuration(root: Path, seeds: int, start_seed: int = 0) -> None:
    from hpobench.results.aggregate import best_so_far
    from hpobench.results.load import load_experiment

    methods = [m for pair in PAIRS for m in pair]
    experiment = load_experiment(root, TAG, methods=methods, seeds=list(range(start_seed, start_seed + seeds)))
    print(
        f"\nPromotion vs stopping, seeds {start_seed}..{start_seed + seeds - 1}: trial-epochs (boosting rounds) "
        "trained per configuration evaluated"
    )
    print(
        f"{'method':<13} {'configurations':>14} {'trial-epochs':>12} {'per configuration':>18} "
        f"{'final best (mean)':>18}"
    )
    for method in methods:
        runs = [r for r in experiment.runs if r.method == method and r.frame is not None]
        configurations = sum(len(set(r.frame.trial_id.tolist())) for r in runs)
        epochs = sum(r.num_results for r in runs)
        finals = [float(best_so_far(r.frame.value, r.mode or "min")[-1]) for r in runs]
        per = epochs / configurations if configurations else float("nan")
        final = sum(finals) / len(finals) if finals else None
        print(f"{method:<13} {configurations:>14} {epochs:>12} {per:>18.2f} {format_number(final):>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=25.0, help="wall-clock seconds per run")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of RS, BO, ASHA, MOBSTER")
    parser.add_argument("--stop-seeds", type=int, default=2, help="seeds of ASHA-STOP, MOBSTER-STOP")
    parser.add_argument("--master-seed", type=int, default=1)
    parser.add_argument("--start-seed", type=int, default=0, help="first seed (seeds START..START+SEEDS-1)")
    parser.add_argument("--results-root", type=Path, default=None, help="keep the runs here")
    parser.add_argument(
        "--report-only", action="store_true", help="run nothing: print what --results-root already holds"
    )
    args = parse_with_smoke(parser, SMOKE)
    if args.report_only and args.results_root is None:
        parser.error("--report-only needs --results-root")

    root = args.results_root or Path(tempfile.mkdtemp(prefix="hpobench-compare-"))
    if not args.report_only:
        started = time.monotonic()
        run_local(root, MAIN_METHODS, args.seeds, args.budget, args.master_seed, args.start_seed)
        if args.stop_seeds > 0:
            stops = [stop for _, stop in PAIRS]
            run_local(root, stops, args.stop_seeds, args.budget, args.master_seed, args.start_seed)
        print(f"(runs took {time.monotonic() - started:.0f} s; results under {root})")
    print_main_comparison(root, args.budget)
    if args.stop_seeds > 0:
        print_epochs_per_configuration(root, min(args.stop_seeds, args.seeds), args.start_seed)


if __name__ == "__main__":
    main()
