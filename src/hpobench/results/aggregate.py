"""Statistics over seeds: anytime curves, final best, time to a target, ranks.

The incumbent rule (`INCUMBENT_RULE`) is the one stated in every output: each
seed's best-so-far curve first, then statistics across seeds at each time of a
common grid, so a mean curve is never the running best of an average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from hpobench.benchmarks.objectives import Hypervolume, Objective
from hpobench.results import layout
from hpobench.results.load import Experiment, RunResults

GRID_POINTS = 200
TARGET_METHOD = "RS"
# A multi-objective benchmark's baseline: multi-objective random search.
MO_TARGET_METHOD = "MO-RS"
INCUMBENT_RULE = (
    "Incumbent rule: for each seed, the best metric value reported so far (every reported "
    "result counts, intermediate epochs included) against wall-clock time since tuning started "
    "(st_tuner_time); across seeds, the mean and standard error (std/sqrt(n)) of those curves "
    f"(not the running best of an average) at each of {GRID_POINTS} evenly spaced times, "
    "defined once every seed has a result. Time to "
    "target: first time a seed's best-so-far reaches the target; the median counts seeds that "
    "never reach it as infinitely slow. Rank: per seed and time, methods ranked by best-so-far "
    "(1 = best, ties share the mean rank, no result yet = last), then averaged over seeds; "
    "'avg rank' is that curve averaged over time."
)
HYPERVOLUME_RULE = (
    "Multi-objective benchmarks: a seed's value at a time is the hypervolume of every result it "
    "reported so far (moocore), each objective turned into one to minimize and normalized as the "
    "benchmark's definition says, up to its fixed reference point (a result counts only where it is "
    "strictly better in every objective); it never falls, so it is its own best so far, and the "
    f"rule above applies to it as to a metric to maximize. Target: {MO_TARGET_METHOD}'s mean final "
    "hypervolume. Front size: the results on a seed's final Pareto front, among those that count; "
    "mean over seeds."
)


@dataclass
class MethodSummary:
    """One method's statistics on one benchmark, over its included seeds."""

    method: str
    seeds: list[int]
    excluded: list[str]  # "METHOD-SEED (state)" of runs left out
    final_best_mean: Optional[float]
    final_best_stderr: Optional[float]
    final_best_median: Optional[float]
    target_reached: int = 0
    time_to_target_median: Optional[float] = None
    time_to_target_mean: Optional[float] = None  # only when every seed reached the target
    average_rank: Optional[float] = None
    final_rank: Optional[float] = None
    mean: Any = None  # mean best-so-far on the grid (NaN where undefined)
    stderr: Any = None
    # Failed and started trials over the included seeds whose runs recorded them (at their end).
    trials_failed: Optional[int] = None
    trials_started: Optional[int] = None
    # Multi-objective benchmarks: the size of each seed's final Pareto front, over seeds.
    front_size_mean: Optional[float] = None
    front_size_stderr: Optional[float] = None

    @property
    def failed_share(self) -> Optional[float]:
        """Failed trials over started trials, where both were recorded."""
        return None if not self.trials_started else (self.trials_failed or 0) / self.trials_started


@dataclass
class BenchmarkSummary:
    """Every method's statistics on one benchmark, on one time grid."""

    benchmark: str
    metric: str
    mode: str
    grid: Any
    target: Optional[float]
    target_source: str  # "RS mean final best", "--target" or why there is none
    methods: list[MethodSummary] = field(default_factory=list)
    rank_seeds: list[int] = field(default_factory=list)
    ranks: dict[str, Any] = field(default_factory=dict)  # method -> average rank on the grid
    # Several: a multi-objective benchmark, whose metric is the hypervolume up to this reference point.
    objectives: tuple[Objective, ...] = ()
    hypervolume: Optional[Hypervolume] = None

    @property
    def multi_objective(self) -> bool:
        return self.hypervolume is not None

    @property
    def baseline(self) -> str:
        """The method whose mean final value is the default target (and the report's speed-up baseline)."""
        return MO_TARGET_METHOD if self.multi_objective else TARGET_METHOD


def hypervolume_text(summary: BenchmarkSummary) -> str:
    """What a multi-objective benchmark's hypervolume measures, as `results` states it."""
    hv = summary.hypervolume
    if hv is None:
        return ""
    objectives = ", ".join(o.describe() for o in summary.objectives)
    point = ", ".join(f"{v:g}" for v in hv.reference_point)
    if hv.normalization == "bounds" and hv.ideal_point is not None:
        ideal = ", ".join(f"{v:g}" for v in hv.ideal_point)
        scale = f"normalized (bounds): each objective mapped so that the ideal point ({ideal}) is 0 and the reference 1"
    else:
        scale = "not normalized (in the objectives' units)"
    return f"hypervolume of {objectives}; reference point ({point}); {scale}"


