"""Runs of multi-objective benchmarks (issue 32): scalarized single-objective methods, and the
bad input only a run reveals (a script that never reports an objective, a reference point that
no result is inside), each one `Error:` line, exit 2, with what was written kept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from user_benchmark import MULTI_OBJECTIVE_DEFINITION, write_benchmark

from hpobench.results import layout

SHORT = ("--max-num-evaluations", "3", "--max-wallclock-time", "20", "--random-seed", "1")


@pytest.fixture
def mo_definition(tmp_path: Path) -> Path:
    return write_benchmark(tmp_path / "mo", definition=MULTI_OBJECTIVE_DEFINITION)


def _run(invoke, definition: Path, root: Path, *args: str):
    return invoke("run-local", "--benchmark", str(definition), "--results-root", str(root), *SHORT, *args)


def _tuner_dir(root: Path, tag: str, run: str) -> Path:
    (tuner_dir,) = layout.tuner_dirs(root / tag / run)
    return tuner_dir


def test_a_single_objective_method_is_refused_without_a_scalarization(invoke):
    result = invoke("run-local", "--benchmark", "gbt_breast_cancer_mo", "--method", "RS")
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert line.startswith("Error: RS is single-objective") and "\n" not in line
    assert "--scalarization weighted:0.5,0.5" in line and "MO-RS, MOASHA" in line


@pytest.mark.parametrize(
    "benchmark,scalarization,expected",
    [
        ("gbt_breast_cancer_mo", "weighted:1", "1 weights for 2 objectives"),
        ("gbt_breast_cancer_mo", "weighted:-1,2", "non-negative"),
        ("gbt_breast_cancer_mo", "chebyshev:1,1", "unknown scalarization"),
        ("gbt_breast_cancer", "weighted:1", "nothing to scalarize; remove --scalarization"),
    ],
)
def test_a_bad_scalarization_is_one_line(invoke, benchmark, scalarization, expected):
    result = invoke("run-local", "--benchmark", benchmark, "--method", "RS", "--scalarization", scalarization)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and expected in result.output
    assert result.output.count("\n") == 1


def test_a_scalarized_run_tunes_the_weighted_sum_and_a_tag_keeps_one_scalarization(invoke, mo_definition, tmp_path):
    root = tmp_path / "results"
    result = _run(
        invoke, mo_definition, root, "--experiment-tag", "s", "--method", "RS", "--scalarization", "weighted:0.25,0.75"
    )
    assert result.exit_code == 0, result.output
    tuner_dir = _tuner_dir(root, "s", "RS-0")
    results = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
    # normalization "none": the weighted sum of the objectives in their own units.
    expected = 0.25 * results["loss"] + 0.75 * results["hpobench_train_time"]
    assert len(results) >= 3 and (results["hpobench_scalarized"] - expected).abs().max() < 1e-12
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["scalarization"] == "weighted:0.25,0.75"
    assert metadata["metric_names"] == ["hpobench_scalarized"]  # what RS tuned
    assert "--scalarization weighted:0.25,0.75" in metadata["reproduce_command"]

    mixed = _run(invoke, mo_definition, root, "--experiment-tag", "s", "--method", "MO-RS")
    assert mixed.exit_code == 2, mixed.output
    assert "scalarization='weighted:0.25,0.75', not None" in mixed.output


def test_a_script_that_never_reports_an_objective_stops_its_run(invoke, tmp_path):
    definition = MULTI_OBJECTIVE_DEFINITION.replace(
        'metric = "hpobench_train_time"\nmode = "min"', 'metric = "accuracy"\nmode = "max"'
    )
    path = write_benchmark(tmp_path / "bad", definition=definition)
    root = tmp_path / "results"
    result = _run(invoke, path, root, "--experiment-tag", "m", "--method", "MO-RS")
    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "reported loss but not accuracy, an objective of benchmark 'quadratic'" in line
    assert "make its script report accuracy" in line
    metadata = layout.read_metadata(_tuner_dir(root, "m", "MO-RS-0"))
    assert metadata["hpobench_status"] == "failed" and "accuracy" in metadata["hpobench_error"]


def test_a_reference_point_no_result_is_inside_is_reported_and_the_results_kept(invoke, tmp_path):
    definition = MULTI_OBJECTIVE_DEFINITION.replace("reference_point = [1.0, 30.0]", "reference_point = [1e-6, 30.0]")
    path = write_benchmark(tmp_path / "ref", definition=definition)
    root = tmp_path / "results"
    result = _run(invoke, path, root, "--experiment-tag", "r", "--method", "MO-RS")
    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "no result of MO-RS-0 is better than benchmark 'quadratic'" in line and "(1e-06, 30)" in line
    assert "move the reference point" in line
    tuner_dir = _tuner_dir(root, "r", "MO-RS-0")
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "complete"
    assert len(pd.read_csv(tuner_dir / layout.RESULTS_FILE)) >= 3
