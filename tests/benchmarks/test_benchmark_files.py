"""Definition files: `--benchmark path/to/bench.toml`, end to end, and every bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from user_benchmark import DEFINITION, write_benchmark

from hpobench.benchmarks import get_benchmark
from hpobench.paths import TRIAL_SUPPORT, training_scripts_root
from hpobench.results import layout

FAST = ["--method", "RS", "--max-num-evaluations", "6", "--random-seed", "7"]


def _tuner_dir(results_root: Path, tag: str, run: str = "RS-0") -> Path:
    (tuner_dir,) = layout.tuner_dirs(results_root / tag / run)
    return tuner_dir


def test_run_local_with_a_definition_file_end_to_end(invoke, tmp_path: Path, results_root: Path):
    path = write_benchmark(tmp_path / "user")
    result = invoke("run-local", "--benchmark", str(path), "--experiment-tag", "mine", *FAST)
    assert result.exit_code == 0, result.output
    tuner_dir = _tuner_dir(results_root, "mine")
    assert tuner_dir.name.startswith("mine-quadratic-0-")

    from syne_tune.experiments import load_experiment

    frame = load_experiment(str(tuner_dir.relative_to(results_root)), local_path=str(results_root)).results
    assert len(frame) >= 6 and {"loss", "epoch", "config_x", "config_opt"} <= set(frame.columns)
    assert frame["epoch"].max() <= 3 and set(frame["config_opt"]) <= {"sgd", "adam"}

    metadata = layout.read_metadata(tuner_dir)
    text = path.read_text()
    assert metadata["benchmark"] == "quadratic"
    assert metadata["benchmark_source"] == f"file {path}"
    assert metadata["benchmark_file"] == {"path": str(path), "content": text}
    assert metadata["benchmark_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert metadata["benchmark_definition"]["script"] == "train.py"
    assert f"--benchmark {path} " in metadata["reproduce_command"]

    # status and results read the run like any other.
    status = invoke("status", "--experiment-tag", "mine", "--format", "json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["runs"][0]["benchmark"] == "quadratic"
    results = invoke("results", "--experiment-tag", "mine", "--format", "csv")
    assert results.exit_code == 0 and "quadratic,loss,min,RS" in results.output, results.output

    # The same command again: the completed run is skipped.
    again = invoke("run-local", "--benchmark", str(path), "--experiment-tag", "mine", *FAST)
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.output
    assert len(layout.tuner_dirs(results_root / "mine" / "RS-0")) == 1

    # The file edited under the same tag: refused like any other changed option.
    path.write_text(text.replace("lower = -1.0", "lower = -2.0"))
    changed = invoke("run-local", "--benchmark", str(path), "--experiment-tag", "mine", *FAST)
    assert changed.exit_code == 2, changed.output
    assert f"already has RS-0 (complete) with another version of {path}" in changed.output
    assert "--force" in changed.output


def _to_toml(record: dict) -> str:
    """Just enough TOML for a benchmark record: top-level scalars, then tables."""

    def value(v) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)  # strings, numbers and booleans read the same in TOML

    lines = [f"{k} = {value(v)}" for k, v in record.items() if v is not None and not isinstance(v, dict)]
    for table in (k for k, v in record.items() if isinstance(v, dict)):
        lines += ["", f"[{table}]", *(f"{k} = {value(v)}" for k, v in record[table].items())]
    return "\n".join(lines) + "\n"


def test_a_listed_built_in_dumped_edited_and_run(invoke, tmp_path: Path, results_root: Path):
    listed = invoke("list", "benchmarks", "--json")
    assert listed.exit_code == 0, listed.output
    record = next(r for r in json.loads(listed.output) if r["name"] == "mlp_digits")
    assert record["source"] == "built-in"
    record.update(name="my_digits", description="mlp_digits, two epochs")
    record["config_space"]["epochs"] = 2
    shutil.copytree(training_scripts_root() / "mlp_digits", tmp_path / "mine" / "mlp_digits")
    shutil.copy(training_scripts_root() / TRIAL_SUPPORT, tmp_path / "mine")  # as docs/extending.md says
    path = tmp_path / "mine" / "my_digits.toml"
    path.write_text(_to_toml(record))

    loaded = get_benchmark(str(path))
    original = get_benchmark("mlp_digits").model_dump()
    assert loaded.model_dump() == {
        **original,
        "name": "my_digits",
        "description": "mlp_digits, two epochs",
        "config_space": {**original["config_space"], "epochs": 2},
    }
    result = invoke(
        "run-local", "--benchmark", str(path), *"--experiment-tag dumped --method RS --max-num-evaluations 2".split()
    )
    assert result.exit_code == 0, result.output
    frame = layout.read_metadata(_tuner_dir(results_root, "dumped"))
    assert frame["benchmark"] == "my_digits" and frame[layout.STATUS_KEY] == "complete"


def test_a_json_record_as_printed_by_list_is_a_definition_too(invoke, tmp_path: Path):
    write_benchmark(tmp_path / "user")
    record = get_benchmark(str(tmp_path / "user" / "quadratic.toml")).model_dump(mode="json")
    path = tmp_path / "user" / "again.json"
    path.write_text(json.dumps([{**record, "source": "file elsewhere"}]))
    assert get_benchmark(str(path)).model_dump(mode="json") == record


MINIMAL = "\n".join(line for line in DEFINITION.splitlines() if not line.startswith("description"))


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda t: t.replace('metric = "loss"\n', ""), "missing field 'metric'; add it"),
        (lambda t: t.replace("metric =", "metrc ="), "unknown field 'metrc'; remove it (did you mean 'metric'?)"),
        (lambda t: t.replace('mode = "min"', 'mode = "minimize"'), "mode: must be 'min' or 'max' (got 'minimize')"),
        (lambda t: t.replace("n_workers = 2", "n_workers = 0"), "n_workers: must be greater than 0"),
        (lambda t: t.replace('"quadratic"', '"Quad Ratic"'), "name 'Quad Ratic' must be lower-case letters"),
        (lambda t: t.replace('"quadratic"', '"mlp_digits"'), "name 'mlp_digits' is already a registered benchmark"),
        (lambda t: t.replace('"train.py"', '"missing.py"'), "script 'missing.py' not found at"),
        (lambda t: t.replace('"train.py"', '"../train.py"'), "must be a relative path inside the definition's folder"),
        (
            lambda t: t.replace("epochs = 3", "epochs = 0"),
            "config_space.epochs (max_resource_attr) must be a positive integer",
        ),
        (
            lambda t: t.replace("epochs = 3", 'epochs = { kind = "randint", lower = 1, upper = 9 }'),
            "'epochs' must be a fixed value",
        ),
        (lambda t: t.replace('kind = "uniform"', 'kind = "gaussian"'), "config_space.x: unknown kind 'gaussian'"),
        (
            lambda t: t.replace("lower = -1.0", "lower = 2.0"),
            "config_space.x: lower bound 2.0 must be below upper bound 1.0",
        ),
        (
            lambda t: t.replace("upper = 1.0", "uper = 1.0"),
            "unknown field 'config_space.x.uper'; remove it (did you mean 'upper'?)",
        ),
        (lambda t: t.replace('kind = "uniform", ', ""), "config_space.x: a searched entry needs a kind"),
        (lambda t: t.replace("[config_space]", "[config_space"), "is not valid TOML"),
        (
            lambda t: t.replace("max_wallclock_time = 30", 'max_wallclock_time = "long"'),
            "max_wallclock_time: must be a valid number",
        ),
    ],
)
def test_a_bad_definition_is_one_line_naming_file_and_field(invoke, tmp_path: Path, edit, expected):
    path = write_benchmark(tmp_path / "user", definition=edit(MINIMAL))
    result = invoke("run-local", "--benchmark", str(path))
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith(f"Error: {path}"), result.output
    assert expected in result.output


@pytest.mark.parametrize(
    "value, expected",
    [
        ("nowhere/bench.toml", "does not exist; give a registered name"),
        ("no_such_benchmark", "Unknown benchmark 'no_such_benchmark'; choose one of: resnet_cifar10"),
    ],
)
def test_a_benchmark_that_is_neither_name_nor_file(invoke, value, expected):
    result = invoke("run-local", "--benchmark", value)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and expected in result.output


def test_a_definition_may_not_be_named_like_the_settings_file(invoke, tmp_path: Path):
    path = write_benchmark(tmp_path / "user")
    path = path.rename(path.with_name("hpobench.toml"))
    result = invoke("run-local", "--benchmark", str(path))
    assert result.exit_code == 2, result.output
    assert "hpobench.toml holds hpobench's settings" in result.output


def test_a_definition_without_optional_fields_takes_their_defaults(tmp_path: Path):
    definition = get_benchmark(str(write_benchmark(tmp_path / "user", definition=MINIMAL)))
    assert (definition.framework, definition.hardware, definition.description) == ("PyTorch", "", "")
    assert definition.max_num_evaluations is None and definition.points_to_evaluate is None
    assert definition.script_path == (tmp_path / "user" / "train.py").resolve()