def best_so_far(values: np.ndarray, mode: str) -> np.ndarray:
    """Running best of `values` (already in time order): max for mode 'max', min otherwise."""
    return np.maximum.accumulate(values) if mode == "max" else np.minimum.accumulate(values)


def on_grid(times: np.ndarray, incumbent: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The step function (times, incumbent) at each grid time; NaN before the first result."""
    index = np.searchsorted(times, grid, side="right") - 1
    result = np.full(len(grid), np.nan)
    seen = index >= 0
    result[seen] = incumbent[index[seen]]
    return result


def mean_and_stderr(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise mean and standard error of a (seeds, times) array.

    A column with any NaN (a seed without a result yet) is NaN: averaging only
    the seeds that already reported would flatter the early curve.
    """
    n = curves.shape[0]
    mean = curves.mean(axis=0)
    if n < 2:
        return mean, np.full(curves.shape[1], np.nan)
    return mean, curves.std(axis=0, ddof=1) / math.sqrt(n)


def time_to_target(times: np.ndarray, incumbent: np.ndarray, target: float, mode: str) -> float:
    """First time the incumbent reaches `target` (>= for max, <= for min); inf if never."""
    reached = incumbent >= target if mode == "max" else incumbent <= target
    hits = np.flatnonzero(reached)
    return float(times[hits[0]]) if len(hits) else math.inf


def ranks(curves: np.ndarray, mode: str) -> np.ndarray:
    """Ranks of methods (axis 0) at each other index: 1 = best, ties averaged, NaN last."""
    score = -curves if mode == "max" else curves.copy()
    score = np.where(np.isnan(score), np.inf, score)
    better = (score[None, :] < score[:, None]).sum(axis=1)
    ties = (score[None, :] == score[:, None]).sum(axis=1) - 1
    return 1.0 + better + 0.5 * ties


def included(run: RunResults, include_incomplete: bool) -> tuple[bool, str]:
    """Whether a run enters the statistics, and why not."""
    if run.state != layout.STATUS_COMPLETE and not include_incomplete:
        return False, run.state
    if run.num_results == 0:
        return False, "no results"
    return True, ""


def summarize(
    experiment: Experiment,
    target: Optional[float] = None,
    include_incomplete: bool = False,
    grid_points: int = GRID_POINTS,
    log_grid: bool = False,
) -> list[BenchmarkSummary]:
    """Per benchmark and method: final best, time to target and rank over seeds."""
    return [
        summarize_benchmark(
            [r for r in experiment.runs if r.benchmark == benchmark],
            benchmark,
            target,
            include_incomplete,
            grid_points,
            log_grid,
        )
        for benchmark in experiment.benchmarks()
    ]


def summarize_benchmark(
    runs: list[RunResults],
    benchmark: str,
    target: Optional[float] = None,
    include_incomplete: bool = False,
    grid_points: int = GRID_POINTS,
    log_grid: bool = False,
) -> BenchmarkSummary:
    """Statistics of one benchmark's runs (see INCUMBENT_RULE)."""
    described = [r for r in runs if r.metric]
    metric = (described[0].metric if described else None) or "?"
    mode = (described[0].mode if described else None) or "min"
    multi = next((r for r in described if r.multi_objective), None)
    methods = list(dict.fromkeys(r.method for r in runs))
    used: dict[str, list[RunResults]] = {m: [] for m in methods}
    excluded: dict[str, list[str]] = {m: [] for m in methods}
    for run in runs:
        ok, why = included(run, include_incomplete)
        if ok:
            used[run.method].append(run)
        else:
            excluded[run.method].append(f"{run.name} ({why})")
    ends = [float(r.frame.time[-1]) for rs in used.values() for r in rs if r.frame is not None]
    grid = np.linspace(0.0, max(ends) if ends else 0.0, grid_points)
    firsts = [float(r.frame.time[0]) for rs in used.values() for r in rs if r.frame is not None]
    if log_grid and firsts and min(firsts) > 0:
        # For a log time axis: evenly spaced in log time from the first result on.
        grid = np.geomspace(min(firsts), max(ends), grid_points)
    curves: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {}
    for method, method_runs in used.items():
        curves[method] = {}
        for run in method_runs:
            if run.frame is None:  # included() already left these out
                continue
            curves[method][run.seed] = (run.frame.time, best_so_far(run.frame.value, mode))
    baseline = MO_TARGET_METHOD if multi is not None else TARGET_METHOD
    target, source = _target(curves, target, baseline)
    summary = BenchmarkSummary(benchmark, metric, mode, grid, target, source)
    if multi is not None:
        summary.objectives, summary.hypervolume = multi.objectives, multi.hypervolume
    for method in methods:
        item = _method_summary(method, curves[method], excluded[method], grid, target, mode)
        item.trials_failed, item.trials_started = trial_counts(used[method])
        if multi is not None:
            item.front_size_mean, item.front_size_stderr = _front_sizes(used[method])
        summary.methods.append(item)
    _add_ranks(summary, curves, grid, mode)
    return summary


def trial_counts(runs: list[RunResults]) -> tuple[Optional[int], Optional[int]]:
    """Failed and started trials summed over the runs that recorded both (None if none did)."""
    counted = [r.record for r in runs if r.record.trials_started is not None and r.record.trials_failed is not None]
    if not counted:
        return None, None
    return sum(r.trials_failed or 0 for r in counted), sum(r.trials_started or 0 for r in counted)


def _front_sizes(runs: list[RunResults]) -> tuple[Optional[float], Optional[float]]:
    """Mean and standard error over seeds of the size of each run's final Pareto front."""
    sizes = np.array([len(r.frame.front) for r in runs if r.frame is not None and r.frame.front is not None])
    if not len(sizes):
        return None, None
    stderr = float(sizes.std(ddof=1) / math.sqrt(len(sizes))) if len(sizes) > 1 else None
    return float(sizes.mean()), stderr


def _target(
    curves: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]], target: Optional[float], baseline: str
) -> tuple[Optional[float], str]:
    if target is not None:
        return target, "--target"
    runs = curves.get(baseline)
    if not runs:
        return None, f"no {baseline} results to set it; pass --target"
    finals = [incumbent[-1] for _, incumbent in runs.values()]
    what = "hypervolume" if baseline == MO_TARGET_METHOD else "best"
    return float(np.mean(finals)), f"{baseline} mean final {what}"


