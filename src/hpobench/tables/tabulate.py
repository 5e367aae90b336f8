"""`hpobench tabulate`: a benchmark's fixed design evaluated by real trials, written as a table.

The design (`tables.design`) is the same for every seed. Seed k is the run `TABULATE-k` of the
experiment tag (default `table-` and the benchmark's tag), run by run-local's own machinery: the
tag's lock, the plan and its same-setup check, `launcher.run_local` (the fast back-end, the run's
lock, resuming an interrupted run from its tuner.dill), with a scheduler that hands out the
design in order (`tables.scheduler`) through an internal method that `list methods` does not
show. Each trial trains to the benchmark's maximum resource; a run ends when its design is done
(its budget is a formality: `NO_BUDGET`).

A re-run evaluates only what is missing: a seed whose run completed with configurations missing
(a failed trial, a trial continued after an interruption, whose times are not one trial's) gets
a new folder of its run that evaluates only those; an interrupted run is continued. Missing
configurations are tried at most twice per command. The table (`tables.collect`, written with
`tables.format.write_table`) holds the configurations evaluated under every seed.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from hpobench import __version__
from hpobench.errors import RunError, UsageError
from hpobench.local.progress import ProgressObserver
from hpobench.results import layout
from hpobench.settings import TableSettings
from hpobench.tables.collect import DESIGN_HASH_KEY, METHOD, Evaluated
from hpobench.tables.design import Design

# The runs end when their design is done; this budget only has to be out of reach.
NO_BUDGET = 30 * 24 * 3600.0
# Times a configuration missing from a seed is tried per command (a failed trial, one continued
# after an interruption): the second try catches what the first could not time cleanly.
PASSES = 2
# How a refusal of another design or setup in a tag ends: tabulate has no --force.
SETUP_FIX = "use another --experiment-tag, or the options the tag was tabulated with"
SEEDS_MEANING = (
    "Each seed is one evaluation of every configuration, in its own run. hpobench's built-in "
    "scripts fix their random state (data split, model initialisation), so a configuration's "
    "metrics repeat under every seed and the seeds differ in elapsed and start-up times only; "
    "a script that draws its own randomness differs in its metrics too."
)
TIME_MODEL = (
    "elapsed_time: seconds from the scheduler's decision to start the trial to the report of "
    "the level (st_worker_timestamp), cumulative, start-up included; startup_time: the decision "
    "to the first report (elapsed_time at the first level), the same at every level"
)


@dataclass(frozen=True)
class Tabulation:
    """What `tabulate` did and where the table is."""

    table: Path
    experiment_tag: str
    benchmark: str
    design: Design
    seeds: int
    configs: int  # in the table: evaluated under every seed
    fidelities: int
    evaluated: int  # (configuration, seed) pairs this command evaluated
    skipped: int  # (configuration, seed) pairs the tag held already
    missing: list[tuple[int, int]] = field(default_factory=list)  # (design index, seed) not evaluated

    def to_json(self) -> dict[str, Any]:
        return {
            "table": str(self.table),
            "benchmark": self.benchmark,
            "experiment_tag": self.experiment_tag,
            "configs": self.configs,
            "seeds": self.seeds,
            "fidelities": self.fidelities,
            "design": self.design.kind,
            "design_seed": self.design.seed,
            "requested_configs": self.design.requested,
            "evaluated": self.evaluated,
            "skipped": self.skipped,
            "missing": [list(pair) for pair in self.missing],
        }


def default_tag(benchmark_name: str) -> str:
    """The tabulation's tag: `table-` and the benchmark's own default tag."""
    from hpobench.plan import default_experiment_tag

    return f"table-{default_experiment_tag(benchmark_name)}"


@dataclass(frozen=True)
class Target:
    """What a tabulation evaluates and where its table goes, resolved once from its settings."""

    benchmark: Any  # BenchmarkDefinition, overrides applied
    tag: str
    design: Design
    table: Path

    @property
    def max_resource(self) -> int:
        return int(self.benchmark.max_resource)


def resolve(settings: TableSettings, say: Callable[[str], None] = lambda line: None) -> Target:
    """The benchmark, tag, design and table path of `settings`, refused before any trial when
    the table cannot be written (UsageError)."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.local.launcher import check_writable
    from hpobench.plan import with_overrides
    from hpobench.settings import check_experiment_tag
    from hpobench.tables.design import make_design
    from hpobench.tables.format import check_replaceable, default_table_path

    if settings.benchmark is None:
        raise UsageError("Give the benchmark to tabulate: --benchmark NAME (see `hpobench list benchmarks`)")
    benchmark, _ = with_overrides(get_benchmark(settings.benchmark), settings.overrides)
    tag = settings.experiment_tag or default_tag(benchmark.name)
    try:
        check_experiment_tag(tag)
    except ValueError as error:
        raise UsageError(f"Invalid default experiment tag: {error}; pass --experiment-tag") from None
    design = make_design(benchmark.config_space, settings.configs, settings.design, settings.design_seed)
    if design.note:
        say(f"Note: {design.note}.")
    check_writable(settings.results_root)
    path = settings.table or default_table_path(settings.results_root, benchmark.name)
    check_replaceable(path)  # before any trial: the table's folder is replaced whole at the end
    _check_not_another_tabulation(path, tag)
    return Target(benchmark, tag, design, path)


