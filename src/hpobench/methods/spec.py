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
    # Every objective the method tunes, each (metric, mode), in the benchmark's order; the first
    # is (metric, mode). Empty when made: (metric, mode) alone. A multi-objective method reads
    # these; a single-objective one reads `metric` and `mode` (for a scalarized run, the
    # weighted sum `hpobench_scalarized`, minimized).
    objectives: tuple[tuple[str, str], ...] = ()
    # A multi-objective benchmark's fixed hypervolume reference point, one value per objective
    # in its own units and direction, and its ideal point where it normalizes by bounds.
    reference_point: Optional[tuple[float, ...]] = None
    ideal_point: Optional[tuple[float, ...]] = None

    def __post_init__(self) -> None:
        from hpobench.methods.initial_points import initial_points

        # Frozen: set once here, so every factory and plugin reads the resolved points.
        object.__setattr__(self, "points_to_evaluate", initial_points(self.points_to_evaluate, self.config_space))
        if not self.objectives:
            object.__setattr__(self, "objectives", ((self.metric, self.mode),))
        elif self.objectives[0] != (self.metric, self.mode):
            raise ValueError(
                f"the first objective {self.objectives[0]} must be (metric, mode) = {(self.metric, self.mode)}"
            )

    @property
    def do_minimize(self) -> bool:
        return self.mode == "min"

    @property
    def metrics(self) -> list[str]:
        """The objectives' metrics, in order."""
        return [metric for metric, _ in self.objectives]

    @property
    def modes(self) -> list[str]:
        """The objectives' modes ("min" or "max"), in order."""
        return [mode for _, mode in self.objectives]

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @classmethod
    def for_benchmark(
        cls, benchmark: Any, random_seed: int, default_first_trial: Optional[bool] = None, scalarized: bool = False
    ) -> MethodArguments:
        """The arguments that tune `benchmark` (a BenchmarkDefinition); imports Syne Tune.

        The benchmark's `points_to_evaluate` come first if it has any (as in the seed);
        else the default configuration, unless `default_first_trial` (None: the benchmark's
        own `default_first_trial`) is False. `scalarized`: a single-objective method tunes the
        weighted sum of a multi-objective benchmark's objectives (`--scalarization`), which
        every result carries as `hpobench_scalarized` (lower is better)."""
        from hpobench.benchmarks.objectives import SCALARIZED_METRIC
        from hpobench.benchmarks.space import to_syne_tune_space

        if default_first_trial is None:
            default_first_trial = benchmark.default_first_trial
        points = benchmark.points_to_evaluate
        if points is None and not default_first_trial:
            points = []
        objectives = tuple((o.metric, o.mode) for o in benchmark.objectives)
        hypervolume = benchmark.hypervolume
        if scalarized:
            objectives, hypervolume = ((SCALARIZED_METRIC, "min"),), None
        return cls(
            config_space=to_syne_tune_space(benchmark.config_space),
            metric=objectives[0][0],
            mode=objectives[0][1],
            objectives=objectives,
            reference_point=None if hypervolume is None else tuple(hypervolume.reference_point),
            ideal_point=None if hypervolume is None else hypervolume.ideal_point,
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
