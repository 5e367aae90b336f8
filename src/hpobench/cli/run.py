"""`hpobench run-local`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench.cli.common import stdout_console, user_errors
from hpobench.cli.options import (
    Benchmark,
    DefaultFirstTrial,
    ExperimentTag,
    MaxNumEvaluations,
    MaxWallclockTime,
    Methods,
    NumSeeds,
    NWorkers,
    Overrides,
    RandomSeed,
    Scalarization,
    StartSeed,
    Surrogate,
    Table,
    TrialsPerGpu,
    experiment_flags,
)


def run_local_command(
    experiment_tag: ExperimentTag = None,
    benchmark: Benchmark = None,
    method: Methods = None,
    num_seeds: NumSeeds = None,
    start_seed: StartSeed = None,
    n_workers: NWorkers = None,
    max_wallclock_time: MaxWallclockTime = None,
    max_num_evaluations: MaxNumEvaluations = None,
    random_seed: RandomSeed = None,
    overrides: Overrides = None,
    default_first_trial: DefaultFirstTrial = None,
    scalarization: Scalarization = None,
    results_root: Annotated[
        Optional[Path],
        typer.Option(
            help="Where results are written. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)", show_default=False
        ),
    ] = None,
    num_gpus_per_trial: Annotated[
        Optional[int], typer.Option(help="GPUs given to each trial, if there are GPUs. (default: 1)")
    ] = None,
    trials_per_gpu: TrialsPerGpu = None,
    delete_checkpoints: Annotated[
        bool, typer.Option("--delete-checkpoints", help="Delete a trial's checkpoints once it is no longer needed.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-run (method, seed) runs that already completed.")] = False,
    max_failed_fraction: Annotated[
        Optional[float],
        typer.Option(
            help="Stop a run whose failed share is above this with 95% confidence, judged so "
            "that looking after every trial does not inflate the error (trials that reported or "
            "failed, in the order they started; paused ones count as healthy); 1 = never stop a "
            "run for its failed trials. Without it, a run stops early only when its first 3 "
            "trials failed before any reported a result. The next runs go on either way.",
            show_default=False,
        ),
    ] = None,
    max_workers: Annotated[
        Optional[int],
        typer.Option(
            help="The most trials this machine runs at once; --n-workers above it is refused. "
            "(default: the CPU cores, or the GPUs for a benchmark meant for a GPU)",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        Optional[str],
        typer.Option(
            help="Trial back-end: 'fast' forks each trial from a warm process that has "
            "already imported the script's libraries; 'stock' is Syne Tune's LocalBackend, "
            "a new Python per trial; 'simulated' replays a table of real runs in simulated time "
            "(--max-wallclock-time in simulated seconds; see docs/tables.md). (default: fast)",
            show_default=False,
        ),
    ] = None,
    gpus: Annotated[
        Optional[str],
        typer.Option(
            help="GPUs the trials may use, comma-separated as CUDA_VISIBLE_DEVICES names them, "
            "e.g. 0,2. (env: HPOBENCH_GPUS; default: all this process may use: a CUDA_VISIBLE_DEVICES "
            "set before, e.g. by Slurm, else every GPU nvidia-smi lists)",
            show_default=False,
        ),
    ] = None,
    table: Table = None,
    surrogate: Surrogate = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Syne Tune's own log of every trial.")] = False,
) -> None:
    """Run HPO experiments on this machine, one Syne Tune tuner per (method, seed).

    Example: [bold]hpobench run-local --benchmark mlp_digits --method ASHA --num-seeds 2[/bold]

    Settings come from these flags, then HPOBENCH_* environment variables (e.g.
    HPOBENCH_N_WORKERS=4), then an optional ./hpobench.toml, then defaults.
    Re-running with the same experiment tag skips runs that already completed.
    """
    from hpobench.settings import LocalSettings, load_settings

    with user_errors():
        settings = load_settings(
            LocalSettings,
            **experiment_flags(
                experiment_tag,
                benchmark,
                method,
                num_seeds,
                start_seed,
                n_workers,
                max_wallclock_time,
                max_num_evaluations,
                random_seed,
                overrides,
                default_first_trial=default_first_trial,
                scalarization=scalarization,
            ),
            results_root=results_root,
            num_gpus_per_trial=num_gpus_per_trial,
            trials_per_gpu=trials_per_gpu,
            # Unset flags stay None, so the environment and hpobench.toml can set them.
            delete_checkpoints=delete_checkpoints or None,
            force=force or None,
            backend=backend,
            max_failed_fraction=max_failed_fraction,
            max_workers=max_workers,
            gpus=gpus,
            table=table,
            surrogate=surrogate,
        )
        _run_local(settings, verbose)


def _run_local(settings: Any, verbose: bool) -> None:
    import logging

    from hpobench.benchmarks import DEFAULT_BENCHMARK, get_benchmark
    from hpobench.cli.console import outcomes_table, progress_for
    from hpobench.local.launcher import RunsFailed, run_local

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not verbose:
        # Syne Tune warns about harmless defaults (no GPU found, unused kwargs).
        logging.getLogger("syne_tune").setLevel(logging.ERROR)
    console = stdout_console()
    progress = progress_for(console)

    def show(outcomes: list[Any]) -> None:
        progress.stop()
        benchmark = get_benchmark(settings.benchmark or DEFAULT_BENCHMARK)
        console.print(outcomes_table(outcomes, benchmark.metric, benchmark.mode))

    try:
        outcomes = run_local(settings, observer=progress, command_line=sys.argv, verbose=verbose)
    except RunsFailed as failed:  # the table first, then the one-line error
        show(failed.outcomes)
        raise
    finally:
        progress.stop()
    show(outcomes)
    if all(o.status == "skipped" for o in outcomes):
        console.print("Every run had already completed; nothing to do (pass --force to re-run).")
