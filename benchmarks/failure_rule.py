"""How often the failure rule stops a run, over simulated asynchronous ASHA runs.

Each run: 4 workers, promotion-type ASHA (rungs 1, 3, 9, 27 of 81 epochs), 300 trials,
configurations that crash with a given probability, either at an epoch drawn over their
training (divergence: a trial crashes only if ASHA trains it that far) or before their first
report (out of memory at the first step); see tests/failure_runs.py. Printed per case: the
share of runs stopped by hpobench's rule (`hpobench.local.failures`) and, as the baseline
measured on the same runs, by the rule it replaced (issue 30): the one-sided 95% Wilson bound
of failed over finished trials above the limit, checked after every trial, with a limit of
0.5 by default.

    PYTHONPATH=src python benchmarks/failure_rule.py [--runs 10000]
    PYTHONPATH=src python benchmarks/failure_rule.py --smoke
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the simulator

from failure_runs import simulate_run
from smoke_option import parse_with_smoke

from hpobench.local.failures import FailureRule

SMOKE = {"runs": 50}
# (the rule's --max-failed-fraction, crash probability, where configurations crash)
CASES = [
    (None, 0.35, "anywhere"),
    (None, 0.6, "anywhere"),
    (None, 0.35, "start"),
    (None, 0.6, "start"),
    (None, 1.0, "start"),
    (0.5, 0.35, "start"),
    (0.5, 0.5, "start"),
    (0.5, 0.9, "start"),
]


class WilsonAfterEveryTrial(FailureRule):
    """The rule hpobench had before issue 30: failed over finished trials (paused ones are not
    finished), stopped once the one-sided 95% Wilson lower bound exceeds `share`."""

    def __init__(self, share: float):
        super().__init__(None)
        self.share = share
        self.finished = 0
        self.failed_count = 0

    def observe(self, trial_id: int, reported: bool = False, failed: bool = False) -> None:
        if failed:
            self.finished += 1
            self.failed_count += 1

    def finish(self, trial_id: int) -> None:
        """A trial completed its training healthy."""
        self.finished += 1

    def should_stop(self) -> bool:
        if self.stopped is None and self.failed_count and _wilson_lower(self.failed_count, self.finished) > self.share:
            self.stopped, self.cause = "old rule", "limit"
        return self.stopped is not None

    @property
    def settled(self) -> bool:
        return self.stopped is not None


def _wilson_lower(successes: int, trials: int, z: float = 1.645) -> float:
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials)


def stopped_share(make_rule, crash: float, where: str, runs: int) -> tuple[float, float]:
    """The share of runs the rule stopped, and the median trials started when it did."""
    started = []
    for seed in range(runs):
        rule = make_rule()
        started.append(simulate_run(rule, crash, seed, crash_at=where, on_complete=getattr(rule, "finish", None)))
    stops = sorted(stop.started for stop in started if stop is not None)
    median = stops[len(stops) // 2] if stops else math.nan
    return len(stops) / runs, median


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000, help="simulated runs per case")
    args = parse_with_smoke(parser, SMOKE, argv)
    print(f"{args.runs} simulated ASHA runs per case (4 workers, 300 trials); share of runs stopped")
    print(f"{'limit':>6} {'crash':>6} {'crashes':>9} {'hpobench':>9} {'(median)':>9} {'old rule':>9} {'(median)':>9}")
    begun = time.perf_counter()
    for limit, crash, where in CASES:
        new, new_at = stopped_share(lambda limit=limit: FailureRule(limit), crash, where, args.runs)
        old_limit = 0.5 if limit is None else limit
        old, old_at = stopped_share(lambda share=old_limit: WilsonAfterEveryTrial(share), crash, where, args.runs)
        shown = "-" if limit is None else f"{limit:g}"
        print(f"{shown:>6} {crash:>6g} {where:>9} {new:>9.2%} {new_at:>9g} {old:>9.2%} {old_at:>9g}")
    print(f"({time.perf_counter() - begun:.1f} s)")


if __name__ == "__main__":
    main()
