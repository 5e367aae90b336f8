"""`hpobench plot`: files in the asked format whose lines carry the aggregated numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from results_data import REAL_METHODS, REAL_TAG, TOY_TAG, write_run

from hpobench.results.aggregate import summarize
from hpobench.results.load import load_experiment
from hpobench.results.plot import anytime_figure, learning_curves_figure

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@pytest.mark.parametrize("kind", ["png", "svg", "pdf"])
def test_plot_file_format_follows_extension(invoke, toy_root, tmp_path, kind):
    out = tmp_path / "plots" / f"anytime.{kind}"
    result = invoke("plot", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    data = out.read_bytes()
    assert len(data) > 5000  # a drawn figure, not an empty file
    if kind == "svg":
        assert b"<svg" in data[:1000] and b"RS (2 seeds)" in data  # legend text kept as text
    else:
        assert data.startswith(MAGIC[kind])


def test_lines_carry_the_hand_computed_means(toy_root):
    (summary,) = summarize(load_experiment(toy_root, TOY_TAG), grid_points=5)
    figure = anytime_figure([summary])
    (ax,) = figure.axes
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert set(lines) == {"RS", "BO"}
    np.testing.assert_array_equal(lines["RS"].get_xdata(), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(lines["RS"].get_ydata(), [math.nan, math.nan, 3.5, 3.5, 2.5])
    np.testing.assert_array_equal(lines["BO"].get_ydata(), [math.nan, 4.5, 4.5, 2.0, 1.75])
    assert ax.get_title() == "toy: mean of 2 seed(s) per method"
    assert ax.get_xlabel() == "wall-clock time (s)"
    assert ax.get_ylabel() == "best loss so far (min: lower is better)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RS (2 seeds)", "BO (2 seeds)"]
    # The stderr band spans mean +- stderr: RS at t=4 is 2.5 +- 0.5.
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(2.0) and band[:, 1].max() == pytest.approx(4.0)


def test_log_axes(toy_root):
    summaries = summarize(load_experiment(toy_root, TOY_TAG), grid_points=3, log_grid=True)
    (ax,) = anytime_figure(summaries, log_time=True, log_metric=True).axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    # Log-spaced times from the first result (BO seed 0 at 0.5 s) to the last (4 s).
    rs = next(line for line in ax.get_lines() if line.get_gid() == "RS")
    np.testing.assert_allclose(rs.get_xdata(), [0.5, math.sqrt(2), 4.0])
    np.testing.assert_array_equal(rs.get_ydata(), [math.nan, math.nan, 2.5])


def test_bad_extension_and_missing_run_are_one_line(invoke, toy_root, tmp_path):
    result = invoke("plot", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root), "-o", str(tmp_path / "a.jpg"))
    assert result.exit_code == 2
    assert result.output.startswith("Error: Cannot write a plot to 'a.jpg'") and ".png, .svg or .pdf" in result.output
    result = invoke(
        "plot",
        "--experiment-tag",
        TOY_TAG,
        "--results-root",
        str(toy_root),
        "-o",
        str(tmp_path / "a.png"),
        "--per-trial",
    )
    assert result.exit_code == 2 and "give --method and --seed" in result.output
    result = invoke(
        "plot",
        "--experiment-tag",
        TOY_TAG,
        "--results-root",
        str(toy_root),
        "-o",
        str(tmp_path / "a.png"),
        *"--per-trial --method BO --seed 9".split(),
    )
    assert result.exit_code == 2 and "No run BO-9" in result.output
    write_run(toy_root, "BO", 3, None, status="running", results="empty")
    result = invoke(
        "plot",
        "--experiment-tag",
        TOY_TAG,
        "--results-root",
        str(toy_root),
        "-o",
        str(tmp_path / "a.png"),
        *"--per-trial --method BO --seed 3".split(),
    )
    assert result.exit_code == 2 and "Run BO-3 has no learning curves to plot" in result.output
    assert not (tmp_path / "a.png").exists()


@pytest.mark.xdist_group("real_root")  # one worker makes the session's real runs once
def test_plot_of_real_runs_matches_results_json(invoke, real_root, tmp_path):
    out = tmp_path / "real.png"
    result = invoke(
        "plot", "--experiment-tag", REAL_TAG, "--results-root", str(real_root), "-o", str(out), "--log-time"
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(MAGIC["png"])
    numbers = invoke("results", "--experiment-tag", REAL_TAG, "--results-root", str(real_root), "--format", "json")
    (bench,) = json.loads(numbers.output)["benchmarks"]
    figure = anytime_figure(summarize(load_experiment(real_root, REAL_TAG)))
    (ax,) = figure.axes
    assert ax.get_title() == "mlp_digits: mean of 2 seed(s) per method"
    assert ax.get_ylabel() == "best val_accuracy so far (max: higher is better)"
    for line in ax.get_lines():
        method = line.get_gid()
        assert method in REAL_METHODS
        expected = [math.nan if v is None else v for v in bench["methods"][method]["mean"]]
        np.testing.assert_allclose(line.get_xdata(), bench["time"])
        np.testing.assert_allclose(line.get_ydata(), expected)


@pytest.mark.xdist_group("real_root")  # one worker makes the session's real runs once
def test_per_trial_learning_curves_of_a_real_run(invoke, real_root, tmp_path):
    out = tmp_path / "trials.svg"
    result = invoke(
        "plot",
        "--experiment-tag",
        REAL_TAG,
        "--results-root",
        str(real_root),
        "-o",
        str(out),
        *"--per-trial --method ASHA --seed 0".split(),
    )
    assert result.exit_code == 0, result.output
    assert b"<svg" in out.read_bytes()[:1000]
    (zip_path,) = (real_root / REAL_TAG / "ASHA-0").glob("*/results.csv.zip")
    frame = pd.read_csv(zip_path)
    run = next(r for r in load_experiment(real_root, REAL_TAG).runs if r.name == "ASHA-0")
    (ax,) = learning_curves_figure(run).axes
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert set(lines) == {f"trial-{t}" for t in frame["trial_id"].unique()}
    for trial_id, trial in frame.groupby("trial_id"):
        trial = trial.sort_values("epoch")
        np.testing.assert_allclose(lines[f"trial-{trial_id}"].get_xdata(), trial["epoch"])
        np.testing.assert_allclose(lines[f"trial-{trial_id}"].get_ydata(), trial["val_accuracy"])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "val_accuracy (max: higher is better)"


def test_plot_of_an_experiment_without_runs_is_one_line(invoke, tmp_path):
    (tmp_path / "results" / "empty").mkdir(parents=True)
    result = invoke(
        "plot",
        "--results-root",
        str(tmp_path / "results"),
        *"--experiment-tag empty -o".split(),
        str(tmp_path / "out.png"),
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: Experiment 'empty' has no runs to plot yet")
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("command", ["status", "results", "plot"])
def test_metadata_with_wrong_types_is_a_note_not_a_crash(invoke, toy_root, tmp_path, command):
    metadata_file = next((toy_root / TOY_TAG / "BO-1").glob("*/metadata.json"))
    metadata = json.loads(metadata_file.read_text())
    metadata.update(metric=7, resource_attr=[1], mode={"x": 1}, max_wallclock_time="soon")
    metadata_file.write_text(json.dumps(metadata))
    extra = ["-o", str(tmp_path / "out.png")] if command == "plot" else ["--format", "csv"]
    result = invoke(command, "--results-root", str(toy_root), "--experiment-tag", TOY_TAG, *extra)
    assert result.exit_code == 0, result.output
    if command == "status":
        assert "metadata.json: metric 7 is not a column name" in result.output
