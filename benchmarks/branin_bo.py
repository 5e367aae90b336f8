"""BO on Branin, driven through the scheduler interface as the tuner drives it (goal: median best <= 0.6).

No subprocesses: a small event loop plays the tuner. With W workers, W trials
run at once; each takes a random duration (uniform in [1, 10] time units, from
a generator seeded per run), so trials finish in random order, and a worker
that frees up asks the scheduler for the next configuration, with the others
still pending. Each run stops after 40 evaluations. Before building each
scheduler, numpy's and Python's global generators are seeded with the run's
seed, as `hpobench run-local` does (local/launcher.py).

Methods, each with the same seeds:
- BO        hpobench's GP scheduler (methods/bo.py), as registered
- RS        random search, as registered
- BOTorch   Syne Tune 0.16's stock BOTorch (the former "BO"), as a baseline

For each number of workers and method: the median best value (Branin's minimum
is 0.397887), the quartiles and the range over seeds, the warnings raised per
run (recorded, not printed) and the seconds per suggestion.

Other registered methods run the same way with --methods (e.g. RS OPTUNA-TPE OPTUNA-CMAES OPTUNA-GP).

Usage: PYTHONPATH=src python benchmarks/branin_bo.py [--seeds 10] [--evaluations 40] [--workers 4 1] [--methods ...]
       PYTHONPATH=src python benchmarks/branin_bo.py --smoke   # seconds: the code path, not BO's quality
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from smoke_option import parse_with_smoke

BRANIN_MINIMUM = 0.397887
GOAL = 0.6
SMOKE = {"seeds": 1, "evaluations": 5, "workers": [1]}


def branin(x1: float, x2: float) -> float:
    """Branin-Hoo on [-5, 10] x [0, 15]."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def arguments(seed: int) -> Any:
    from syne_tune.config_space import uniform

    from hpobench.methods import MethodArguments

    space = {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0)}
    return MethodArguments(space, "value", "min", "epoch", 1, random_seed=seed)


def registered(name: str) -> Callable[[int], Any]:
    from hpobench.methods import get_method

    return lambda seed: get_method(name).build(arguments(seed))


def stock_botorch(seed: int) -> Any:
    from syne_tune.optimizer.baselines import BOTorch

    args = arguments(seed)
    return BOTorch(config_space=args.config_space, metric=args.metric, do_minimize=True, random_seed=seed)


def run(make_scheduler: Callable[[int], Any], seed: int, workers: int, evaluations: int) -> tuple[float, int, float]:
    """Best value, warnings raised and seconds per suggestion of one simulated tuning run."""
    from syne_tune.backend.trial_status import Trial

    np.random.seed(seed)
    random.seed(seed)
    durations = np.random.default_rng(10_000 + seed)
    running: list[tuple[float, int, Trial]] = []  # (finish time, trial id, trial)
    best, started, finished, now, suggest_seconds = math.inf, 0, 0, 0.0, 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler = make_scheduler(seed)
        while finished < evaluations:
            while len(running) < workers and started < evaluations:
                tick = time.perf_counter()
                suggestion = scheduler.suggest()
                suggest_seconds += time.perf_counter() - tick
                trial = Trial(trial_id=started, config=suggestion.config, creation_time=datetime.now())
                scheduler.on_trial_add(trial)
                heapq.heappush(running, (now + durations.uniform(1.0, 10.0), started, trial))
                started += 1
            now, _, trial = heapq.heappop(running)
            result = {"epoch": 1, "value": branin(trial.config["x1"], trial.config["x2"])}
            scheduler.on_trial_result(trial, result)
            scheduler.on_trial_complete(trial, result)
            best = min(best, result["value"])
            finished += 1
    return best, len(caught), suggest_seconds / max(started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--evaluations", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 1])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["BO", "RS", "BOTorch"],
        help="registered method names, and BOTorch (Syne Tune 0.16's stock class)",
    )
    options = parse_with_smoke(parser, SMOKE)
    methods = {name: stock_botorch if name == "BOTorch" else registered(name) for name in options.methods}
    print(f"Branin, {options.evaluations} evaluations, seeds 0..{options.seeds - 1}; minimum {BRANIN_MINIMUM}")
    print(
        f"{'workers':>7} {'method':<8} {'median best':>11} {'quartiles':>17} {'range':>17} "
        f"{'warnings/run':>12} {'s/suggest':>9}"
    )
    medians: dict[tuple[int, str], float] = {}
    for workers in options.workers:
        for name, make in methods.items():
            runs = [run(make, seed, workers, options.evaluations) for seed in range(options.seeds)]
            bests = np.array([r[0] for r in runs])
            medians[workers, name] = float(np.median(bests))
            q1, q3 = np.quantile(bests, [0.25, 0.75])
            print(
                f"{workers:>7} {name:<8} {np.median(bests):>11.3f} {f'{q1:.3f} - {q3:.3f}':>17} "
                f"{f'{bests.min():.3f} - {bests.max():.3f}':>17} {np.mean([r[1] for r in runs]):>12.1f} "
                f"{np.mean([r[2] for r in runs]):>9.3f}",
                flush=True,
            )
    for workers in options.workers:
        if "BO" not in methods or "RS" not in methods:
            break
        bo, rs = medians[workers, "BO"], medians[workers, "RS"]
        verdict = "met" if bo <= GOAL and bo < rs else "NOT met"
        print(f"goal with {workers} worker(s): BO median {bo:.3f} <= {GOAL} and below RS {rs:.3f}: {verdict}")


if __name__ == "__main__":
    main()
