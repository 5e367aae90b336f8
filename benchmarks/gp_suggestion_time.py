"""How long one GP suggestion takes as observations grow: with the kernel and noise
hyperparameters optimized from the priors' defaults ("cold"), optimized from the previous
fit's ("warm", what GPSuggester does when the data grew by 10%), and kept from the last
optimization with the GP conditioned on all data ("kept", every other suggestion).

Fills a `GPSuggester` over `gbt_breast_cancer`'s space with synthetic rung-level
results (MOBSTER's joint model: resources 1, 3, 9, 27 of 50) or final results (BO),
and times `suggest` with two pending evaluations at the sizes asked for.

    python benchmarks/gp_suggestion_time.py --model mobster --sizes 60 120 200
    python benchmarks/gp_suggestion_time.py --smoke   # seconds: the code path, not the times
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from smoke_option import parse_with_smoke

SMOKE = {"sizes": [8], "repeats": 1}


def fill(suggester, rng: np.random.Generator, target: int, multi_fidelity: bool) -> int:
    """Add trials until `target` observations are held; returns the next trial id."""
    trial_id = 0
    while suggester.num_observations < target:
        config = suggester.encoding.decode(suggester.encoding.sample(rng, 1)[0])
        for resource in (1, 3, 9, 27) if multi_fidelity else (None,):
            value = 0.3 / (resource or 50) ** 0.3 + 0.1 * config["learning_rate"] + rng.normal(0, 0.01)
            suggester.observe(trial_id, config, value, resource)
            if suggester.num_observations >= target or rng.random() > 0.6:
                break
        trial_id += 1
    return trial_id


def time_suggestions(model: str, size: int, fit: str, repeats: int) -> float:
    """Median seconds of `suggest` with `size` observations."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.methods import MethodArguments
    from hpobench.methods.gp import GPSuggester

    args = MethodArguments.for_benchmark(get_benchmark("gbt_breast_cancer"), 0)
    multi_fidelity = model == "mobster"
    suggester = GPSuggester(args.config_space, "min", 0, max_resource=50 if multi_fidelity else None)
    rng = np.random.default_rng(0)
    fill(suggester, rng, size, multi_fidelity)
    pending = [
        (suggester.encoding.decode(suggester.encoding.sample(rng, 1)[0]), 3 if multi_fidelity else None)
        for _ in range(2)
    ]
    suggester.suggest(pending)  # a first fit: the warm start's starting point
    times = []
    for _ in range(repeats):
        if fit == "cold":
            suggester._hyperparameters = None  # no start: optimized from the priors' defaults
        elif fit == "warm":
            suggester._optimized_on = 0  # the data "grew": optimized from the last fit
        started = time.perf_counter()
        suggester.suggest(pending)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["bo", "mobster"], default="mobster")
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 120, 200])
    parser.add_argument("--repeats", type=int, default=5)
    args = parse_with_smoke(parser, SMOKE)
    print(f"{args.model}: median seconds per suggestion (2 pending), {args.repeats} repeats")
    print(f"{'observations':>12} {'cold':>7} {'warm':>7} {'kept':>7} {'cold/kept':>10}")
    for size in args.sizes:
        cold, warm, kept = (time_suggestions(args.model, size, fit, args.repeats) for fit in ("cold", "warm", "kept"))
        print(f"{size:>12} {cold:>7.3f} {warm:>7.3f} {kept:>7.3f} {cold / kept:>10.1f}")


if __name__ == "__main__":
    main()
