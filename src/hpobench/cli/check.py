"""`hpobench check-benchmark`."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from hpobench.cli.common import stdout_console, user_errors
from hpobench.cli.options import Overrides, parse_key_values
from hpobench.errors import RunError, UsageError

_MARKS = {"ok": "[green]ok  [/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def check_benchmark_command(
    benchmark: Annotated[
        str,
        typer.Argument(
            help="A registered benchmark (see `hpobench list benchmarks`) or the path of a .toml definition file.",
            show_default=False,
        ),
    ],
    timeout: Annotated[
        float, typer.Option(help="Seconds each run of the script may take. (default: 120)", show_default=False)
    ] = 120.0,
    overrides: Overrides = None,
    allow_no_checkpoint: Annotated[
        bool,
        typer.Option(
            "--allow-no-checkpoint",
            help="A script that never checkpoints is a warning, not a failure (fine for methods "
            "that never pause: RS, BO, ASHA-STOP, ...).",
        ),
    ] = False,
) -> None:
    """Run a benchmark's training script for real, briefly, and check it keeps the contract.

    Example: [bold]hpobench check-benchmark ./quadratic.toml[/bold]

    The script runs on its points_to_evaluate (at most two) or the middle of its
    config space, for 2 resource levels, then once more from its checkpoint. One line
    per check: it starts and parses its arguments; it reports the metric and the
    resource as numbers; the resource counts 1, 2; it checkpoints and resumes (promotion-type
    methods need that); the time per level. Exits 1 at the first failed
    check. Takes seconds, not the benchmark's budget.
    """
    from hpobench.benchmarks import get_benchmark
    from hpobench.benchmarks.check import check_benchmark
    from hpobench.plan import with_overrides

    with user_errors():
        if timeout <= 0:
            raise UsageError(f"Invalid --timeout {timeout:g}: give a positive number of seconds")
        definition, _ = with_overrides(get_benchmark(benchmark), parse_key_values(overrides, "--set", "epochs=5") or {})
        console = stdout_console()
        say = functools.partial(console.print, markup=False, highlight=False, soft_wrap=True)
        say(f"Checking {definition.name} ({definition.origin.describe()})")
        statuses = set()
        for result in check_benchmark(definition, timeout, allow_no_checkpoint):
            console.print(f"{_MARKS[result.status]} ", end="")
            say(result.message)
            statuses.add(result.status)
        if "fail" in statuses:
            raise RunError(f"{definition.name} does not keep the training-script contract (see above)")
        say(f"{definition.name}: every check passed" + (" (with warnings)" if "warn" in statuses else ""))
