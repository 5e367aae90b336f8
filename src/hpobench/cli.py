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
from hpobench.errors import HpobenchError, StoppedBySignal, UsageError

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
    Optional[str],
    typer.Option(help="Benchmark to run (see `hpobench list benchmarks`). (default: resnet_cifar10)"),
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
    backend: Annotated[
        Optional[str],
        typer.Option(
            help="Trial back-end: 'fast' forks each trial from a warm process that has "
            "already imported the script's libraries; 'stock' is Syne Tune's LocalBackend, "
            "a new Python per trial. (default: fast)",
            show_default=False,
        ),
    ] = None,
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
            backend=backend,
        )
        _run_local(settings, verbose)


def _run_local(settings: Any, verbose: bool) -> None:
    import logging

    from hpobench.benchmarks import DEFAULT_BENCHMARK, get_benchmark
    from hpobench.console import outcomes_table, progress_for
    from hpobench.launchers.local import Interrupted, run_local

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
        raise StoppedBySignal(
            "Interrupted (Ctrl-C); finished runs and the results so far are kept", 130
        ) from None
    except Interrupted as stop:
        cause = "Interrupted (Ctrl-C)" if stop.code == 130 else "Stopped by SIGTERM"
        raise StoppedBySignal(
            f"{cause}; finished runs and the results so far are kept", int(stop.code)
        ) from None
    finally:
        progress.stop()
    benchmark = get_benchmark(settings.benchmark or DEFAULT_BENCHMARK)
    console.print(outcomes_table(outcomes, benchmark.metric, benchmark.mode))
    if all(o.status == "skipped" for o in outcomes):
        console.print("Every run had already completed; nothing to do (pass --force to re-run).")


# ---------------------------------------------------------------- status, results, plot

