"""How fast hypervolume over time is for a large two-objective study (goal: 800,000 rows in under 10 s).

A synthetic study of gbt_breast_cancer_mo (validation log-loss and training time, both
minimized, its own reference point and normalization): RUNS runs of ROWS result rows each, as
asynchronous multi-fidelity runs write them: trials report level after level (most stop
after 1 or 3 levels, some go to the maximum), the loss falls and the time grows with the level,
with noise, and later trials are better on average. Both sides get the rows in memory, in time
order (reading results.csv.zip files is the loader's cost, not measured here):

- incremental: `hpobench.results.hypervolume.hypervolume_over_time`, a value after every row
- baseline:    moocore's hypervolume of all the run's rows so far, at GRID times per run

It prints both times, the ratio, and the largest difference between the two at the grid times.

Usage: PYTHONPATH=src python benchmarks/hypervolume_speed.py [--runs 40] [--rows 20000] [--grid 200]
       PYTHONPATH=src python benchmarks/hypervolume_speed.py --runs 1 --rows 800000   # one long run
       PYTHONPATH=src python benchmarks/hypervolume_speed.py --all-on-front --runs 1 --rows 100000  # worst case
       PYTHONPATH=src python benchmarks/hypervolume_speed.py --smoke   # seconds: the code path
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from smoke_option import parse_with_smoke

from hpobench.benchmarks import get_benchmark
from hpobench.results.hypervolume import ObjectiveSpace, hypervolume, hypervolume_over_time, nondominated

BENCHMARK = "gbt_breast_cancer_mo"
GOAL_SECONDS = 10.0
GOAL_ROWS = 800_000
MAX_LEVEL = 50
SMOKE = {"runs": 2, "rows": 2000, "grid": 20}


def synthetic_run(rng: np.random.Generator, rows: int) -> np.ndarray:
    """`rows` result rows (log-loss, training time up to the level) of one run, in time order."""
    levels = rng.choice([1, 3, 9, MAX_LEVEL], size=rows, p=[0.55, 0.25, 0.12, 0.08])
    ends = np.cumsum(levels)
    trials = int(np.searchsorted(ends, rows)) + 1
    levels, ends = levels[:trials], ends[:trials]
    # Per trial: the loss it would reach, better for later trials, and its seconds per level.
    progress = np.arange(trials) / trials
    final = np.clip(rng.normal(0.35 - 0.2 * progress, 0.12), 0.05, None)
    per_level = rng.lognormal(np.log(0.012), 0.6, size=trials)
    trial = np.repeat(np.arange(trials), levels)[:rows]
    level = (np.arange(rows) - np.concatenate([[0], ends[:-1]])[trial]) + 1
    loss = final[trial] + (0.69 - final[trial]) * np.exp(-level / 6.0) + rng.normal(0, 0.01, rows)
    train_time = per_level[trial] * level * rng.lognormal(0.0, 0.05, rows)
    # Asynchronous workers: rows of neighbouring trials interleave a little.
    order = np.argsort(np.arange(rows) + rng.uniform(0, 30, rows), kind="stable")
    return np.column_stack([loss, train_time])[order]


def trade_off_run(rng: np.random.Generator, rows: int) -> np.ndarray:
    """The worst case: `rows` results on one trade-off curve (less loss for more time), in random
    order, so that none dominates another and every row joins the front."""
    train_time = rng.permutation(np.linspace(0.01, 2.9, rows))
    return np.column_stack([0.69 - 0.5 * np.sqrt(train_time / 2.9), train_time])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rows", type=int, default=20_000, help="result rows per run")
    parser.add_argument("--grid", type=int, default=200, help="times per run at which the baseline measures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--all-on-front", action="store_true", help="the worst case: every row of a run is on its front"
    )
    args = parse_with_smoke(parser, SMOKE)

    definition = get_benchmark(BENCHMARK)
    space = ObjectiveSpace.for_benchmark(definition)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    make = trade_off_run if args.all_on_front else synthetic_run
    study = [make(rng, args.rows) for _ in range(args.runs)]
    total = args.runs * args.rows
    names = ", ".join(o.metric for o in definition.objectives)
    print(
        f"study: {args.runs} runs x {args.rows:,} rows = {total:,} rows, 2 objectives ({names} of {BENCHMARK}), "
        f"made in {time.perf_counter() - started:.1f} s"
    )
    inside = np.mean([np.all(space.transform(run) < space.reference, axis=1).mean() for run in study])
    fronts = [int(nondominated(run, space).sum()) for run in study]
    print(
        f"rows inside the reference point: {inside:.0%}; final front: median {int(np.median(fronts))} "
        f"points, largest {max(fronts)}"
    )
    grids = [np.linspace(0, args.rows - 1, min(args.grid, args.rows)).round().astype(int) for _ in study]

    started = time.perf_counter()
    curves = [hypervolume_over_time(run, space) for run in study]
    incremental = time.perf_counter() - started

    started = time.perf_counter()
    baseline_values = [
        np.array([hypervolume(run[: k + 1], space) for k in grid]) for run, grid in zip(study, grids, strict=True)
    ]
    baseline = time.perf_counter() - started

    difference = max(
        float(np.max(np.abs(curve[grid] - values)))
        for curve, grid, values in zip(curves, grids, baseline_values, strict=True)
    )
    points = sum(len(grid) for grid in grids)
    print(f"incremental, a value after every row ({total:,} values):   {incremental:.2f} s")
    print(f"baseline, moocore on all rows so far at {points:,} grid times: {baseline:.2f} s")
    print(
        f"ratio: baseline / incremental {baseline / incremental:.1f}x; per value computed "
        f"{(baseline / points) / (incremental / total):,.0f}x"
    )
    print(
        f"largest difference at the grid times: {difference:.1e} (final hypervolume, mean: "
        f"{np.mean([curve[-1] for curve in curves]):.4f})"
    )
    scaled = incremental * GOAL_ROWS / total
    verdict = "met" if scaled < GOAL_SECONDS else "NOT met"
    print(
        f"goal < {GOAL_SECONDS:.0f} s for {GOAL_ROWS:,} rows: {verdict} ({scaled:.2f} s scaled to {GOAL_ROWS:,} rows)"
    )


if __name__ == "__main__":
    main()
