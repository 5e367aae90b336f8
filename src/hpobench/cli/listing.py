"""`hpobench list benchmarks|methods`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench.cli.common import stdout_console
from hpobench.cli.options import ResultsRoot

BUILT_IN = "built-in"


def list_benchmarks(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array for scripts.")] = False,
    tables: Annotated[
        bool,
        typer.Option(
            "--tables",
            help="List the tables present instead: hpobench's under RESULTS_ROOT/tables/ and the "
            "blackboxes in Syne Tune's repository (~/.blackbox-repository, or "
            "HPOBENCH_BLACKBOX_REPOSITORY), for run-local --backend simulated.",
        ),
    ] = False,
    results_root: ResultsRoot = None,
) -> None:
    """List the benchmarks: built-in and from plugins, with objectives, resource, defaults.

    The JSON of one benchmark is also a valid definition file: save it as .json, or
    write the same fields as .toml, edit it, and pass its path to --benchmark.
    """
    from hpobench import plugins
    from hpobench.benchmarks import BENCHMARK_FACTORIES
    from hpobench.cli.console import format_seconds, table

    if tables:
        _list_tables(as_json, results_root)
        return

    entries = [(BUILT_IN, factory(), "", name) for name, factory in BENCHMARK_FACTORIES.items()]
    entries += [
        (s.plugin.source, s.value, s.error, s.plugin.name)
        for s in plugins.survey(plugins.BENCHMARK_GROUP, list(BENCHMARK_FACTORIES))
    ]
    if as_json:
        records = [
            {**d.model_dump(mode="json"), "source": source}
            if not error
            else {"name": name, "source": source, "error": error}
            for source, d, error, name in entries
        ]
        typer.echo(json.dumps(records, indent=2))
        return
    rows = [
        [
            d.name,
            d.description,
            "\n".join(o.describe() for o in d.objectives),
            f"{d.resource_attr} <= {d.max_resource}",
            d.n_workers,
            format_seconds(d.max_wallclock_time),
            d.instance_type,
            d.hardware,
            source,
        ]
        if not error
        else [name, f"BROKEN: {error}", "", "", "", "", "", "", source]
        for source, d, error, name in entries
    ]
    columns = [
        "name",
        "description",
        "objectives (mode)",
        "resource",
        "workers",
        "budget",
        "instance type",
        "hardware",
        "source",
    ]
    stdout_console().print(table("Benchmarks", columns, rows))


def _list_tables(as_json: bool, results_root: Optional[Path]) -> None:
    from hpobench.cli.common import user_errors
    from hpobench.cli.console import table
    from hpobench.settings import LocalSettings, load_settings
    from hpobench.tables.blackboxes import list_tables

    with user_errors():
        root = load_settings(LocalSettings, results_root=results_root).results_root
        found = list_tables(root)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    rows = [[t["benchmark"], t["table"], t["source"]] for t in found]
    console = stdout_console()
    console.print(table("Tables", ["--benchmark", "table", "source"], rows))
    if not found:
        console.print("No tables; make one with `hpobench tabulate --benchmark NAME`.", highlight=False)


def list_methods(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array for scripts.")] = False,
) -> None:
    """List the HPO methods, built-in and from plugins: family, promotion or stopping, model,
    defaults, paper, and where each comes from."""
    from hpobench import plugins
    from hpobench.cli.console import table
    from hpobench.methods import METHODS, method_record
    from hpobench.settings import DEFAULT_METHODS

    entries = [(BUILT_IN, s, "", s.name) for s in METHODS.values()]
    entries += [
        (s.plugin.source, s.value, s.error, s.plugin.name) for s in plugins.survey(plugins.METHOD_GROUP, list(METHODS))
    ]
    records: list[dict[str, Any]] = [
        {**method_record(s), "name": name, "default": name in DEFAULT_METHODS, "source": source}
        if not error
        else {"name": name, "source": source, "error": error}
        for source, s, error, name in entries
    ]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    rows = [
        [
            r["name"],
            r["family"],
            r["decisions"],
            r["model"],
            r.get("pending", "-"),
            ", ".join(f"{k}={v}" for k, v in r["defaults"].items()) or "-",
            r["reference"].split(",")[0],
            r.get("library", "-"),
            "yes" if r["default"] else "",
            r["source"],
        ]
        if "error" not in r
        else [r["name"], f"BROKEN: {r['error']}", "", "", "", "", "", "", "", r["source"]]
        for r in records
    ]
    columns = [
        "name",
        "family",
        "early decisions",
        "model",
        "running trials",
        "key defaults",
        "reference",
        "library",
        "default",
        "source",
    ]
    console = stdout_console()
    console.print(table("Methods", columns, rows))
    from hpobench.methods.notes import FIRST_TRIAL_RULE, SIMULATED_RULE

    console.print(FIRST_TRIAL_RULE, highlight=False)
    console.print(SIMULATED_RULE, highlight=False)
    console.print("What each is, and where it departs from its paper or from Syne Tune 0.16:")
    for r in records:
        if "error" not in r:
            note = f"{r['note'].rstrip('.')}. " if r.get("note") else ""
            console.print(f"  {r['name']}: {note}Default configuration: {r['first_trial']}.", highlight=False)
