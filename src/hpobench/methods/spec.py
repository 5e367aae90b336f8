"""What a method is and what it is given: a leaf module, imported by the registry and by
the plugin loader alike (so neither imports the other)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class MethodArguments:
    """Everything a method needs to know about the benchmark it tunes."""

    config_space: dict[str, Any]  # Syne Tune domains and fixed values
    metric: str
    mode: str  # "min" or "max"
    resource_attr: str
    max_resource: int
    random_seed: int
    points_to_evaluate: Optional[list[dict[str, Any]]] = None
    # The hyperparameter that tells a trial how far to train (e.g. "epochs");
    # promotion-type schedulers set it so a trial ends exactly at its rung level.
    max_resource_attr: Optional[str] = None

    @property
    def do_minimize(self) -> bool:
        return self.mode == "min"

    @classmethod
    def for_benchmark(cls, benchmark: Any, random_seed: int) -> MethodArguments:
        """The arguments that tune `benchmark` (a BenchmarkDefinition); imports Syne Tune."""
        from hpobench.benchmarks.space import to_syne_tune_space

        return cls(
            config_space=to_syne_tune_space(benchmark.config_space),
            metric=benchmark.metric,
            mode=benchmark.mode,
            resource_attr=benchmark.resource_attr,
            max_resource=int(benchmark.max_resource),
            random_seed=random_seed,
            points_to_evaluate=benchmark.points_to_evaluate,
            max_resource_attr=benchmark.max_resource_attr,
        )


@dataclass(frozen=True)
class MethodSpec:
    """A registered HPO method, what it needs, and what it is (for `list methods`)."""

    name: str
    family: str
    multi_fidelity: bool
    needs: str
    factory: Callable[[MethodArguments], Any]
    decisions: str = "-"  # "promotion", "stopping" or "-" (every trial runs to the end)
    model: str = "-"  # what proposes new configurations
    defaults: dict[str, Any] = field(default_factory=dict)  # the key defaults hpobench uses
    reference: str = ""  # the paper
    note: str = ""  # a plugin's note on how it departs from its paper; built-ins' are in methods/notes.py
    library: str = "-"  # whose implementation runs (the version is the installed one's)
    pending: str = "-"  # how trials still running are taken into account when suggesting
    extra: str = ""  # the optional extra that installs its library (`pip install "hpobench[EXTRA]"`)

    def build(self, args: MethodArguments) -> Any:
        """The Syne Tune scheduler for `args`."""
        return self.factory(args)
