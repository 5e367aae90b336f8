"""Hypervolumes and Pareto fronts of a multi-objective benchmark's results (moocore computes them).

Results are first put in the benchmark's `ObjectiveSpace`: a maximized objective's sign is
flipped, so that every objective is minimized, and each is normalized by the rule the
definition fixes (docs/multi-objective.md); the reference point is mapped with them. A result
counts only where it is strictly better than the reference point in every objective.

`hypervolume_over_time` gives the hypervolume after every result row of a run, in the rows'
order. It keeps the current non-dominated set: a result that set dominates changes nothing
and costs a binary search (two objectives) or one vectorized comparison (more). With two
objectives a new non-dominated result changes the hypervolume only between its neighbours on
the front, so the library measures that neighbourhood before and after, and the difference is
added: the values are the library's up to floating-point rounding
(tests/results/test_hypervolume.py checks them against a recomputation at every row).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpobench.benchmarks.objectives import Hypervolume, Objective


@dataclass(frozen=True)
class ObjectiveSpace:
    """Where hypervolumes are measured: every objective minimized, normalized as the
    definition says, with the reference point mapped alike."""

    signs: tuple[float, ...]  # 1.0 for a minimized objective, -1.0 for a maximized one
    origin: tuple[float, ...]  # subtracted after the sign flip: the ideal point's, or 0
    scale: tuple[float, ...]  # then divided by: reference minus ideal, or 1
    reference: tuple[float, ...]  # the reference point in this space

    @classmethod
    def of(cls, objectives: Sequence[Objective], hypervolume: Hypervolume) -> ObjectiveSpace:
        """The space of `objectives` with the reference point and normalization `hypervolume` fixes."""
        signs = np.array([1.0 if o.minimize else -1.0 for o in objectives])
        reference = signs * np.asarray(hypervolume.reference_point, dtype=float)
        if hypervolume.normalization == "bounds" and hypervolume.ideal_point is not None:
            origin = signs * np.asarray(hypervolume.ideal_point, dtype=float)
            scale = reference - origin
        else:
            origin, scale = np.zeros(len(signs)), np.ones(len(signs))
        mapped = (reference - origin) / scale
        return cls(_floats(signs), _floats(origin), _floats(scale), _floats(mapped))

    @classmethod
    def for_benchmark(cls, definition: Any) -> ObjectiveSpace:
        """The space of a multi-objective BenchmarkDefinition (ValueError for a single-objective one)."""
        if definition.hypervolume is None:
            raise ValueError(f"benchmark {definition.name!r} has one objective, and so no hypervolume")
        return cls.of(definition.objectives, definition.hypervolume)

    @property
    def dimensions(self) -> int:
        return len(self.signs)

    def transform(self, values: Any) -> np.ndarray:
        """Rows of objective values (in the objectives' order, units and directions) in this space."""
        points = np.asarray(values, dtype=float)
        if points.ndim != 2 or points.shape[1] != self.dimensions:
            raise ValueError(f"expected rows of {self.dimensions} objective values, got shape {points.shape}")
        return (points * np.asarray(self.signs) - np.asarray(self.origin)) / np.asarray(self.scale)

    def restore(self, points: Any) -> np.ndarray:
        """Rows of this space back in the objectives' own units and directions (`transform`'s inverse)."""
        mapped = np.asarray(points, dtype=float) * np.asarray(self.scale) + np.asarray(self.origin)
        return mapped * np.asarray(self.signs)  # a sign is its own inverse


def objective_values(frame: Any, objectives: Sequence[Objective]) -> np.ndarray:
    """A run's results (a pandas frame, rows in the order reported) as rows of objective values;
    a ValueError naming the objective whose column the results lack."""
    # A cost objective's own column where the run recorded it (hpobench adds it to every result,
    # a simulated run's table holds it), else the column it is measured from (older runs).
    columns = [o.metric if o.metric in frame.columns else o.column for o in objectives]
    missing = [o for o, column in zip(objectives, columns, strict=True) if column not in frame.columns]
    if missing:
        named = ", ".join(o.metric if o.column == o.metric else f"{o.metric} (from {o.column})" for o in missing)
        raise ValueError(f"the results hold no values of {named}")
    return frame[columns].to_numpy(dtype=float)


def _floats(array: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in array)


def hypervolume(values: Any, space: ObjectiveSpace) -> float:
    """The hypervolume the results `values` (one row each) dominate up to the reference point."""
    import moocore

    points = _counted(space.transform(values), space)
    if not len(points):
        return 0.0
    return float(moocore.hypervolume(points, ref=np.asarray(space.reference)))


def nondominated(values: Any, space: ObjectiveSpace) -> np.ndarray:
    """A mask of the results on the Pareto front of `values` (of equal results, the first)."""
    import moocore

    points = space.transform(values)
    mask = np.zeros(len(points), dtype=bool)
    usable = np.flatnonzero(~np.isnan(points).any(axis=1))
    if len(usable):
        mask[usable] = moocore.is_nondominated(points[usable], keep_weakly=False)
    return mask


@dataclass(frozen=True)
class OverTime:
    """A run's hypervolume after every result row, and its final Pareto front."""

    hypervolume: np.ndarray  # after rows 0..k, for every row k
    front: np.ndarray  # the rows on the final front, ascending (of equal results, the first)


def over_time(values: Any, space: ObjectiveSpace) -> OverTime:
    """The hypervolume of the results in rows 0..k, for every row k of `values` (rows in the
    order they were reported; a row with a missing value, or not strictly better than the
    reference point in every objective, counts nothing), and the rows of the final front
    among those that count."""
    points = space.transform(values)
    reference = np.asarray(space.reference)
    counted = np.flatnonzero(np.all(points < reference, axis=1))  # NaN compares False
    grow = _grow_2d if space.dimensions == 2 else _grow_any
    changed_at, totals, front = grow(points[counted], reference)
    curve = np.zeros(len(points))
    if changed_at:
        rows = counted[np.asarray(changed_at, dtype=int)]
        latest = np.searchsorted(rows, np.arange(len(points)), side="right") - 1
        curve = np.where(latest >= 0, np.asarray(totals)[np.maximum(latest, 0)], 0.0)
    return OverTime(curve, np.sort(counted[np.asarray(front, dtype=int)]))


def median_attainment(fronts: Sequence[Any], space: ObjectiveSpace) -> np.ndarray:
    """The median attainment surface of several runs (each a set of rows of objective values,
    e.g. its final front): the points attained by at least half of the runs (moocore's 50%
    empirical attainment function, ceil(n/2) of n runs), in the objectives' units, ordered by
    the first objective as it is minimized. A run without a result inside the reference point
    attains nothing, and counts; empty where fewer than half the runs attain anything."""
    import moocore

    counted = [_counted(space.transform(front), space) for front in fronts]
    present = [points for points in counted if len(points)]
    needed = math.ceil(len(fronts) / 2)
    if not present or len(present) < needed:
        return np.empty((0, space.dimensions))
    sets = np.repeat(np.arange(len(present)), [len(points) for points in present])
    # moocore's level p is attained by ceil(p/100 * sets) of the sets it is given: ask for the
    # level of `needed` of all runs, halfway below it so rounding cannot skip it.
    percentile = 100.0 * (needed - 0.5) / len(present)
    surface = moocore.eaf(np.vstack(present), sets, percentiles=[percentile])[:, :-1]
    surface = surface[np.lexsort(surface.T[::-1])]
    return space.restore(surface)


def hypervolume_over_time(values: Any, space: ObjectiveSpace) -> np.ndarray:
    """`over_time(values, space).hypervolume`: the hypervolume after every row."""
    return over_time(values, space).hypervolume


def _counted(points: np.ndarray, space: ObjectiveSpace) -> np.ndarray:
    return points[np.all(points < np.asarray(space.reference), axis=1)]


def _grow_2d(points: np.ndarray, reference: np.ndarray) -> tuple[list[int], list[float], list[int]]:
    """Feed `points` (all inside the reference point) to a two-objective front in order: the
    positions where the hypervolume changed, its new values, and the final front's positions."""
    import moocore

    measure = moocore.hypervolume
    # The front, sorted by the first objective ascending; the second then strictly descends.
    xs: list[float] = []
    ys: list[float] = []
    positions: list[int] = []
    changed_at: list[int] = []
    totals: list[float] = []
    total = 0.0
    for position, (x, y) in enumerate(points.tolist()):
        i = bisect_left(xs, x)  # xs[:i] < x <= xs[i:]
        # Weakly dominated: by the front's last point left of x (the lowest y there), or by
        # a point at the same x that is no worse.
        if (i and ys[i - 1] <= y) or (i < len(xs) and xs[i] == x and ys[i] <= y):
            continue
        j = i  # xs[i:j] are no better in either objective: dominated by the new point
        while j < len(xs) and ys[j] >= y:
            j += 1
        left = [(xs[i - 1], ys[i - 1])] if i else []
        right = [(xs[j], ys[j])] if j < len(xs) else []
        # Only the strip between the neighbours changes: measure it before and after.
        before = [*left, *zip(xs[i:j], ys[i:j], strict=True), *right]
        total += measure([*left, (x, y), *right], ref=reference)
        if before:
            total -= measure(before, ref=reference)
        xs[i:j] = [x]
        ys[i:j] = [y]
        positions[i:j] = [position]
        changed_at.append(position)
        totals.append(total)
    return changed_at, totals, positions


def _grow_any(points: np.ndarray, reference: np.ndarray) -> tuple[list[int], list[float], list[int]]:
    """As `_grow_2d` for any number of objectives: the front kept as an array, its hypervolume
    measured again by the library whenever it changes."""
    import moocore

    front = np.empty((0, points.shape[1]))
    positions = np.empty(0, dtype=int)
    changed_at: list[int] = []
    totals: list[float] = []
    for position, point in enumerate(points):
        if np.any(np.all(front <= point, axis=1)):
            continue
        kept = ~np.all(front >= point, axis=1)
        front = np.vstack([front[kept], point])
        positions = np.append(positions[kept], position)
        changed_at.append(position)
        totals.append(float(moocore.hypervolume(front, ref=reference)))
    return changed_at, totals, positions.tolist()
