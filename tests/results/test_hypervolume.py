"""Hypervolumes and fronts: known fronts by hand and against moocore; the incremental values over
time against a recomputation from scratch at every row."""

from __future__ import annotations

import math

import moocore
import numpy as np
import pytest

from hpobench.benchmarks import get_benchmark
from hpobench.benchmarks.objectives import Hypervolume, Objective
from hpobench.results.hypervolume import (
    ObjectiveSpace,
    hypervolume,
    hypervolume_over_time,
    nondominated,
    objective_values,
    over_time,
)


def _space(modes: str, reference, ideal=None) -> ObjectiveSpace:
    objectives = [Objective(metric=f"m{i}", mode=mode) for i, mode in enumerate(modes.split())]
    normalization = "none" if ideal is None else "bounds"
    return ObjectiveSpace.of(
        objectives, Hypervolume(reference_point=tuple(reference), normalization=normalization, ideal_point=ideal)
    )


@pytest.mark.parametrize(
    "modes, points, reference, expected",
    [
        # A staircase: strips of width 1 and heights 1, 2, 3.
        ("min min", [[1, 3], [2, 2], [3, 1]], [4, 4], 6.0),
        # A dominated point and one beyond the reference point add nothing.
        ("min min", [[1, 3], [2, 2], [3, 1], [3, 3], [5, 0]], [4, 4], 6.0),
        # Maximized: the same staircase mirrored.
        ("max max", [[-1, -3], [-2, -2], [-3, -1]], [-4, -4], 6.0),
        ("min max", [[1, -3], [2, -2], [3, -1]], [4, -4], 6.0),
        # A point on the reference point's boundary counts zero.
        ("min min", [[4, 1]], [4, 4], 0.0),
        # One box, 1 x 2 x 3.
        ("min min min", [[1, 1, 1]], [2, 3, 4], 6.0),
        # Two boxes of 0.5 that overlap in 0.25.
        ("min min min", [[0, 0, 0.5], [0, 0.5, 0]], [1, 1, 1], 0.75),
        ("max min max", [[0, 0, -0.5], [0, 0.5, 0]], [-1, 1, -1], 0.75),
    ],
)
def test_hand_checked_fronts(modes, points, reference, expected):
    space = _space(modes, reference)
    assert hypervolume(points, space) == pytest.approx(expected, abs=1e-12)
    maximise = [mode == "max" for mode in modes.split()]
    assert hypervolume(points, space) == pytest.approx(
        moocore.hypervolume(np.asarray(points, float), ref=reference, maximise=maximise), abs=1e-9
    )


@pytest.mark.parametrize("dimensions", [2, 3, 4])
def test_random_fronts_equal_the_library_with_its_own_maximise(dimensions: int):
    rng = np.random.default_rng(dimensions)
    for _ in range(20):
        modes = rng.choice(["min", "max"], size=dimensions)
        maximise = modes == "max"
        points = rng.uniform(-1.0, 1.0, size=(int(rng.integers(1, 60)), dimensions))
        reference = np.where(maximise, -0.8, 0.8)
        space = _space(" ".join(modes), reference)
        expected = moocore.hypervolume(points, ref=reference, maximise=maximise.tolist())
        assert abs(hypervolume(points, space) - expected) <= 1e-9


def test_bounds_normalization_maps_ideal_to_zero_and_reference_to_one():
    space = _space("min max", reference=[10.0, 0.0], ideal=(2.0, 4.0))
    assert space.reference == (1.0, 1.0)
    assert np.allclose(space.transform([[2.0, 4.0], [10.0, 0.0], [6.0, 2.0]]), [[0, 0], [1, 1], [0.5, 0.5]])
    # The ideal point dominates the whole box; in units it is 8 x 4.
    assert hypervolume([[2.0, 4.0]], space) == pytest.approx(1.0)
    points = np.random.default_rng(1).uniform([2, 0], [10, 4], size=(40, 2))
    raw = moocore.hypervolume(points, ref=[10.0, 0.0], maximise=[False, True])
    assert hypervolume(points, space) == pytest.approx(raw / 32.0, rel=1e-12)


def test_gbt_breast_cancer_mo_measures_in_its_normalized_space():
    space = ObjectiveSpace.for_benchmark(get_benchmark("gbt_breast_cancer_mo"))
    assert space.reference == (1.0, 1.0)
    assert hypervolume([[0.35, 1.5]], space) == pytest.approx(0.5 * 0.5)  # half of (0.7, 3.0) each
    with pytest.raises(ValueError, match="has one objective"):
        ObjectiveSpace.for_benchmark(get_benchmark("gbt_breast_cancer"))


def test_nondominated_is_the_front_of_the_results():
    space = _space("min max", [10, -10])
    values = [[1, 5], [2, 6], [2, 6], [3, 1], [0.5, 0], [np.nan, 9]]
    assert nondominated(values, space).tolist() == [True, True, False, False, True, False]