def _method_summary(
    method: str,
    runs: dict[int, tuple[np.ndarray, np.ndarray]],
    excluded: list[str],
    grid: np.ndarray,
    target: Optional[float],
    mode: str,
) -> MethodSummary:
    seeds = sorted(runs)
    if not seeds:
        return MethodSummary(method, [], excluded, None, None, None)
    finals = np.array([runs[s][1][-1] for s in seeds])
    stderr = float(finals.std(ddof=1) / math.sqrt(len(finals))) if len(finals) > 1 else None
    matrix = np.vstack([on_grid(*runs[s], grid) for s in seeds])
    mean, band = mean_and_stderr(matrix)
    summary = MethodSummary(
        method, seeds, excluded, float(finals.mean()), stderr, float(np.median(finals)), mean=mean, stderr=band
    )
    if target is not None:
        hits = np.array([time_to_target(*runs[s], target, mode) for s in seeds])
        summary.target_reached = int(np.isfinite(hits).sum())
        median = float(np.median(hits))
        summary.time_to_target_median = median if math.isfinite(median) else None
        summary.time_to_target_mean = float(hits.mean()) if np.isfinite(hits).all() else None
    return summary


def _add_ranks(
    summary: BenchmarkSummary, curves: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]], grid: np.ndarray, mode: str
) -> None:
    """Average rank over seeds that every method with results ran (paired by seed)."""
    methods = [m for m, runs in curves.items() if runs]
    if len(methods) < 2:
        return
    seeds = sorted(set.intersection(*(set(curves[m]) for m in methods)))
    if not seeds:
        return
    # (methods, seeds, times) best-so-far, ranked over methods.
    stacked = np.stack([np.vstack([on_grid(*curves[m][s], grid) for s in seeds]) for m in methods])
    mean_rank = ranks(stacked, mode).mean(axis=1)
    summary.rank_seeds = seeds
    for method, curve in zip(methods, mean_rank, strict=True):
        summary.ranks[method] = curve
    for item in summary.methods:
        if item.method in summary.ranks:
            curve = summary.ranks[item.method]
            item.average_rank = float(curve.mean())
            item.final_rank = float(curve[-1])
