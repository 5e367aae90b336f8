"""`hpobench tabulate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench.cli.common import stdout_console, user_errors
from hpobench.cli.options import NWorkers, Overrides, parse_key_values
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
        str, typer.Option(help="Where trials run: 'local' (this machine's fast back-end) or 'slurm' (not yet).")
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
    """
    from hpobench.settings import TableSettings, load_settings

    with user_errors():
        if engine not in ENGINES:
            raise UsageError(f"Invalid --engine {engine!r}: choose one of {', '.join(ENGINES)}")
        if engine == "slurm":
            raise UsageError(
                "not yet: `hpobench tabulate --engine slurm` is not implemented; tabulate on this machine "
                "with --engine local, or run the table's seeds as Slurm jobs of `hpobench tabulate` yourself"
            )
        settings = load_settings(
            TableSettings,
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
    if done.missing:
        pairs = ", ".join(f"{index}@{seed}" for index, seed in done.missing[:10])
        console.print(
            f"Missing {len(done.missing)} (configuration@seed: {pairs}{', ...' if len(done.missing) > 10 else ''}): "
            "their trials failed; run the command again to retry them"
        )
    console.print(
        f"Table: {done.table} ({_count(done.configs, 'configuration')} x {_count(done.seeds, 'seed')} x "
        f"{_count(done.fidelities, 'level')}; "
        f"runs under {settings.results_root / done.experiment_tag})",
        soft_wrap=True,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
