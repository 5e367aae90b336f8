"""What every command shares: one-line errors and the console."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from hpobench.errors import HpobenchError, UsageError


class _NoFlagPlaceholder:
    """typer 0.29 shows a `<bool>` value after flags (--force, --help), which take
    none: an empty metavar shows nothing."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Command(_NoFlagPlaceholder, TyperCommand):
    """Every hpobench command."""


class Group(_NoFlagPlaceholder, TyperGroup):
    """hpobench itself and `hpobench list`."""


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


def results_root_to_read(results_root: Optional[Path], tag: str, output_format: Optional[str] = None) -> Path:
    """The results root (flag > HPOBENCH_RESULTS_ROOT > hpobench.toml > default), tag checked."""
    from hpobench.results.text import TABLE_FORMATS
    from hpobench.settings import LocalSettings, check_experiment_tag, load_settings

    try:
        check_experiment_tag(tag)
    except ValueError as error:
        raise UsageError(f"Invalid --experiment-tag: {error}") from None
    if output_format is not None and output_format not in TABLE_FORMATS:
        raise UsageError(f"Invalid --format {output_format!r}: choose one of {', '.join(TABLE_FORMATS)}")
    return load_settings(LocalSettings, results_root=results_root).results_root