def scan(settings: TableSettings, target: Target, only: Optional[int] = None) -> Evaluated:
    """What the tag's runs evaluated of the design (`only`: of that seed alone)."""
    from hpobench.tables import collect

    resource = target.benchmark.resource_attr
    return collect.scan(
        settings.results_root, target.tag, target.design, settings.seeds, resource, target.max_resource, only
    )


def tabulate(
    settings: TableSettings,
    say: Callable[[str], None] = lambda line: None,
    observer: Optional[ProgressObserver] = None,
    command_line: Optional[list[str]] = None,
) -> Tabulation:
    """Evaluate what the tag lacks of the design, then write the table; `say` hears what is
    done, `observer` the runs' progress."""
    from hpobench.local.lock import experiment_lock

    target = resolve(settings, say)
    tag, design = target.tag, target.design
    with experiment_lock(settings.results_root, tag):
        check_same_design(settings, tag, design)
        master_seed, n_workers = _check_same_setup(settings, tag, design)
        before = scan(settings, target)
        for _ in range(PASSES):
            evaluated = scan(settings, target)
            todo = [seed for seed in range(settings.seeds) if evaluated.missing(seed)]
            if not todo:
                break
            for seed in todo:
                run_seed(settings, tag, design, seed, evaluated.missing(seed), master_seed, say, observer, command_line)
        return write_tabulation(settings, target, before, n_workers)


def write_tabulation(settings: TableSettings, target: Target, before: Evaluated, n_workers: int) -> Tabulation:
    """Write the table of what the tag's runs hold now (`before`: what they held when this
    command began); a RunError if no configuration was evaluated under every seed."""
    from hpobench.tables import collect
    from hpobench.tables.format import write_table

    benchmark = target.benchmark
    after = scan(settings, target)
    data = collect.table_data(after, benchmark.metric)
    if not data.indices:
        raise RunError(
            f"No configuration of {benchmark.name} was evaluated under every seed: no trial reported "
            f"every level up to {benchmark.resource_attr}={target.max_resource} (they failed, or the script reports "
            f"other levels; logs under {settings.results_root / target.tag}); `hpobench check-benchmark "
            f"{settings.benchmark}` runs its script as one trial and checks what it reports"
        )
    blackbox = collect.to_blackbox(data, target.design, benchmark.config_space, benchmark.resource_attr)
    write_table(
        target.table, blackbox, _manifest(settings, benchmark, target.tag, target.design, data, after, n_workers)
    )
    return Tabulation(
        table=target.table,
        experiment_tag=target.tag,
        benchmark=benchmark.name,
        design=target.design,
        seeds=settings.seeds,
        configs=len(data.indices),
        fidelities=len(data.fidelities),
        evaluated=len(after.found) - len(before.found),
        skipped=len(before.found),
        missing=after.missing_pairs(),
    )


