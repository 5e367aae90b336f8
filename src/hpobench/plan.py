"""From validated options and what the tag already holds to the experiment to run.

Every engine resolves an experiment here, the same way: `experiment_tag` names its tag;
`plan_experiment` resolves the options against the registries and the tag's records
(`tag_records`: the master seed its runs already use); `select_runs` checks that the tag
holds one setup and picks the runs to start (not complete, not running elsewhere). So
`run-local`, a Slurm cell and a SageMaker job given the same options run exactly the same
experiments with the same seeds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Optional

from hpobench.benchmarks import DEFAULT_BENCHMARK, BenchmarkDefinition, get_benchmark
from hpobench.errors import ExtraMissing, HpobenchError, UsageError, typed_first_line
from hpobench.experiment_setup import DEFAULT_BACKEND, DEFAULT_TRIALS_PER_GPU, FORCE_FIX, ExperimentSetup
from hpobench.methods import METHODS, get_method, method_names
from hpobench.results import layout
from hpobench.settings import MAX_RANDOM_SEED, ExperimentOptions
from hpobench.tag_records import ACTIVE, COMPLETE, NoRecords, TagRecords, master_seed


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
    trials_per_gpu: int = DEFAULT_TRIALS_PER_GPU
    backend: str = DEFAULT_BACKEND
    # Each method's first trial is the default configuration (unless the benchmark's
    # points_to_evaluate come first): the flag, else the benchmark's own field.
    default_first_trial: bool = True
    # A simulated run's table, its manifest's hash and surrogate (tables/simulated.py).
    table: Optional[str] = None
    table_sha256: Optional[str] = None
    surrogate: Optional[str] = None
    # How single-objective methods tune a multi-objective benchmark (--scalarization), as given.
    scalarization: Optional[str] = None

    @property
    def methods(self) -> list[str]:
        """The methods of the runs, in order, each once."""
        return list(dict.fromkeys(run.method for run in self.runs))

    @property
    def setup(self) -> ExperimentSetup:
        """What makes this experiment's runs comparable (metadata, job arguments, checks)."""
        return ExperimentSetup.of(self)


def effective_random_seed(master_random_seed: int, seed: int) -> int:
    """The seed of repetition `seed`: distinct per repetition, fixed by the master seed."""
    return (master_random_seed + seed) % (MAX_RANDOM_SEED + 1)


def draw_master_random_seed() -> int:
    return secrets.randbelow(MAX_RANDOM_SEED + 1)


def experiment_tag(options: ExperimentOptions) -> str:
    """--experiment-tag, or the benchmark's name with '-' for '_'."""
    if options.experiment_tag:
        return options.experiment_tag
    return default_experiment_tag(get_benchmark(options.benchmark or DEFAULT_BENCHMARK).name)


def plan_experiment(options: ExperimentOptions, records: Optional[TagRecords] = None) -> ExperimentPlan:
    """Resolve `options` against the registries and the tag's `records` (default: none, as
    in a dry run); raises UsageError on bad input.

    The master seed is --random-seed, else the one the tag's runs already use, else drawn;
    --random-seed naming another than the tag's is refused (its seeds would not be one
    experiment's)."""
    benchmark = get_benchmark(options.benchmark or DEFAULT_BENCHMARK)
    scalarization = check_scalarization(benchmark, options.scalarization)
    for method in options.methods:
        check_objective_count(benchmark, method, scalarization)
        check_resumable(benchmark, method)
    benchmark, overrides = with_overrides(benchmark, options.overrides)
    tag = options.experiment_tag or default_experiment_tag(benchmark.name)
    recorded = master_seed(records or NoRecords())
    if options.random_seed is not None and recorded is not None and options.random_seed != recorded:
        raise UsageError(
            f"Experiment {tag!r} already uses master random seed {recorded}, not {options.random_seed}; "
            "leave out --random-seed, or use another --experiment-tag"
        )
    if options.random_seed is not None:
        master_random_seed = options.random_seed
    elif recorded is not None:
        master_random_seed = recorded
    else:
        master_random_seed = draw_master_random_seed()
    table = _simulated_table(options, benchmark)
    runs = tuple(
        PlannedRun(method, seed, effective_random_seed(master_random_seed, seed))
        for method in options.methods
        for seed in options.seeds
    )
    return ExperimentPlan(
        experiment_tag=tag,
        benchmark=benchmark,
        overrides=overrides,
        n_workers=options.n_workers or benchmark.n_workers,
        max_wallclock_time=options.max_wallclock_time or benchmark.max_wallclock_time,
        max_num_evaluations=options.max_num_evaluations or benchmark.max_num_evaluations,
        master_random_seed=master_random_seed,
        runs=runs,
        # Settings of the engines that run trials (run-local, Slurm; SageMaker: trials per GPU).
        trials_per_gpu=getattr(options, "trials_per_gpu", DEFAULT_TRIALS_PER_GPU),
        backend=getattr(options, "backend", DEFAULT_BACKEND),
        default_first_trial=(
            benchmark.default_first_trial if options.default_first_trial is None else options.default_first_trial
        ),
        table=table[0] if table else None,
        table_sha256=table[1] if table else None,
        surrogate=getattr(options, "surrogate", None),
        scalarization=scalarization,
    )


