"""The `hpobench` command line: parse, call a launcher, render.

Only this module imports typer. Expected failures (`HpobenchError`) are printed
as one line, `Error: ...`, with exit code 2 for bad input and 1 for a failed run;
set HPOBENCH_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench import __version__
from hpobench.errors import HpobenchError, UsageError

app = typer.Typer(
    name="hpobench",
    help="Benchmark hyperparameter-optimization methods on real training scripts.",
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print credentials in a traceback
    add_completion=False,
)
list_app = typer.Typer(
    help="List what hpobench can run.", no_args_is_help=True, add_completion=False
)
app.add_typer(list_app, name="list")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hpobench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Benchmark hyperparameter-optimization methods on real training scripts.

    Run experiments on this machine with [bold]run-local[/bold]; see what can be
    run with [bold]list benchmarks[/bold] and [bold]list methods[/bold].
    """


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print expected failures as one line and exit with their code."""
    try:
        yield
    except HpobenchError as error:
        if os.environ.get("HPOBENCH_DEBUG"):
            raise
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None


def _console() -> Any:
    from rich.console import Console

    # Bound to the current stdout, so launchers may silence print() meanwhile.
    console = Console(file=sys.stdout)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # pipes and logs: wide tables rather than folded cells
    return console


# ---------------------------------------------------------------- list


@list_app.command("benchmarks")
def list_benchmarks(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array for scripts.")] = False,
) -> None:
    """List the registered benchmarks: metric, resource, defaults, hardware."""
    from hpobench.benchmarks import benchmark_names, get_benchmark
    from hpobench.console import format_seconds, table

    definitions = [get_benchmark(name) for name in benchmark_names()]
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in definitions], indent=2))
        return
    rows = [
        [
            d.name,
            d.description,
            f"{d.metric} ({d.mode})",
            f"{d.resource_attr} <= {d.max_resource}",
            d.n_workers,
            format_seconds(d.max_wallclock_time),
            d.instance_type,
            d.hardware,
        ]
        for d in definitions
    ]
    columns = ["name", "description", "metric (mode)", "resource", "workers", "budget",
               "instance type", "hardware"]  # fmt: skip
    _console().print(table("Benchmarks", columns, rows))


@list_app.command("methods")
def list_methods(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array for scripts.")] = False,
) -> None:
    """List the registered HPO methods: family, multi-fidelity or not, needs."""
    from hpobench.console import table
    from hpobench.methods import METHODS
    from hpobench.settings import DEFAULT_METHODS

    specs = list(METHODS.values())
    if as_json:
        records = [
            {
                "name": s.name,
                "family": s.family,
                "multi_fidelity": s.multi_fidelity,
                "needs": s.needs,
                "default": s.name in DEFAULT_METHODS,
            }
            for s in specs
        ]
        typer.echo(json.dumps(records, indent=2))
        return
    rows = [
        [s.name, s.family, "yes" if s.multi_fidelity else "no", s.needs,
         "yes" if s.name in DEFAULT_METHODS else ""]
        for s in specs
    ]  # fmt: skip
    _console().print(table("Methods", ["name", "family", "multi-fidelity", "needs", "default"], rows))


# ---------------------------------------------------------------- run-local

ExperimentTag = Annotated[
    Optional[str],
    typer.Option(
        help="Name of the experiment: lower-case letters, digits and '-'. "
        "Results go to RESULTS_ROOT/TAG/METHOD-SEED/. Default: the benchmark name."
    ),
]
Benchmark = Annotated[
    Optional[str], typer.Option(help="Benchmark to run (see `hpobench list benchmarks`).")
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
        "e.g. --set epochs=5. Repeatable.",
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


@app.command("run-local")
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
    results_root: Annotated[
        Optional[Path],
        typer.Option(
            help="Where results are written. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)",
            show_default=False,
        ),
    ] = None,
    num_gpus_per_trial: Annotated[
        Optional[int], typer.Option(help="GPUs given to each trial, if there are GPUs. (default: 1)")
    ] = None,
    delete_checkpoints: Annotated[
        bool,
        typer.Option(
            "--delete-checkpoints", help="Delete a trial's checkpoints once it is no longer needed."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Re-run (method, seed) runs that already completed.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Syne Tune's own log of every trial.")
    ] = False,
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
            experiment_tag=experiment_tag,
            benchmark=benchmark,
            methods=tuple(method) if method else None,
            num_seeds=num_seeds,
            start_seed=start_seed,
            n_workers=n_workers,
            max_wallclock_time=max_wallclock_time,
            max_num_evaluations=max_num_evaluations,
            random_seed=random_seed,
            overrides=parse_set_options(overrides),
            results_root=results_root,
            num_gpus_per_trial=num_gpus_per_trial,
            # Unset flags stay None, so the environment and hpobench.toml can set them.
            delete_checkpoints=delete_checkpoints or None,
            force=force or None,
        )
        _run_local(settings, verbose)


def _run_local(settings: Any, verbose: bool) -> None:
    import logging

    from hpobench.console import outcomes_table, progress_for
    from hpobench.launchers.local import run_local

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        # Syne Tune warns about harmless defaults (no GPU found, unused kwargs).
        logging.getLogger("syne_tune").setLevel(logging.ERROR)
    console = _console()
    progress = progress_for(console)
    try:
        outcomes = run_local(settings, observer=progress, command_line=sys.argv, verbose=verbose)
    except KeyboardInterrupt:
        raise RunErrorFromSignal("Interrupted (Ctrl-C); finished runs and results so far are kept") from None
    except SystemExit as stop:
        if isinstance(stop.code, int) and stop.code > 128:
            raise RunErrorFromSignal(
                "Stopped by SIGTERM; finished runs and results so far are kept", 143
            ) from None
        raise
    finally:
        if hasattr(progress, "stop"):
            progress.stop()
    if outcomes:
        plan_metric = outcomes[0]
        console.print(outcomes_table(outcomes, *_metric_of(plan_metric)))
    ran = [o for o in outcomes if o.status != "skipped"]
    if not ran:
        console.print("Every run had already completed; nothing to do (pass --force to re-run).")


def _metric_of(outcome: Any) -> tuple[str, str]:
    from hpobench import layout

    metadata = layout.read_metadata(outcome.path) if outcome.path else None
    metadata = metadata or {}
    return metadata.get("metric", "metric"), metadata.get("mode", "")


class RunErrorFromSignal(HpobenchError):
    def __init__(self, message: str, exit_code: int = 130):
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------- launch-remote


@app.command("launch-remote")
def launch_remote_command(
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
    instance_type: Annotated[
        Optional[str],
        typer.Option(help="SageMaker instance type of every job. Default: the benchmark's."),
    ] = None,
    role: Annotated[
        Optional[str],
        typer.Option(help="SageMaker execution role, ARN or name. (env: HPOBENCH_ROLE)"),
    ] = None,
    bucket: Annotated[
        Optional[str],
        typer.Option(
            help="S3 bucket for sources and results. (env: HPOBENCH_BUCKET; "
            "default: SageMaker's default bucket, sagemaker-REGION-ACCOUNT)"
        ),
    ] = None,
    region: Annotated[
        Optional[str], typer.Option(help="AWS region. Default: the AWS configuration's.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the jobs and their cost bound; call no AWS service."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Submit jobs even for (method, seed) runs that already have one."
        ),
    ] = False,
) -> None:
    """Run each (method, seed) experiment as its own SageMaker training job.

    Example: [bold]hpobench launch-remote --benchmark mlp_digits --num-seeds 5 --role MyRole[/bold]

    Each job runs [bold]run-local[/bold]'s launcher inside the container on the
    benchmark's instance type and writes results to
    s3://BUCKET/syne-tune/TAG/METHOD-SEED/; fetch them with [bold]hpobench sync[/bold].
    AWS credentials, region and endpoints come from the standard AWS configuration.
    Re-launching the same tag submits only the jobs that do not exist yet.
    """
    from hpobench.settings import RemoteSettings, load_settings

    with user_errors():
        settings = load_settings(
            RemoteSettings,
            experiment_tag=experiment_tag,
            benchmark=benchmark,
            methods=tuple(method) if method else None,
            num_seeds=num_seeds,
            start_seed=start_seed,
            n_workers=n_workers,
            max_wallclock_time=max_wallclock_time,
            max_num_evaluations=max_num_evaluations,
            random_seed=random_seed,
            overrides=parse_set_options(overrides),
            instance_type=instance_type,
            role=role,
            bucket=bucket,
            region=region,
            dry_run=dry_run or None,
            force=force or None,
        )
        if settings.dry_run:
            _launch_dry_run(settings)
        else:
            _launch(settings)


def _jobs_table(
    plan: Any, names: Optional[dict[str, str]] = None, statuses: Optional[dict[str, str]] = None
) -> Any:
    from hpobench.console import format_seconds, table

    rows = []
    for job in plan.jobs:
        name = (names or {}).get(job.name_prefix, f"{job.name_prefix}-<time>")
        row = [name, job.run.method, job.run.seed, plan.instance_type,
               format_seconds(job.max_runtime), job.results_uri]  # fmt: skip
        if statuses is not None:
            row.insert(1, statuses.get(job.name_prefix, ""))
        rows.append(row)
    columns = ["job name", "method", "seed", "instance type", "max runtime", "results"]
    if statuses is not None:
        columns.insert(1, "status")
    return table(f"SageMaker jobs of {plan.experiment.experiment_tag}", columns, rows)


def _launch_dry_run(settings: Any) -> None:
    from hpobench.launchers import aws
    from hpobench.launchers.remote_plan import plan_remote

    region = aws.resolve_region(settings.region) or "us-east-1"
    bucket = settings.bucket or f"sagemaker-{region}-ACCOUNT"
    plan = plan_remote(settings, region, bucket)
    console = _console()
    console.print(_jobs_table(plan))
    console.print(
        f"Dry run: {len(plan.jobs)} job(s) of {plan.experiment.benchmark.name} on "
        f"{plan.instance_type} in {region}, at most {plan.instance_hours_at_most:.2f} "
        f"instance-hours; master random seed {plan.experiment.master_random_seed}; "
        f"image {plan.image_uri}. Nothing was submitted.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _launch(settings: Any) -> None:
    import logging

    from hpobench.launchers.sagemaker import RESULTS_PREFIX, launch_remote

    # The SDK logs every step (and warns about defaults it picks); hpobench prints
    # its own summary, and AWS failures reach the user as one-line errors.
    for name in ("sagemaker", "botocore", "boto3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    console = _console()
    err = _console_err()
    plan, outcomes = launch_remote(settings, say=lambda line: err.print(line, markup=False))
    names = {o.spec.name_prefix: o.job_name for o in outcomes}
    statuses = {
        o.spec.name_prefix: "submitted" if o.status == "submitted" else "exists (skipped)"
        for o in outcomes
    }
    console.print(_jobs_table(plan, names, statuses))
    submitted = sum(1 for o in outcomes if o.status == "submitted")
    skipped = len(outcomes) - submitted
    tag = plan.experiment.experiment_tag
    bucket_flag = f" --bucket {plan.bucket}" if settings.bucket else ""
    lines = [
        f"Submitted {submitted} job(s); {skipped} already existed (--force submits them again)."
    ]
    lines.append(
        f"Results will appear under s3://{plan.bucket}/{RESULTS_PREFIX}/{tag}/ while the jobs run."
    )
    lines.append(f"Fetch them with: hpobench sync --experiment-tag {tag}{bucket_flag}")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _console_err() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr, width=160)


# ---------------------------------------------------------------- sync


@app.command("sync")
def sync_command(
    experiment_tag: Annotated[
        str, typer.Option(help="The experiment whose results to download.", show_default=False)
    ],
    results_root: Annotated[
        Optional[Path],
        typer.Option(
            help="Where results are written. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)",
            show_default=False,
        ),
    ] = None,
    bucket: Annotated[
        Optional[str],
        typer.Option(
            help="S3 bucket the jobs wrote to. (env: HPOBENCH_BUCKET; default: SageMaker's default bucket)"
        ),
    ] = None,
    region: Annotated[
        Optional[str], typer.Option(help="AWS region. Default: the AWS configuration's.")
    ] = None,
) -> None:
    """Download an experiment's results from S3 into the local results root.

    Example: [bold]hpobench sync --experiment-tag resnet-cifar10[/bold]

    Files land in RESULTS_ROOT/TAG/METHOD-SEED/, the layout [bold]run-local[/bold]
    writes; re-running fetches only new or changed files.
    """
    from hpobench.launchers.s3sync import sync_experiment
    from hpobench.settings import LocalSettings, RemoteSettings, load_settings

    with user_errors():
        # The same layers as the launchers: flags, HPOBENCH_* variables, hpobench.toml.
        local = load_settings(
            LocalSettings, experiment_tag=experiment_tag, results_root=results_root
        )
        remote = load_settings(
            RemoteSettings, experiment_tag=experiment_tag, bucket=bucket, region=region
        )
        report = sync_experiment(experiment_tag, local.results_root, remote.bucket, remote.region)
    console = _console()
    console.print(
        f"Synced {report.source} -> {report.destination}: {len(report.downloaded)} file(s) "
        f"downloaded, {report.unchanged} unchanged; runs: {', '.join(report.runs)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    """Console-script entry: click's usage errors become one line too."""
    # click's UsageError, whether typer vendors click (>= 0.24) or uses it.
    click_usage_error = typer.BadParameter.__bases__[0]
    try:
        code = app(standalone_mode=False)
    except click_usage_error as error:
        command = getattr(getattr(error, "ctx", None), "command_path", "hpobench")
        if not error.format_message():  # no arguments: the help was already shown
            sys.exit(2)
        typer.echo(f"Error: {error.format_message()} (see `{command} --help`)", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
