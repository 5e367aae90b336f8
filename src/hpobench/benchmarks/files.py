"""Benchmark definition files: `--benchmark path/to/bench.toml` (or `.json`).

A file holds the fields `hpobench list benchmarks --json` prints (a searched
config entry is a table with a `kind`); its `script` is relative to the file's
folder. It is validated by the same model as the built-in benchmarks, and every
problem is reported as one line naming the file, the field and the fix.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from hpobench.benchmarks.definition import BenchmarkDefinition, BenchmarkOrigin
from hpobench.benchmarks.space import Domain
from hpobench.errors import UsageError

DEFINITION_SUFFIXES = (".toml", ".json")
# Printed by `list benchmarks --json` next to the definition; informative only.
IGNORED_KEYS = ("source",)


def looks_like_path(text: str) -> bool:
    """Whether a --benchmark value names a file rather than a registered benchmark."""
    return text.endswith(DEFINITION_SUFFIXES) or "/" in text or "\\" in text


def load_definition_file(path: Path) -> BenchmarkDefinition:
    """The benchmark a definition file describes; a one-line UsageError otherwise."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.toml") if p.name != "hpobench.toml")
        hint = f" (there: {', '.join(found)})" if found else ""
        raise UsageError(f"Benchmark {path} is a folder; give its .toml definition file{hint}")
    if not path.is_file():
        raise UsageError(
            f"Benchmark file {path} does not exist; give a registered name "
            "(`hpobench list benchmarks`) or the path of a .toml definition"
        )
    if path.suffix not in DEFINITION_SUFFIXES:
        raise UsageError(f"{path}: a benchmark definition must be a .toml or .json file")
    from hpobench.settings import CONFIG_FILE

    if path.name == CONFIG_FILE:
        raise UsageError(
            f"{path}: {CONFIG_FILE} holds hpobench's settings; give the benchmark's definition another file name"
        )
    content = path.read_text()
    data = _parse(path, content)
    for key in IGNORED_KEYS:
        data.pop(key, None)
    _check_config_space(path, data.get("config_space"))
    try:
        definition = BenchmarkDefinition(**data)
    except ValidationError as error:
        raise UsageError(_one_line(path, error)) from None
    definition = definition.with_origin(BenchmarkOrigin("file", path.parent, location=str(path), content=content))
    if not definition.script_path.is_file():
        raise UsageError(
            f"{path}: script {definition.script!r} not found at {definition.script_path}; "
            "fix `script` (a path relative to the definition file's folder)"
        )
    return definition


def _parse(path: Path, content: str) -> dict[str, Any]:
    if path.suffix == ".json":
        try:
            data = json.loads(content)
        except ValueError as error:
            raise UsageError(f"{path} is not valid JSON: {error}") from None
        # `list benchmarks --json` prints an array; one benchmark may be saved as such.
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
    else:
        data = _parse_toml(path, content)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected one benchmark definition (a table of fields)")
    # JSON's null is TOML's absent: an optional field left at its default.
    return {key: value for key, value in data.items() if value is not None}


def _parse_toml(path: Path, content: str) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    try:
        return tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path} is not valid TOML: {error}") from None


def _check_config_space(path: Path, space: Any) -> None:
    """Each searched entry on its own, so an error names the entry, not a union of types."""
    if not isinstance(space, dict):
        return  # the model reports a missing or mistyped config_space
    domain = TypeAdapter(Domain)
    for name, entry in space.items():
        where = f"{path}: config_space.{name}"
        if isinstance(entry, dict):
            if "kind" not in entry:
                raise UsageError(
                    f"{where}: a searched entry needs a kind: uniform, loguniform, randint, "
                    'lograndint or choice (e.g. { kind = "uniform", lower = 0.0, upper = 1.0 })'
                )
            try:
                domain.validate_python(entry)
            except ValidationError as error:
                raise UsageError(_one_line(path, error, prefix=f"config_space.{name}")) from None
        elif not isinstance(entry, (bool, int, float, str)):
            raise UsageError(
                f"{where}: a fixed entry must be a number, a string or a boolean, "
                f"not {type(entry).__name__}; a searched one a table with a kind"
            )


def _one_line(path: Path, error: ValidationError, prefix: str = "") -> str:
    errors = error.errors()
    # A misspelt field is both unknown and missing; its spelling is the better clue.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [str(part) for part in first["loc"]]
    if prefix and loc and loc[0] in _DOMAIN_KINDS:
        loc = loc[1:]  # the discriminator's tag adds nothing for the reader
    field = ".".join([prefix, *loc] if prefix else loc)
    message = first["msg"].removeprefix("Value error, ")
    kind = first["type"]
    if kind == "missing":
        parent, _, name = field.rpartition(".")
        where = f" to {parent}" if parent else ""
        hint = 'mode = "min" or "max"' if name == "mode" else "see `hpobench list benchmarks --json`"
        return f"{path}: missing field {name!r}; add it{where} ({hint})"
    if kind == "string_pattern_mismatch" and field == "name":
        return f"{path}: name {first['input']!r} must be lower-case letters, digits, '_' and '-'"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(prefix, first["loc"])
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
        return f"{path}: unknown field {field!r}; remove it ({hint})"
    if kind == "union_tag_invalid":
        return (
            f"{path}: {field}: unknown kind {first['input'].get('kind')!r}; use uniform, "
            "loguniform, randint, lograndint or choice"
        )
    given = first.get("input")
    shown = f" (got {given!r})" if isinstance(given, (str, int, float)) and kind != "value_error" else ""
    where = f"{field}: " if field else ""
    # A rule's own message names its fix after a ';'.
    fix = "" if kind == "value_error" and ";" in message else "; fix the value"
    return f"{path}: {where}{message.replace('Input should be', 'must be')}{shown}{fix}"


_DOMAIN_KINDS = ("uniform", "loguniform", "randint", "lograndint", "choice")


def _allowed_fields(prefix: str, loc: tuple[Any, ...]) -> list[str]:
    if not prefix:
        from hpobench.benchmarks.objectives import Hypervolume, Objective

        # objectives.N.field and hypervolume.field are fields of the nested tables.
        tables: dict[str, tuple[type[BaseModel], int]] = {"objectives": (Objective, 3), "hypervolume": (Hypervolume, 2)}
        nested = tables.get(str(loc[0])) if loc else None
        if nested is not None and len(loc) == nested[1]:
            return list(nested[0].model_fields)
        return list(BenchmarkDefinition.model_fields)
    from hpobench.benchmarks import space

    by_kind = {
        cls.model_fields["kind"].default: cls
        for cls in (space.Uniform, space.LogUniform, space.RandInt, space.LogRandInt, space.Choice)
    }
    cls = by_kind.get(str(loc[0])) if loc else None
    return list(cls.model_fields) if cls else []
