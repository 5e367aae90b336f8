"""Options several commands share: those that run experiments (run-local, launch-remote) and those
that read results (status, results, plot, report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

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
        "of a .toml definition file (see docs/extending.md). (default: resnet_cifar10)"
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
NWorkers = Annotated[Optional[int], typer.Option(help="Trials run in parallel. Default: the benchmark's.")]
MaxWallclockTime = Annotated[
    Optional[float], typer.Option(help="Tuning budget of each (method, seed), in seconds. Default: the benchmark's.")
]
MaxNumEvaluations = Annotated[
    Optional[int], typer.Option(help="Also stop after this many reported results. Default: the benchmark's.")
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
DefaultFirstTrial = Annotated[
    Optional[bool],
    typer.Option(
        "--default-first-trial/--no-default-first-trial",
        help="Whether each method's first trial is the default configuration (the middle of each "
        "range, in log space for log domains; a choice's first category), as in Syne Tune's "
        "benchmarking (see docs/methods.md). A benchmark's points_to_evaluate come first instead "
        "when it has them. Default: the benchmark's default_first_trial (true for the built-ins).",
        show_default=False,
    ),
]

Scalarization = Annotated[
    Optional[str],
    typer.Option(
        help="Let single-objective methods tune a multi-objective benchmark: weighted:W1,W2,... "
        "minimizes the weighted sum of its objectives, one weight per objective in the benchmark's "
        "order, each objective minimized (a maximized one's sign flipped) and normalized by the "
        "benchmark's [hypervolume] bounds. Multi-objective methods ignore it. One tag holds one "
        "scalarization (see docs/multi-objective.md).",
        show_default=False,
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

Table = Annotated[
    Optional[Path],
    typer.Option(
        help="With --backend simulated: the table of real runs to replay (a folder `hpobench tabulate` "
        "wrote). Default: RESULTS_ROOT/tables/BENCHMARK; a blackbox:NAME/TASK benchmark is its own table.",
        show_default=False,
    ),
]
Surrogate = Annotated[
    Optional[str],
    typer.Option(
        help="With --backend simulated: predict configurations outside the table with Syne Tune's "
        "add_surrogate, 'knn' (k nearest neighbours) or 'random_forest'. Default: none, methods "
        "evaluate only the table's configurations (each suggestion moved to the nearest row).",
        show_default=False,
    ),
]


def experiment_flags(
    experiment_tag: Optional[str],
    benchmark: Optional[str],
    method: Optional[list[str]],
    num_seeds: Optional[int],
    start_seed: Optional[int],
    n_workers: Optional[int],
    max_wallclock_time: Optional[float],
    max_num_evaluations: Optional[int],
    random_seed: Optional[int],
    overrides: Optional[list[str]],
    default_first_trial: Optional[bool] = None,
    scalarization: Optional[str] = None,
) -> dict[str, Any]:
    """The experiment's flags as settings keyword arguments (None: not given)."""
    return {
        "experiment_tag": experiment_tag,
        "benchmark": benchmark,
        "methods": tuple(method) if method else None,
        "num_seeds": num_seeds,
        "start_seed": start_seed,
        "n_workers": n_workers,
        "max_wallclock_time": max_wallclock_time,
        "max_num_evaluations": max_num_evaluations,
        "random_seed": random_seed,
        "overrides": parse_key_values(overrides, "--set", "epochs=5"),
        "default_first_trial": default_first_trial,
        "scalarization": scalarization,
    }


def parse_key_values(
    items: Optional[list[str]], flag: str, example: str, value_optional: bool = False
) -> Optional[dict[str, str]]:
    """['epochs=5'] -> {'epochs': '5'}; a UsageError naming `flag` for an item without a key
    (or without '=', unless `value_optional`: then 'exclusive' -> {'exclusive': ''})."""
    if not items:
        return None
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key.strip() or (not sep and not value_optional):
            form = "KEY=VALUE or KEY" if value_optional else "KEY=VALUE"
            raise UsageError(f"Invalid {flag} {item!r}: expected {form}, e.g. {flag} {example}")
        parsed[key.strip()] = value.strip()
    return parsed


# Options of the commands that read results (status, results, plot, report).
ResultsTag = Annotated[
    str, typer.Option(help="Experiment tag to read: the folder RESULTS_ROOT/TAG.", show_default=False)
]
ResultsRoot = Annotated[
    Optional[Path],
    typer.Option(
        help="Where results are read from. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)", show_default=False
    ),
]
OutputFormat = Annotated[
    str,
    typer.Option("--format", help="Output format: table, csv, json or markdown. (default: table)", show_default=False),
]
OutputFile = Annotated[
    Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of the terminal.")
]
IncludeIncomplete = Annotated[
    bool,
    typer.Option(
        "--include-incomplete",
        help="Also use seeds that did not complete (running, interrupted, failed) in the statistics.",
    ),
]