def _recomputed(points: np.ndarray, space: ObjectiveSpace) -> np.ndarray:
    """The hypervolume of rows 0..k, by the library on all of them, for every k."""
    maximise = [sign < 0 for sign in space.signs]
    reference = np.asarray(space.signs) * (np.asarray(space.reference) * space.scale + space.origin)
    out = []
    for k in range(1, len(points) + 1):
        rows = points[:k]
        keep = np.all(np.where(maximise, rows > reference, rows < reference), axis=1)
        out.append(moocore.hypervolume(rows[keep], ref=reference, maximise=maximise) if keep.any() else 0.0)
    return np.asarray(out) / math.prod(space.scale)


def _study(rng: np.random.Generator, rows: int, dimensions: int) -> np.ndarray:
    """Noisy values on a coarse grid (ties in each objective, repeated rows), some beyond the
    reference point, some on its boundary, some missing."""
    points = np.round(rng.uniform(0.0, 1.2, size=(rows, dimensions)) * 8) / 8
    repeats = rng.integers(0, rows, size=rows // 5)
    points[repeats] = points[rng.integers(0, rows, size=len(repeats))]
    points[rng.integers(0, rows, size=rows // 20), rng.integers(0, dimensions)] = 1.0  # on the boundary
    points[rng.integers(0, rows, size=rows // 30), 0] = np.nan
    return points


@pytest.mark.parametrize("modes", ["min min", "max min", "min min min", "min max min"])
@pytest.mark.parametrize("normalized", [False, True])
def test_over_time_equals_a_recomputation_at_every_row(modes: str, normalized: bool):
    dimensions = len(modes.split())
    rng = np.random.default_rng(dimensions + 7 * normalized)
    maximise = np.array([mode == "max" for mode in modes.split()])
    signs = np.where(maximise, -1.0, 1.0)
    for _ in range(8):
        points = _study(rng, 300, dimensions) * signs  # a maximized objective's values are negated
        space = _space(modes, signs * 1.0, ideal=tuple(signs * -0.1) if normalized else None)
        result = over_time(points, space)
        curve = result.hypervolume
        expected = _recomputed(points, space)
        # The front it kept is the library's front of the rows that count.
        counted = np.flatnonzero(np.all(space.transform(points) < space.reference, axis=1))
        on_front = moocore.is_nondominated(space.transform(points[counted]), keep_weakly=False)
        assert result.front.tolist() == counted[on_front].tolist()
        assert np.allclose(curve, expected, rtol=1e-9, atol=1e-12), np.flatnonzero(~np.isclose(curve, expected))
        assert np.all(np.diff(curve) >= -1e-12)  # a hypervolume never shrinks
        assert curve[-1] == pytest.approx(hypervolume(points, space), rel=1e-9)


def test_over_time_on_a_long_front_of_trade_offs():
    """Every row on the front (loss falls as time grows, as in one long trial), then rows that
    each dominate a run of earlier ones."""
    space = _space("min min", [1.0, 1.0])
    time = np.linspace(0.0, 0.99, 2000)
    points = np.column_stack([1.0 - time, time])[np.random.default_rng(3).permutation(2000)]
    points = np.vstack([points, [[0.5, 0.2], [0.3, 0.3], [0.01, 0.01]]])
    curve = hypervolume_over_time(points, space)
    assert np.allclose(curve, _recomputed(points, space), rtol=1e-9, atol=1e-12)
    assert 0.99 * 0.99 < curve[-1] < 0.99 * 0.99 + 0.01  # the last box, and slivers of the long front


def test_rows_that_never_count_give_zero():
    space = _space("min min", [1.0, 1.0])
    assert hypervolume_over_time([[1.0, 0.5], [2.0, 0.0], [np.nan, 0.1]], space).tolist() == [0.0, 0.0, 0.0]
    assert hypervolume_over_time(np.empty((0, 2)), space).shape == (0,)
    assert hypervolume([[1.0, 0.5]], space) == 0.0
    with pytest.raises(ValueError, match="rows of 2 objective values"):
        hypervolume_over_time([[0.1, 0.2, 0.3]], space)


def test_a_runs_results_give_each_objective_from_its_column():
    import pandas as pd

    definition = get_benchmark("gbt_breast_cancer_mo")
    frame = pd.DataFrame(
        {"trial_id": [0, 0, 1], "round": [1, 2, 1], "val_log_loss": [0.6, 0.5, 0.4], "st_worker_time": [0.1, 0.2, 0.3]}
    )
    values = objective_values(frame, definition.objectives)
    assert values.tolist() == [[0.6, 0.1], [0.5, 0.2], [0.4, 0.3]]  # hpobench_train_time is Syne Tune's worker time
    with pytest.raises(ValueError, match=r"no values of hpobench_train_time \(from st_worker_time\)"):
        objective_values(frame.drop(columns="st_worker_time"), definition.objectives)
