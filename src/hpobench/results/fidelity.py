"""Fidelity of a simulation: how far simulated runs of some methods agree with their real runs.

Two experiment tags, one of real runs and one of simulated runs, of the same methods on one
benchmark. Per method: each seed's best-so-far curve on one grid over the budget (real time for
real runs, simulated time for simulated ones: both are `st_tuner_time`), the mean over seeds
with its bootstrap band (`statistics.mean_band`, as `report` draws it); Kendall's tau between
the methods' real and simulated final means, with a bootstrap interval over seeds; whether each
simulated mean curve stays inside the real band; and one sentence of verdict that says only
what those numbers support. What the two setups do not share is `fidelity_checks`' part.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from hpobench.errors import UsageError
from hpobench.results.aggregate import best_so_far, included, on_grid
from hpobench.results.load import RunResults, load_experiment, registry_order
from hpobench.results.statistics import ANYTIME_GRID, CONFIDENCE, RESAMPLES, Band, mean_band
from hpobench.results.study import MIN_SEEDS

if TYPE_CHECKING:
    from hpobench.results.fidelity_checks import Flag, SetupCheck

# The counts issue 28's measurement asks for: below them a flag says so.
MIN_REAL_SEEDS = MIN_SEEDS
MIN_SIMULATED_SEEDS = 20
# Below this many methods, the page says how few values tau can take.
FEW_METHODS = 5
# A simulated mean this close to a band's edge (relative) is inside: the same curves give the
# same floats up to summation order.
TOLERANCE = 1e-9
# A simulated mean inside the band where judged is 'inside' only when judged at this share of
# the times the real band covers: a side with more seeds defines its mean a little later (its
# slowest seed's first result), which is no disagreement; a mean missing for long is.
MIN_COVERAGE = 0.9
# Flags that say the two sides do not stand for one setup: the verdict never calls them agreeing.
SETUP_FLAGS = ("table", "setup", "benchmark", "metric", "real-simulated", "simulated-real")

DEFINITIONS = {
    "curves": (
        "Per method and side: each seed's best value so far against st_tuner_time (wall-clock "
        "seconds for real runs, simulated seconds for simulated runs) on one grid of "
        f"{ANYTIME_GRID} times from 0 to the real runs' budget; the line is the mean over seeds, "
        f"the band its {CONFIDENCE:.0%} percentile bootstrap interval (scipy.stats.bootstrap, "
        f"{RESAMPLES} resamples of the seeds), defined once every seed has a result."
    ),
    "tau": (
        "Kendall's tau (scipy.stats.kendalltau, tau-b) between the methods' real and simulated "
        "final values, final = the mean over seeds of the best value at the end of the budget; "
        f"its {CONFIDENCE:.0%} interval is a percentile bootstrap ({RESAMPLES} resamples) that "
        "resamples the seeds of each method on each side independently and recomputes tau. "
        "With n methods tau takes only n(n-1)/2 + 1 values."
    ),
    "band": (
        "A simulated mean curve is inside the real band at a grid time when it lies between the "
        "real band's bounds there; judged at every grid time where both the real band and the "
        "simulated mean are defined (a side's mean is defined once every seed of it has a result). "
        "'Inside' is 'at every judged time', and needs the judged times to cover at least "
        f"{MIN_COVERAGE:.0%} of those where the real band is defined (else: not judged); otherwise "
        "the share of judged times inside and the first time outside are given."
    ),
}


@dataclass
class Side:
    """One tag's runs of the compared benchmark: those in the statistics, by method."""

    option: str  # "--real" or "--simulated": how messages name this side
    tag: str
    benchmark: str
    metric: str
    mode: str
    runs: dict[str, list[RunResults]]  # method -> complete runs with results, by seed
    left_out: list[tuple[RunResults, str]] = field(default_factory=list)  # (run, why)
    benchmarks: list[str] = field(default_factory=list)  # every benchmark the tag holds

    @property
    def methods(self) -> list[str]:
        return list(self.runs)

    def all_runs(self) -> list[RunResults]:
        return [r for runs in self.runs.values() for r in runs]


@dataclass
class BandCheck:
    """Whether a simulated mean curve stays inside the real band (see DEFINITIONS['band'])."""

    inside: Optional[bool]  # None: not judged
    share_inside: Optional[float] = None  # of the judged grid times
    first_exit: Optional[float] = None  # the first judged time outside, seconds
    judged: int = 0  # grid times judged: the real band and the simulated mean both defined
    coverage: Optional[float] = None  # judged times over the times the real band is defined
    why_not_judged: str = ""


