"""A multi-fidelity method against random search on Branin with a resource, through the
scheduler interface as the tuner drives it (issue 22's check for DEHB).

No subprocesses: a small event loop plays the tuner. W trials run at once; each epoch takes
a random time (uniform in [0.5, 1.5], from a generator seeded per run), so trials finish out
of order. At epoch e a trial reports Branin(x) + 30 / e (its ranking holds at every
resource). Every method gets the same budget of epochs: 40 full evaluations' worth
(40 x R). A trial the method stops, or that was told to train to fewer epochs (DEHB's
fidelity), frees its worker for the next suggestion. The figure per run is the best Branin
value among trials that reached the maximum resource R; Branin's minimum is 0.397887.
Before building each scheduler numpy's global generator is seeded with the run's seed, as
`hpobench run-local` does.

Usage: PYTHONPATH=src python benchmarks/branin_multi_fidelity.py [--seeds 10] [--workers 4 1]
           [--max-resource 27] [--methods RS DEHB]
       PYTHONPATH=src python benchmarks/branin_multi_fidelity.py --smoke   # seconds: the code path
"""

from __future__ import annotations

import argparse
import heapq
import math
import statistics
from datetime import datetime
from typing import Any

from smoke_option import parse_with_smoke

SMOKE = {"seeds": 1, "workers": [1], "max_resource": 3}


def branin(config: dict[str, Any]) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    x1, x2 = config["x1"], config["x2"]
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def best_of_run(name: str, seed: int, workers: int, max_resource: int) -> float:
    import numpy as np
    from syne_tune.backend.trial_status import Trial
    from syne_tune.config_space import uniform
    from syne_tune.optimizer.scheduler import SchedulerDecision

    from hpobench.methods import MethodArguments, get_method

    np.random.seed(seed)
    durations = np.random.default_rng(10_000 + seed)
    space = {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0), "epochs": max_resource}
    scheduler = get_method(name).build(
        MethodArguments(space, "value", "min", "epoch", max_resource, random_seed=seed, max_resource_attr="epochs")
    )
    budget, spent, best, started, now = 40 * max_resource, 0, math.inf, 0, 0.0
    events: list[tuple[float, int, int, Any]] = []

    def launch() -> None:
        nonlocal started
        trial = Trial(trial_id=started, config=scheduler.suggest().config, creation_time=datetime.now())
        scheduler.on_trial_add(trial)
        started += 1
        heapq.heappush(events, (now + durations.uniform(0.5, 1.5), trial.trial_id, 1, trial))

    for _ in range(workers):
        launch()
    while events and spent < budget:
        now, _, epoch, trial = heapq.heappop(events)
        spent += 1
        result = {"epoch": epoch, "value": branin(trial.config) + 30.0 / epoch}
        if epoch == max_resource:
            best = min(best, branin(trial.config))
        decision = scheduler.on_trial_result(trial, result)
        if decision == SchedulerDecision.STOP:
            scheduler.on_trial_remove(trial)
        elif epoch < trial.config.get("epochs", max_resource):
            heapq.heappush(events, (now + durations.uniform(0.5, 1.5), trial.trial_id, epoch + 1, trial))
            continue
        else:
            scheduler.on_trial_complete(trial, result)
        launch()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 1])
    parser.add_argument("--max-resource", type=int, default=27)
    parser.add_argument("--methods", nargs="+", default=["RS", "DEHB"])
    options = parse_with_smoke(parser, SMOKE)
    print(
        f"Branin + 30/epoch, {options.max_resource} epochs at most, a budget of 40 x {options.max_resource} "
        f"epochs, seeds 0..{options.seeds - 1}; best Branin at the maximum resource (minimum 0.397887)"
    )
    print(f"{'workers':>7} {'method':<8} {'median best':>12} {'quartiles':>20}")
    for workers in options.workers:
        for name in options.methods:
            bests = sorted(best_of_run(name, seed, workers, options.max_resource) for seed in range(options.seeds))
            quartiles = "-"  # they need two values: one seed has none
            if len(bests) > 1:
                q1, _, q3 = statistics.quantiles(bests, n=4)
                quartiles = f"{q1:.3f} - {q3:.3f}"
            print(f"{workers:>7} {name:<8} {statistics.median(bests):>12.3f} {quartiles:>20}", flush=True)


if __name__ == "__main__":
    main()
