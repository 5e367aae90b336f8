"""`hpobench results`: statistics over seeds, checked by hand and on real runs."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from results_data import REAL_METHODS, REAL_SEEDS, REAL_TAG, TOY_TAG, write_run

from hpobench.results.aggregate import INCUMBENT_RULE, best_so_far, on_grid, ranks, summarize
from hpobench.results.load import load_experiment

NAN = math.nan


def _by_method(summary):
    return {item.method: item for item in summary.methods}


# ---------------------------------------------------------------- hand-computed example


def test_building_blocks_by_hand():
    assert best_so_far(np.array([5.0, 3.0, 4.0]), "min").tolist() == [5, 3, 3]
    assert best_so_far(np.array([0.1, 0.5, 0.3]), "max").tolist() == [0.1, 0.5, 0.5]
    curve = on_grid(np.array([1.0, 2.0]), np.array([5.0, 3.0]), np.array([0.0, 1.0, 1.5, 2.0, 9.0]))
    np.testing.assert_array_equal(curve, [NAN, 5, 5, 3, 3])
    # Ties share the mean rank; a method without a result yet ranks last.
    np.testing.assert_array_equal(ranks(np.array([1.0, 1.0, NAN, 0.5]), "min"), [2.5, 2.5, 4, 1])
    np.testing.assert_array_equal(ranks(np.array([1.0, 1.0, NAN, 0.5]), "max"), [1.5, 1.5, 4, 3])


def test_statistics_match_hand_computed_values(toy_root):
    (summary,) = summarize(load_experiment(toy_root, TOY_TAG), grid_points=5)
    assert (summary.benchmark, summary.metric, summary.mode) == ("toy", "loss", "min")
    np.testing.assert_array_equal(summary.grid, [0, 1, 2, 3, 4])
    rs, bo = _by_method(summary)["RS"], _by_method(summary)["BO"]
    assert rs.seeds == [0, 1] and rs.excluded == ["RS-2 (interrupted)"]
    # Final best: RS 3 and 2, BO 1 and 2.5.
    assert (rs.final_best_mean, rs.final_best_median) == (2.5, 2.5)
    assert rs.final_best_stderr == pytest.approx(0.5)  # std 0.7071 / sqrt(2)
    assert (bo.final_best_mean, bo.final_best_median) == (1.75, 1.75)
    assert bo.final_best_stderr == pytest.approx(0.75)
    # Mean of the per-seed best-so-far curves, NaN until every seed has a result.
    np.testing.assert_array_equal(rs.mean, [NAN, NAN, 3.5, 3.5, 2.5])
    np.testing.assert_array_equal(bo.mean, [NAN, 4.5, 4.5, 2.0, 1.75])
    np.testing.assert_allclose(rs.stderr[2:], [0.5, 0.5, 0.5])
    # Target = RS's mean final best 2.5: RS seed 1 reaches it at t=4, seed 0 never;
    # BO seed 0 at 2.5, seed 1 at 3.5.
    assert summary.target == 2.5 and summary.target_source == "RS mean final best"
    assert (rs.target_reached, rs.time_to_target_median, rs.time_to_target_mean) == (1, None, None)
    assert (bo.target_reached, bo.time_to_target_median, bo.time_to_target_mean) == (2, 3.0, 3.0)
    # Ranks per seed then averaged: RS 1.5, 1.5, 1.5, 2, 1.5; BO 1.5, 1.5, 1.5, 1, 1.5.
    np.testing.assert_array_equal(summary.ranks["RS"], [1.5, 1.5, 1.5, 2, 1.5])
    np.testing.assert_array_equal(summary.ranks["BO"], [1.5, 1.5, 1.5, 1, 1.5])
    assert rs.average_rank == pytest.approx(1.6) and bo.average_rank == pytest.approx(1.4)
    assert rs.final_rank == bo.final_rank == 1.5


def test_include_incomplete_uses_the_interrupted_seed(toy_root):
    (summary,) = summarize(load_experiment(toy_root, TOY_TAG), include_incomplete=True)
    rs = _by_method(summary)["RS"]
    assert rs.seeds == [0, 1, 2] and rs.excluded == []
    assert rs.final_best_mean == pytest.approx(5 / 3)
    assert summary.rank_seeds == [0, 1]  # ranks pair methods by seed: BO has no seed 2


def test_explicit_target(toy_root):
    (summary,) = summarize(load_experiment(toy_root, TOY_TAG), target=2.0)
    rs, bo = _by_method(summary)["RS"], _by_method(summary)["BO"]
    assert summary.target_source == "--target"
    assert (rs.target_reached, rs.time_to_target_median) == (1, None)
    assert (bo.target_reached, bo.time_to_target_median) == (1, None)


def test_cli_json_has_the_hand_computed_summary(invoke, toy_root):
    result = invoke("results", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["rule"] == INCUMBENT_RULE
    rows = {r["method"]: r for r in payload["summary"]}
    assert rows["RS"]["final_best_mean"] == 2.5 and rows["RS"]["seeds"] == 2
    assert rows["RS"]["excluded"] == "RS-2 (interrupted)"
    assert rows["BO"]["final_best_stderr"] == pytest.approx(0.75)
    assert rows["BO"]["time_to_target_median"] == 3.0 and rows["BO"]["target_reached"] == 2
    assert rows["RS"]["time_to_target_median"] is None and rows["RS"]["target_reached"] == 1
    (bench,) = payload["benchmarks"]
    assert len(bench["time"]) == 200 and bench["time"][-1] == 4.0
    assert bench["methods"]["BO"]["mean"][-1] == 1.75


def test_cli_table_states_rule_target_and_exclusions(invoke, toy_root):
    result = invoke("results", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root))
    assert result.exit_code == 0, result.output
    assert "toy: loss (min)" in result.output
    assert "Target: 2.5 (RS mean final best)" in result.output
    assert "RS-2 (interrupted)" in result.output
    flat = " ".join(result.output.split())  # Rich wraps long lines
    assert "Incumbent rule:" in flat and "not the running best of an average" in flat


def test_cli_csv_and_markdown_to_file(invoke, toy_root, tmp_path):
    out = tmp_path / "out" / "results.csv"
    result = invoke(
        "results", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root), "--format", "csv", "--output", str(out)
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["method"] for r in rows] == ["RS", "BO"]  # registry order
    assert float(rows[0]["final_best_mean"]) == 2.5 and rows[0]["time_to_target_median"] == ""
    md = tmp_path / "results.md"
    result = invoke(
        "results",
        "--experiment-tag",
        TOY_TAG,
        "--results-root",
        str(toy_root),
        *"--format markdown -o".split(),
        str(md),
        "--include-incomplete",
    )
    assert result.exit_code == 0, result.output
    text = md.read_text()
    assert "| benchmark | metric | mode | method |" in text
    assert "| toy | loss | min | RS | 3 |" in text and "Incumbent rule" in text


def test_cli_table_to_file_is_plain_text(invoke, toy_root, tmp_path):
    out = tmp_path / "results.txt"
    result = invoke("results", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "final best mean" in out.read_text() and "\x1b[" not in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--experiment-tag", "nope"], "No results for experiment tag 'nope'"),
        (["--experiment-tag", "Bad_Tag"], "Invalid --experiment-tag"),
        (["--experiment-tag", TOY_TAG, "--format", "xml"], "Invalid --format 'xml'"),
        (["--experiment-tag", TOY_TAG, "--target", "nan"], "Invalid --target nan: must be a finite"),
        (["--experiment-tag", f"{TOY_TAG}\n"], "Invalid --experiment-tag"),
    ],
)
def test_bad_input_is_one_line(invoke, toy_root, args, message):
    result = invoke("results", "--results-root", str(toy_root), *args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output


def test_no_rs_and_no_target_says_so(invoke, tmp_path):
    write_run(tmp_path, "BO", 0, [(0, 1.0, 2.0, 1)])
    result = invoke("results", "--experiment-tag", TOY_TAG, "--results-root", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "no RS results to set it; pass --target" in result.output


def test_broken_runs_are_excluded_not_fatal(invoke, toy_root):
    write_run(toy_root, "BO", 2, [(0, 1.0, 2.0, 1)], results="truncated")
    write_run(toy_root, "BO", 3, None, status="running", results="empty")
    write_run(toy_root, "BO", 4, [(0, 1.0, 2.0, 1)], status=None)
    result = invoke("results", "--experiment-tag", TOY_TAG, "--results-root", str(toy_root), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["method"]: r for r in json.loads(result.output)["summary"]}
    assert rows["BO"]["seeds"] == 2 and rows["BO"]["final_best_mean"] == 1.75
    assert rows["BO"]["excluded"] == "BO-2 (no results); BO-3 (running); BO-4 (no metadata)"


# ---------------------------------------------------------------- real runs


def _independent_finals(root: Path, method: str) -> list[float]:
    """Each seed's best val_accuracy, read straight from results.csv.zip with pandas."""
    finals = []
    for seed in REAL_SEEDS:
        (zip_path,) = (root / REAL_TAG / f"{method}-{seed}").glob("*/results.csv.zip")
        finals.append(float(pd.read_csv(zip_path)["val_accuracy"].max()))
    return finals


