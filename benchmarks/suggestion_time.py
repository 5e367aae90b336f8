"""How long a method takes to suggest a configuration, by how much it has observed (goal:
median <= 50 ms at 100 observations for OPTUNA-TPE and OPTUNA-CMAES).

Each method runs on a 5-dimensional space (4 floats, one of them log-scaled, and an
integer) against a smooth function, through the scheduler interface as the tuner drives it
with one worker: suggest, add the trial, tell its result. After 20, 100 and 300
observations (`--observations`), the median (and, at the middle count, the mean) of the next `--timed` suggestions
(each told before the next) is reported; RS and hpobench's BO are the baselines measured in the same run.

    PYTHONPATH=src python benchmarks/suggestion_time.py [--methods RS BO OPTUNA-TPE ...] [--timed 10]
    PYTHONPATH=src python benchmarks/suggestion_time.py --smoke   # seconds: RS, BO, OPTUNA-TPE, the code path

Methods from other libraries need their extras (the test extra has them, and dehb per README.md).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from datetime import datetime
from typing import Any

from smoke_option import parse_with_smoke

CHECKPOINTS = (20, 100, 300)
# A multi-fidelity method (DEHB) gets a resource to decide on; each trial is told its result at
# the resource its configuration says it trains to.
MULTI_FIDELITY_EPOCHS = 27
GOAL_SECONDS = 0.05
GOAL_OBSERVATIONS = 100
SMOKE = {"methods": ["RS", "BO", "OPTUNA-TPE"], "timed": 1, "observations": [3, 6]}


def objective(config: dict[str, Any]) -> float:
    return (
        (config["a"] - 0.3) ** 2
        + (math.log10(config["b"]) + 2) ** 2 / 4
        + math.sin(3 * config["c"])
        + (config["d"] - 0.7) ** 2
        + (config["e"] - 5) ** 2 / 25
    )


def build(name: str, seed: int) -> Any:
    from syne_tune.config_space import loguniform, randint, uniform

    from hpobench.methods import MethodArguments, get_method

    spec = get_method(name)
    epochs = MULTI_FIDELITY_EPOCHS if spec.multi_fidelity else 1
    space = {
        "a": uniform(0, 1),
        "b": loguniform(1e-4, 1),
        "c": uniform(-2, 2),
        "d": uniform(0, 1),
        "e": randint(1, 10),
        "epochs": epochs,
    }
    return spec.build(
        MethodArguments(space, "value", "min", "epoch", epochs, random_seed=seed, max_resource_attr="epochs")
    )


def step(scheduler: Any, trial_id: int) -> float:
    """One suggestion, told at once; the seconds the suggestion took."""
    from syne_tune.backend.trial_status import Trial

    began = time.perf_counter()
    suggestion = scheduler.suggest()
    took = time.perf_counter() - began
    trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
    scheduler.on_trial_add(trial)
    result = {"epoch": trial.config["epochs"], "value": objective(trial.config)}
    scheduler.on_trial_result(trial, result)
    scheduler.on_trial_complete(trial, result)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["RS", "BO", "OPTUNA-TPE", "OPTUNA-CMAES", "OPTUNA-GP", "NEVERGRAD-ONEPLUSONE", "DEHB", "SMAC"],
    )
    parser.add_argument("--timed", type=int, default=16)
    parser.add_argument("--observations", type=int, nargs="+", default=list(CHECKPOINTS), help="N, increasing")
    options = parse_with_smoke(parser, SMOKE)
    checkpoints = options.observations
    middle = len(checkpoints) // 2
    print(f"median seconds per suggestion over {options.timed} suggestions, after N observations (5-d space)")
    # The mean too: SMAC fits its forest once per 8 suggestions, which a median hides.
    print(
        f"{'method':<22}" + "".join(f"{f'N={n}':>10}" for n in checkpoints) + f"{f'mean N={checkpoints[middle]}':>12}"
    )
    for name in options.methods:
        scheduler, trial_id, medians, means = build(name, 0), 0, [], []
        for checkpoint in checkpoints:
            while trial_id < checkpoint:
                step(scheduler, trial_id)
                trial_id += 1
            timed = [step(scheduler, trial_id + i) for i in range(options.timed)]
            trial_id += options.timed
            medians.append(statistics.median(timed))
            means.append(statistics.mean(timed))
        verdict = ""
        if name in ("OPTUNA-TPE", "OPTUNA-CMAES") and GOAL_OBSERVATIONS in checkpoints:
            at_goal = medians[checkpoints.index(GOAL_OBSERVATIONS)]
            verdict = f"  goal <= {GOAL_SECONDS:.3f} s at N={GOAL_OBSERVATIONS}: " + (
                "met" if at_goal <= GOAL_SECONDS else "NOT met"
            )
        line = f"{name:<22}" + "".join(f"{m:>10.4f}" for m in medians) + f"{means[middle]:>12.4f}"
        print(line + verdict, flush=True)


if __name__ == "__main__":
    main()