def _check_not_another_tabulation(path: Path, tag: str) -> None:
    """A table is replaced only by the tabulation it came from: another tag (another design,
    other --set values) writing to the same default path would silently swap the table that
    simulated runs and fidelity pages name."""
    from hpobench.tables.format import TableError, read_manifest

    try:
        manifest = read_manifest(path)
    except TableError:  # a damaged table is replaced
        return
    recorded = None if manifest is None else manifest.experiment_tag
    if recorded and recorded != tag:
        raise UsageError(
            f"{path} holds the table of experiment '{recorded}', not '{tag}'; pass --table PATH for this "
            f"tabulation's own table, or --experiment-tag {recorded} to extend that one"
        )


def run_settings(
    settings: TableSettings,
    tag: str,
    seeds: int,
    start_seed: int,
    master_seed: Optional[int],
    force: bool,
    max_failed_fraction: Optional[float] = None,
) -> Any:
    """run-local's settings for the tabulation's runs of seeds start_seed .. + seeds - 1.

    Every setting that shapes the runs is given here, so that HPOBENCH_* variables meant for
    run-local (a number of evaluations, a failed share) do not shape a table."""
    from pydantic import ValidationError

    from hpobench.settings import LocalSettings

    try:
        return LocalSettings(
            experiment_tag=tag,
            benchmark=settings.benchmark,
            methods=(METHOD,),
            start_seed=start_seed,
            num_seeds=seeds,
            n_workers=settings.n_workers,
            max_wallclock_time=NO_BUDGET,
            max_num_evaluations=None,
            random_seed=master_seed,
            overrides=dict(settings.overrides),
            default_first_trial=False,
            results_root=settings.results_root,
            backend=settings.backend,
            max_workers=settings.max_workers,
            max_failed_fraction=max_failed_fraction,
            delete_checkpoints=False,
            force=force,
        )
    except ValidationError as error:
        raise UsageError(f"Cannot tabulate with these settings: {error.errors()[0]['msg']}") from None


def fixed_design(design: Design, todo: list[int]) -> Any:
    """The internal method whose scheduler evaluates `todo` of `design`."""
    from hpobench.methods import MethodArguments, MethodSpec

    def factory(args: MethodArguments) -> Any:
        from hpobench.tables.scheduler import FixedDesignScheduler

        return FixedDesignScheduler(
            args.config_space,
            args.metric,
            args.mode,
            design=list(design.configs),
            todo=todo,
            description=design_record(design),
            random_seed=args.random_seed,
        )

    # A fixed design optimizes nothing: it records every metric the script reports, so a
    # benchmark with several objectives is tabulated as one with one.
    return MethodSpec(
        name=METHOD, family="fixed design", multi_fidelity=False, needs="-", factory=factory, multi_objective=True
    )


def design_record(design: Design) -> dict[str, Any]:
    """What each run's metadata.json records of its design (scheduler_kwargs)."""
    return {
        "design": design.kind,
        "design_seed": design.seed,
        "configs": design.requested,
        DESIGN_HASH_KEY: design.sha256(),
    }


def check_same_design(
    settings: TableSettings, tag: str, design: Design, elsewhere: Sequence[tuple[str, Mapping[str, Any]]] = ()
) -> None:
    """A tag tabulates one design: refuse another --configs, --design or --design-seed (or a
    space that changed), in the words of the same-setup check. `elsewhere`: designs the tag
    recorded besides its runs (where, `design_record`), e.g. its Slurm submissions."""
    now = design_record(design)
    tag_dir = settings.results_root / tag
    runs = sorted(tag_dir.glob(f"{METHOD}-*")) if tag_dir.is_dir() else []
    recorded = [*elsewhere]
    for run_dir in runs:
        for tuner_dir in layout.tuner_dirs(run_dir):
            kwargs = (layout.read_metadata(tuner_dir) or {}).get("scheduler_kwargs")
            if isinstance(kwargs, dict):
                recorded.append((run_dir.name, kwargs))
    for where, record in recorded:
        for key, value in now.items():
            if key in record and record[key] != value:
                flag = {DESIGN_HASH_KEY: "design (the benchmark's search space changed)"}.get(key, key)
                raise UsageError(
                    f"Experiment {tag!r} already has {where} with {flag}={record[key]!r}, not {value!r}; {SETUP_FIX}"
                )


