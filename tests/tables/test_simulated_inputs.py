"""Bad input to a simulated run (issue 28, point 8) and Syne Tune's own tables as benchmarks
(point 4): one `Error:` line naming the problem and the fix, exit 2, no run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from table_factory import table_rows, write_fcnet_like, write_test_table

from hpobench.results import layout

GBT = "gbt_breast_cancer"


def refused(result, results_root: Path, tag: str, starts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert [line for line in lines if line.startswith("Error:")] == [lines[-1]], result.output
    assert lines[-1].startswith(starts), lines[-1]
    assert "Traceback" not in result.output
    assert not list((results_root / tag).glob("*-*"))  # no run folder


def simulate(invoke, tag: str, *extra: str):
    return invoke("run-local", "--backend", "simulated", "--experiment-tag", tag, *extra)


def test_no_table_names_the_command_that_makes_it(invoke, results_root):
    result = simulate(invoke, "none", "--benchmark", GBT, "--method", "RS")
    where = results_root / "tables" / GBT
    refused(result, results_root, "none", f"Error: No table of benchmark '{GBT}' at {where}")
    assert f"make it with `hpobench tabulate --benchmark {GBT}`" in result.output


def test_a_table_of_another_benchmark_is_refused(invoke, results_root, tmp_path):
    other = write_test_table(tmp_path / "digits", "mlp_digits", configs=10, seeds=1)
    result = simulate(invoke, "space", "--benchmark", GBT, "--method", "RS", "--table", str(other))
    refused(
        result, results_root, "space", f"Error: Table {other} does not fit benchmark '{GBT}': it has hyperparameters"
    )
    assert "tabulate it again with `hpobench tabulate --benchmark gbt_breast_cancer`" in result.output


def test_a_table_without_the_metric_is_refused(invoke, results_root, tmp_path):
    table = write_test_table(tmp_path / "renamed", configs=10, seeds=1, metric="val_loss")
    result = simulate(invoke, "metric", "--benchmark", GBT, "--method", "RS", "--table", str(table))
    refused(
        result,
        results_root,
        "metric",
        f"Error: Table {table} does not fit benchmark '{GBT}': no metric column 'val_log_loss'",
    )


def test_a_damaged_table_is_refused(invoke, results_root, tmp_path):
    table = write_test_table(tmp_path / "damaged", configs=10, seeds=1)
    data = table / "objectives_evaluations.npy"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    result = simulate(invoke, "damaged", "--benchmark", GBT, "--method", "RS", "--table", str(table))
    refused(result, results_root, "damaged", f"Error: Table {table} is damaged (")
    assert result.output.strip().endswith("write it again")


@pytest.mark.parametrize("flags", [["--surrogate", "knn"], ["--table", "somewhere"]])
def test_table_options_need_the_simulated_backend(invoke, results_root, flags):
    result = invoke("run-local", "--benchmark", GBT, "--method", "RS", "--experiment-tag", "real", *flags)
    refused(result, results_root, "real", f"Error: {flags[0]} applies only to simulated runs; add --backend simulated")


@pytest.mark.parametrize("method", ["ASHA", "ASHA-STOP", "MOBSTER", "DEHB", "BOHB"])
def test_a_method_deciding_at_levels_needs_a_table_of_several(method, invoke, results_root, tmp_path):
    table = write_test_table(tmp_path / "one-level", configs=10, seeds=1, levels=1)
    result = simulate(invoke, "levels", "--benchmark", GBT, "--method", method, "--table", str(table))
    refused(
        result,
        results_root,
        "levels",
        f"Error: Method {method} decides at intermediate levels, but table {table} has one level only",
    )


def test_a_table_of_fewer_levels_than_the_benchmark_trains_is_refused(invoke, results_root, tmp_path):
    table = write_test_table(tmp_path / "short", configs=10, seeds=1, levels=20)
    result = simulate(invoke, "short", "--benchmark", GBT, "--method", "RS", "--table", str(table))
    refused(
        result,
        results_root,
        "short",
        f"Error: Table {table} has levels up to round=20, but benchmark '{GBT}' trains to boosting_rounds=50",
    )
    # As the message says: fewer rounds, and the table covers them.
    fewer = simulate(
        invoke, "short", "--benchmark", GBT, "--method", "RS", "--table", str(table), "--set", "boosting_rounds=20"
    )
    assert fewer.exit_code == 0, fewer.output


# ---------------------------------------------------------------- Syne Tune's blackboxes


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A blackbox repository holding a fake fcnet (no download), where hpobench looks."""
    folder = tmp_path / "blackbox-repository"
    write_fcnet_like(folder)
    monkeypatch.setenv("HPOBENCH_BLACKBOX_REPOSITORY", str(folder))
    return folder