@dataclass
class MethodFidelity:
    method: str
    real_seeds: list[int]
    simulated_seeds: list[int]
    real: Band
    simulated: Band
    real_final: Optional[float]  # mean over seeds of the best value at the end of the budget
    simulated_final: Optional[float]
    band: BandCheck


@dataclass
class Fidelity:
    real: Side
    simulated: Side
    budget: float
    grid: Any
    methods: list[MethodFidelity]  # the methods on both sides, registry order
    only_real: list[str]
    only_simulated: list[str]
    tau: Optional[float]
    tau_interval: Optional[tuple[float, float]]
    tau_note: str  # why tau or its interval is missing, else ""
    flags: list[Flag] = field(default_factory=list)
    checks: list[SetupCheck] = field(default_factory=list)  # each table's manifest, item by item
    verdict: str = ""

    @property
    def method_names(self) -> list[str]:
        return [m.method for m in self.methods]


def load_side(root: Path, tag: str, option: str, benchmark: Optional[str] = None) -> Side:
    """The runs of `tag` on `benchmark` (or its only benchmark) that enter the statistics."""
    if not (root / tag).is_dir():
        raise UsageError(
            f"{option} {tag!r}: no experiment folder {root / tag}; check the tag "
            "(`hpobench status --experiment-tag TAG`) and --results-root"
        )
    experiment = load_experiment(root, tag)
    used: dict[str, dict[str, list[RunResults]]] = {}
    left_out: list[tuple[RunResults, str]] = []
    for run in experiment.runs:
        ok, why = included(run, False)
        if ok:
            used.setdefault(run.benchmark, {}).setdefault(run.method, []).append(run)
        else:
            left_out.append((run, why))
    if not used:
        raise UsageError(
            f"{option} {tag!r} has no complete run with results under {root}; "
            f"see `hpobench status --experiment-tag {tag}`"
        )
    held = sorted(used)
    if benchmark is None:
        if len(held) > 1:
            raise UsageError(f"{option} {tag!r} holds benchmarks {', '.join(held)}; name one with --benchmark")
        benchmark = held[0]
    if benchmark not in used:
        raise UsageError(
            f"{option} {tag!r} has no complete run of benchmark {benchmark!r} (it holds {', '.join(held)}); "
            "check --benchmark"
        )
    by_method = used[benchmark]
    methods = registry_order(set(by_method))
    runs = {m: sorted(by_method[m], key=lambda r: r.seed) for m in methods}
    first = next(iter(runs.values()))[0]
    return Side(
        option,
        tag,
        benchmark,
        first.metric or "?",
        first.mode or "min",
        runs,
        [(r, why) for r, why in left_out if r.benchmark == benchmark],
        held,
    )


def load_sides(root: Path, real_tag: str, simulated_tag: str, benchmark: Optional[str] = None) -> tuple[Side, Side]:
    """Both sides; the simulated one on the real one's benchmark, or on its only benchmark when
    it does not hold that one (a flag then says the benchmarks differ)."""
    real = load_side(root, real_tag, "--real", benchmark)
    try:
        simulated = load_side(root, simulated_tag, "--simulated", real.benchmark)
    except UsageError:
        if benchmark is not None:
            raise
        simulated = load_side(root, simulated_tag, "--simulated")  # its only benchmark, or the error
    common = [m for m in real.methods if m in simulated.runs]
    if not common:
        raise UsageError(
            f"--real {real_tag!r} ({', '.join(real.methods)}) and --simulated {simulated_tag!r} "
            f"({', '.join(simulated.methods)}) have no method in common; simulate the real runs' "
            "methods (`hpobench run-local --backend simulated --method ...`)"
        )
    return real, simulated