ResultsTag = Annotated[
    str, typer.Option(help="Experiment tag to read: the folder RESULTS_ROOT/TAG.", show_default=False)
]
ResultsRoot = Annotated[
    Optional[Path],
    typer.Option(
        help="Where results are read from. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)",
        show_default=False,
    ),
]
OutputFormat = Annotated[
    str, typer.Option("--format", help="Output format: table, csv, json or markdown. (default: table)", show_default=False)
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


def _results_root(results_root: Optional[Path], tag: str, output_format: Optional[str] = None) -> Path:
    """The results root (flag > HPOBENCH_RESULTS_ROOT > hpobench.toml > default), tag checked."""
    from hpobench.report import FORMATS
    from hpobench.settings import LocalSettings, check_experiment_tag, load_settings

    try:
        check_experiment_tag(tag)
    except ValueError as error:
        raise UsageError(f"Invalid --experiment-tag: {error}") from None
    if output_format is not None and output_format not in FORMATS:
        raise UsageError(f"Invalid --format {output_format!r}: choose one of {', '.join(FORMATS)}")
    return load_settings(LocalSettings, results_root=results_root).results_root


def _emit(text: str, output: Optional[Path]) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as error:
        raise UsageError(f"Cannot write {output} ({error.strerror or error}); pick another --output") from None
    typer.echo(f"Wrote {output}", err=True)


def _render_rich(renderables: list[Any], output: Optional[Path]) -> None:
    """Rich tables on the terminal, or as plain text into --output."""
    console = _console()
    if output is not None:
        from rich.console import Console

        console = Console(record=True, file=open(os.devnull, "w"), width=200, color_system=None)
    for item in renderables:
        console.print(item)
    if output is not None:
        _emit(console.export_text(), output)


@app.command("status")
def status_command(
    experiment_tag: ResultsTag,
    results_root: ResultsRoot = None,
    method: Annotated[
        Optional[list[str]],
        typer.Option("--method", help="Method expected; repeat for several. Default: every method found."),
    ] = None,
    num_seeds: Annotated[
        Optional[int], typer.Option(help="Seeds expected: START_SEED, ..., START_SEED+NUM_SEEDS-1. Default: every seed found.")
    ] = None,
    start_seed: Annotated[int, typer.Option(help="First seed expected, with --num-seeds. (default: 0)", show_default=False)] = 0,
    remote: Annotated[
        bool,
        typer.Option("--remote", help="Also show the SageMaker training-job state of each (method, seed)."),
    ] = False,
    output_format: OutputFormat = "table",
    output: OutputFile = None,
) -> None:
    """Show the state of every expected run of an experiment.

    One row per (benchmark, method, seed): complete, running, interrupted, failed,
    no metadata, or missing; trials started and finished, best metric so far,
    wall-clock used of the budget, results folder, and what is wrong with the
    files if anything. Counts of each state at the bottom.

    Example: [bold]hpobench status --experiment-tag mlp-digits --num-seeds 5[/bold]
    """
    from hpobench import report
    from hpobench.results import load_experiment

    with user_errors():
        root = _results_root(results_root, experiment_tag, output_format)
        if num_seeds is not None and num_seeds < 1:
            raise UsageError(f"Invalid --num-seeds {num_seeds}: give a positive count")
        seeds = list(range(start_seed, start_seed + num_seeds)) if num_seeds else None
        jobs: dict[Any, Any] = {}
        if remote:
            from hpobench.methods import method_names
            from hpobench.remote_status import remote_jobs

            jobs = remote_jobs(experiment_tag, method_names())
        experiment = load_experiment(root, experiment_tag, method, seeds, seen_elsewhere=jobs)
        records = report.status_records(experiment)
        if remote:
            for record in records:
                job = jobs.get((record["method"], record["seed"]))
                record["job"] = job.name if job else None
                record["job_state"] = job.state if job else "no job"
        counts = report.state_counts(experiment)
        if output_format != "table":
            _emit(report.render_status(records, counts, output_format), output)
            return
        from hpobench.console import status_table

        title = f"Experiment {experiment_tag} ({root / experiment_tag})"
        _render_rich([status_table(records, root, title), report.counts_line(records, counts)], output)


@app.command("results")
def results_command(
    experiment_tag: ResultsTag,
    results_root: ResultsRoot = None,
    target: Annotated[
        Optional[float],
        typer.Option(help="Metric value whose time to reach is measured. Default: RS's mean final best."),
    ] = None,
    include_incomplete: IncludeIncomplete = False,
    output_format: OutputFormat = "table",
    output: OutputFile = None,
) -> None:
    """Compare methods over seeds: final best, time to a target, average rank.

    Per benchmark and method: complete seeds used, final best metric (mean,
    standard error, median), median time to reach the target and how many seeds
    reached it, average rank over time and at the end. Seeds that did not
    complete are listed and left out unless [bold]--include-incomplete[/bold].

    Incumbent rule: each seed's best-so-far metric against wall-clock time, then
    mean and standard error across seeds on a common time grid (never the
    running best of an average). The full rule is printed with the table.
    """
    from hpobench import report
    from hpobench.aggregate import INCUMBENT_RULE, summarize
    from hpobench.results import load_experiment

    with user_errors():
        root = _results_root(results_root, experiment_tag, output_format)
        summaries = summarize(load_experiment(root, experiment_tag), target, include_incomplete)
        if output_format != "table":
            _emit(report.render_results(summaries, output_format), output)
            return
        from hpobench.console import results_table

        records = report.results_records(summaries)
        items: list[Any] = []
        for summary in summaries:
            rows = [r for r in records if r["benchmark"] == summary.benchmark]
            title = f"{summary.benchmark}: {summary.metric} ({summary.mode})"
            items += [results_table(rows, title), f"Target: {report.target_text(summary)}"]
        _render_rich([*items, INCUMBENT_RULE], output)


@app.command("plot")
def plot_command(
    experiment_tag: ResultsTag,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.", show_default=False)
    ],
    results_root: ResultsRoot = None,
    log_time: Annotated[
        bool, typer.Option("--log-time", help="Logarithmic time axis, curves sampled at log-spaced times.")
    ] = False,
    log_metric: Annotated[bool, typer.Option("--log-metric", help="Logarithmic metric axis.")] = False,
    include_incomplete: IncludeIncomplete = False,
    per_trial: Annotated[
        bool,
        typer.Option(
            "--per-trial",
            help="Learning curves (metric against resource) of every trial of one run; "
            "needs --method and --seed.",
        ),
    ] = False,
    method: Annotated[Optional[str], typer.Option(help="Method of the run, with --per-trial.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the run, with --per-trial.")] = None,
) -> None:
    """Draw anytime performance: best metric so far against wall-clock time.

    One panel per benchmark, one line per method: the mean over seeds of each
    seed's best-so-far curve, with a standard-error band. With
    [bold]--per-trial --method M --seed S[/bold], the learning curve of every
    trial of that run instead. The file format follows the extension.
    """
    from hpobench import plotting
    from hpobench.results import load_experiment

    with user_errors():
        root = _results_root(results_root, experiment_tag)
        plotting.check_output(output)
        if per_trial:
            if method is None or seed is None:
                raise UsageError("--per-trial draws one run: give --method and --seed too")
            runs = [
                r
                for r in load_experiment(root, experiment_tag).runs
                if r.method == method and r.seed == seed and r.state != "missing"
            ]
            if not runs:
                raise UsageError(f"No run {method}-{seed} in experiment {experiment_tag!r}; see `hpobench status`")
            figure = plotting.learning_curves_figure(runs[0], log_metric)
        else:
            from hpobench.aggregate import summarize

            summaries = summarize(
                load_experiment(root, experiment_tag), None, include_incomplete, log_grid=log_time
            )
            figure = plotting.anytime_figure(summaries, log_time, log_metric)
        try:
            plotting.save(figure, output)
        except OSError as error:
            raise UsageError(f"Cannot write {output} ({error.strerror or error}); pick another --output") from None
        typer.echo(f"Wrote {output}")


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