def _simulated_table(options: ExperimentOptions, benchmark: BenchmarkDefinition) -> Optional[tuple[str, Optional[str]]]:
    """A simulated run's table path and manifest hash (a UsageError if it is missing); None
    for real runs. A Syne Tune blackbox (`blackbox:NAME/TASK`) is a table: simulated only."""
    if getattr(options, "backend", DEFAULT_BACKEND) != "simulated":
        if benchmark.origin.kind == "blackbox":
            raise UsageError(
                f"Benchmark {benchmark.reference} is a table of Syne Tune's, with no script to run; "
                "add --backend simulated"
            )
        return None
    from hpobench.tables.simulated import table_identity

    return table_identity(options, benchmark)


@dataclass(frozen=True)
class Selection:
    """The runs of a plan to start, and the state the tag's records gave every run."""

    todo: tuple[PlannedRun, ...]
    states: dict[tuple[str, int], str]

    def state(self, run: PlannedRun) -> str:
        return self.states[(run.method, run.seed)]


def select_runs(
    plan: ExperimentPlan, records: TagRecords, force: bool = False, conflict_fix: Optional[str] = None
) -> Selection:
    """Check that the tag holds one setup, then pick the runs to start: every run that is
    neither complete (unless `force`) nor still running on an engine.

    A tag is one experiment: every run it recorded as binding (complete, submitted, a job
    running or done) must share the plan's setup, whatever its method; `force` runs the
    plan's runs again with the new setup, but never beside runs of another setup that are
    still running. `conflict_fix` ends a refusal instead of the launchers' own fix (--force)."""
    setup = plan.setup
    conflicts = []
    for record in records.recorded():
        found = setup.conflict(record.values) if record.binding else None
        if found is not None:
            conflicts.append((record.where, found))
    if conflicts and not force:
        where, conflict = conflicts[0]
        raise UsageError(setup.describe_conflict(where, conflict, conflict_fix or FORCE_FIX))
    states = records.states([(run.method, run.seed) for run in plan.runs])
    active = [run.name for run in plan.runs if states[(run.method, run.seed)] == ACTIVE]
    if force and conflicts and active:
        raise UsageError(
            f"{', '.join(active)} of the earlier setup of experiment {plan.experiment_tag!r} still "
            "run; stop them first, then use --force"
        )
    todo = tuple(
        run
        for run in plan.runs
        if states[(run.method, run.seed)] != ACTIVE and (force or states[(run.method, run.seed)] != COMPLETE)
    )
    return Selection(todo, states)


def check_scalarization(benchmark: BenchmarkDefinition, text: Optional[str]) -> Optional[str]:
    """`--scalarization` as given, after checking it suits `benchmark` (a UsageError otherwise)."""
    from hpobench.benchmarks.objectives import Scalarization

    if text is None:
        return None
    if not benchmark.multi_objective:
        raise UsageError(
            f"Benchmark {benchmark.name!r} has one objective ({benchmark.objectives[0].describe()}): "
            "there is nothing to scalarize; remove --scalarization"
        )
    try:
        Scalarization.parse(text, benchmark.objectives)
    except ValueError as error:
        raise UsageError(f"Invalid --scalarization: {error}") from None
    return text


def check_objective_count(benchmark: BenchmarkDefinition, method: str, scalarization: Optional[str] = None) -> None:
    """Refuse a single-objective method on a multi-objective benchmark unless a scalarization
    is named: it would tune the first objective alone, and its runs would not measure the
    trade-off the benchmark is for."""
    if not benchmark.multi_objective or scalarization is not None or get_method(method).multi_objective:
        return
    several = [spec.name for spec in METHODS.values() if spec.multi_objective]  # built-ins: no plugin imported
    objectives = ", ".join(o.describe() for o in benchmark.objectives)
    weights = ",".join(f"{1 / len(benchmark.objectives):.2g}" for _ in benchmark.objectives)
    raise UsageError(
        f"{method} is single-objective, but benchmark {benchmark.name!r} has {len(benchmark.objectives)} "
        f"objectives ({objectives}); use a multi-objective method ({', '.join(several)}), or name a "
        f"scalarization for {method}, e.g. --scalarization weighted:{weights} (docs/multi-objective.md)"
    )


def scalarized(plan: ExperimentPlan, method: str) -> bool:
    """Whether `method` tunes the plan's scalarization (a single-objective method on a
    multi-objective benchmark) rather than the benchmark's own objectives."""
    return plan.scalarization is not None and not get_method(method).multi_objective


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


def check_methods_build(
    benchmark: BenchmarkDefinition, methods: list[str], extras_here: bool = True, scalarization: Optional[str] = None
) -> None:
    """Build each method's scheduler for `benchmark` once, before any run starts: a missing
    extra, a plugin whose factory fails, or a method the benchmark cannot take is then one
    error instead of a failure after the other methods' runs (imports Syne Tune).

    `extras_here` False: a method whose library is not installed here is not built (a
    SageMaker job installs it with its requirements)."""
    from hpobench.methods import MethodArguments

    try:
        arguments = MethodArguments.for_benchmark(benchmark, random_seed=0)
        scalar = MethodArguments.for_benchmark(benchmark, random_seed=0, scalarized=scalarization is not None)
    except ValueError as error:  # e.g. a point to evaluate outside the search space
        raise UsageError(f"Benchmark {benchmark.name!r}: {error}; fix its definition") from None
    for method in methods:
        spec = get_method(method)
        try:
            spec.build(arguments if spec.multi_objective else scalar)
        except ExtraMissing:
            if extras_here:
                raise
        except HpobenchError:
            raise
        except Exception as error:  # a factory, a plugin's included, may fail in any way
            raise UsageError(
                f"Method {method} cannot tune benchmark {benchmark.name!r}: {typed_first_line(error)}"
            ) from None


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