def compare(real: Side, simulated: Side, seed: int = 0) -> Fidelity:
    """Curves, bands, tau and the band verdicts of the methods both sides ran; flags and the
    verdict sentence included."""
    from hpobench.results import fidelity_checks

    rng = np.random.default_rng(seed)
    budget = _budget(real)
    grid = np.linspace(0.0, budget, ANYTIME_GRID)
    mode = real.mode
    common = [m for m in real.methods if m in simulated.runs]
    methods: list[MethodFidelity] = []
    finals: dict[str, tuple[Any, Any]] = {}  # method -> (real finals, simulated finals) per seed
    for method in common:
        real_curves = _curves(real.runs[method], grid, mode)
        simulated_curves = _curves(simulated.runs[method], grid, mode)
        real_band = mean_band(real_curves, rng)
        simulated_band = mean_band(simulated_curves, rng)
        finals[method] = (real_curves[:, -1], simulated_curves[:, -1])
        methods.append(
            MethodFidelity(
                method,
                [r.seed for r in real.runs[method]],
                [r.seed for r in simulated.runs[method]],
                real_band,
                simulated_band,
                _mean_or_none(real_curves[:, -1]),
                _mean_or_none(simulated_curves[:, -1]),
                band_check(grid, real_band, simulated_band.center),
            )
        )
    tau, interval, note = tau_with_interval([finals[m][0] for m in common], [finals[m][1] for m in common], rng)
    result = Fidelity(
        real,
        simulated,
        budget,
        grid,
        methods,
        [m for m in real.methods if m not in simulated.runs],
        [m for m in simulated.methods if m not in real.runs],
        tau,
        interval,
        note,
    )
    result.flags, result.checks = fidelity_checks.check(result)
    result.verdict = verdict(result)
    return result


def _budget(real: Side) -> float:
    """The real runs' budget (their max_wallclock_time), else the time of their last result."""
    budgets = [r.budget for r in real.all_runs() if r.budget]
    if budgets:
        return float(max(budgets))
    return float(max(r.frame.time[-1] for r in real.all_runs() if r.frame is not None and len(r.frame)))


def _curves(runs: list[RunResults], grid: Any, mode: str) -> Any:
    """(seeds, grid) best-so-far values; NaN before a seed's first result."""
    rows = []
    for run in runs:
        frame = run.frame
        assert frame is not None, f"{run.name} has no results"  # included() keeps only these
        rows.append(on_grid(frame.time, best_so_far(frame.value, mode), grid))
    return np.vstack(rows)


def _mean_or_none(values: Any) -> Optional[float]:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else None


def band_check(grid: Any, real: Band, simulated_center: Any) -> BandCheck:
    """Whether `simulated_center` stays inside the real band (see DEFINITIONS['band'])."""
    banded = np.isfinite(real.low) & np.isfinite(real.high)
    if not banded.any():
        seeds_note = "fewer than 2 real seeds, or no time where every real seed has a result"
        return BandCheck(None, why_not_judged=f"no real band ({seeds_note})")
    judged = banded & np.isfinite(simulated_center)
    coverage = float(judged.sum() / banded.sum())
    if not judged.any():
        return BandCheck(None, coverage=0.0, why_not_judged="no simulated mean where the real band is defined")
    low, high, center = real.low[judged], real.high[judged], simulated_center[judged]
    slack = TOLERANCE * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
    inside = (center >= low - slack) & (center <= high + slack)
    outside = np.flatnonzero(~inside)
    check = BandCheck(
        bool(inside.all()),
        float(inside.mean()),
        float(grid[judged][outside[0]]) if len(outside) else None,
        int(judged.sum()),
        coverage,
    )
    if check.inside and coverage < MIN_COVERAGE:
        # Inside where judged, but judged over too little of the budget to say it stays inside.
        check.inside = None
        check.why_not_judged = f"the simulated mean has values at only {coverage:.0%} of the real band's times"
    return check


def tau_values(methods: int) -> list[float]:
    """Every value Kendall's tau can take between two rankings of `methods` without ties."""
    pairs = methods * (methods - 1) // 2
    return [(pairs - 2 * discordant) / pairs for discordant in range(pairs, -1, -1)] if pairs else []


def _tau(real: Any, simulated: Any) -> float:
    from scipy.stats import kendalltau

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: NaN, said by the caller
        return float(kendalltau(real, simulated).statistic)


