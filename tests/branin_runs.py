"""Branin driven through a method's scheduler as the tuner drives it: for the tests of the
methods from other libraries (one worker, or four whose results arrive out of order)."""

from __future__ import annotations

import heapq
import math
from datetime import datetime
from typing import Any

import numpy as np
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import uniform

from hpobench.methods import MethodArguments, get_method


def branin(config: dict) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    x1, x2 = config["x1"], config["x2"]
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def build(name: str, seed: int, space: dict | None = None) -> Any:
    """Method `name`'s scheduler on Branin's space (minimize `value`; one epoch a trial)."""
    space = space or {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0), "epochs": 1}
    return get_method(name).build(MethodArguments(space, "value", "min", "epoch", 1, random_seed=seed))


def start(scheduler: Any, trial_id: int) -> Trial:
    """Suggest and add a trial, as the tuner does."""
    suggestion = scheduler.suggest()
    trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
    scheduler.on_trial_add(trial)
    return trial


def best_of_async_run(name: str, seed: int, workers: int = 4, evaluations: int = 40) -> float:
    """The tuner's loop with `workers` trials of random durations: results arrive out of order."""
    np.random.seed(seed)  # as run-local seeds numpy's global generator
    durations = np.random.default_rng(10_000 + seed)
    scheduler = build(name, seed)
    running: list[tuple[float, int, Trial]] = []
    best, started, finished, now = math.inf, 0, 0, 0.0
    while finished < evaluations:
        while len(running) < workers and started < evaluations:
            heapq.heappush(running, (now + durations.uniform(1.0, 10.0), started, start(scheduler, started)))
            started += 1
        now, _, trial = heapq.heappop(running)
        result = {"epoch": 1, "value": branin(trial.config)}
        scheduler.on_trial_result(trial, result)
        scheduler.on_trial_complete(trial, result)
        best, finished = min(best, result["value"]), finished + 1
    return best
