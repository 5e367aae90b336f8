"""What every result of a run carries before its scheduler sees it, added in one place for
every back-end and method (`HpobenchTuner` calls `ResultObjectives.add` on each new result):

- the cost objectives hpobench measures (`hpobench_train_time`, from Syne Tune's
  `st_worker_time`; on a real back-end GPU-seconds and peak memories, from
  `local/trial_costs.py`; a simulated run's table holds them already, as tabulated);
- for a scalarized run (`--scalarization`), `hpobench_scalarized`, the weighted sum a
  single-objective method tunes;
- and, for a multi-objective benchmark, a check that the script reported every objective it
  must: a result without one stops the run (`MissingObjective`, exit 2).

At the run's end `unreached_reference` says when no result is better than the benchmark's
fixed reference point in every objective (its hypervolume would be 0 whatever the method did).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from hpobench.benchmarks.objectives import COST_OBJECTIVES, SCALARIZED_METRIC, Scalarization
from hpobench.errors import UsageError

if TYPE_CHECKING:
    from hpobench.local.trial_costs import TrialCosts


class MissingObjective(UsageError):
    """A trial's result lacks an objective its script must report: every later result would
    too, and no multi-objective method or hypervolume can use it."""


class ResultObjectives:
    """Adds the measured costs (and a scalarization) to each result, and checks the objectives."""

    def __init__(self, benchmark: Any, scalarization: Optional[str] = None, costs: Optional[TrialCosts] = None) -> None:
        self.benchmark = benchmark
        self.costs = costs  # what a real back-end's trials cost (None: a simulated run's table says)
        self.scalarization = None if scalarization is None else Scalarization.parse(scalarization, benchmark.objectives)
        # The script's objectives a result must carry (several objectives, or a scalarization of them).
        self.required = (
            [o.metric for o in benchmark.objectives if o.reported_by_script] if benchmark.multi_objective else []
        )

    def add(self, trial_id: int, result: dict[str, Any]) -> None:
        """Put the costs (and scalarized value) into `result`; MissingObjective if it lacks an objective."""
        for cost in COST_OBJECTIVES.values():
            if cost.source_column and cost.name not in result and cost.source_column in result:
                result[cost.name] = result[cost.source_column]
        if self.costs is not None:
            self.costs.add(trial_id, result)
        missing = [metric for metric in self.required if metric not in result]
        if missing:
            reported = sorted(
                k for k in result if not k.startswith(("st_", "hpobench_")) and k != self.benchmark.resource_attr
            )
            raise MissingObjective(
                f"trial {trial_id} reported {', '.join(reported) or 'no metric'} but not "
                f"{', '.join(missing)}, an objective of benchmark {self.benchmark.name!r}; make its script report "
                f"{missing[0]} with every result (e.g. report({missing[0]}=...)), or fix the benchmark's objectives"
            )
        if self.scalarization is not None:
            value = self.scalarization.value(result, self.benchmark.objectives, self.benchmark.hypervolume)
            if value is not None:
                result[SCALARIZED_METRIC] = value

    def track(self, running: dict[int, Any], last_results: dict[int, dict[str, Any]]) -> None:
        """Measure the costs of the `running` trials (the tuner's, each loop; `TrialCosts.track`)."""
        if self.costs is not None:
            self.costs.track(running, last_results)


def unreached_reference(benchmark: Any, frame: Any, run_name: str) -> Optional[str]:
    """One line when a multi-objective run's results hold values but none is better than the
    benchmark's reference point in every objective; None otherwise."""
    import numpy as np

    from hpobench.results.hypervolume import ObjectiveSpace, objective_values

    if not benchmark.multi_objective or frame is None or len(frame) == 0:
        return None
    try:
        values = objective_values(frame, benchmark.objectives)
    except ValueError:  # no results of some objective: MissingObjective said so already
        return None
    space = ObjectiveSpace.for_benchmark(benchmark)
    points = space.transform(values)
    usable = points[~np.isnan(points).any(axis=1)]
    if not len(usable) or np.all(usable < np.asarray(space.reference), axis=1).any():
        return None
    best = ", ".join(
        f"{o.metric} {(np.nanmin if o.minimize else np.nanmax)(values[:, i]):.4g}"
        for i, o in enumerate(benchmark.objectives)
    )
    reference = ", ".join(f"{v:g}" for v in benchmark.hypervolume.reference_point)
    return (
        f"no result of {run_name} is better than benchmark {benchmark.name!r}'s hypervolume reference point "
        f"({reference}) in every objective, so its hypervolume is 0 (best seen, each alone: {best}); move the "
        "reference point in the benchmark's [hypervolume] so that results that should count are inside it "
        "(docs/multi-objective.md), then run again with --force"
    )