def tau_with_interval(
    real: list[Any], simulated: list[Any], rng: Any
) -> tuple[Optional[float], Optional[tuple[float, float]], str]:
    """Kendall's tau between the methods' mean real and mean simulated finals (one array of
    per-seed finals per method and side), its bootstrap interval over seeds, and why either
    is missing."""
    from scipy.stats import bootstrap

    real = [r[np.isfinite(r)] for r in real]
    simulated = [s[np.isfinite(s)] for s in simulated]
    count = len(real)
    if count < 2:
        return None, None, f"{count} method on both sides: tau needs 2 or more"
    if any(len(x) == 0 for x in real + simulated):
        return None, None, "a method has no result by the end of the budget on one side"
    tau = _tau([x.mean() for x in real], [x.mean() for x in simulated])
    if math.isnan(tau):
        return None, None, "every method has the same final value on one side: tau is undefined"
    if any(len(x) < 2 for x in real + simulated):
        return tau, None, "a method has fewer than 2 seeds on one side: no interval"

    def statistic(*samples: Any, axis: int = -1) -> Any:
        means = [np.mean(s, axis=axis) for s in samples]
        real_means = np.stack(means[:count], axis=-1)
        simulated_means = np.stack(means[count:], axis=-1)
        shape = real_means.shape[:-1]
        flat = zip(real_means.reshape(-1, count), simulated_means.reshape(-1, count), strict=True)
        return np.array([_tau(r, s) for r, s in flat]).reshape(shape)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate distribution (every resample tau = 1) warns
        interval = bootstrap(
            real + simulated,
            statistic,
            n_resamples=RESAMPLES,
            confidence_level=CONFIDENCE,
            method="percentile",
            vectorized=True,
            axis=-1,
            rng=rng,
        ).confidence_interval
    low, high = float(interval.low), float(interval.high)
    if math.isnan(low) or math.isnan(high):
        return tau, None, "some resamples tie every method on one side: no interval"
    return tau, (low, high), ""


def verdict(result: Fidelity) -> str:
    """One sentence that claims only what tau, its interval, the bands and the flags support."""
    count = len(result.methods)
    judged = [m for m in result.methods if m.band.inside is not None]
    outside = [m.method for m in judged if not m.band.inside]
    interval = result.tau_interval
    ranks_agree = interval is not None and interval[0] > 0
    ranks_reversed = interval is not None and interval[1] < 0
    curves_agree = bool(judged) and len(judged) == count and not outside
    setup = [f for f in result.flags if f.kind in SETUP_FLAGS]
    if ranks_agree and curves_agree:
        head = (
            "The simulation's numbers agree with the real runs', but the flags above say their setups differ"
            if setup
            else "The simulation agrees with the real runs on these numbers"
        )
    elif outside or ranks_reversed:
        head = "The simulation does not agree with the real runs"
    else:
        head = "These numbers do not show that the simulation agrees with the real runs"
    parts = [_tau_clause(result), _band_clause(result, judged, outside)]
    caveats = []
    if 1 < count < FEW_METHODS:
        values = ", ".join(_fraction(v) for v in tau_values(count))
        caveats.append(f"with only {count} methods tau can only be {values}")
    thin = min(len(m.real_seeds) for m in result.methods)
    if thin < MIN_REAL_SEEDS:
        caveats.append(f"with {thin} real seed(s) for some method (fewer than {MIN_REAL_SEEDS}) the bands are wide")
    if setup and not (ranks_agree and curves_agree):
        caveats.append("and the flags above say the two sides' setups differ")
    sentence = f"{head}: {'; '.join(parts)}"
    if caveats:
        sentence += " (" + "; ".join(caveats) + ")"
    return sentence + "."


def _tau_clause(result: Fidelity) -> str:
    count = len(result.methods)
    if result.tau is None:
        return f"the final ranks cannot be compared ({result.tau_note})"
    text = f"Kendall's tau between the real and simulated final ranks of {count} methods is {result.tau:.2f}"
    if result.tau_interval is None:
        return f"{text}, without an interval ({result.tau_note})"
    low, high = result.tau_interval
    text += f" ({CONFIDENCE:.0%} bootstrap interval [{low:.2f}, {high:.2f}]"
    if low > 0:
        return text + ", above 0)"
    if high < 0:
        return text + ", below 0: the simulation reverses the ranks)"
    return text + ", which contains 0: no rank agreement is shown)"


def _band_clause(result: Fidelity, judged: list[MethodFidelity], outside: list[str]) -> str:
    count = len(result.methods)
    if not judged:
        return "no simulated curve could be judged against a real band"
    text = f"{len(judged) - len(outside)} of {count} simulated mean curves stay inside the real {CONFIDENCE:.0%} band"
    if outside:
        leaves = ", ".join(
            f"{m.method} (inside at {m.band.share_inside:.0%} of the judged grid, "
            f"first out at {m.band.first_exit:.4g} s)"
            for m in judged
            if not m.band.inside
        )
        text += f"; {leaves} leave it"
    unjudged = [f"{m.method} ({m.band.why_not_judged})" for m in result.methods if m.band.inside is None]
    if unjudged:
        text += f"; not judged: {', '.join(unjudged)}"
    return text


def _fraction(value: float) -> str:
    from fractions import Fraction

    fraction = Fraction(value).limit_denominator(100)
    return str(fraction.numerator) if fraction.denominator == 1 else f"{fraction.numerator}/{fraction.denominator}"
