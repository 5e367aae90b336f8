"""`results`, `plot` and `report` on multi-objective benchmarks: hypervolume over time, Pareto
fronts, median attainment surfaces and normalized hypervolume regret, against a hand-computed
two-method study (tests/results_data.py, MO_ROWS) and a synthetic study whose answer is known."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from results_data import MO_FINAL, MO_TAG, write_mo_experiment, write_mo_run
from synthetic_study import write_study

from hpobench.benchmarks.objectives import Hypervolume, Objective
from hpobench.results.aggregate import summarize
from hpobench.results.hypervolume import ObjectiveSpace, median_attainment
from hpobench.results.load import load_experiment
from hpobench.results.statistics import analyse
from hpobench.results.study import load_study

MO_TAGS = {"bench_a": "mo-a", "bench_b": "mo-b"}


@pytest.fixture
def mo_root(tmp_path: Path) -> Path:
    return write_mo_experiment(tmp_path / "mo-results")


def _summary(root: Path, target=None):
    (summary,) = summarize(load_experiment(root, MO_TAG), target)
    return summary, {item.method: item for item in summary.methods}


def test_a_run_reads_as_its_hypervolume_after_each_result_and_its_final_front(mo_root):
    runs = {(r.method, r.seed): r for r in load_experiment(mo_root, MO_TAG).runs}
    assert {r.metric for r in runs.values()} == {"hypervolume"} and {r.mode for r in runs.values()} == {"max"}
    values = {key: run.frame.value.tolist() for key, run in runs.items()}
    assert values == {
        ("MO-RS", 0): [3.0, 5.0, 6.0, 6.0],  # the last result lies beyond the reference point
        ("MO-RS", 1): [2.0, 2.0],  # dominated: nothing changes
        ("MOASHA", 0): [9.0],
        # Its results record hpobench_train_time themselves: that column is used, not st_worker_time
        # (100 s more there, beyond the reference point).
        ("MOASHA", 1): [2.0, 3.0],
    }
    assert {key: run.best for key, run in runs.items()} == MO_FINAL
    fronts = {key: run.frame.front.tolist() for key, run in runs.items()}
    assert fronts == {("MO-RS", 0): [0, 1, 2], ("MO-RS", 1): [0], ("MOASHA", 0): [0], ("MOASHA", 1): [0, 1]}
    np.testing.assert_array_equal(runs["MOASHA", 1].frame.objectives, [[3.0, 2.0], [2.0, 3.0]])


def test_results_give_final_hypervolume_front_size_and_the_hypervolume_target(mo_root):
    summary, methods = _summary(mo_root)
    assert summary.multi_objective and (summary.metric, summary.mode) == ("hypervolume", "max")
    rs, asha = methods["MO-RS"], methods["MOASHA"]
    assert (rs.final_best_mean, rs.final_best_stderr, rs.final_best_median) == (4.0, pytest.approx(2.0), 4.0)
    assert (asha.final_best_mean, asha.final_best_stderr) == (6.0, pytest.approx(3.0))
    assert (rs.front_size_mean, rs.front_size_stderr) == (2.0, pytest.approx(1.0))
    assert (asha.front_size_mean, asha.front_size_stderr) == (1.5, pytest.approx(0.5))
    # The target is MO-RS's mean final hypervolume, 4: MO-RS seed 0 reaches it at t=2 (5),
    # MOASHA seed 0 at t=0.5 (9); the seeds 1 never do.
    assert (summary.target, summary.target_source) == (4.0, "MO-RS mean final hypervolume")
    assert (rs.target_reached, asha.target_reached) == (1, 1)
    # A target of 2: MO-RS at t=1 and t=1, MOASHA at t=0.5 and t=1.
    _, methods = _summary(mo_root, target=2.0)
    assert methods["MO-RS"].time_to_target_median == 1.0 and methods["MOASHA"].time_to_target_median == 0.75


@pytest.mark.parametrize("output_format", ["table", "markdown", "csv", "json"])
def test_every_results_format_shows_hypervolume_front_size_and_reference_point(invoke, mo_root, output_format):
    result = invoke("results", "--experiment-tag", MO_TAG, "--results-root", str(mo_root), "--format", output_format)
    assert result.exit_code == 0, result.output
    text = result.output
    if output_format == "json":
        data = json.loads(text)
        rows = {r["method"]: r for r in data["summary"]}
        assert (rows["MO-RS"]["final_best_mean"], rows["MOASHA"]["front_size_mean"]) == (4.0, 1.5)
        (bench,) = data["benchmarks"]
        assert bench["hypervolume"]["reference_point"] == [4.0, 4.0] and bench["hypervolume"]["normalization"] == "none"
        assert [o["metric"] for o in bench["objectives"]] == ["loss", "hpobench_train_time"]
        assert "hypervolume of every result it reported so far" in data["rule"]
        return
    if output_format == "csv":
        rows = {r["method"]: r for r in csv.DictReader(io.StringIO(text))}
        assert rows["MO-RS"]["final_best_mean"] == "4.0" and rows["MO-RS"]["front_size_mean"] == "2.0"
        assert rows["MOASHA"]["front_size_stderr"] == "0.5" and rows["MOASHA"]["reference_point"] == "4, 4"
        assert rows["MOASHA"]["objectives"] == "loss (min), hpobench_train_time (min)"
        assert rows["MOASHA"]["normalization"] == "none"
        return
    assert "reference point (4, 4); not normalized" in text and "loss (min), hpobench_train_time (min)" in text
    assert "Target: 4 (MO-RS mean final hypervolume)" in text
    if output_format == "table":
        assert "Pareto front size" in text and "4 ± 2" in text and "6 ± 3" in text and "1.5 ± 0.5" in text
    else:
        assert "| toy_mo | hypervolume | max | MO-RS | 2 |  | 4 | 2 | 4 |" in text
        assert text.splitlines()[6].endswith("| front_size_mean | front_size_stderr |")


def test_a_single_objective_experiment_keeps_its_columns(invoke, toy_root):
    result = invoke("results", "--experiment-tag", "toy", "--results-root", str(toy_root), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "front_size_mean" not in result.output and "hypervolume" not in result.output


def test_bounds_normalization_is_applied_and_stated(invoke, tmp_path):
    # Reference (4, 4) from ideal (0, 0): each axis divided by 4, so MOASHA seed 0's 9 is 9/16.
    hypervolume = {"reference_point": [4.0, 4.0], "normalization": "bounds", "ideal_point": [0.0, 0.0]}
    write_mo_run(tmp_path, "MOASHA", 0, [(0, 0.5, 1.0, 1.0, 1)], hypervolume=hypervolume)
    (run,) = load_experiment(tmp_path, MO_TAG).runs
    assert run.best == pytest.approx(9 / 16)
    result = invoke("results", "--experiment-tag", MO_TAG, "--results-root", str(tmp_path), "--format", "markdown")
    assert "normalized (bounds): each objective mapped so that the ideal point (0, 0) is 0" in result.output


def test_a_run_without_the_objectives_or_inside_nothing_is_a_note_not_a_crash(invoke, tmp_path):
    write_mo_run(tmp_path, "MO-RS", 0, [(0, 1.0, 9.0, 9.0, 1)])  # beyond the reference point
    tuner = write_mo_run(tmp_path, "MO-RS", 1, [(0, 1.0, 1.0, 1.0, 1)])
    from results_data import write_results

    write_results(tuner, "trial_id,st_tuner_time,loss,epoch\n0,1.0,1.0,1\n")  # no training time at all
    runs = {r.seed: r for r in load_experiment(tmp_path, MO_TAG).runs}
    assert runs[0].best == 0.0
    assert "no result is better than the reference point (4.0, 4.0) in every objective" in runs[0].problems[0]
    assert runs[1].frame is None
    assert "lacks column(s) hpobench_train_time (or st_worker_time)" in runs[1].problems[0]
    result = invoke("status", "--experiment-tag", MO_TAG, "--results-root", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output


def test_bad_objectives_in_metadata_are_a_problem_not_a_crash(tmp_path):
    tuner = write_mo_run(tmp_path, "MO-RS", 0, [(0, 1.0, 1.0, 1.0, 1)])
    metadata = json.loads((tuner / "metadata.json").read_text())
    metadata["benchmark_definition"]["objectives"][1]["mode"] = "sideways"
    (tuner / "metadata.json").write_text(json.dumps(metadata))
    (run,) = load_experiment(tmp_path, MO_TAG).runs
    assert not run.multi_objective and run.metric == "loss"  # read as the one objective it names
    assert any("benchmark_definition.objectives[1] does not read (mode: Input should be" in p for p in run.problems)


# ---------------------------------------------------------------- fronts and attainment


def test_the_median_attainment_surface_is_what_half_the_runs_attain():
    space = ObjectiveSpace.of(
        (Objective(metric="accuracy", mode="max"), Objective(metric="hpobench_train_time", mode="min")),
        Hypervolume(reference_point=(0.1, 40.0), normalization="bounds", ideal_point=(1.0, 0.0)),
    )
    a, b = np.array([[0.9, 10.0], [0.5, 2.0]]), np.array([[0.8, 5.0]])
    beyond = np.array([[0.05, 1.0]])  # accuracy below the reference: attains nothing
    # Two runs: half is one, so the surface is their joint front.
    np.testing.assert_allclose(median_attainment([a, b], space), [[0.9, 10.0], [0.8, 5.0], [0.5, 2.0]])
    # Three runs: two must attain a point; the empty run counts.
    np.testing.assert_allclose(median_attainment([a, b, beyond], space), [[0.8, 10.0], [0.5, 5.0]])
    assert median_attainment([beyond, beyond, a], space).shape == (0, 2)


def test_plot_writes_hypervolume_over_time_and_the_fronts(invoke, mo_root, tmp_path):
    out = tmp_path / "plots" / "mo.svg"
    result = invoke("plot", "--experiment-tag", MO_TAG, "--results-root", str(mo_root), "-o", str(out))
    assert result.exit_code == 0, result.output
    fronts = tmp_path / "plots" / "mo-fronts.svg"
    assert f"Wrote {out}" in result.output and f"Wrote {fronts}" in result.output
    assert b"hypervolume so far" in out.read_bytes()
    assert b"MO-RS (median of 2 seeds)" in fronts.read_bytes() and b"reference point" in fronts.read_bytes()


def test_the_fronts_figure_draws_each_methods_median_surface(mo_root):
    from hpobench.results.plot import anytime_figure, fronts_figure

    experiment = load_experiment(mo_root, MO_TAG)
    summaries = summarize(experiment, grid_points=5)
    (ax,) = anytime_figure(summaries).axes
    assert ax.get_ylabel() == "hypervolume so far (higher is better)"
    np.testing.assert_array_equal(
        next(line for line in ax.get_lines() if line.get_gid() == "MOASHA").get_ydata()[-1], 6
    )
    (ax,) = fronts_figure(experiment.runs, summaries).axes
    lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    # MO-RS: seed 0's front (1, 3), (2, 2), (3, 1) holds seed 1's (2, 3): the surface of one of
    # two seeds is their joint front, a staircase from the reference point's time to its loss.
    steps = np.column_stack([lines["MO-RS"].get_xdata(), lines["MO-RS"].get_ydata()])
    np.testing.assert_array_equal(steps, [[1, 4], [1, 3], [2, 3], [2, 2], [3, 2], [3, 1], [4, 1]])
    steps = np.column_stack([lines["MOASHA"].get_xdata(), lines["MOASHA"].get_ydata()])
    np.testing.assert_array_equal(steps, [[1, 4], [1, 1], [4, 1]])
    assert ax.get_xlabel() == "loss (min: lower is better)"
    assert ax.get_ylabel() == "hpobench_train_time (min: lower is better)"


def test_per_trial_curves_of_a_multi_objective_run_show_its_first_objective(mo_root):
    from hpobench.results.plot import learning_curves_figure

    run = next(r for r in load_experiment(mo_root, MO_TAG).runs if (r.method, r.seed) == ("MO-RS", 0))
    (ax,) = learning_curves_figure(run).axes
    assert ax.get_ylabel() == "loss (min: lower is better)"
    assert sorted(float(line.get_ydata()[0]) for line in ax.get_lines()) == [1.0, 2.0, 3.0, 5.0]


# ---------------------------------------------------------------- report


def test_report_compares_on_normalized_hypervolume_regret(mo_root, invoke, tmp_path):
    stats = analyse(load_study(mo_root, [MO_TAG]))
    (result,) = stats.benchmarks
    assert (result.best, result.anchor) == (9.0, 0.0)  # HV* = the best final hypervolume; anchor 0
    # (HV* - HV) / HV* per (benchmark, seed) block: MO-RS 3/9 and 7/9, MOASHA 0 and 6/9.
    np.testing.assert_allclose(stats.cross.final_regret["MO-RS"], [3 / 9, 7 / 9])
    np.testing.assert_allclose(stats.cross.final_regret["MOASHA"], [0.0, 6 / 9])
    assert stats.cross.final_rank == {"MO-RS": 2.0, "MOASHA": 1.0}
    assert "(HV* - HV) / HV*" in stats.definitions["hypervolume"]
    assert result.speedup["MO-RS"] == 1.0 and result.speedup_note.startswith("MO-RS's mean curve")
    out = tmp_path / "report"
    done = invoke("report", "--experiment-tag", MO_TAG, "--results-root", str(mo_root), "-o", str(out))
    assert done.exit_code == 0, done.output
    markdown = (out / "tables.md").read_text()
    assert "final hypervolume of loss (min), hpobench_train_time (min); reference point (4, 4)" in markdown
    assert "| Pareto front size mean ± s.e. |" in markdown and "| 2 ± 1 |" in markdown
    assert "speed-up over MO-RS" in markdown and "(HV* - HV) / HV*" in markdown
    assert {"critical_difference.svg", "aggregates.svg", "ranks.svg", "fronts.svg"} <= {p.name for p in out.iterdir()}
    assert "Median attainment surface per method" in (out / "index.html").read_text()
    data = json.loads((out / "report.json").read_text())
    assert data["benchmarks"][0]["hypervolume"]["reference_point"] == [4.0, 4.0]
    assert data["cross"]["final"]["MOASHA"]["mean_regret"] == pytest.approx(1 / 3)


def test_a_method_dominating_two_multi_objective_benchmarks_ranks_first_and_is_significant(tmp_path):
    write_study(tmp_path, MO_TAGS, {"MO-RS": 0.0, "GOOD": -1.0, "TWIN": 0.0}, seeds=20, multi_objective=True)
    stats = analyse(load_study(tmp_path, list(MO_TAGS.values())))
    cross = stats.cross
    assert min(cross.final_rank, key=cross.final_rank.get) == "GOOD"
    assert cross.test.name == "Friedman test" and cross.test.blocks == 40 and cross.test.significant
    assert cross.test.pairwise_p["GOOD"]["MO-RS"] < 0.05 and cross.test.pairwise_p["MO-RS"]["TWIN"] > 0.05
    assert cross.iqm["GOOD"].high[-1] < cross.iqm["MO-RS"].low[-1]  # intervals apart
    for result in stats.benchmarks:
        assert result.summary.multi_objective and result.anchor == 0.0
        assert result.speedup["MO-RS"] == 1.0 and result.speedup["GOOD"] > 1.0
