"""`hpobench fidelity`: how far simulated runs agree with the real runs they stand for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpobench.cli.common import results_root_to_read, user_errors
from hpobench.cli.options import ResultsRoot
from hpobench.errors import UsageError


def fidelity_command(
    real: Annotated[
        str, typer.Option("--real", help="Experiment tag of the real runs.", metavar="TAG", show_default=False)
    ],
    simulated: Annotated[
        str,
        typer.Option(
            "--simulated",
            help="Experiment tag of the simulated runs of the same methods.",
            metavar="TAG",
            show_default=False,
        ),
    ],
    benchmark: Annotated[
        Optional[str],
        typer.Option(help="The benchmark to compare, when the real tag holds several. Default: its only one."),
    ] = None,
    results_root: ResultsRoot = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Folder to write index.html, the figure and the tables into.", metavar="FOLDER"
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every number (tau, bands, flags, verdict) as JSON.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap resampling.")] = 0,
) -> None:
    """Measure how far a simulation agrees with real runs of the same methods.

    Reads the complete runs of [bold]--real[/bold] and [bold]--simulated[/bold] on one
    benchmark and writes OUTPUT/index.html (one offline page), the figure as PNG, SVG and
    PDF, OUTPUT/tables.md, tables.tex and fidelity.json: per method the real and simulated
    mean best-so-far curves (real time, simulated time) with their bootstrap bands;
    Kendall's tau between the methods' real and simulated final ranks with a bootstrap
    interval over seeds; whether each simulated mean stays inside the real 95% band; one
    sentence of verdict. Flags say what the comparison cannot take for granted: a table
    whose manifest differs from the real runs' setup (hardware, precision, versions,
    benchmark definition), real runs that are simulated, methods on one side only, fewer
    than 5 real or 20 simulated seeds per method.

    Example: [bold]hpobench fidelity --real gbt-real --simulated gbt-sim -o fidelity/[/bold]
    """
    from hpobench.settings import check_experiment_tag

    with user_errors():
        for option, tag in (("--real", real), ("--simulated", simulated)):
            try:
                check_experiment_tag(tag)
            except ValueError as error:
                raise UsageError(f"Invalid {option}: {error}") from None
        if output is None and not as_json:
            raise UsageError(
                "Name the folder to write the page into with --output/-o (or print the numbers with --json)"
            )
        if output is not None and output.exists() and not output.is_dir():
            raise UsageError(f"--output {output} is a file; name a folder (it is created if missing)")
        root = results_root_to_read(results_root, real)
        from hpobench.results.fidelity import compare, load_sides
        from hpobench.results.fidelity_report import fidelity_data, write_fidelity

        real_side, simulated_side = load_sides(root, real, simulated, benchmark)
        result = compare(real_side, simulated_side, seed)
        data = write_fidelity(result, root, output) if output is not None else fidelity_data(result, root)
        if as_json:
            typer.echo(json.dumps(data, indent=1))
            return
        for flag in result.flags:
            typer.echo(f"Warning: {flag.message}", err=True)
        typer.echo(result.verdict)
        typer.echo(f"Wrote {output / 'index.html'} with the figure, tables.md, tables.tex and fidelity.json")  # type: ignore[operator]
