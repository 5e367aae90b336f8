"""The command line: help, version, list, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hpobench import __version__
from hpobench.benchmarks import benchmark_names
from hpobench.methods import method_names


def test_python_dash_m_help_runs_in_a_fresh_process():
    result = subprocess.run([sys.executable, "-m", "hpobench", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "run-local" in result.stdout and "list" in result.stdout


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from typer.testing import CliRunner; from hpobench.cli import app; "
        "commands = ([], ['run-local'], ['launch-remote'], ['report']); "
        "shown = [CliRunner().invoke(app, [*c, '--help']) for c in commands]; "
        "assert all(r.exit_code == 0 and 'Usage' in r.output for r in shown), [r.output for r in shown]; "
        "heavy = [m for m in ('torch', 'syne_tune', 'sagemaker', 'boto3', 'matplotlib', 'pandas') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0, result.output
    assert __version__ in result.output


def test_list_benchmarks_table(invoke):
    result = invoke("list", "benchmarks")
    assert result.exit_code == 0, result.output
    for name in benchmark_names():
        assert name in result.output
    assert "val_accuracy (max)" in result.output


def test_list_benchmarks_json(invoke):
    result = invoke("list", "benchmarks", "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [r["name"] for r in records] == benchmark_names()
    assert records[0]["name"] == "resnet_cifar10"  # the default comes first
    digits = next(r for r in records if r["name"] == "mlp_digits")
    assert digits["metric"] == "val_accuracy" and digits["mode"] == "max"
    assert digits["max_wallclock_time"] == 60  # plain seconds
    assert digits["config_space"]["epochs"] == 30
    assert digits["config_space"]["learning_rate"] == {"kind": "loguniform", "lower": 1e-4, "upper": 0.1}


def test_list_methods_table_and_json(invoke, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # wide enough that no reference is wrapped
    table = invoke("list", "methods")
    assert table.exit_code == 0, table.output
    for name in method_names():
        assert name in table.output
    records = json.loads(invoke("list", "methods", "--json").output)
    by_name = {r["name"]: r for r in records}
    assert set(by_name) == set(method_names())
    assert by_name["ASHA"]["multi_fidelity"] is True
    assert by_name["BO"]["multi_fidelity"] is False
    assert [r["name"] for r in records if r["default"]] == ["RS", "BO", "ASHA", "MOBSTER"]
    assert (by_name["ASHA"]["decisions"], by_name["ASHA-STOP"]["decisions"]) == ("promotion", "stopping")
    assert by_name["ASHA"]["defaults"] == {"grace_period": 1, "reduction_factor": 3}
    for record in records:  # what every method shows
        assert record["family"] and record["model"] and record["reference"], record
        assert record["decisions"] in ("promotion", "stopping", "re-run", "-")
        assert (record["decisions"] != "-") == record["multi_fidelity"], record
    assert "promotion" in table.output and "Li et al. 2020" in table.output


BAD_INPUT = [
    (["--benchmark", "nope"], "Unknown benchmark 'nope'; choose one of: resnet_cifar10"),
    (["--benchmark", "mlp_digits", "--method", "XYZ"], "Unknown method 'XYZ'; choose from: RS, BO"),
    (["--benchmark", "mlp_digits", "--experiment-tag", "My_Tag"], "lower-case letters, digits and '-'"),
    (["--benchmark", "mlp_digits", "--n-workers", "0"], "--n-workers"),
    (["--benchmark", "mlp_digits", "--n-workers", "-2"], "--n-workers"),
    (["--benchmark", "mlp_digits", "--num-seeds", "0"], "--num-seeds"),
    (["--benchmark", "mlp_digits", "--max-wallclock-time", "0"], "--max-wallclock-time"),
    (["--benchmark", "mlp_digits", "--max-wallclock-time", "-5"], "--max-wallclock-time"),
    (["--benchmark", "mlp_digits", "--max-num-evaluations", "0"], "--max-num-evaluations"),
    (["--benchmark", "mlp_digits", "--start-seed", "-1"], "--start-seed"),
    (["--benchmark", "mlp_digits", "--set", "nope=3"], "Cannot --set nope: it is not in the config space"),
    (["--benchmark", "mlp_digits", "--set", "learning_rate=0.1"], "Cannot --set learning_rate: it is searched"),
    (["--benchmark", "mlp_digits", "--set", "epochs=many"], "Invalid --set epochs=many: expected int"),
    (["--benchmark", "mlp_digits", "--set", "epochs"], "expected KEY=VALUE"),
    (["--benchmark", "mlp_digits", "--max-wallclock-time", "inf"], "--max-wallclock-time inf: must be a finite"),
    (["--benchmark", "mlp_digits", "--max-wallclock-time", "nan"], "--max-wallclock-time nan: must be a finite"),
    (
        ["--benchmark", "mlp_digits", "--num-seeds", "1000000000"],
        "--num-seeds 1000000000: must be less than or equal to 1000",
    ),
    (["--benchmark", "mlp_digits", "--experiment-tag", "abc\n"], "experiment tag 'abc\\n' must be"),
    (["--benchmark", "mlp_digits", "--max-failed-fraction", "1.5"], "--max-failed-fraction 1.5"),
    (["--benchmark", "mlp_digits", "--max-failed-fraction", "nan"], "--max-failed-fraction nan"),
    (["--benchmark", "mlp_digits", "--max-workers", "0"], "--max-workers 0"),
]


@pytest.mark.parametrize("args,message", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_with_the_fix(invoke, args, message):
    result = invoke("run-local", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output


def test_without_benchmark_the_default_is_resnet_cifar10(invoke):
    from hpobench.plan import plan_experiment
    from hpobench.settings import LocalSettings, load_settings

    plan = plan_experiment(load_settings(LocalSettings, methods=("RS",)))
    assert plan.benchmark.name == "resnet_cifar10"
    assert plan.experiment_tag == "resnet-cifar10"
    assert (plan.n_workers, plan.max_wallclock_time) == (4, 3 * 3600)
    # The CLI resolves the same plan: a bad option is reported against it.
    result = invoke("run-local", "--method", "RS", "--set", "epochs=many")
    assert result.exit_code == 2, result.output
    assert "Invalid --set epochs=many" in result.output


def test_unwritable_results_root(invoke, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = invoke("run-local", "--benchmark", "mlp_digits", "--results-root", str(blocker / "sub"))
    assert result.exit_code == 2, result.output
    assert "is not writable" in result.output and "--results-root" in result.output
    assert blocker.read_text() == "not a folder"  # nothing already written is lost


def test_console_script_turns_click_errors_into_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "hpobench", "run-local", "--n-workers", "two"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "--n-workers" in lines[0]


@pytest.mark.parametrize("width", ["80", "120"])
def test_list_benchmarks_never_cuts_a_name(invoke, monkeypatch, width):
    from hpobench.benchmarks import benchmark_names

    monkeypatch.setenv("COLUMNS", width)
    result = invoke("list", "benchmarks")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= int(width)
    for name in benchmark_names():
        assert name in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run-local"],
        ["launch-remote"],
        ["status"],
        ["results"],
        ["plot"],
        ["sync"],
        ["list", "benchmarks"],
        ["tabulate"],
    ],
)
def test_flags_show_no_value_placeholder_in_help(invoke, command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output
