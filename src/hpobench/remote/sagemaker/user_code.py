"""What a job's source archive holds of the user's own code, and how the job finds it.

- A benchmark defined by a file, or by a plugin, is staged under `BENCHMARK_DIR`:
  its script folder (at the same place relative to the definition as on this
  machine) and its definition (the file as written; a plugin's as JSON), so the
  job runs `--benchmark hpobench_benchmark/NAME.toml` exactly as `run-local` would.
- A method from a plugin is staged as its top-level package (or module) with a
  `.dist-info` holding its entry points, next to `hpobench/`, where the job's
  Python finds both; the package's own requirements join the job's.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.errors import UsageError
from hpobench.remote.sagemaker.requirements import without_extras

BENCHMARK_DIR = "hpobench_benchmark"
Copy = Callable[[Path, Path], None]


def job_benchmark(benchmark: BenchmarkDefinition) -> str:
    """The --benchmark value of a job: a built-in's name, else the staged definition's
    path relative to the archive's top (see `archive_path`)."""
    if benchmark.origin.kind == "built-in":
        return benchmark.name
    return f"{BENCHMARK_DIR}/{_definition_name(benchmark)}"


def archive_path(reference: str, archive_root: Path) -> str:
    """A job's --benchmark value as a path on the job's machine (names stay names)."""
    if reference.startswith(f"{BENCHMARK_DIR}/"):
        return str(archive_root / reference)
    return reference


def staged_script_folder(benchmark: BenchmarkDefinition) -> PurePosixPath:
    """Where a file-defined or plugin benchmark's script folder lands in the archive:
    at the same place relative to its definition as on this machine."""
    return PurePosixPath(BENCHMARK_DIR, *Path(benchmark.script).parent.parts)


def stage_definition(benchmark: BenchmarkDefinition, stage: Path) -> None:
    """Write a file-defined benchmark's file as it is (a plugin's definition as JSON)."""
    origin = benchmark.origin
    text = origin.content if origin.kind == "file" else json.dumps(benchmark.model_dump(mode="json"), indent=2)
    target = stage / BENCHMARK_DIR / _definition_name(benchmark)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def _definition_name(benchmark: BenchmarkDefinition) -> str:
    if benchmark.origin.kind == "file":
        return Path(benchmark.origin.location).name
    return f"{benchmark.name}.json"


def plugin_methods(methods: Iterable[str]) -> list[Any]:
    """The plugins (see `hpobench.plugins`) among `methods`, which are already valid."""
    from hpobench import plugins
    from hpobench.methods import METHODS

    found = []
    for name in dict.fromkeys(methods):
        plugin = None if name in METHODS else plugins.find(plugins.METHOD_GROUP, name, list(METHODS))
        if plugin is not None:
            found.append(plugin)
    return found


def plugin_requirements(methods: Iterable[str]) -> list[str]:
    """What the packages of plugin methods require (without extras), for the job's pip."""
    requirements: list[str] = []
    for plugin in plugin_methods(methods):
        listed = plugin.entry_point.dist.requires if plugin.entry_point.dist else None
        requirements += without_extras(list(listed or []))
    return requirements


def stage_plugin_methods(methods: Iterable[str], stage: Path, copy: Copy) -> None:
    """Stage each plugin method's top-level package (or module) and its entry points."""
    from hpobench import plugins

    for plugin in plugin_methods(methods):
        dist = plugin.entry_point.dist
        top = plugin.entry_point.module.split(".")[0]
        spec = importlib.util.find_spec(top)
        if dist is None or spec is None or top == "hpobench":
            raise UsageError(
                f"Method {plugin.name!r} ({plugin.source}) cannot be packed for SageMaker: "
                "its package and metadata were not found; install it with pip"
            )
        if spec.submodule_search_locations:
            if not (stage / top).exists():
                copy(Path(next(iter(spec.submodule_search_locations))), stage / top)
        elif spec.origin:
            shutil.copyfile(spec.origin, stage / Path(spec.origin).name)
        info = stage / f"{dist.metadata['Name'].replace('-', '_')}-{dist.version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist.metadata['Name']}\nVersion: {dist.version}\n"
        )
        # Only its methods: a plugin benchmark travels as a definition file, whose name
        # must not meet a registered one in the job.
        methods_of_dist = dist.entry_points.select(group=plugins.METHOD_GROUP)
        lines = [f"{e.name} = {e.value}" for e in methods_of_dist]
        (info / "entry_points.txt").write_text(f"[{plugins.METHOD_GROUP}]\n" + "\n".join(lines) + "\n")
