"""What `hpobench tabulate` adds over the bare time of the trials it runs (goal: at most 10%).

A tabulation of gbt_breast_cancer, N configurations x 1 seed, one worker (so the trials run one
after the other and their times add up to the run's), in a fresh results root:

- tabulate: the wall-clock of `tables.tabulate.tabulate` in this process, the libraries it uses
  imported before (process start-up excluded: the interpreter and imports cost once per
  process, whatever the table's size); it covers the tag's lock and checks, the run's tuner and fast back-end, the
  collection of the results and the writing of the table;
- bare trials: the trials' own time, summed from the table itself: each trial's elapsed_time at
  its last level, from the scheduler's decision to start it to its last report (its start-up,
  a fork of the warm server with the script's imports and data, and its training);
- the same tabulation as a `hpobench tabulate` process, for what a user waits (interpreter and
  imports included).

The ratio tabulate / bare trials - 1 is the overhead. Every figure is measured in this run, on
this machine: on a loaded machine both sides slow down.

    PYTHONPATH=src python benchmarks/tabulation_overhead.py [--configs 16] [--rounds 50]
    PYTHONPATH=src python benchmarks/tabulation_overhead.py --smoke   # seconds: the code path
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

SMOKE = {"configs": 2, "rounds": 5}
GOAL = 0.10


def bare_trial_seconds(table: Path) -> tuple[float, int]:
    """The trials' summed time from decision to last report, and how many there are."""
    from hpobench.tables.format import ELAPSED_TIME, read_table

    blackbox = read_table(table).blackbox
    elapsed = blackbox.objectives_evaluations[..., blackbox.objectives_names.index(ELAPSED_TIME)]
    last = elapsed[:, :, -1]
    return float(last.sum()), int(last.size)


def trials_span(done: Any, root: Path, rounds: int) -> float:
    """Seconds from the first trial's start decision to the last trial's last report."""
    from hpobench.tables.collect import scan

    evaluations = scan(root, done.experiment_tag, done.design, 1, "round", rounds).found.values()
    return max(e.decided + e.elapsed[-1] for e in evaluations) - min(e.decided for e in evaluations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", type=int, default=16, help="configurations in the design")
    parser.add_argument("--rounds", type=int, default=50, help="boosting rounds (the benchmark's: 50)")
    args = parse_with_smoke(parser, SMOKE)

    # Imported before timing: process start-up, imports included, is excluded (the process line
    # shows it); each library costs its import once per process, whatever the table's size.
    import dill  # noqa: F401
    import fastparquet  # noqa: F401
    import pandas  # noqa: F401
    import scipy.stats.qmc  # noqa: F401
    import syne_tune.blackbox_repository.blackbox_tabular  # noqa: F401

    from hpobench.settings import TableSettings
    from hpobench.tables.tabulate import tabulate

    with tempfile.TemporaryDirectory(prefix="tabulation-overhead-") as folder:
        root = Path(folder)
        settings = TableSettings(
            benchmark="gbt_breast_cancer",
            configs=args.configs,
            seeds=1,
            n_workers=1,
            overrides={"boosting_rounds": str(args.rounds)},
            results_root=root / "in-process",
        )
        start = time.perf_counter()
        done = tabulate(settings)
        wall = time.perf_counter() - start
        bare, trials = bare_trial_seconds(done.table)
        span = trials_span(done, settings.results_root, args.rounds)

        cli_root = root / "process"
        command = [
            sys.executable,
            *"-m hpobench tabulate --benchmark gbt_breast_cancer --seeds 1 --n-workers 1 --configs".split(),
            str(args.configs),
            *("--set", f"boosting_rounds={args.rounds}", "--results-root", str(cli_root)),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        cli_wall = time.perf_counter() - start
        cli_bare, _ = bare_trial_seconds(cli_root / "tables" / "gbt_breast_cancer")

    overhead = wall / bare - 1
    print(f"gbt_breast_cancer, {args.configs} configurations x 1 seed, {args.rounds} rounds, 1 worker")
    print(f"{'':28}{'wall-clock s':>14}{'bare trials s':>15}{'overhead':>10}")
    print(f"{'tabulate (in process)':28}{wall:>14.2f}{bare:>15.2f}{overhead:>10.1%}")
    print(f"{'hpobench tabulate process':28}{cli_wall:>14.2f}{cli_bare:>15.2f}{cli_wall / cli_bare - 1:>10.1%}")
    print(f"trials: {trials}, mean bare trial {bare / trials:.3f} s")
    print(
        f"of the overhead: {wall - span:.2f} s before the first trial and after the last (checks, design, "
        f"tuner, table), {span - bare:.2f} s between trials ({(span - bare) / trials * 1000:.0f} ms per trial: "
        f"{span / bare - 1:.1%} of the bare trial time)"
    )
    verdict = "met" if overhead <= GOAL else "NOT met"
    print(f"goal: tabulation adds at most {GOAL:.0%} over the bare trial time: {overhead:.1%}: {verdict}")


if __name__ == "__main__":
    main()
