"""What a method is and what it is given: a leaf module, imported by the registry and by
the plugin loader alike (so neither imports the other)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class MethodArguments:
    """Everything a method needs to know about the benchmark it tunes.

    `points_to_evaluate`, the configurations every method evaluates first (their searched
    entries), is resolved when the arguments are made, as the seed's searchers did: None
    (the default) becomes the default configuration alone, the middle of each range
    (`methods.initial_points`); [] means none; given points are completed with the
    default's values and repeats dropped. A method passes them on to its library.
    """

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

    def __post_init__(self) -> None:
        from hpobench.methods.initial_points import initial_points

        # Frozen: set once here, so every factory and plugin reads the resolved points.
        object.__setattr__(self, "points_to_evaluate", initial_points(self.points_to_evaluate, self.config_space))

    @property
    def do_minimize(self) -> bool:
        return self.mode == "min"

    @classmethod
    def for_benchmark(
        cls, benchmark: Any, random_seed: int, default_first_trial: Optional[bool] = None
    ) -> MethodArguments:
        """The arguments that tune `benchmark` (a BenchmarkDefinition); imports Syne Tune.

        The benchmark's `points_to_evaluate` come first if it has any (as in the seed);
        else the default configuration, unless `default_first_trial` (None: the benchmark's
        own `default_first_trial`) is False."""
        from hpobench.benchmarks.space import to_syne_tune_space

        if default_first_trial is None:
            default_first_trial = benchmark.default_first_trial
        points = benchmark.points_to_evaluate
        if points is None and not default_first_trial:
            points = []
        return cls(
            config_space=to_syne_tune_space(benchmark.config_space),
            metric=benchmark.metric,
            mode=benchmark.mode,
            resource_attr=benchmark.resource_attr,
            max_resource=int(benchmark.max_resource),
            random_seed=random_seed,
            points_to_evaluate=points,
            max_resource_attr=benchmark.max_resource_attr,
        )


@dataclass(frozen=True, kw_only=True)
class MethodSpec:
    """A registered HPO method, what it needs, and what it is (for `list methods`)."""

    name: str
    family: str
    multi_fidelity: bool
    needs: str
    factory: Callable[[MethodArguments], Any]
    # How a multi-fidelity method spends less on poor configurations: "promotion" (trials pause
    # at rungs, the best resume from their checkpoints), "stopping" (trials below a rung's cutoff
    # stop), "re-run" (each trial trains to the fidelity it was given and ends; a promoted
    # configuration is a new trial from scratch, as DEHB's), or "-" (every trial runs to the end).
    decisions: str = "-"
    model: str = "-"  # what proposes new configurations
    defaults: dict[str, Any] = field(default_factory=dict)  # the key defaults hpobench uses
    reference: str = ""  # the paper
    note: str = ""  # a plugin's note on how it departs from its paper; built-ins' are in methods/notes.py
    library: str = "-"  # whose implementation runs (the version is the installed one's)
    pending: str = "-"  # how trials still running are taken into account when suggesting
    extra: str = ""  # the optional extra that installs its library (`pip install "hpobench[EXTRA]"`)
    # Whether it tunes several objectives at once (a multi-objective benchmark refuses the others).
    multi_objective: bool = False

    def build(self, args: MethodArguments) -> Any:
        """The Syne Tune scheduler for `args`."""
        return self.factory(args)
