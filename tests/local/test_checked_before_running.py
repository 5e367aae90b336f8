"""Everything a study needs is checked before its first run, and a tag keeps one master seed
(issue 30, points 2 and 3)."""

from __future__ import annotations

import sys

from user_benchmark import DEFINITION, write_benchmark

from hpobench.results import layout
from hpobench.results.record import RunRecord

GBT = "--benchmark gbt_breast_cancer --set boosting_rounds=3 --max-num-evaluations 3 --max-wallclock-time 60".split()


def test_a_later_methods_missing_extra_stops_the_study_before_its_first_run(invoke, monkeypatch, results_root):
    """`--method RS --method DEHB` without dehb ran RS for all its seeds, then stopped."""
    monkeypatch.setitem(sys.modules, "dehb", None)  # as if not installed
    result = invoke("run-local", *GBT, *"--method RS --method DEHB --num-seeds 2 --experiment-tag later".split())
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [result.output.strip().splitlines()[-1]]
    assert errors[0].startswith("Error: Method DEHB needs dehb, which is not installed")
    assert not list((results_root / "later").glob("*-*"))  # no run folder
    assert "Traceback" not in result.output


def test_a_method_that_cannot_tune_the_benchmark_stops_the_study_before_its_first_run(invoke, tmp_path, results_root):
    path = write_benchmark(tmp_path / "user", definition=DEFINITION.replace("epochs = 3", "epochs = 1"))
    result = invoke("run-local", "--benchmark", str(path), *"--method RS --method DEHB --experiment-tag one".split())
    assert result.exit_code == 2, result.output
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(
            "Error: Method DEHB cannot tune benchmark 'quadratic': ValueError: DEHB needs a maximum resource above 1"
        )
    )
    assert not list((results_root / "one").glob("*-*"))


def test_a_run_of_another_method_into_a_tag_shares_its_master_seed(invoke, results_root):
    for method in ("RS", "ASHA"):
        result = invoke("run-local", *GBT, "--method", method, "--experiment-tag", "shared")
        assert result.exit_code == 0, result.output
    seeds = set()
    for run in ("RS-0", "ASHA-0"):
        (tuner_dir,) = layout.tuner_dirs(results_root / "shared" / run)
        seeds.add(RunRecord.from_metadata(layout.read_metadata(tuner_dir) or {}).master_seed)
    assert len(seeds) == 1 and None not in seeds


def test_a_tag_holds_one_setup_whatever_the_method(invoke, results_root):
    """A run of another method with another budget is not comparable: refused (it was allowed
    locally, refused on Slurm, and compared per (method, seed) on SageMaker)."""
    assert invoke("run-local", *GBT, "--method", "RS", "--experiment-tag", "one-setup").exit_code == 0
    other = invoke("run-local", *GBT[:-1], "61", "--method", "ASHA", "--experiment-tag", "one-setup")
    assert other.exit_code == 2, other.output
    assert other.output.startswith(
        "Error: Experiment 'one-setup' already has RS-0 (complete) with max_wallclock_time=60.0, not 61.0"
    )
    assert not (results_root / "one-setup" / "ASHA-0").exists()


def test_a_point_to_evaluate_outside_the_space_is_one_line_before_any_run(invoke, tmp_path, results_root):
    outside = DEFINITION.replace(
        'instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.xlarge"\npoints_to_evaluate = [{x = 5.0}]'
    )
    path = write_benchmark(tmp_path / "user", definition=outside)
    result = invoke("run-local", "--benchmark", str(path), *"--method RS --experiment-tag outside".split())
    assert result.exit_code == 2, result.output
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith("Error: Benchmark 'quadratic': points_to_evaluate: x=5.0 is outside its domain")
    )
    assert not (results_root / "outside").exists()