def test_a_syne_tune_blackbox_runs_as_a_benchmark(invoke, repository, results_root):
    result = simulate(
        invoke,
        "fcnet",
        "--benchmark",
        "blackbox:fcnet/protein_structure",
        "--method",
        "RS",
        "--method",
        "ASHA",
        "--max-wallclock-time",
        "300",
    )
    assert result.exit_code == 0, result.output
    rows = {tuple(sorted(row.items())) for row in table_rows(repository / "fcnet")}
    for method in ("RS", "ASHA"):
        (tuner_dir,) = layout.tuner_dirs(results_root / "fcnet" / f"{method}-0")
        metadata = layout.read_metadata(tuner_dir)
        assert metadata[layout.STATUS_KEY] == "complete"
        assert metadata["metric"] == "metric_valid_loss" and metadata["mode"] == "min"
        record = metadata[layout.SIMULATED_KEY]
        assert record == {
            "table": str(repository / "fcnet"),
            "task": "protein_structure",
            "manifest_sha256": None,
            "manifest": None,
            "surrogate": None,
            "source": "syne-tune",
        }
        import pandas as pd

        frame = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
        names = [c.removeprefix("config_") for c in frame.columns if c.startswith("config_hp_")]
        seen = {
            tuple(sorted(zip(names, values, strict=True)))
            for values in frame[[f"config_{n}" for n in names]].itertuples(index=False)
        }
        assert seen <= rows
        assert frame["hp_epoch"].max() <= 20 and frame["st_tuner_time"].max() <= 301
    assert "--benchmark blackbox:fcnet/protein_structure" in metadata["reproduce_command"]
    assert "--table" not in metadata["reproduce_command"]


def test_list_benchmarks_tables_shows_hpobench_and_syne_tune_tables(invoke, repository, results_root):
    write_test_table(results_root / "tables" / GBT, configs=10, seeds=1)
    result = invoke("list", "benchmarks", "--tables", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"benchmark": GBT, "table": str(results_root / "tables" / GBT), "source": "hpobench"},
        {"benchmark": "blackbox:fcnet/protein_structure", "table": str(repository / "fcnet"), "source": "syne-tune"},
        {"benchmark": "blackbox:fcnet/naval_propulsion", "table": str(repository / "fcnet"), "source": "syne-tune"},
    ]
    shown = invoke("list", "benchmarks", "--tables")
    assert shown.exit_code == 0 and "blackbox:fcnet/naval_propulsion" in shown.output


def test_a_missing_blackbox_names_syne_tunes_conversion(invoke, repository, results_root):
    result = simulate(
        invoke, "lcbench", "--benchmark", "blackbox:lcbench/airlines", "--method", "RS", "--experiment-tag", "lcbench"
    )
    refused(result, results_root, "lcbench", f"Error: No blackbox 'lcbench' in {repository}; convert it with ")
    assert (
        "`python -c \"from syne_tune.blackbox_repository import load_blackbox; load_blackbox('lcbench')\"`"
        in result.output
    )


def test_a_missing_task_and_a_real_backend_are_refused(invoke, repository, results_root):
    task = simulate(invoke, "task", "--benchmark", "blackbox:fcnet/nope", "--method", "RS")
    refused(
        task,
        results_root,
        "task",
        "Error: Blackbox 'fcnet' has no task 'nope'; it has protein_structure, naval_propulsion",
    )
    real = invoke(
        "run-local", "--benchmark", "blackbox:fcnet/protein_structure", "--method", "RS", "--experiment-tag", "real"
    )
    refused(real, results_root, "real", "Error: Benchmark blackbox:fcnet/protein_structure is a table of Syne Tune's")


