"""What every command shares: one-line errors and the console."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import typer

from hpobench.errors import HpobenchError

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


def stdout_console() -> Any:
    from rich.console import Console

    # Bound to the current stdout, so launchers may silence print() meanwhile.
    console = Console(file=sys.stdout)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # pipes and logs: wide tables rather than folded cells
    return console
