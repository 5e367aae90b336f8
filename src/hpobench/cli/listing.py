"""`hpobench list benchmarks|methods`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hpobench.cli.common import stdout_console


def list_benchmarks(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array for scripts.")] = False,
) -> None:
    """List the registered benchmarks: metric, resource, defaults, hardware."""
    from hpobench.benchmarks import benchmark_names, get_benchmark
    from hpobench.console import format_seconds, table

    definitions = [get_benchmark(name) for name in benchmark_names()]
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in definitions], indent=2))
        return
    rows = [
        [
            d.name,
            d.description,
            f"{d.metric} ({d.mode})",
            f"{d.resource_attr} <= {d.max_resource}",
            d.n_workers,
            format_seconds(d.max_wallclock_time),
            d.instance_type,
            d.hardware,
        ]
        for d in definitions
    ]
    columns = ["name", "description", "metric (mode)", "resource", "workers", "budget",
               "instance type", "hardware"]  # fmt: skip
    stdout_console().print(table("Benchmarks", columns, rows))


def list_methods(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array for scripts.")] = False,
) -> None:
    """List the registered HPO methods: family, promotion or stopping, model, defaults, paper."""
    from hpobench.console import table
    from hpobench.methods import METHODS, method_record
    from hpobench.settings import DEFAULT_METHODS

    records = [{**method_record(s), "default": s.name in DEFAULT_METHODS} for s in METHODS.values()]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    rows = [
        [r["name"], r["family"], r["decisions"], r["model"],
         ", ".join(f"{k}={v}" for k, v in r["defaults"].items()) or "-",
         r["reference"].split(",")[0], r["needs"], "yes" if r["default"] else ""]
        for r in records
    ]  # fmt: skip
    columns = ["name", "family", "early decisions", "model", "key defaults", "reference", "needs",
               "default"]  # fmt: skip
    console = stdout_console()
    console.print(table("Methods", columns, rows))
    console.print("What each is, and where it departs from its paper or from Syne Tune 0.16:")
    for r in records:
        if r["note"]:
            console.print(f"  {r['name']}: {r['note']}", highlight=False)
