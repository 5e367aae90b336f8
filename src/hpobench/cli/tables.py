"""`hpobench tabulate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench.cli.common import stdout_console, user_errors
from hpobench.cli.options import NWorkers, Overrides, parse_key_values
from hpobench.cli.slurm_options import (
    SlurmAccount,
    SlurmCpus,
    SlurmGpus,
    SlurmMaxParallel,
    SlurmMem,
    SlurmOptions,
    SlurmPartition,
    SlurmQos,
    SlurmTimeLimit,
)
from hpobench.errors import UsageError

ENGINES = ("local", "slurm")


def tabulate_command(
    benchmark: Annotated[
        Optional[str],
        typer.Option(help="Benchmark to tabulate: a registered name (see `hpobench list benchmarks`) or a .toml file."),
    ] = None,
    configs: Annotated[
        Optional[int], typer.Option(help="Configurations in the design, each trained to the maximum resource.")
    ] = None,
    seeds: Annotated[
        Optional[int], typer.Option(help="Evaluations of every configuration: seeds 0, ..., SEEDS-1. (default: 1)")
    ] = None,
    design: Annotated[
        Optional[str],
        typer.Option(help="How configurations are drawn: 'sobol' (scrambled Sobol) or 'random'. (default: sobol)"),
    ] = None,
    design_seed: Annotated[
        Optional[int], typer.Option(help="Seed of the design; the same seed gives the same design. (default: 0)")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Where trials run: 'local' (this machine's fast back-end) or 'slurm' (one array task per seed, "
            "as launch-remote --engine slurm; run the command again once the cells end: it writes the table)."
        ),
    ] = "local",
    experiment_tag: Annotated[
        Optional[str],
        typer.Option(help="Tag whose runs TABULATE-SEED hold the trials. Default: 'table-' and the benchmark's tag."),
    ] = None,
    results_root: Annotated[
        Optional[Path],
        typer.Option(
            help="Where runs and tables are written. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)",
            show_default=False,
        ),
    ] = None,
    table: Annotated[
        Optional[Path],
        typer.Option(
            help="Folder the table is written to. Default: RESULTS_ROOT/tables/BENCHMARK.", show_default=False
        ),
    ] = None,
    n_workers: NWorkers = None,
    overrides: Overrides = None,
    max_workers: Annotated[
        Optional[int],
        typer.Option(help="The most trials this machine runs at once (as run-local's).", show_default=False),
    ] = None,
    max_failed_fraction: Annotated[
        Optional[float],
        typer.Option(
            help="As run-local's: stop a seed's run whose failed share is above this with 95% confidence; "
            "1 = never stop it for its failed trials (a space where some configurations crash). Without it, "
            "a run stops early only when its first 3 trials failed before any reported.",
            show_default=False,
        ),
    ] = None,
    partition: SlurmPartition = None,
    account: SlurmAccount = None,
    qos: SlurmQos = None,
    gpus_per_job: SlurmGpus = None,
    cpus_per_job: SlurmCpus = None,
    mem: SlurmMem = None,
    time_limit: SlurmTimeLimit = None,
    max_parallel: SlurmMaxParallel = None,
    slurm_option: SlurmOptions = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was done as one JSON object: the table's path and counts.")
    ] = False,
) -> None:
    """Tabulate a benchmark: a fixed, seeded design of configurations, each trained to the
    maximum resource under every seed with real trials, written as a Syne Tune blackbox table.

    Example: [bold]hpobench tabulate --benchmark gbt_breast_cancer --configs 64 --seeds 3[/bold]

    The table records, per configuration, seed and resource level, every metric the script
    reports, the elapsed time since the decision to start the trial and the trial's start-up
    time. Running the command again evaluates only what is missing; an interrupted
    tabulation (Ctrl-C) continues where it stopped.

    Slurm ([bold]--engine slurm[/bold], on a login node): the seeds' runs are one job array
    submitted as `launch-remote --engine slurm` submits cells, results on the shared file
    system. Running the command again submits only the seeds whose cell failed, timed out or
    was cancelled (they continue where they stopped), never one still queued or running, and,
    once every cell is complete, writes the table. A cell has no budget: without
    --time-limit, the partition's default time limit applies.
    """
    from hpobench.settings import TableSettings, TableSlurmSettings, flag_of, load_settings, own_fields

    with user_errors():
        if engine not in ENGINES:
            raise UsageError(f"Invalid --engine {engine!r}: choose one of {', '.join(ENGINES)}")
        slurm: dict[str, Any] = {
            "partition": partition,
            "account": account,
            "qos": qos,
            "gpus_per_job": gpus_per_job,
            "cpus_per_job": cpus_per_job,
            "mem": mem,
            "time_limit": time_limit,
            "max_parallel": max_parallel,
            "slurm_options": slurm_option,
        }
        if engine == "local":
            wrong = [name for name in own_fields(TableSlurmSettings, TableSettings) if slurm.get(name) is not None]
            if wrong:
                raise UsageError(f"{flag_of(wrong[0])} is an option of --engine slurm, not of --engine local")
        else:
            slurm["slurm_options"] = parse_key_values(slurm_option, "--slurm-option", "constraint=a100", True)
        settings = load_settings(
            TableSlurmSettings if engine == "slurm" else TableSettings,
            **(slurm if engine == "slurm" else {}),
            benchmark=benchmark,
            configs=configs,
            seeds=seeds,
            design=design,
            design_seed=design_seed,
            experiment_tag=experiment_tag,
            results_root=results_root,
            table=table,
            n_workers=n_workers,
            max_workers=max_workers,
            max_failed_fraction=max_failed_fraction,
            overrides=parse_key_values(overrides, "--set", "boosting_rounds=10"),
        )
        if engine == "slurm":
            _tabulate_slurm(settings, as_json)
        else:
            _tabulate(settings, as_json)


def _tabulate(settings: Any, as_json: bool) -> None:
    import logging

    from hpobench.cli.console import TabulationProgress
    from hpobench.local.progress import ProgressObserver
    from hpobench.tables.tabulate import tabulate

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("syne_tune").setLevel(logging.ERROR)  # harmless defaults (no GPU, unused kwargs)
    console = stdout_console()
    say = (lambda line: None) if as_json else console.print
    observer = ProgressObserver() if as_json else TabulationProgress(console)
    done = tabulate(settings, say=say, observer=observer, command_line=sys.argv)
    if as_json:
        typer.echo(json.dumps(done.to_json()))
        return
    if done.evaluated == 0:
        console.print(f"Nothing to evaluate: the {done.skipped} evaluations were already there.")
    else:
        console.print(f"Evaluated {done.evaluated} (configuration, seed) pairs; {done.skipped} were already there.")
    _table_written(console, settings, done, "run the command again to retry them")


def _tabulate_slurm(settings: Any, as_json: bool) -> None:
    from rich.console import Console

    from hpobench.cli.slurm import outcomes_table, submitted_line
    from hpobench.tables.tabulate_slurm import tabulate_slurm

    err = Console(file=sys.stderr, width=160)
    done = tabulate_slurm(settings, say=lambda line: err.print(line, markup=False, soft_wrap=True))
    if as_json:
        typer.echo(json.dumps(done.to_json()))
        return
    console = stdout_console()
    console.print(outcomes_table(done.experiment_tag, done.outcomes))
    console.print(submitted_line(done.outcomes), markup=False, highlight=False, soft_wrap=True)
    root = settings.results_root
    if done.table is None:
        lines = [
            f"Runs go to {done.tag_dir}/TABULATE-SEED/; each task's log to {done.tag_dir}/slurm/logs/JOBID_TASKID.out.",
            f"Follow them with: hpobench status --experiment-tag {done.experiment_tag} --results-root {root}",
            "Run this command again once they end: it submits the cells that failed and, when every cell is "
            "complete, writes the table.",
        ]
        for line in lines:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    console.print(f"Every cell is complete: the table holds {done.table.skipped} evaluations.")
    _table_written(
        console,
        settings,
        done.table,
        "each was tried twice in its cell; `hpobench tabulate` with the same options and --engine local retries them",
    )


def _table_written(console: Any, settings: Any, done: Any, retry: str) -> None:
    """What the table holds, what it lacks and where it is."""
    if done.missing:
        pairs = ", ".join(f"{index}@{seed}" for index, seed in done.missing[:10])
        console.print(
            f"Missing {len(done.missing)} (configuration@seed: {pairs}{', ...' if len(done.missing) > 10 else ''}): "
            f"their trials failed; {retry}"
        )
    console.print(
        f"Table: {done.table} ({_count(done.configs, 'configuration')} x {_count(done.seeds, 'seed')} x "
        f"{_count(done.fidelities, 'level')}; "
        f"runs under {settings.results_root / done.experiment_tag})",
        soft_wrap=True,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
