"""The `hpobench` command line: parse, call a launcher, render.

The `hpobench.cli` package is the only code that imports typer; each module holds
one group of commands, and this one builds the app from them explicitly.
Expected failures (`HpobenchError`) are printed as one line, `Error: ...`, with
exit code 2 for bad input and 1 for a failed run; set HPOBENCH_DEBUG=1 to see the
traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from hpobench import __version__
from hpobench.cli.check import check_benchmark_command
from hpobench.cli.common import Command, Group
from hpobench.cli.fidelity import fidelity_command
from hpobench.cli.listing import list_benchmarks, list_methods
from hpobench.cli.remote import launch_remote_command, sync_command
from hpobench.cli.reports import plot_command, results_command, status_command
from hpobench.cli.run import run_local_command
from hpobench.cli.study_report import report_command
from hpobench.cli.tables import tabulate_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="hpobench",
    help="Benchmark hyperparameter-optimization methods on real training scripts.",
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
    no_args_is_help=True,
    # Plain tracebacks for unexpected errors: no locals (credentials), no rich.traceback import.
    pretty_exceptions_enable=False,
    add_completion=False,
)
list_app = typer.Typer(help="List what hpobench can run.", no_args_is_help=True, add_completion=False, cls=Group)
app.command("run-local", cls=Command)(run_local_command)
app.command("launch-remote", cls=Command)(launch_remote_command)
app.command("sync", cls=Command)(sync_command)
app.command("status", cls=Command)(status_command)
app.command("results", cls=Command)(results_command)
app.command("plot", cls=Command)(plot_command)
app.command("report", cls=Command)(report_command)
app.command("fidelity", cls=Command)(fidelity_command)
app.command("check-benchmark", cls=Command)(check_benchmark_command)
app.command("tabulate", cls=Command)(tabulate_command)
app.add_typer(list_app, name="list")
list_app.command("benchmarks", cls=Command)(list_benchmarks)
list_app.command("methods", cls=Command)(list_methods)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hpobench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Benchmark hyperparameter-optimization methods on real training scripts.

    Run experiments on this machine with [bold]run-local[/bold], or as SageMaker
    jobs with [bold]launch-remote[/bold] (then [bold]sync[/bold]); follow them with
    [bold]status[/bold], compare methods with [bold]results[/bold] and [bold]plot[/bold];
    see what can be run with [bold]list benchmarks[/bold] and [bold]list methods[/bold];
    try your own benchmark with [bold]check-benchmark[/bold] before a study; write a table of
    real runs of a benchmark with [bold]tabulate[/bold].
    """


def main() -> None:
    """Console-script entry: click's usage errors become one line too."""
    # click's UsageError, whether typer vendors click (>= 0.24) or uses it.
    click_usage_error: Any = typer.BadParameter.__bases__[0]
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
