"""The benchmark registry: one module per built-in benchmark, collected explicitly
here; then entry-point plugins (`hpobench.plugins`) and definition files
(`hpobench.benchmarks.files`), looked up through the same `get_benchmark`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.distilbert_imdb import distilbert_imdb_benchmark
from hpobench.benchmarks.distilbert_imdb_mo import distilbert_imdb_mo_benchmark
from hpobench.benchmarks.files import load_definition_file, looks_like_path
from hpobench.benchmarks.gbt_breast_cancer import gbt_breast_cancer_benchmark
from hpobench.benchmarks.gbt_breast_cancer_mo import gbt_breast_cancer_mo_benchmark
from hpobench.benchmarks.lstm_wikitext2 import lstm_wikitext2_benchmark
from hpobench.benchmarks.mlp_digits import mlp_digits_benchmark
from hpobench.benchmarks.mlp_digits_mo import mlp_digits_mo_benchmark
from hpobench.benchmarks.mlp_fashionmnist import mlp_fashionmnist_benchmark
from hpobench.benchmarks.resnet_cifar10 import resnet_cifar10_benchmark
from hpobench.benchmarks.resnet_cifar10_mo import resnet_cifar10_mo_benchmark
from hpobench.benchmarks.transformer_wikitext2 import transformer_wikitext2_benchmark
from hpobench.errors import UsageError

__all__ = [
    "BENCHMARK_FACTORIES",
    "DEFAULT_BENCHMARK",
    "BenchmarkDefinition",
    "benchmark_names",
    "get_benchmark",
    "load_definition_file",
]

BENCHMARK_FACTORIES: dict[str, Callable[[], BenchmarkDefinition]] = {
    "resnet_cifar10": resnet_cifar10_benchmark,
    "mlp_fashionmnist": mlp_fashionmnist_benchmark,
    "lstm_wikitext2": lstm_wikitext2_benchmark,
    "distilbert_imdb": distilbert_imdb_benchmark,
    "transformer_wikitext2": transformer_wikitext2_benchmark,
    "mlp_digits": mlp_digits_benchmark,
    "gbt_breast_cancer": gbt_breast_cancer_benchmark,
    "gbt_breast_cancer_mo": gbt_breast_cancer_mo_benchmark,
    "mlp_digits_mo": mlp_digits_mo_benchmark,
    "resnet_cifar10_mo": resnet_cifar10_mo_benchmark,
    "distilbert_imdb_mo": distilbert_imdb_mo_benchmark,
}

# `--benchmark blackbox:NAME/TASK`: a table of Syne Tune's blackbox repository (hpobench.tables.blackboxes).
BLACKBOX_PREFIX = "blackbox:"

# The seed's study: what run-local and launch-remote run without --benchmark.
DEFAULT_BENCHMARK = "resnet_cifar10"


def benchmark_names() -> list[str]:
    """Registered benchmark names: built-ins in registry order, then plugins."""
    from hpobench import plugins

    return plugins.names(plugins.BENCHMARK_GROUP, list(BENCHMARK_FACTORIES))


def get_benchmark(name: str) -> BenchmarkDefinition:
    """The benchmark registered under `name`, or defined by the file at path `name`;
    a UsageError naming the valid choices otherwise."""
    from hpobench import plugins

    if name.startswith(BLACKBOX_PREFIX):
        from hpobench.tables.blackboxes import blackbox_benchmark

        return blackbox_benchmark(name)
    if looks_like_path(name):
        definition = load_definition_file(Path(name))
        if definition.name in benchmark_names():
            raise UsageError(
                f"{definition.origin.location}: name {definition.name!r} is already a registered "
                "benchmark; give the file's benchmark another name"
            )
        return definition
    if name in BENCHMARK_FACTORIES:
        return BENCHMARK_FACTORIES[name]()
    plugin = plugins.find(plugins.BENCHMARK_GROUP, name, list(BENCHMARK_FACTORIES))
    if plugin is not None:
        return plugins.load_benchmark(plugin)
    raise UsageError(
        f"Unknown benchmark {name!r}; choose one of: {', '.join(benchmark_names())} "
        "(see `hpobench list benchmarks`), or give the path of a .toml definition file"
    )
