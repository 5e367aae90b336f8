"""From validated options to the list of (method, seed) experiments to run.

Both launchers start here, so a SageMaker job and `run-local` given the same
options run exactly the same experiments with the same seeds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Optional

from hpobench.benchmarks import DEFAULT_BENCHMARK, BenchmarkDefinition, get_benchmark
from hpobench.errors import UsageError
from hpobench.methods import get_method, method_names
from hpobench.results import layout
from hpobench.settings import MAX_RANDOM_SEED, ExperimentOptions


@dataclass(frozen=True)
class PlannedRun:
    """One (method, seed) experiment: its own tuner, its own results folder."""

    method: str
    seed: int
    random_seed: int  # the effective seed of this run

    @property
    def name(self) -> str:
        """Folder name under the experiment tag, as in the seed: ``{method}-{seed}``."""
        return layout.run_name(self.method, self.seed)


@dataclass(frozen=True)
class ExperimentPlan:
    """An experiment resolved against its benchmark: every default filled in."""

    experiment_tag: str
    benchmark: BenchmarkDefinition  # overrides already applied
    overrides: dict[str, Any]
    n_workers: int
    max_wallclock_time: float
    max_num_evaluations: Optional[int]
    master_random_seed: int
    runs: tuple[PlannedRun, ...]
    # Each method's first trial is the default configuration (unless the benchmark's
    # points_to_evaluate come first): the flag, else the benchmark's own field.
    default_first_trial: bool = True

    @property
    def methods(self) -> list[str]:
        """The methods of the runs, in order, each once."""
        return list(dict.fromkeys(run.method for run in self.runs))


def effective_random_seed(master_random_seed: int, seed: int) -> int:
    """The seed of repetition `seed`: distinct per repetition, fixed by the master seed."""
    return (master_random_seed + seed) % (MAX_RANDOM_SEED + 1)


def draw_master_random_seed() -> int:
    return secrets.randbelow(MAX_RANDOM_SEED + 1)


def plan_experiment(options: ExperimentOptions, master_random_seed: Optional[int] = None) -> ExperimentPlan:
    """Resolve `options` against the registries; raises UsageError on bad input.

    `master_random_seed` is used when `options.random_seed` is not given (e.g. the
    seed already recorded for this experiment tag); a fresh one is drawn otherwise.
    """
    benchmark = get_benchmark(options.benchmark or DEFAULT_BENCHMARK)
    for method in options.methods:
        check_resumable(benchmark, method)
    benchmark, overrides = with_overrides(benchmark, options.overrides)
    if options.random_seed is not None:
        master_random_seed = options.random_seed
    elif master_random_seed is None:
        master_random_seed = draw_master_random_seed()
    runs = tuple(
        PlannedRun(method, seed, effective_random_seed(master_random_seed, seed))
        for method in options.methods
        for seed in options.seeds
    )
    return ExperimentPlan(
        experiment_tag=options.experiment_tag or default_experiment_tag(benchmark.name),
        benchmark=benchmark,
        overrides=overrides,
        n_workers=options.n_workers or benchmark.n_workers,
        max_wallclock_time=options.max_wallclock_time or benchmark.max_wallclock_time,
        max_num_evaluations=options.max_num_evaluations or benchmark.max_num_evaluations,
        master_random_seed=master_random_seed,
        runs=runs,
        default_first_trial=(
            benchmark.default_first_trial if options.default_first_trial is None else options.default_first_trial
        ),
    )


def check_resumable(benchmark: BenchmarkDefinition, method: str) -> None:
    """Refuse a method that pauses and resumes trials on a benchmark whose script declares it
    does not checkpoint (every resumed trial would train from the start again)."""
    spec = get_method(method)
    if spec.decisions != "promotion" or benchmark.checkpoints:
        return
    stopping = f"{method}-STOP" if f"{method}-STOP" in method_names() else "ASHA-STOP or MOBSTER-STOP"
    raise UsageError(
        f"{method} pauses trials and resumes them from their checkpoints, but benchmark "
        f"{benchmark.name!r} declares checkpoints = false; use {stopping} (stopping decisions, "
        "nothing resumed), or make its script save and load its state in --st_checkpoint_dir "
        "and declare checkpoints = true (docs/extending.md)"
    )


def default_experiment_tag(benchmark_name: str) -> str:
    return benchmark_name.replace("_", "-").lower()


def with_overrides(benchmark: BenchmarkDefinition, raw: dict[str, str]) -> tuple[BenchmarkDefinition, dict[str, Any]]:
    """`benchmark` with `--set KEY=VALUE` overrides applied to its fixed config entries,
    and the typed overrides."""
    overrides = parse_overrides(benchmark, raw)
    if overrides:
        benchmark = benchmark.model_copy(update={"config_space": {**benchmark.config_space, **overrides}})
    return benchmark, overrides


def parse_overrides(benchmark: BenchmarkDefinition, raw: dict[str, str]) -> dict[str, Any]:
    """Typed values for `--set KEY=VALUE` overrides of fixed config entries."""
    fixed = benchmark.fixed_entries()
    parsed: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in fixed:
            searched = key in benchmark.config_space
            why = "is searched, not fixed" if searched else "is not in the config space"
            raise UsageError(
                f"Cannot --set {key}: it {why} of benchmark {benchmark.name!r}; "
                f"fixed entries are: {', '.join(sorted(fixed)) or 'none'}"
            )
        parsed[key] = _coerce(key, text, fixed[key])
    return parsed


def _coerce(key: str, text: Any, default: Any) -> Any:
    if not isinstance(text, str):  # from hpobench.toml, already typed
        text = str(text)
    kind = type(default)
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "yes")
        if kind is int:
            value: Any = int(text)
            if value <= 0 and default > 0:
                raise UsageError(f"Invalid --set {key}={text}: must be a positive integer")
            return value
        if kind is float:
            return float(text)
    except ValueError:
        raise UsageError(f"Invalid --set {key}={text}: expected {kind.__name__} like the default {default!r}") from None
    return text
