"""How results read as text, in one place: numbers, durations, failed trials, pipe and LaTeX tables, and
the output formats each command writes. `render` (status, results), `report` and the CLI's
Rich tables all format through here, so a number never reads two ways."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Optional

# `status` and `results`.
TABLE_FORMATS = ("table", "csv", "json", "markdown")
# `report`: the HTML folder, or its numbers as JSON too.
REPORT_FORMATS = ("html", "json")
# Figures, by file suffix (`plot`) and as `report` writes each one.
FIGURE_FORMATS = ("png", "svg", "pdf")
Table = tuple[str, list[str], list[list[str]]]  # (title, columns, rows), as `report` shows a table


def format_number(value: Optional[float], digits: int = 4) -> str:
    """`digits` significant digits; '-' for a missing or non-finite value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}g}"


def format_seconds(seconds: float) -> str:
    """60 -> '1m', 10800 -> '3h', 90 -> '1m30s'."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def failed_trials_text(failed: Optional[int], started: Optional[int]) -> str:
    """'3/40 (8%)', or '-' when the runs did not record it (still running, or older)."""
    if started is None or failed is None:
        return "-"
    share = f" ({failed / started:.0%})" if started else ""
    return f"{failed}/{started}{share}"


def cell(value: Any) -> str:
    """A value as a table cell: numbers to 4 significant digits, nothing as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def pipe_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub pipe table's lines; '|' in cells is escaped."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(value).replace("|", "\\|") for value in row) + " |" for row in rows]
    return lines


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
}


def _tex(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in text)


def latex_tables(label: str, table_list: list[Table]) -> str:
    """`table_list` as LaTeX (booktabs), one table environment each, after a `label` comment."""
    parts = [f"% {label}; needs \\usepackage{{booktabs}}"]
    for title, columns, rows in table_list:
        parts += [
            r"\begin{table}[ht]",
            r"\centering",
            f"\\caption{{{_tex(title)}}}",
            f"\\begin{{tabular}}{{l{'r' * (len(columns) - 1)}}}",
            r"\toprule",
            " & ".join(_tex(c) for c in columns) + r" \\",
            r"\midrule",
        ]
        parts += [" & ".join(_tex(cell) for cell in row) + r" \\" for row in rows]
        parts += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(parts) + "\n"
