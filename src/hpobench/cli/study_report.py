"""`hpobench report`: one study across benchmarks, with the statistics papers use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpobench.cli.common import results_root_to_read, user_errors
from hpobench.cli.options import IncludeIncomplete, ResultsRoot
from hpobench.errors import UsageError
from hpobench.results.text import REPORT_FORMATS


def report_command(
    experiment_tag: Annotated[
        list[str],
        typer.Option(
            help="An experiment tag of the study; give one per benchmark (repeat the option).",
            metavar="TAG",
            show_default=False,
        ),
    ],
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Folder to write index.html, the figures and the tables into.", metavar="FOLDER"
        ),
    ] = None,
    results_root: ResultsRoot = None,
    reference: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Normalized regret 0 at this value instead of the best seen (e.g. a known "
            "optimum); repeat per benchmark.",
            metavar="BENCHMARK=VALUE",
            show_default=False,
        ),
    ] = None,
    include_incomplete: IncludeIncomplete = False,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="html: write the folder; json: also print every number it shows.", metavar="html|json"
        ),
    ] = "html",
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap resampling.")] = 0,
) -> None:
    """Compare methods across benchmarks: anytime curves, normalized regret, ranks, tests.

    Reads the runs of every [bold]--experiment-tag[/bold] (tags may hold different
    benchmarks; methods are matched by name) and writes OUTPUT/index.html (one
    offline page), each figure as PNG, SVG and PDF, and OUTPUT/tables.md and
    OUTPUT/tables.tex. Per benchmark: mean best-so-far with a bootstrap band and the
    final-best table. Across benchmarks: normalized regret (mean and IQM with
    stratified-bootstrap intervals), average rank over time, final ranks with a
    Friedman test (Nemenyi pairs; Wilcoxon for two methods) and its
    critical-difference diagram, an ECDF of final regret and the speed-up over RS.
    What the data cannot support (one benchmark, fewer than 5 seeds, methods
    missing somewhere, runs left out) is stated first.
    """
    with user_errors():
        if output_format not in REPORT_FORMATS:
            raise UsageError(f"Invalid --format {output_format!r}: choose one of {', '.join(REPORT_FORMATS)}")
        if output is None and output_format == "html":
            raise UsageError("Name the folder to write the report into with --output/-o (or use --format json)")
        if output is not None and output.exists() and not output.is_dir():
            raise UsageError(f"--output {output} is a file; name a folder (it is created if missing)")
        # The root comes from flag, environment or hpobench.toml alike for every tag; each
        # tag's name is checked on the way.
        root = next(results_root_to_read(results_root, tag) for tag in experiment_tag)
        from hpobench.results.report import report_data, write_report
        from hpobench.results.statistics import analyse
        from hpobench.results.study import load_study, parse_references

        study = load_study(root, list(experiment_tag), include_incomplete)
        references = parse_references(list(reference or []), study.benchmarks)
        stats = analyse(study, references, seed)
        if output is not None:
            data = write_report(study, stats, output)
        else:
            data = report_data(study, stats)
        if output_format == "json":
            typer.echo(json.dumps(data, indent=1))
            return
        for warning in stats.warnings:
            typer.echo(f"Warning: {warning}", err=True)
        typer.echo(
            f"Wrote {output / 'index.html'} with {len(data.get('figures', [])) // 3} figures, "  # type: ignore[operator]
            f"tables.md and tables.tex ({len(study.benchmarks)} benchmark(s), {len(study.methods)} "
            f"method(s), {len(study.runs) - len(study.left_out)} run(s) used, {len(study.left_out)} left out)"
        )