def test_a_table_whose_domain_differs_is_refused(tmp_path):
    """The same hyperparameters over another range: the table's values say nothing of the rest."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.benchmarks.space import LogUniform
    from hpobench.tables.format import ELAPSED_TIME, TableError, read_table
    from hpobench.tables.simulated import check_fit

    table = read_table(write_test_table(tmp_path / "gbt", configs=10, seeds=1))
    benchmark = get_benchmark(GBT)
    check_fit(table, benchmark, ELAPSED_TIME)  # fits as written
    wider = benchmark.model_copy(
        update={"config_space": {**benchmark.config_space, "learning_rate": LogUniform(lower=0.001, upper=0.5)}}
    )
    with pytest.raises(TableError, match="its domain of learning_rate is"):
        check_fit(table, wider, ELAPSED_TIME)


def test_a_measured_memory_is_replayed_from_a_table_that_has_it_and_refused_from_one_without(tmp_path):
    """Every measured cost is an objective a simulated run takes from the table (tabulations
    record what the results carry): a table from before it was measured cannot stand in."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.benchmarks.objectives import Objective
    from hpobench.tables.format import ELAPSED_TIME, TableError, read_table
    from hpobench.tables.simulated import check_fit

    benchmark = get_benchmark("gbt_breast_cancer_mo")
    memory = Objective(metric="hpobench_peak_host_memory", mode="min")
    on_memory = benchmark.model_copy(update={"objectives": (benchmark.objectives[0], memory)})
    older = read_table(write_test_table(tmp_path / "older", "gbt_breast_cancer_mo", configs=10, seeds=1))
    with pytest.raises(TableError, match=r"no objective column 'hpobench_peak_host_memory'.*hpobench tabulate"):
        check_fit(older, on_memory, ELAPSED_TIME)
    table = read_table(
        write_test_table(tmp_path / "new", "gbt_breast_cancer_mo", configs=10, seeds=1, host_memory=True)
    )
    check_fit(table, on_memory, ELAPSED_TIME)


def test_syne_tunes_domains_become_hpobenchs():
    """A blackbox's float and integer ranges keep their log scale; finite ones become choices."""
    from syne_tune.config_space import choice, finrange, lograndint, loguniform, randint, uniform

    from hpobench.benchmarks.space import Choice, LogRandInt, LogUniform, RandInt, Uniform
    from hpobench.tables.blackboxes import _hpobench_space

    space = {
        "a": loguniform(1e-3, 1.0),
        "b": lograndint(1, 32),
        "c": uniform(0.0, 1.0),
        "d": randint(1, 5),
        "e": choice(["x", "y"]),
        "f": finrange(0.0, 1.0, 3),
        "g": 7,
    }
    assert _hpobench_space(space, "made-up") == {
        "a": LogUniform(lower=1e-3, upper=1.0),
        "b": LogRandInt(lower=1, upper=32),
        "c": Uniform(lower=0.0, upper=1.0),
        "d": RandInt(lower=1, upper=5),
        "e": Choice(categories=("x", "y")),
        "f": Choice(categories=(0.0, 0.5, 1.0)),
        "g": 7,
    }


def test_a_table_of_another_definition_is_replayed_with_a_warning(invoke, results_root, caplog):
    write_test_table(results_root / "tables" / GBT, configs=10, seeds=1)
    same = simulate(invoke, "same", "--benchmark", GBT, "--method", "RS")
    assert same.exit_code == 0, same.output
    assert "tabulated from another definition" not in caplog.text
    other = simulate(invoke, "other", "--benchmark", GBT, "--method", "RS", "--set", "boosting_rounds=20")
    assert other.exit_code == 0, other.output
    assert f"was tabulated from another definition of {GBT}" in caplog.text


def test_a_table_without_a_cost_objective_is_refused(invoke, results_root, tmp_path):
    table = write_test_table(tmp_path / "no-cost", "gbt_breast_cancer_mo", configs=10, seeds=1, train_time=False)
    result = simulate(invoke, "cost", "--benchmark", "gbt_breast_cancer_mo", "--method", "MO-RS", "--table", str(table))
    refused(
        result,
        results_root,
        "cost",
        f"Error: Table {table} does not fit benchmark 'gbt_breast_cancer_mo': "
        "no objective column 'hpobench_train_time'",
    )
