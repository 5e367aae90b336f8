"""Objectives in a benchmark's definition: one derived from metric and mode, several declared
with their hypervolume reference point, in Python, TOML and JSON; every bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from user_benchmark import DEFINITION, MULTI_OBJECTIVE_DEFINITION, write_benchmark

from hpobench.benchmarks import BENCHMARK_FACTORIES, benchmark_names, get_benchmark
from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.objectives import COST_OBJECTIVES, Hypervolume, Objective
from hpobench.methods import METHODS

MULTI = MULTI_OBJECTIVE_DEFINITION


def test_a_single_objective_definition_derives_its_one_objective():
    definition = get_benchmark("mlp_digits")
    assert definition.objectives == (Objective(metric="val_accuracy", mode="max"),)
    assert definition.hypervolume is None and not definition.multi_objective


def test_a_multi_objective_file_declares_objectives_and_reference_point(tmp_path: Path):
    definition = get_benchmark(str(write_benchmark(tmp_path / "user", definition=MULTI)))
    assert [o.describe() for o in definition.objectives] == ["loss (min)", "hpobench_train_time (min)"]
    assert definition.multi_objective
    assert definition.hypervolume == Hypervolume(reference_point=(1.0, 30.0), normalization="none")
    # Single-objective views read the first objective.
    assert (definition.metric, definition.mode) == ("loss", "min")


def test_a_multi_objective_definition_dumped_as_json_loads_back(tmp_path: Path):
    definition = get_benchmark(str(write_benchmark(tmp_path / "user", definition=MULTI)))
    record = definition.model_dump(mode="json")
    path = tmp_path / "user" / "again.json"
    path.write_text(json.dumps(record))
    assert get_benchmark(str(path)).model_dump(mode="json") == record


# Each built-in variant: (its single-objective benchmark, its objectives).
MO_VARIANTS = {
    "gbt_breast_cancer_mo": ("gbt_breast_cancer", [("val_log_loss", "min"), ("hpobench_train_time", "min")]),
    "mlp_digits_mo": ("mlp_digits", [("val_accuracy", "max"), ("hpobench_train_time", "min")]),
    "resnet_cifar10_mo": ("resnet_cifar10", [("val_accuracy", "max"), ("hpobench_train_time", "min")]),
    "distilbert_imdb_mo": ("distilbert_imdb", [("accuracy", "max"), ("hpobench_train_time", "min")]),
}


@pytest.mark.parametrize("name", MO_VARIANTS)
def test_each_built_in_variant_is_its_benchmark_on_its_metric_and_training_time(name):
    base, objectives = MO_VARIANTS[name]
    multi, single = get_benchmark(name), get_benchmark(base)
    assert [(o.metric, o.mode) for o in multi.objectives] == objectives
    assert objectives[0] == (single.metric, single.mode)  # the metric the script reports
    assert multi.script_path == single.script_path and multi.config_space == single.config_space
    assert multi.max_wallclock_time == single.max_wallclock_time and multi.n_workers == single.n_workers
    assert multi.hypervolume is not None and multi.hypervolume.normalization == "bounds"
    # The reference time lies within the run's budget: a result can reach it.
    assert 0 < multi.hypervolume.reference_point[1] <= multi.max_wallclock_time


def test_list_benchmarks_json_gives_every_benchmark_its_objectives(invoke):
    result = invoke("list", "benchmarks", "--json")
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in json.loads(result.output)}
    assert set(records) == set(benchmark_names())
    for name, record in records.items():
        if name in MO_VARIANTS:
            assert record["hypervolume"]["reference_point"], name
            continue
        assert record["objectives"] == [{"metric": record["metric"], "mode": record["mode"]}], name
        assert record["hypervolume"] is None
    multi = records["gbt_breast_cancer_mo"]
    assert [o["metric"] for o in multi["objectives"]] == ["val_log_loss", "hpobench_train_time"]
    assert multi["hypervolume"]["reference_point"] == [0.7, 3.0]
    table = invoke("list", "benchmarks")
    assert table.exit_code == 0 and "hpobench_train_time" in table.output, table.output  # one line per objective


def test_a_python_definition_may_name_objectives_alone():
    data = get_benchmark("gbt_breast_cancer").model_dump(exclude={"metric", "mode", "objectives", "hypervolume"})
    definition = BenchmarkDefinition(
        **data,
        objectives=(Objective(metric="val_log_loss", mode="min"), Objective(metric="n_trees", mode="max")),
        hypervolume=Hypervolume(reference_point=(0.7, 0.0)),
    )
    assert (definition.metric, definition.mode) == ("val_log_loss", "min")


def test_cost_objectives_are_named_and_explained():
    assert set(COST_OBJECTIVES) == {
        "hpobench_train_time",
        "hpobench_gpu_seconds",
        "hpobench_peak_gpu_memory",
        "hpobench_peak_host_memory",
    }
    assert all(cost.unit and cost.meaning for cost in COST_OBJECTIVES.values())
    assert COST_OBJECTIVES["hpobench_train_time"].source_column == "st_worker_time"


def _edit(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new)

    return edit


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            _edit("[hypervolume]\nreference_point = [1.0, 30.0]\n", ""),
            "a benchmark with 2 objectives needs a hypervolume reference point: add [hypervolume] "
            "reference_point = [..., ...]",
        ),
        (_edit('time"\nmode = "min"', 'time"'), "missing field 'mode'; add it to objectives.1"),
        (
            _edit('time"\nmode = "min"', 'time"\nmode = "minimize"'),
            "objectives.1.mode: must be 'min' or 'max' (got 'minimize')",
        ),
        (
            _edit("[1.0, 30.0]", "[1.0]"),
            "hypervolume.reference_point has 1 values for 2 objectives (loss, hpobench_train_time); "
            "give one per objective",
        ),
        (_edit("[1.0, 30.0]", '[1.0, 30.0]\nnormalization = "bounds"'), 'normalization "bounds" needs ideal_point'),
        (
            _edit("[1.0, 30.0]", '[1.0, 30.0]\nnormalization = "bounds"\nideal_point = [0.0, 40.0]'),
            "hypervolume.ideal_point for hpobench_train_time (min) must be below its reference point 30.0",
        ),
        (_edit("[1.0, 30.0]", '[1.0, 30.0]\nnormalization = "log"'), "must be 'none' or 'bounds' (got 'log')"),
        (
            _edit("reference_point =", "reference_pont ="),
            "unknown field 'hypervolume.reference_pont'; remove it (did you mean 'reference_point'?)",
        ),
        (_edit("hpobench_train_time", "hpobench_energy"), "'hpobench_energy' is no cost objective hpobench measures"),
        (_edit("hpobench_train_time", "loss"), "objectives name loss twice"),
        (
            _edit('script = "train.py"', 'script = "train.py"\nmetric = "hpobench_train_time"'),
            "metric and mode (hpobench_train_time, min) must be the first objective's (loss, min)",
        ),
    ],
)
def test_a_bad_multi_objective_definition_is_one_line_naming_the_fix(invoke, tmp_path: Path, edit, expected):
    path = write_benchmark(tmp_path / "user", definition=edit(MULTI))
    result = invoke("run-local", "--benchmark", str(path))
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith(f"Error: {path}"), result.output
    assert expected in result.output


def test_a_single_objective_definition_with_a_hypervolume_is_refused(invoke, tmp_path: Path):
    path = write_benchmark(tmp_path / "user", definition=DEFINITION + "\n[hypervolume]\nreference_point = [1.0]\n")
    result = invoke("run-local", "--benchmark", str(path))
    assert result.exit_code == 2, result.output
    assert "a single-objective benchmark has no hypervolume; remove [hypervolume]" in result.output


@pytest.mark.parametrize("benchmark", ["gbt_breast_cancer_mo", "MULTI"])
def test_run_local_refuses_a_single_objective_method_on_a_multi_objective_benchmark(
    invoke, tmp_path: Path, results_root: Path, benchmark: str
):
    if benchmark == "MULTI":
        benchmark = str(write_benchmark(tmp_path / "user", definition=MULTI))
    single = [name for name, spec in METHODS.items() if not spec.multi_objective]
    assert single, "every built-in method is multi-objective?"
    result = invoke("run-local", "--benchmark", benchmark, "--method", single[0], "--experiment-tag", "mo")
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert f"Error: {single[0]} is single-objective, but benchmark" in result.output
    assert "use a multi-objective method (MO-RS, MOASHA" in result.output
    assert f"or name a scalarization for {single[0]}, e.g. --scalarization weighted:0.5,0.5" in result.output
    assert not (results_root / "mo").exists()  # nothing started, nothing written


@pytest.mark.parametrize("name", MO_VARIANTS)
def test_each_variant_is_registered_once(name):
    assert list(BENCHMARK_FACTORIES).count(name) == 1
