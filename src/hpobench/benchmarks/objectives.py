"""What a benchmark optimizes: one or more objectives, and for several the hypervolume's
fixed reference point and normalization (docs/multi-objective.md).

A single-objective definition names `metric` and `mode`; `objectives` is derived from them.
A multi-objective one lists `objectives` (each a metric and its mode) and a `hypervolume`
table: the reference point, one value per objective, is part of the benchmark, so that
hypervolumes of different studies of it are comparable. Cost objectives that hpobench
measures itself, without the script's help, are named `hpobench_*` (`COST_OBJECTIVES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["min", "max"]
Normalization = Literal["none", "bounds"]
COST_PREFIX = "hpobench_"


@dataclass(frozen=True)
class CostObjective:
    """A cost hpobench measures for every trial, whatever its script reports."""

    name: str
    unit: str
    meaning: str
    # How hpobench measures it on a real back-end (`local/result_objectives.py` adds it to each
    # result; a simulated run replays its table's column of it).
    source: str
    # Syne Tune's results column it is copied from, which older results hold without the cost's
    # own column; None where hpobench measures it itself (local/trial_costs.py).
    source_column: Optional[str] = None


COST_OBJECTIVES: dict[str, CostObjective] = {
    cost.name: cost
    for cost in (
        CostObjective(
            "hpobench_train_time",
            "seconds",
            "the trial's training wall-clock up to the reported level (Syne Tune's worker time of the result)",
            source="Syne Tune's st_worker_time of the result (its Reporter's clock, from the script's start or resume)",
            source_column="st_worker_time",
        ),
        CostObjective(
            "hpobench_gpu_seconds",
            "GPU-seconds",
            "training wall-clock times the number of GPUs the trial holds",
            source="hpobench_train_time times the GPUs the back-end gave the trial (0 without GPUs)",
        ),
        CostObjective(
            "hpobench_peak_gpu_memory",
            "bytes",
            "the trial's peak GPU memory up to the reported level",
            source=(
                "the GPU memory of the trial's process tree, sampled every second from NVML (pynvml) or "
                "nvidia-smi; 0 for a trial without GPUs"
            ),
        ),
        CostObjective(
            "hpobench_peak_host_memory",
            "bytes",
            "the peak resident memory of the trial's process tree up to the reported level",
            source="the summed RSS of the trial's process tree, sampled every 0.1 s by the tuner's sampler thread",
        ),
    )
}


class Objective(BaseModel):
    """One metric the benchmark optimizes, and in which direction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str = Field(min_length=1)
    mode: Mode

    @model_validator(mode="after")
    def _known_cost(self) -> Objective:
        if self.metric.startswith(COST_PREFIX) and self.metric not in COST_OBJECTIVES:
            raise ValueError(
                f"{self.metric!r} is no cost objective hpobench measures; use one of "
                f"{', '.join(COST_OBJECTIVES)}, or a metric the script reports (not starting with {COST_PREFIX!r})"
            )
        return self

    @property
    def minimize(self) -> bool:
        return self.mode == "min"

    @property
    def column(self) -> str:
        """The column of a run's results (and key of a trial's result) that holds its values: the
        metric's own, or for a cost the column hpobench measures it from."""
        cost = COST_OBJECTIVES.get(self.metric)
        return cost.source_column if cost is not None and cost.source_column else self.metric

    @property
    def reported_by_script(self) -> bool:
        """Whether the training script must report it (hpobench measures the `hpobench_*` costs)."""
        return not self.metric.startswith(COST_PREFIX)

    def describe(self) -> str:
        """`metric (mode)`, as `list benchmarks` shows it."""
        return f"{self.metric} ({self.mode})"


