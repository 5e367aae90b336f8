"""`hpobench status`, `results` and `plot`: what ran, which method won, curves."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench.cli.common import results_root_to_read, stdout_console, user_errors
from hpobench.cli.options import IncludeIncomplete, OutputFile, OutputFormat, ResultsRoot, ResultsTag
from hpobench.errors import UsageError


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
    console = stdout_console()
    if output is not None:
        from rich.console import Console

        console = Console(record=True, file=open(os.devnull, "w"), width=200, color_system=None)
    for item in renderables:
        console.print(item)
    if output is not None:
        _emit(console.export_text(), output)


def status_command(
    experiment_tag: ResultsTag,
    results_root: ResultsRoot = None,
    method: Annotated[
        Optional[list[str]],
        typer.Option("--method", help="Method expected; repeat for several. Default: every method found."),
    ] = None,
    num_seeds: Annotated[
        Optional[int],
        typer.Option(help="Seeds expected: START_SEED, ..., START_SEED+NUM_SEEDS-1. Default: every seed found."),
    ] = None,
    start_seed: Annotated[
        int, typer.Option(help="First seed expected, with --num-seeds. (default: 0)", show_default=False)
    ] = 0,
    remote: Annotated[
        bool, typer.Option("--remote", help="Also show the SageMaker training-job state of each (method, seed).")
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
    from hpobench.remote.status import experiment_status
    from hpobench.results import render

    with user_errors():
        root = results_root_to_read(results_root, experiment_tag, output_format)
        if num_seeds is not None and num_seeds < 1:
            raise UsageError(f"Invalid --num-seeds {num_seeds}: give a positive count")
        seeds = list(range(start_seed, start_seed + num_seeds)) if num_seeds else None
        status = experiment_status(root, experiment_tag, method, seeds, sagemaker=remote)
        if output_format != "table":
            _emit(render.render_status(status.records, status.counts, output_format), output)
            return
        from hpobench.cli.console import status_table

        title = f"Experiment {experiment_tag} ({root / experiment_tag})"
        lines = [render.counts_line(status.records, status.counts)] + ([status.note] if status.note else [])
        _render_rich([status_table(status.records, root, title), *lines], output)


def results_command(
    experiment_tag: ResultsTag,
    results_root: ResultsRoot = None,
    target: Annotated[
        Optional[float],
        typer.Option(
            help="Metric value whose time to reach is measured (a hypervolume on a multi-objective "
            "benchmark). Default: RS's mean final best (MO-RS's mean final hypervolume)."
        ),
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

    On a multi-objective benchmark the metric is the hypervolume of the results
    so far, up to the benchmark's fixed reference point (stated with the table),
    and each method's Pareto front size is shown too.
    """
    from hpobench.results import render
    from hpobench.results.aggregate import summarize
    from hpobench.results.load import load_experiment

    with user_errors():
        if target is not None and not math.isfinite(target):
            raise UsageError(f"Invalid --target {target}: must be a finite number")
        root = results_root_to_read(results_root, experiment_tag, output_format)
        summaries = summarize(load_experiment(root, experiment_tag), target, include_incomplete)
        if output_format != "table":
            _emit(render.render_results(summaries, output_format), output)
            return
        from hpobench.cli.console import results_table
        from hpobench.results.aggregate import hypervolume_text

        records = render.results_records(summaries)
        items: list[Any] = []
        for summary in summaries:
            rows = [r for r in records if r["benchmark"] == summary.benchmark]
            title = f"{summary.benchmark}: {summary.metric} ({summary.mode})"
            items += [results_table(rows, title, summary.multi_objective)]
            items += [f"Measured: {hypervolume_text(summary)}"] if summary.multi_objective else []
            items += [f"Target: {render.target_text(summary)}"]
        _render_rich([*items, render.results_rule(summaries)], output)


def plot_command(
    experiment_tag: ResultsTag,
    output: Annotated[Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.", show_default=False)],
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
            help="Learning curves (metric against resource) of every trial of one run; needs --method and --seed.",
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

    On a multi-objective benchmark the curve is the hypervolume so far, and a
    second figure, OUTPUT's name with [bold]-fronts[/bold] (plot.png: plot-fronts.png),
    draws each method's median attainment surface over its seeds, every seed's
    final Pareto front as points, and the reference point.
    """
    from hpobench.results import plot
    from hpobench.results.load import load_experiment

    with user_errors():
        root = results_root_to_read(results_root, experiment_tag)
        plot.check_output(output)
        fronts = plot.fronts_path(output)
        figures: list[tuple[Any, Path]] = []
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
            figure = plot.learning_curves_figure(runs[0], log_metric)
        else:
            from hpobench.results.aggregate import summarize

            experiment = load_experiment(root, experiment_tag)
            summaries = summarize(experiment, None, include_incomplete, log_grid=log_time)
            if not summaries:
                raise UsageError(
                    f"Experiment {experiment_tag!r} has no runs to plot yet; "
                    f"see `hpobench status --experiment-tag {experiment_tag}`"
                )
            figure = plot.anytime_figure(summaries, log_time, log_metric)
            if any(s.multi_objective for s in summaries):
                figures.append((plot.fronts_figure(experiment.runs, summaries, include_incomplete), fronts))
        figures.insert(0, (figure, output))
        for drawn, path in figures:
            try:
                plot.save(drawn, path)
            except OSError as error:
                raise UsageError(f"Cannot write {path} ({error.strerror or error}); pick another --output") from None
            typer.echo(f"Wrote {path}")
