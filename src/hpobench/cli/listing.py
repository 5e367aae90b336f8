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
    """List the registered HPO methods: family, multi-fidelity or not, needs."""
    from hpobench.console import table
    from hpobench.methods import METHODS
    from hpobench.settings import DEFAULT_METHODS

    specs = list(METHODS.values())
    if as_json:
        records = [
            {
                "name": s.name,
                "family": s.family,
                "multi_fidelity": s.multi_fidelity,
                "needs": s.needs,
                "default": s.name in DEFAULT_METHODS,
            }
            for s in specs
        ]
        typer.echo(json.dumps(records, indent=2))
        return
    rows = [
        [s.name, s.family, "yes" if s.multi_fidelity else "no", s.needs,
         "yes" if s.name in DEFAULT_METHODS else ""]
        for s in specs
    ]  # fmt: skip
    stdout_console().print(table("Methods", ["name", "family", "multi-fidelity", "needs", "default"], rows))