class Hypervolume(BaseModel):
    """How hypervolumes of a multi-objective benchmark are measured, fixed in its definition.

    `reference_point` has one value per objective, in the objective's own units and
    direction: a result counts only where it is strictly better than the reference point in
    every objective. `normalization` "none" measures in the objectives' units; "bounds" maps
    each objective linearly so that `ideal_point` is 0 and `reference_point` is 1 (after turning
    maximized objectives into minimized ones), so that hypervolumes lie in [0, 1] and compare
    across benchmarks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference_point: tuple[float, ...]
    normalization: Normalization = "none"
    ideal_point: Optional[tuple[float, ...]] = None

    @model_validator(mode="after")
    def _bounds(self) -> Hypervolume:
        if self.normalization == "bounds" and self.ideal_point is None:
            raise ValueError(
                'normalization "bounds" needs ideal_point (the best value of each objective, mapped to 0); '
                'add it, or use normalization = "none"'
            )
        if self.normalization == "none" and self.ideal_point is not None:
            raise ValueError('ideal_point is used only with normalization = "bounds"; remove it, or set that')
        return self


def check_objectives(objectives: tuple[Objective, ...], hypervolume: Optional[Hypervolume]) -> None:
    """Raise ValueError (one line naming the fix) unless `hypervolume` suits `objectives`."""
    if not objectives:
        raise ValueError("objectives must name at least one metric and its mode")
    metrics = [o.metric for o in objectives]
    repeated = sorted({m for m in metrics if metrics.count(m) > 1})
    if repeated:
        raise ValueError(f"objectives name {', '.join(repeated)} twice; each metric is one objective")
    count = len(objectives)
    if count == 1:
        if hypervolume is not None:
            raise ValueError("a single-objective benchmark has no hypervolume; remove [hypervolume]")
        return
    example = ", ".join("..." for _ in objectives)
    if hypervolume is None:
        raise ValueError(
            f"a benchmark with {count} objectives needs a hypervolume reference point: add "
            f"[hypervolume] reference_point = [{example}] (one value per objective, worse than any result that "
            "should count; docs/multi-objective.md)"
        )
    points = {"reference_point": hypervolume.reference_point, "ideal_point": hypervolume.ideal_point}
    for name, point in points.items():
        if point is not None and len(point) != count:
            raise ValueError(
                f"hypervolume.{name} has {len(point)} values for {count} objectives "
                f"({', '.join(metrics)}); give one per objective, in their order"
            )
    if hypervolume.ideal_point is not None:
        for objective, ideal, reference in zip(
            objectives, hypervolume.ideal_point, hypervolume.reference_point, strict=True
        ):
            better = ideal < reference if objective.minimize else ideal > reference
            if not better:
                word = "below" if objective.minimize else "above"
                raise ValueError(
                    f"hypervolume.ideal_point for {objective.metric} ({objective.mode}) must be {word} "
                    f"its reference point {reference}, not {ideal}"
                )


# The result key a scalarized run's single-objective method optimizes (`--scalarization`).
SCALARIZED_METRIC = "hpobench_scalarized"
SCALARIZATION_HELP = (
    "weighted:W1,W2,... (one non-negative weight per objective, in the benchmark's order: the weighted "
    "sum of the objectives, each minimized and normalized by the benchmark's [hypervolume] bounds)"
)


@dataclass(frozen=True)
class Scalarization:
    """A linear weighted sum of a multi-objective benchmark's objectives, so that a
    single-objective method can tune it (`--scalarization weighted:0.5,0.5`).

    Each objective is first put in the hypervolume's space: a maximized one's sign flipped, and
    with `normalization = "bounds"` mapped so that its ideal value is 0 and its reference value 1
    (with "none", in its own units). The sum is minimized."""

    text: str  # as given, e.g. "weighted:0.5,0.5": what the experiment setup records
    weights: tuple[float, ...]

    @classmethod
    def parse(cls, text: str, objectives: tuple[Objective, ...]) -> Scalarization:
        """The scalarization `text` names for `objectives`; ValueError (one line naming the fix) otherwise."""
        kind, _, rest = text.partition(":")
        metrics = ", ".join(o.metric for o in objectives)
        if kind.strip() != "weighted" or not rest.strip():
            raise ValueError(f"unknown scalarization {text!r}; use {SCALARIZATION_HELP}")
        try:
            weights = tuple(float(w) for w in rest.split(","))
        except ValueError:
            raise ValueError(
                f"scalarization {text!r} has a weight that is not a number; use {SCALARIZATION_HELP}"
            ) from None
        if len(weights) != len(objectives):
            raise ValueError(
                f"scalarization {text!r} has {len(weights)} weights for {len(objectives)} objectives ({metrics}); "
                "give one per objective, in their order"
            )
        if any(not (w >= 0) or w == float("inf") for w in weights) or sum(weights) <= 0:
            raise ValueError(f"scalarization {text!r}: weights must be finite, non-negative and not all 0")
        return cls(text=text, weights=weights)

    def value(self, result: dict, objectives: tuple[Objective, ...], hypervolume: Hypervolume) -> Optional[float]:
        """The weighted sum of `result`'s objectives (lower is better); None if one is missing."""
        total = 0.0
        ideal = hypervolume.ideal_point if hypervolume.normalization == "bounds" else None
        for index, (objective, weight) in enumerate(zip(objectives, self.weights, strict=True)):
            raw = result.get(objective.metric)
            if not isinstance(raw, (int, float)) or isinstance(raw, bool):
                return None
            sign = 1.0 if objective.minimize else -1.0
            value = sign * float(raw)
            if ideal is not None:
                origin = sign * ideal[index]
                value = (value - origin) / (sign * hypervolume.reference_point[index] - origin)
            total += weight * value
        return total
