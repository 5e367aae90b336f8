"""Simulated asynchronous ASHA runs with crashing configurations, for judging the
failure rule (`hpobench.local.failures`) over many runs in seconds.

A run: `workers` workers, promotion-type ASHA (rungs 1, 3, 9, 27 of 81 epochs, eta 3,
a paused trial promoted when in the top third of its rung, the best paused trial of the
highest rung first, else a new configuration), `trials` configurations. Each
configuration has a quality (its value at every rung), an epoch time drawn around 1,
and crashes with probability `crash`: at an epoch drawn uniformly from 1 to 81
(`crash_at="anywhere"`: divergence, which a trial reaches only if ASHA trains it that
far), or before its first report (`crash_at="start"`: out of memory at the first step).
The rule sees what the tuner would: a trial's first report, and its failure.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from hpobench.local.failures import FailureRule

RUNGS = (1, 3, 9, 27)
MAX_EPOCHS = 81
ETA = 3


@dataclass(frozen=True)
class Stop:
    """Where the rule stopped a simulated run."""

    started: int  # trials started by then
    failed: int  # trials failed by then
    trial: int  # the trial whose report or failure it stopped on
    cause: str  # FailureRule.cause


def simulate_run(
    rule: FailureRule,
    crash: float,
    seed: int,
    trials: int = 300,
    workers: int = 4,
    crash_at: str = "anywhere",
    until_settled: bool = True,
    on_complete: Optional[Callable[[int], None]] = None,
) -> Optional[Stop]:
    """Feed `rule` one simulated run's events in time order; where it stopped the run, or
    None if it never did. `until_settled`: end the run once the rule says no later event
    can stop it (`FailureRule.settled`), which the tuner relies on too. `on_complete` is told
    each trial that trained to the end healthy."""
    rng = random.Random(seed)
    quality: list[float] = []
    epoch_time: list[float] = []
    crash_epoch: list[float] = []  # the epoch a trial fails in; inf if never
    rung_values: list[list[float]] = [[] for _ in RUNGS]
    paused: list[list[tuple[float, int]]] = [[] for _ in RUNGS]  # heaps of (value, trial)
    level: list[int] = []  # the epoch a trial has trained to
    events: list[tuple[float, int, int, int]] = []  # (time, kind, trial, worker): 0 report, 1 job end
    started = failed = 0

    def next_job(now: float, worker: int) -> bool:
        nonlocal started
        for rung in reversed(range(len(RUNGS))):  # the best paused trial of the highest rung
            heap = paused[rung]
            if heap:
                value, trial = heap[0]
                values = rung_values[rung]
                if len(values) >= 2 and bisect.bisect_left(values, value) < len(values) // ETA:
                    heapq.heappop(heap)
                    top = RUNGS[rung + 1] if rung + 1 < len(RUNGS) else MAX_EPOCHS
                    run_job(now, worker, trial, top)
                    return True
        if started >= trials:
            return False
        trial = started
        started += 1
        quality.append(rng.random())
        epoch_time.append(0.5 + rng.random())
        fails = rng.random() < crash
        crash_epoch.append((1 if crash_at == "start" else rng.randint(1, MAX_EPOCHS)) if fails else float("inf"))
        level.append(0)
        run_job(now, worker, trial, RUNGS[0])
        return True

    def run_job(now: float, worker: int, trial: int, top: int) -> None:
        begin = level[trial]
        if begin == 0 and crash_epoch[trial] > 1:  # a new trial reports its first epoch
            heapq.heappush(events, (now + epoch_time[trial], 0, trial, worker))
        end = min(top, crash_epoch[trial])
        heapq.heappush(events, (now + (end - begin) * epoch_time[trial], 1, trial, worker))
        level[trial] = top

    for worker in range(workers):
        next_job(0.0, worker)
    while events:
        now, kind, trial, worker = heapq.heappop(events)
        if kind == 0:
            rule.observe(trial, reported=True)
        elif level[trial] >= crash_epoch[trial]:
            failed += 1
            rule.observe(trial, failed=True)
        elif level[trial] >= MAX_EPOCHS:
            if on_complete is not None:
                on_complete(trial)
        else:  # paused at a rung
            rung = RUNGS.index(level[trial])
            bisect.insort(rung_values[rung], quality[trial])
            heapq.heappush(paused[rung], (quality[trial], trial))
        if rule.should_stop():
            return Stop(started, failed, trial, str(rule.cause))
        if until_settled and rule.settled:
            return None
        if kind == 1:  # the worker is free
            next_job(now, worker)
    return None


def stops(max_fraction: Optional[float], crash: float, runs: int, **options: object) -> list[Optional[Stop]]:
    """Where the rule stopped each of `runs` simulated runs (None: it did not)."""
    return [simulate_run(FailureRule(max_fraction), crash, seed, **options) for seed in range(runs)]  # type: ignore[arg-type]
