"""Reading the columns a report needs from many results.csv.zip files at once.

A run's file is small, a study has hundreds of them: the cost is per row (the csv
module builds a Python list per row) or per file (pandas' reader costs milliseconds
to set up). So the files are read in two passes. Each file's text is checked: without
quotes or carriage returns, and with as many commas on every line as its header, a
line is one row. Such files with the same header are joined and parsed by one
pandas call when they are large together, else by the csv module; any other file
(quoted fields, ragged or cut-short lines) is parsed on its own by the csv module,
which drops the rows whose field count differs from the header's.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from hpobench.errors import first_line

# Joined text above this size is parsed by pandas (its import and set-up pay off there).
PANDAS_FROM_CHARACTERS = 2_000_000
TEXT_COLUMNS = frozenset({"st_decision"})  # kept as text; every other column is read as numbers


@dataclass(frozen=True)
class Request:
    path: Path
    wanted: tuple[str, ...]  # columns to return, those the header has
    required: tuple[str, ...]  # columns without which the file is of no use


Columns = dict[str, Any]  # column name -> numpy array (float, or object for TEXT_COLUMNS)


def read_columns(requests: Sequence[Request]) -> list[Union[Columns, str]]:
    """Per request, its columns, or why it could not be read (a phrase: 'empty (...)',
    'unreadable (...)', 'lacks column(s) ...')."""
    results: list[Union[Columns, str]] = [""] * len(requests)
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[int, str, int]]] = {}
    for i, request in enumerate(requests):
        try:
            text = _text(request.path)
        except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, zlib.error) as error:
            results[i] = f"unreadable ({first_line(error)})"
            continue
        header = _header(text)
        if not header:
            results[i] = "empty (no result reported yet)"
            continue
        missing = [c for c in request.required if c not in header]
        if missing:
            results[i] = f"lacks column(s) {', '.join(missing)}"
            continue
        wanted = tuple(c for c in request.wanted if c in header)
        rows = _regular_rows(text, len(header))
        if rows is None:
            results[i] = _csv_columns(text, header, wanted)
        else:
            body = text[text.index("\n") + 1 :] if "\n" in text else ""
            groups.setdefault((tuple(header), wanted), []).append((i, body, rows))
    for (shared_header, wanted), members in groups.items():
        if sum(len(body) for _, body, _ in members) > PANDAS_FROM_CHARACTERS:
            parsed = _pandas_columns(shared_header, wanted, members)
        else:
            parsed = [
                _csv_columns(",".join(shared_header) + "\n" + body, list(shared_header), wanted)
                for _, body, _ in members
            ]
        for (i, _, _), columns in zip(members, parsed, strict=True):
            results[i] = columns
    return results


def _text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        return archive.read(names[0]).decode("utf-8") if names else ""


def _header(text: str) -> list[str]:
    first = text.split("\n", 1)[0]
    if '"' not in first and "\r" not in first:
        return first.split(",") if first else []
    return next(csv.reader(io.StringIO(first)), [])


def _regular_rows(text: str, fields: int) -> Union[int, None]:
    """The number of rows if every line is one unquoted row of `fields` fields, else None."""
    if '"' in text or "\r" in text:
        return None
    complete = text if text.endswith("\n") else text + "\n"
    lines = complete.count("\n")
    if "\n\n" in complete or complete.count(",") != lines * (fields - 1):
        return None
    return lines - 1  # the header


def _csv_columns(text: str, header: list[str], wanted: tuple[str, ...]) -> Columns:
    import numpy as np

    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    rows = [row for row in reader if len(row) == len(header)]
    index = {name: i for i, name in enumerate(header)}
    columns = {}
    for name in wanted:
        texts = [row[index[name]] for row in rows]
        columns[name] = np.array(texts, dtype=object) if name in TEXT_COLUMNS else _floats(texts)
    return columns


def _pandas_columns(
    header: tuple[str, ...], wanted: tuple[str, ...], members: list[tuple[int, str, int]]
) -> list[Columns]:
    import numpy as np
    import pandas as pd

    joined = io.StringIO(",".join(header) + "\n" + "".join(body for _, body, _ in members))
    text = {name: object for name in wanted if name in TEXT_COLUMNS}
    frame = pd.read_csv(joined, usecols=list(wanted), dtype=text or None, keep_default_na=False)
    arrays = {
        name: frame[name].to_numpy(dtype=object)
        if name in TEXT_COLUMNS
        else pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for name in wanted
    }
    cuts = np.cumsum([rows for _, _, rows in members])[:-1]
    pieces = {name: np.split(array, cuts) for name, array in arrays.items()}
    return [{name: pieces[name][k] for name in wanted} for k in range(len(members))]


def _floats(texts: list[str]) -> Any:
    """Strings to a float array; blanks and non-numbers become NaN."""
    import numpy as np

    try:
        return np.array(texts, dtype=float) if texts else np.zeros(0)
    except ValueError:
        return np.array([_float(t) for t in texts], dtype=float)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