@pytest.mark.xdist_group("real_root")  # one worker makes the session's real runs once
def test_results_of_real_runs(invoke, real_root):
    result = invoke("results", "--experiment-tag", REAL_TAG, "--results-root", str(real_root), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    rows = {r["method"]: r for r in payload["summary"]}
    assert set(rows) == set(REAL_METHODS)
    for method in REAL_METHODS:
        finals = _independent_finals(real_root, method)
        row = rows[method]
        assert (row["benchmark"], row["metric"], row["mode"]) == ("mlp_digits", "val_accuracy", "max")
        assert row["seeds"] == 2 and row["excluded"] == ""
        assert row["final_best_mean"] == pytest.approx(np.mean(finals))
        assert row["final_best_stderr"] == pytest.approx(np.std(finals, ddof=1) / math.sqrt(2))
        assert row["avg_rank"] is not None and 1 <= row["avg_rank"] <= 2
    assert rows["RS"]["target"] == pytest.approx(np.mean(_independent_finals(real_root, "RS")))
    (bench,) = payload["benchmarks"]
    for method in REAL_METHODS:
        # The mean curve ends at the mean of the seeds' final best values.
        assert bench["methods"][method]["mean"][-1] == pytest.approx(rows[method]["final_best_mean"])
        ranks_curve = [r for r in bench["methods"][method]["rank"]]
        assert all(1 <= r <= 2 for r in ranks_curve)
    total = [a + b for a, b in zip(bench["methods"]["RS"]["rank"], bench["methods"]["ASHA"]["rank"], strict=True)]
    assert total == pytest.approx([3.0] * len(total))  # two methods: ranks sum to 1 + 2
