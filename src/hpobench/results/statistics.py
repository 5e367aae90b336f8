"""The statistics of a study: per benchmark, then across benchmarks.

Every definition a reader needs is in `DEFINITIONS` and printed with the numbers.
Statistics come from libraries, not from code of ours: confidence intervals from
`scipy.stats.bootstrap` (percentile method; a stratified bootstrap is scipy's
independent resampling of several samples, one per benchmark), ECDFs from
`scipy.stats.ecdf`, the Friedman and Wilcoxon tests from `scipy.stats`, Nemenyi's
post-hoc test and the critical-difference diagram from scikit-posthocs. The IQM is
`scipy.stats.trim_mean(x, 0.25)`, computed by a sort for speed (a test holds the two
equal). rliable would be the natural source of the IQM intervals, but its arch<8
dependency does not import under pandas 3.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from hpobench.results.aggregate import (
    MO_TARGET_METHOD,
    TARGET_METHOD,
    BenchmarkSummary,
    best_so_far,
    on_grid,
    ranks,
    summarize_benchmark,
)
from hpobench.results.study import Study

CONFIDENCE = 0.95
ALPHA = 0.05
RESAMPLES = 1000
NORMALIZED_GRID = 40
ANYTIME_GRID = 80

DEFINITIONS = {
    "anytime": (
        "Per benchmark: each seed's best value so far against wall-clock time since tuning "
        "started; the line is the mean over seeds, the band its 95% percentile bootstrap "
        f"confidence interval (scipy.stats.bootstrap, {RESAMPLES} resamples of the seeds)."
    ),
    "normalized_regret": (
        "Normalized regret on a benchmark: 0 = the best value seen in any run of the study (or "
        "the --reference value given for it), 1 = random search's (RS) median value at its first "
        "result (without RS runs, the median first result of all runs); values above 1 are worse "
        "than that anchor. Time is normalized by the benchmark's budget (max_wallclock_time)."
    ),
    "aggregates": (
        "Across benchmarks: the mean and the interquartile mean (IQM: the mean without the lowest "
        "and highest 25%, as scipy.stats.trim_mean(x, 0.25)) over every (benchmark, seed) run "
        "of normalized regret, with "
        "95% stratified-bootstrap confidence intervals (each benchmark's seeds resampled "
        f"separately, scipy.stats.bootstrap, {RESAMPLES} resamples, percentile method). A curve "
        "starts once every run has a result."
    ),
    "ranks": (
        "Ranks: methods ranked by normalized regret within each (benchmark, seed) block (1 = best, "
        "ties share the mean rank, no result yet = last), averaged over blocks. Only methods with "
        "runs on every benchmark, and seeds every one of them ran, form blocks."
    ),
    "test": (
        "Final ranks are tested with the Friedman test over the (benchmark, seed) blocks (3 or more "
        "methods; scipy.stats.friedmanchisquare), pairs with Nemenyi's post-hoc test "
        "(scikit-posthocs), alpha 0.05; with 2 methods, the Wilcoxon signed-rank test "
        "(scipy.stats.wilcoxon) on their paired final regrets. Seeds of one benchmark are "
        "treated as separate blocks: a verdict holds for these benchmarks, not for others."
    ),
    # Added to the report's definitions where a benchmark is multi-objective.
    "hypervolume": (
        "Multi-objective benchmarks enter as their hypervolume (results/hypervolume.py: the results so "
        "far up to the benchmark's fixed reference point, normalized as its definition says), a value "
        "to maximize. Their normalized regret is (HV* - HV) / HV*: HV* = the best final hypervolume any "
        "run of the study reached (or the --reference value, e.g. 1 for the whole normalized box), the "
        "anchor 0 = a hypervolume of nothing (no result better than the reference point). HV* is the "
        "best seen, as the best value is for one objective, because the box's hypervolume needs the "
        "ideal point (say accuracy 1 in no time), which no run reaches: regrets would never approach "
        f"0 and differences would shrink. Speed-up is over {MO_TARGET_METHOD} there."
    ),
    "speedup": (
        "Speed-up over RS on a benchmark: the time RS's mean anytime curve needs to reach RS's mean "
        "final best, divided by the time the method's mean curve needs to reach it ('never' when "
        "it does not within the time its runs took)."
    ),
}


@dataclass
class Band:
    """A curve with its confidence interval, on some grid (NaN where undefined)."""

    center: Any
    low: Any
    high: Any


@dataclass
class BenchmarkResult:
    benchmark: str
    summary: BenchmarkSummary  # the `results` table: final best, time to target, ranks
    budget: float  # the time normalized regret is measured against
    best: float
    best_source: str
    anchor: float
    anchor_source: str
    anytime_grid: Any
    anytime: dict[str, Band] = field(default_factory=dict)
    speedup: dict[str, Optional[float]] = field(default_factory=dict)  # None: never reaches RS's final mean
    speedup_note: str = ""


@dataclass
class RankTest:
    name: str  # as shown on the critical-difference diagram
    statistic: Optional[float]
    p_value: Optional[float]
    blocks: int
    pairwise_name: str
    pairwise_p: dict[str, dict[str, float]]  # method -> method -> adjusted p-value

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


@dataclass
class CrossResult:
    methods: list[str]
    blocks: list[tuple[str, int]]  # (benchmark, seed)
    grid: Any  # normalized time, 0..1
    mean: dict[str, Band]
    iqm: dict[str, Band]
    rank_over_time: dict[str, Any]
    final_regret: dict[str, Any]  # method -> final normalized regret per block
    final_rank: dict[str, float]
    test: Optional[RankTest]
    ecdf: dict[str, tuple[Any, Any]]  # method -> (regret values, fraction of runs at or below)


@dataclass
class StudyStatistics:
    benchmarks: list[BenchmarkResult]
    cross: Optional[CrossResult]
    warnings: list[str]
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def analyse(study: Study, references: Optional[dict[str, float]] = None, seed: int = 0) -> StudyStatistics:
    """Everything a report shows, computed once."""
    references = references or {}
    rng = np.random.default_rng(seed)
    results = [_benchmark_result(study, b, references.get(b), rng) for b in study.benchmarks]
    notes = study.warnings()
    definitions = {k: v for k, v in DEFINITIONS.items() if k != "hypervolume"}
    if any(r.summary.multi_objective for r in results):
        definitions["hypervolume"] = DEFINITIONS["hypervolume"]
    cross = _cross(study, results, rng)
    if cross is not None and len(cross.blocks) < 2:
        notes.append(
            f"Only {len(cross.blocks)} (benchmark, seed) block(s) where every compared method ran the "
            "same seed: no rank test."
        )
    if cross is not None and cross.test is not None and cross.test.blocks < 10:
        notes.append(
            f"The rank test rests on {cross.test.blocks} (benchmark, seed) blocks: too few for it to "
            "find any but the largest differences."
        )
    return StudyStatistics(results, cross, notes, definitions)


def _benchmark_result(study: Study, benchmark: str, reference: Optional[float], rng: Any) -> BenchmarkResult:
    # Every run of the benchmark, left-out ones too: they name its metric and mode when no
    # run has results, and the table lists them as `results` does.
    everything = sorted(
        (r for r in study.runs if r.benchmark == benchmark), key=lambda r: (study.methods.index(r.method), r.seed)
    )
    summary = summarize_benchmark(everything, benchmark, None, study.include_incomplete, ANYTIME_GRID)
    runs = [r for m in study.methods for r in study.cell(benchmark, m)]
    mode = summary.mode
    finals = [float(r.best) for r in runs if r.best is not None]
    if reference is not None:
        best, best_source = reference, "--reference"
    elif finals:
        best = min(finals) if mode == "min" else max(finals)
        best_source = "best value seen in any run of the study"
    else:
        best, best_source = math.nan, "no results"
    anchor, anchor_source = _anchor(study, benchmark, summary)
    budgets = [r.budget for r in runs if r.budget]
    ends = [float(r.frame.time[-1]) for r in runs if r.frame is not None and len(r.frame)]
    budget = max(budgets) if budgets else (max(ends) if ends else 1.0)
    result = BenchmarkResult(benchmark, summary, budget, best, best_source, anchor, anchor_source, summary.grid)
    for method in study.methods:
        cell = study.cell(benchmark, method)
        if cell:
            curves = np.vstack(
                [on_grid(_frame(r).time, best_so_far(_frame(r).value, mode), summary.grid) for r in cell]
            )
            result.anytime[method] = mean_band(curves, rng)
    _add_speedup(result)
    return result


def _frame(run: Any) -> Any:
    """A study cell's run's results (a cell holds only runs that have some)."""
    assert run.frame is not None, f"{run.name} has no results"
    return run.frame


def _anchor(study: Study, benchmark: str, summary: BenchmarkSummary) -> tuple[float, str]:
    if summary.multi_objective:
        return 0.0, "hypervolume 0 (no result better than the reference point)"
    rs = study.cell(benchmark, TARGET_METHOD)
    if rs:
        return float(np.median([_frame(r).value[0] for r in rs])), f"{TARGET_METHOD}'s median value at its first result"
    firsts = [_frame(r).value[0] for m in study.methods for r in study.cell(benchmark, m)]
    if firsts:
        return float(np.median(firsts)), f"no {TARGET_METHOD} runs: the median first result of all runs"
    return math.nan, "no results"


def _add_speedup(result: BenchmarkResult) -> None:
    """Speed-up over RS from the mean anytime curves (see DEFINITIONS)."""
    name = result.summary.baseline
    baseline = result.anytime.get(name)
    if baseline is None:
        result.speedup_note = f"no {name} runs: no speed-up"
        return
    defined = baseline.center[~np.isnan(baseline.center)]
    target = defined[-1]
    grid = result.anytime_grid
    mode = result.summary.mode

    def first_time(curve: Any) -> Optional[float]:
        with np.errstate(invalid="ignore"):
            reached = curve <= target + 1e-12 * abs(target) if mode == "min" else curve >= target - 1e-12 * abs(target)
        hits = np.flatnonzero(reached)
        return float(grid[hits[0]]) if len(hits) else None

    rs_time = first_time(baseline.center)
    for method, band in result.anytime.items():
        needed = first_time(band.center)
        result.speedup[method] = None if needed is None else rs_time / max(needed, 1e-9)  # type: ignore[operator]
    result.speedup_note = f"{name}'s mean curve reaches its final mean {target:.6g} at {rs_time:.4g} s"


def _cross(study: Study, results: list[BenchmarkResult], rng: Any) -> Optional[CrossResult]:
    methods = study.compared_methods()
    if len(methods) < 2:
        return None
    by_name = {r.benchmark: r for r in results}
    grid = np.linspace(0.0, 1.0, NORMALIZED_GRID)
    # (benchmark, method) -> seed -> normalized regret on the normalized grid
    curves: dict[tuple[str, str], dict[int, Any]] = {}
    for benchmark in study.benchmarks:
        result = by_name[benchmark]
        for method in methods:
            curves[benchmark, method] = {
                run.seed: _normalized(run, result, grid) for run in study.cell(benchmark, method)
            }
    blocks = [(b, s) for b in study.benchmarks for s in sorted(set.intersection(*(set(curves[b, m]) for m in methods)))]
    mean: dict[str, Band] = {}
    iqm: dict[str, Band] = {}
    for method in methods:
        strata = [np.vstack(list(curves[b, method].values())) for b in study.benchmarks]
        mean[method], iqm[method] = _bands(strata, (_mean, interquartile_mean), rng)
    if not blocks:  # no seed that every compared method ran: nothing to rank or test
        return CrossResult(methods, blocks, grid, mean, iqm, {}, {}, {}, None, {})
    stacked = np.stack([np.vstack([curves[b, m][s] for b, s in blocks]) for m in methods])  # (methods, blocks, T)
    rank_curves = ranks(stacked, "min").mean(axis=1)
    final = stacked[:, :, -1]
    final_regret = {m: final[i] for i, m in enumerate(methods)}
    final_rank = _final_ranks(final, methods)
    test = _rank_test(final, methods) if len(blocks) >= 2 else None
    ecdf = {m: _ecdf(final_regret[m]) for m in methods}
    return CrossResult(
        methods,
        blocks,
        grid,
        mean,
        iqm,
        {m: rank_curves[i] for i, m in enumerate(methods)},
        final_regret,
        final_rank,
        test,
        ecdf,
    )


def _normalized(run: Any, result: BenchmarkResult, grid: Any) -> Any:
    mode = result.summary.mode
    incumbent = on_grid(run.frame.time / result.budget, best_so_far(run.frame.value, mode), grid)
    span = result.anchor - result.best
    if not span or math.isnan(span):
        span = 1.0 if mode == "min" else -1.0  # anchor equals the best: plain differences
    return (incumbent - result.best) / span


def _final_ranks(final: Any, methods: list[str]) -> dict[str, float]:
    from scipy.stats import rankdata

    if final.shape[1] == 0:
        return {}
    block_ranks = rankdata(final, axis=0)  # per block (column), over methods (rows)
    return {m: float(block_ranks[i].mean()) for i, m in enumerate(methods)}


def _rank_test(final: Any, methods: list[str]) -> RankTest:
    from scipy import stats

    blocks = final.shape[1]
    if len(methods) == 2:
        a, b = final
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if np.allclose(a, b):
                statistic, p = 0.0, 1.0
            else:
                outcome = stats.wilcoxon(a, b)
                statistic, p = float(outcome.statistic), float(outcome.pvalue)
        pairwise = {methods[0]: {methods[0]: 1.0, methods[1]: p}, methods[1]: {methods[0]: p, methods[1]: 1.0}}
        return RankTest("Wilcoxon signed-rank test", statistic, p, blocks, "Wilcoxon signed-rank", pairwise)
    import scikit_posthocs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = stats.friedmanchisquare(*final)
        matrix = scikit_posthocs.posthoc_nemenyi_friedman(final.T)  # blocks x methods
    p = float(outcome.pvalue)
    pairwise = {m: {n: float(matrix.iloc[i, j]) for j, n in enumerate(methods)} for i, m in enumerate(methods)}
    return RankTest(
        "Friedman test", float(outcome.statistic), None if math.isnan(p) else p, blocks, "Nemenyi post-hoc", pairwise
    )


def _ecdf(values: Any) -> tuple[Any, Any]:
    from scipy.stats import ecdf

    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return np.zeros(0), np.zeros(0)
    cdf = ecdf(finite).cdf
    return cdf.quantiles, cdf.probabilities


def _mean(*samples: Any, axis: int = -1) -> Any:
    return np.concatenate(samples, axis=axis).mean(axis=axis)


def interquartile_mean(*samples: Any, axis: int = -1) -> Any:
    """scipy.stats.trim_mean(x, 0.25) (a test holds them equal), through a full sort: on the
    bootstrap's (resamples, times, runs) arrays numpy's vectorized sort is several times
    faster than the two-sided partition trim_mean uses."""
    values = np.sort(np.concatenate(samples, axis=axis), axis=axis)
    cut = int(0.25 * values.shape[axis])
    return np.take(values, range(cut, values.shape[axis] - cut), axis=axis).mean(axis=axis)


def mean_band(curves: Any, rng: Any) -> Band:
    """The mean of a (seeds, times) array of curves with its percentile-bootstrap interval over
    the seeds, where every seed has a value (see DEFINITIONS["anytime"])."""
    (band,) = _bands([curves], (_mean,), rng)
    return band


def _bands(strata: list[Any], statistics: tuple[Any, ...], rng: Any) -> list[Band]:
    """Each statistic over the runs of every stratum (rows), per grid column, with its
    stratified percentile-bootstrap interval (one resampling shared by the statistics), on
    the columns where every run has a result."""
    from scipy.stats import bootstrap

    columns = strata[0].shape[1]
    bands = [Band(*(np.full(columns, np.nan) for _ in range(3))) for _ in statistics]
    defined = ~np.any([np.isnan(s).any(axis=0) for s in strata], axis=0)
    if not defined.any():
        return bands
    # Runs on the last, contiguous axis: sorting over them (the IQM) in the resampled arrays is
    # several times faster there than across a strided axis.
    kept = [np.ascontiguousarray(s[:, defined].T) for s in strata]

    def joined(*samples: Any, axis: int = -1) -> Any:
        # scipy puts the resamples before the runs: (times, resamples, runs) -> (times, resamples)
        # per statistic, stacked along the times.
        return np.concatenate([statistic(*samples, axis=axis) for statistic in statistics], axis=0)

    width = int(defined.sum())
    centers = joined(*kept)
    for k, band in enumerate(bands):
        band.center[defined] = centers[k * width : (k + 1) * width]
    if all(s.shape[1] >= 2 for s in kept):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant columns (every seed at the optimum) warn
            interval = bootstrap(
                kept,
                joined,
                n_resamples=RESAMPLES,
                confidence_level=CONFIDENCE,
                method="percentile",
                vectorized=True,
                axis=-1,
                rng=rng,
            ).confidence_interval
        for k, band in enumerate(bands):
            band.low[defined] = interval.low[k * width : (k + 1) * width]
            band.high[defined] = interval.high[k * width : (k + 1) * width]
    return bands