def _check_same_setup(settings: TableSettings, tag: str, design: Design) -> tuple[int, int]:
    """The tag's setup checked as run-local checks it (benchmark, workers, overrides, master
    seed); the master seed and workers every seed's run uses."""
    from hpobench.local.launcher import within_worker_limit
    from hpobench.methods.registry import internal_method
    from hpobench.plan import plan_experiment, select_runs
    from hpobench.tag_records import RunsOnDisk

    records = RunsOnDisk(settings.results_root, tag)
    options = run_settings(settings, tag, settings.seeds, 0, None, False)
    with internal_method(fixed_design(design, [])):
        plan = within_worker_limit(plan_experiment(options, records), options)
        select_runs(plan, records, conflict_fix=SETUP_FIX)  # a UsageError naming the first setting that differs
    return plan.master_random_seed, plan.n_workers


def run_seed(
    settings: TableSettings,
    tag: str,
    design: Design,
    seed: int,
    todo: list[int],
    master_seed: int,
    say: Callable[[str], None],
    observer: Optional[ProgressObserver],
    command_line: Optional[list[str]],
) -> None:
    """Run TABULATE-seed: continue it if it was interrupted, else a new folder for `todo`."""
    from hpobench.local.launcher import run_local
    from hpobench.methods.registry import internal_method
    from hpobench.tag_records import RunsOnDisk

    complete = RunsOnDisk(settings.results_root, tag).complete((METHOD, seed))
    # Configurations of this seed evaluated already: the script runs, so configurations retried
    # that fail again do not make the run "a script that cannot run" (run-local's default rule).
    retry = len(todo) < len(design.configs)
    failed_fraction = 1.0 if retry and settings.max_failed_fraction is None else settings.max_failed_fraction
    run = layout.run_name(METHOD, seed)
    say(f"{run}: {len(todo)} of {len(design.configs)} configurations to evaluate")
    with internal_method(fixed_design(design, todo)):
        # A completed run with configurations missing gets a new folder (`force`); an
        # interrupted one is continued by the launcher, with its own saved scheduler.
        run_local(
            run_settings(settings, tag, 1, seed, master_seed, force=complete, max_failed_fraction=failed_fraction),
            observer=observer,
            command_line=command_line,
            lock_experiment=False,
        )


def _manifest(
    settings: TableSettings, benchmark: Any, tag: str, design: Design, data: Any, evaluated: Evaluated, n_workers: int
) -> Any:
    from hpobench.tables.format import TableManifest, definition_hash

    gpus = evaluated.gpus or {}
    on_gpus = bool(gpus.get("count"))
    return TableManifest(
        benchmark=benchmark.name,
        definition_hash=definition_hash(benchmark),
        metric=benchmark.metric,
        mode=benchmark.mode,
        resource_attr=benchmark.resource_attr,
        max_resource_attr=benchmark.max_resource_attr,
        design=design.kind,
        design_seed=design.seed,
        configs=len(data.indices),
        seeds=settings.seeds,
        fidelities=list(data.fidelities),
        versions=_versions(),
        hardware={
            "cpu_model": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "gpus": [device.get("name") for device in gpus.get("devices", []) if isinstance(device, dict)],
        },
        precision=gpus.get("precision_rule") if on_gpus else None,
        experiment_tag=tag,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        extra={
            "requested_configs": design.requested,
            DESIGN_HASH_KEY: design.sha256(),
            "design_indices": list(data.indices),
            "missing": [list(pair) for pair in evaluated.missing_pairs()],
            # Their startup_time includes the trial back-end's own start (each run's first trials).
            "cold_starts": sorted([i, s] for (i, s), e in evaluated.found.items() if e.cold and i in data.indices),
            "fixed": benchmark.fixed_entries(),
            "overrides": dict(settings.overrides),
            "n_workers": n_workers,
            "trial_backend": settings.backend,  # start-up times depend on it (fast: forked trials)
            "seeds_meaning": SEEDS_MEANING,
            "time_model": TIME_MODEL,
        },
    )


def _versions() -> dict[str, Optional[str]]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> Optional[str]:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "hpobench": __version__,
        "syne_tune": installed("syne-tune"),
        "torch": installed("torch"),
        "python": sys.version.split()[0],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
