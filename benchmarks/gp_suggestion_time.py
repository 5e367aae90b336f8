"""How long one GP suggestion takes as observations grow, with the fit started cold
(the priors' defaults) and warm (the previous fit's hyperparameters, as GPSuggester does).

Fills a `GPSuggester` over `gbt_breast_cancer`'s space with synthetic rung-level
results (MOBSTER's joint model: resources 1, 3, 9, 27 of 50) or final results (BO),
and times `suggest` with two pending evaluations at the sizes asked for.

    python benchmarks/gp_suggestion_time.py --model mobster --sizes 60 120 200
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


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


def time_suggestions(model: str, size: int, warm: bool, repeats: int) -> float:
    """Median seconds of `suggest` with `size` observations."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.methods import MethodArguments
    from hpobench.methods.gp import GPSuggester

    args = MethodArguments.for_benchmark(get_benchmark("gbt_breast_cancer"), 0)
    multi_fidelity = model == "mobster"
    suggester = GPSuggester(args.config_space, "min", 0, max_resource=50 if multi_fidelity else None,
                            resource_attr="boosting_rounds" if multi_fidelity else None)  # fmt: skip
    rng = np.random.default_rng(0)
    fill(suggester, rng, size, multi_fidelity)
    pending = [(suggester.encoding.decode(suggester.encoding.sample(rng, 1)[0]), 3 if multi_fidelity else None)
               for _ in range(2)]  # fmt: skip
    suggester.suggest(pending)  # a first fit: the warm start's starting point
    times = []
    for _ in range(repeats):
        if not warm:
            suggester._hyperparameters = None  # what every fit did before the warm start
        started = time.perf_counter()
        suggester.suggest(pending)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["bo", "mobster"], default="mobster")
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 120, 200])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.model}: median seconds per suggestion (2 pending), {args.repeats} repeats")
    print(f"{'observations':>12} {'cold fit':>9} {'warm fit':>9} {'ratio':>6}")
    for size in args.sizes:
        cold = time_suggestions(args.model, size, warm=False, repeats=args.repeats)
        warm = time_suggestions(args.model, size, warm=True, repeats=args.repeats)
        print(f"{size:>12} {cold:>9.3f} {warm:>9.3f} {cold / warm:>6.1f}")


if __name__ == "__main__":
    main()
