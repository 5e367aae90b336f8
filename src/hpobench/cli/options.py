"""Options shared by the commands that run experiments (run-local, launch-remote)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from hpobench.errors import UsageError

ExperimentTag = Annotated[
    Optional[str],
    typer.Option(
        help="Name of the experiment: lower-case letters, digits and '-'. "
        "Results go to RESULTS_ROOT/TAG/METHOD-SEED/. Default: the benchmark name."
    ),
]
Benchmark = Annotated[
    Optional[str],
    typer.Option(
        help="Benchmark to run: a registered name (see `hpobench list benchmarks`) or the path "
        "of a .toml definition file (see README: Your own benchmark). (default: resnet_cifar10)"
    ),
]
Methods = Annotated[
    Optional[list[str]],
    typer.Option(
        "--method",
        help="HPO method; repeat for several (see `hpobench list methods`). "
        "Default: RS, BO, ASHA, MOBSTER, in sequence.",
    ),
]
NumSeeds = Annotated[
    Optional[int],
    typer.Option(help="How many seeds to run: START_SEED, ..., START_SEED+NUM_SEEDS-1 (a count). (default: 1)"),
]
StartSeed = Annotated[Optional[int], typer.Option(help="First seed. (default: 0)")]
NWorkers = Annotated[
    Optional[int], typer.Option(help="Trials run in parallel. Default: the benchmark's.")
]
MaxWallclockTime = Annotated[
    Optional[float],
    typer.Option(help="Tuning budget of each (method, seed), in seconds. Default: the benchmark's."),
]
MaxNumEvaluations = Annotated[
    Optional[int],
    typer.Option(help="Also stop after this many reported results. Default: the benchmark's."),
]
RandomSeed = Annotated[
    Optional[int],
    typer.Option(
        help="Master random seed; with the seed index it fixes each run's suggestions. "
        "Default: the one already used by this experiment tag, else a fresh one (recorded)."
    ),
]
Overrides = Annotated[
    Optional[list[str]],
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a fixed (not searched) entry of the benchmark's config space, "
        "e.g. --set epochs=5 or --set dataset_path=DIR. Repeatable.",
    ),
]

TrialsPerGpu = Annotated[
    Optional[int],
    typer.Option(
        help="Trials that share one GPU: at most GPUs x K trials run at once, each new "
        "one on the least busy GPU (CUDA_VISIBLE_DEVICES). Memory and speed are shared "
        "too. No effect without GPUs. (default: 1)",
        show_default=False,
    ),
]


def parse_set_options(items: Optional[list[str]]) -> Optional[dict[str, str]]:
    """['epochs=5'] -> {'epochs': '5'}; a UsageError for items without '='."""
    if not items:
        return None
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"Invalid --set {item!r}: expected KEY=VALUE, e.g. --set epochs=5")
        parsed[key.strip()] = value.strip()
    return parsed
