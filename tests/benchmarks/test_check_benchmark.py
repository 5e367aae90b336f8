"""`hpobench check-benchmark`: real runs of a user's script and of its broken variants."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_benchmark import MULTI_OBJECTIVE_DEFINITION, write_benchmark


def _check(invoke, path: Path, *flags: str):
    return invoke("check-benchmark", str(path), *flags)


def test_a_script_that_keeps_the_contract_passes(invoke, tmp_path: Path):
    result = _check(invoke, write_benchmark(tmp_path / "user"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    checks = [line for line in lines if line.startswith(("ok", "warn", "FAIL"))]
    assert all(line.startswith("ok") for line in checks), result.output
    assert any("starts and parses its arguments" in line for line in checks)
    assert any("reports 'loss' and 'epoch' as numbers" in line for line in checks)
    assert any("'epoch' counts 1, 2" in line for line in checks)
    assert any("time per level" in line for line in checks)
    assert any("resumed run continues at level 3" in line for line in checks)
    assert "quadratic: every check passed" in result.output


@pytest.mark.parametrize(
    "variant, expected",
    [
        ("wrong_metric", "reports epoch, val_loss but not 'loss'"),
        ("skips_level", "'epoch' went 1, 3; expected 1, 2"),
        ("never_resumes", "reported epoch 1, 2, 3; expected only level 3"),
        ("crashes_at_import", "exited with code 1 before reporting anything: ModuleNotFoundError"),
    ],
)
def test_a_broken_script_fails_with_the_failing_check(invoke, tmp_path: Path, variant, expected):
    result = _check(invoke, write_benchmark(tmp_path / "user", variant))
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and expected in failed[0], result.output
    assert "Error: quadratic does not keep the training-script contract" in result.output


@pytest.mark.parametrize(
    "first_line, expected",
    [("import hpobench", "the script imports hpobench (line 1)"), ("def broken(:", "is not valid Python")],
)
def test_a_script_that_cannot_stand_alone_is_not_run(invoke, tmp_path: Path, first_line, expected):
    path = write_benchmark(tmp_path / "user")
    script = path.parent / "train.py"
    script.write_text(first_line + "\n" + script.read_text())
    result = _check(invoke, path)
    assert result.exit_code == 1, result.output
    checks = [line for line in result.output.splitlines() if line.startswith(("ok", "warn", "FAIL"))]
    assert len(checks) == 1 and checks[0].startswith("FAIL") and expected in checks[0], result.output


def test_a_script_that_never_checkpoints_fails_unless_allowed(invoke, tmp_path: Path):
    path = write_benchmark(tmp_path / "user", "never_checkpoints")
    result = _check(invoke, path)
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "wrote no checkpoint" in failed[0], result.output
    assert "promotion-type methods" in failed[0] and "--allow-no-checkpoint" in failed[0]
    allowed = _check(invoke, path, "--allow-no-checkpoint")
    assert allowed.exit_code == 0, allowed.output
    warned = [line for line in allowed.output.splitlines() if line.startswith("warn")]
    assert len(warned) == 1 and "wrote no checkpoint" in warned[0], allowed.output
    assert "(with warnings)" in allowed.output


def test_points_to_evaluate_are_the_configurations_checked(invoke, tmp_path: Path):
    from user_benchmark import DEFINITION

    definition = DEFINITION.replace(
        "[config_space]",
        'points_to_evaluate = [{ x = 0.5, opt = "adam" }, { x = -0.5, opt = "sgd" }]\n\n[config_space]',
    )
    result = _check(invoke, write_benchmark(tmp_path / "user", definition=definition))
    assert result.exit_code == 0, result.output
    assert "config 1/2: the script starts and parses its arguments (epochs=2, x=0.5, opt=adam)" in result.output
    assert "config 2/2: the script starts and parses its arguments (epochs=2, x=-0.5, opt=sgd)" in result.output


def test_a_built_in_benchmark_passes(invoke):
    result = invoke("check-benchmark", "gbt_breast_cancer")
    assert result.exit_code == 0, result.output
    assert "'round' counts 1, 2" in result.output


@pytest.mark.parametrize(
    "args, expected",
    [
        (["nowhere/bench.toml"], "does not exist; give a registered name"),
        (["no_such_benchmark"], "Unknown benchmark 'no_such_benchmark'"),
        (["{folder}"], "is a folder; give its .toml definition file (there: quadratic.toml)"),
        (["{folder}/quadratic.toml", "--timeout", "0"], "Invalid --timeout 0"),
    ],
)
def test_bad_input_is_one_line(invoke, tmp_path: Path, args, expected):
    folder = write_benchmark(tmp_path / "user").parent
    result = invoke("check-benchmark", *[a.format(folder=folder) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert expected in result.output


def test_a_script_that_runs_too_long_is_stopped_at_the_timeout(invoke, tmp_path: Path):
    path = write_benchmark(tmp_path / "user")
    (path.parent / "train.py").write_text("import time\ntime.sleep(60)\n")
    result = _check(invoke, path, "--timeout", "2")
    assert result.exit_code == 1, result.output
    assert "reported nothing within 2 s (stopped); raise --timeout" in result.output


def test_set_overrides_a_fixed_entry_for_the_check(invoke, tmp_path: Path):
    definition = write_benchmark(tmp_path / "user").read_text().replace("[config_space]", '[config_space]\nlabel = "a"')
    path = write_benchmark(tmp_path / "user", definition=definition)
    result = _check(invoke, path, "--set", "label=b")
    assert result.exit_code == 0, result.output
    assert "label=b" in result.output
    refused = _check(invoke, path, "--set", "x=1")
    assert refused.exit_code == 2 and "Cannot --set x: it is searched" in refused.output


def test_a_multi_objective_script_reports_each_objective_but_not_hpobench_s_costs(invoke, tmp_path: Path):
    path = write_benchmark(tmp_path / "user", definition=MULTI_OBJECTIVE_DEFINITION)
    result = _check(invoke, path)
    assert result.exit_code == 0, result.output  # hpobench_train_time is hpobench's to measure
    assert "reports 'loss' and 'epoch' as numbers" in result.output

    path.write_text(MULTI_OBJECTIVE_DEFINITION.replace('"hpobench_train_time"', '"accuracy"'))
    result = _check(invoke, path)
    assert result.exit_code == 1, result.output
    (failed,) = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert "reports epoch, loss but not 'accuracy'; report them (report(epoch=..., loss=..., accuracy=...))" in failed
    assert "or fix objectives / resource_attr in the definition" in failed
