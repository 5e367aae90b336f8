"""The benchmark registry: one module per benchmark, collected explicitly here."""

from __future__ import annotations

from typing import Callable

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.distilbert_imdb import distilbert_imdb_benchmark
from hpobench.benchmarks.gbt_breast_cancer import gbt_breast_cancer_benchmark
from hpobench.benchmarks.lstm_wikitext2 import lstm_wikitext2_benchmark
from hpobench.benchmarks.mlp_digits import mlp_digits_benchmark
from hpobench.benchmarks.mlp_fashionmnist import mlp_fashionmnist_benchmark
from hpobench.benchmarks.resnet_cifar10 import resnet_cifar10_benchmark
from hpobench.benchmarks.transformer_wikitext2 import transformer_wikitext2_benchmark
from hpobench.errors import UsageError

__all__ = [
    "BENCHMARK_FACTORIES",
    "BenchmarkDefinition",
    "benchmark_names",
    "get_benchmark",
    "DEFAULT_BENCHMARK",
]

BENCHMARK_FACTORIES: dict[str, Callable[[], BenchmarkDefinition]] = {
    "resnet_cifar10": resnet_cifar10_benchmark,
    "mlp_fashionmnist": mlp_fashionmnist_benchmark,
    "lstm_wikitext2": lstm_wikitext2_benchmark,
    "distilbert_imdb": distilbert_imdb_benchmark,
    "transformer_wikitext2": transformer_wikitext2_benchmark,
    "mlp_digits": mlp_digits_benchmark,
    "gbt_breast_cancer": gbt_breast_cancer_benchmark,
}

# The seed's default is resnet_cifar10; until it is registered, --benchmark is required.
DEFAULT_BENCHMARK: str | None = "resnet_cifar10" if "resnet_cifar10" in BENCHMARK_FACTORIES else None


def benchmark_names() -> list[str]:
    """Registered benchmark names, in registry order."""
    return list(BENCHMARK_FACTORIES)


def get_benchmark(name: str) -> BenchmarkDefinition:
    """The definition registered under `name`; a UsageError naming the valid ones otherwise."""
    try:
        factory = BENCHMARK_FACTORIES[name]
    except KeyError:
        raise UsageError(
            f"Unknown benchmark {name!r}; choose one of: {', '.join(benchmark_names())} "
            "(see `hpobench list benchmarks`)"
        ) from None
    return factory()
