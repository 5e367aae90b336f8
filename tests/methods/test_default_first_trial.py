"""The seed's default first trial (issue 29): every method evaluates the default configuration
(the middle of each range, in log space for log domains; a choice's first category) first,
unless a benchmark's points_to_evaluate replace it or `--no-default-first-trial` / the
benchmark's `default_first_trial = false` leave it out; the run records which, and a tag
refuses to mix runs with and without it."""

from __future__ import annotations

import json
import math
import shlex
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import choice, lograndint, loguniform, ordinal, randint, uniform
from user_benchmark import DEFINITION, write_benchmark

from hpobench.methods import MethodArguments, get_method, method_names
from hpobench.methods.initial_points import default_configuration, initial_points
from hpobench.results import layout
from hpobench.results.record import RunRecord

SPACE = {
    "a": uniform(0.0, 1.0),
    "b": loguniform(1e-3, 1.0),
    "c": randint(1, 8),
    "d": lograndint(1, 256),
    "e": choice(["sgd", "adam", "rmsprop"]),
    "epochs": 9,
}
# The seed's rule, worked out by hand: midpoints (geometric for b and d, rounded for c and d),
# a choice's first category.
DEFAULT = {"a": 0.5, "b": math.sqrt(1e-3), "c": 4, "d": 16, "e": "sgd"}


def arguments(points=None, seed: int = 0, multi_objective: bool = False) -> MethodArguments:
    return MethodArguments(
        SPACE,
        "loss",
        "min",
        "epoch",
        9,
        random_seed=seed,
        points_to_evaluate=points,
        max_resource_attr="epochs",
        objectives=(("loss", "min"), ("cost", "min")) if multi_objective else (),
    )


def searched(config: dict) -> dict:
    return {k: config[k] for k in DEFAULT}


def same(config: dict, expected: dict) -> bool:
    return all(
        config[k] == v if isinstance(v, str) else math.isclose(config[k], v, rel_tol=1e-9) for k, v in expected.items()
    )


def test_the_default_configuration_follows_the_seeds_rule():
    assert default_configuration(SPACE) == pytest.approx(DEFAULT)
    # An ordinal (ordered) choice takes its middle category, as the seed's searchers did.
    assert default_configuration({"o": ordinal([8, 16, 32, 64]), "n": 3}) == {"o": 32}
    assert initial_points(None, SPACE) == [default_configuration(SPACE)]
    assert initial_points([], SPACE) == []
    # A partial point is completed by the default's values; a repeat is evaluated once.
    completed = initial_points([{"a": 0.9, "epochs": 2}, {}, {"a": 0.9}], SPACE)
    assert completed == [{**default_configuration(SPACE), "a": 0.9}, default_configuration(SPACE)]
    with pytest.raises(ValueError, match="c=12 is outside"):
        initial_points([{"c": 12}], SPACE)


@pytest.mark.parametrize("name", method_names())
def test_every_method_evaluates_the_default_configuration_first(name):
    spec = get_method(name)
    first = spec.build(arguments(multi_objective=spec.multi_objective)).suggest()
    assert first is not None and first.spawn_new_trial_id
    assert same(first.config, DEFAULT), (name, searched(first.config))


@pytest.mark.parametrize("name", ["RS", "BO", "ASHA", "MOBSTER", "OPTUNA-TPE", "SMAC", "DEHB"])
def test_without_it_a_method_starts_from_its_own_design(name):
    first = get_method(name).build(arguments(points=[])).suggest()
    assert not same(first.config, DEFAULT), name


@pytest.mark.parametrize("name", ["RS", "BO", "ASHA", "MOBSTER", "OPTUNA-TPE", "NEVERGRAD-ONEPLUSONE", "SMAC", "DEHB"])
def test_given_points_come_first_in_their_order_completed_by_the_default(name):
    given = [{"a": 0.9, "e": "adam"}, {"c": 7}]
    scheduler = get_method(name).build(arguments(points=given))
    configs = []
    for trial_id in range(2):
        suggestion = scheduler.suggest()
        configs.append(suggestion.config)
        scheduler.on_trial_add(Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now()))
    assert same(configs[0], {**DEFAULT, "a": 0.9, "e": "adam"}), (name, searched(configs[0]))
    assert same(configs[1], {**DEFAULT, "c": 7}), (name, searched(configs[1]))


def test_bo_counts_the_default_configuration_as_one_of_its_initial_random_points():
    space = {"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0)}
    scheduler = get_method("BO").build(MethodArguments(space, "loss", "min", "epoch", 1, random_seed=0))
    suggester = scheduler.suggester
    for trial_id in range(3):
        config = suggester.suggest()
        suggester.observe(trial_id, config, (config["x"] - 0.3) ** 2 + config["y"])
    assert suggester.counts.sources == ["given", "random", "random"]  # 3 initial points in all
    suggester.suggest()
    assert suggester.counts.sources[-1] == "model"


def _first_trial(root: Path, tag: str, run: str) -> tuple[dict, dict]:
    (tuner_dir,) = layout.tuner_dirs(root / tag / run)
    frame = pd.read_csv(tuner_dir / "results.csv.zip")
    first = frame[frame["trial_id"] == 0].iloc[0]
    metadata = layout.read_metadata(tuner_dir)
    return {"x": first["config_x"], "opt": first["config_opt"]}, metadata


RUN = ["run-local", "--method", "RS", "--max-num-evaluations", "3", "--n-workers", "1", "--random-seed", "3"]


def test_a_run_starts_from_the_default_and_records_it(invoke, tmp_path, results_root):
    path = write_benchmark(tmp_path / "quadratic")
    result = invoke(*RUN, "--benchmark", str(path), "--experiment-tag", "first")
    assert result.exit_code == 0, result.output
    config, metadata = _first_trial(results_root, "first", "RS-0")
    assert config == {"x": 0.0, "opt": "sgd"}  # the middle of [-1, 1], the first category
    assert metadata["default_first_trial"] is True
    assert metadata["points_to_evaluate"] == [{"x": 0.0, "opt": "sgd"}]
    assert RunRecord.from_metadata(metadata).default_first_trial is True
    assert metadata["reproduce_command"].endswith("--default-first-trial")
    # A tag's runs agree: the same (method, seed) without it is refused, by name.
    again = invoke(*RUN, "--benchmark", str(path), "--experiment-tag", "first", "--no-default-first-trial")
    assert again.exit_code == 2
    assert "already has RS-0 (complete) with default_first_trial=True, not False" in again.output


def test_the_benchmark_field_leaves_it_out_and_the_flag_wins(invoke, tmp_path, results_root):
    path = write_benchmark(tmp_path / "quadratic", definition=DEFINITION + "\n")
    text = path.read_text().replace(
        'instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.xlarge"\ndefault_first_trial = false'
    )
    path.write_text(text)
    result = invoke(*RUN, "--benchmark", str(path), "--experiment-tag", "without")
    assert result.exit_code == 0, result.output
    config, metadata = _first_trial(results_root, "without", "RS-0")
    assert config != {"x": 0.0, "opt": "sgd"}
    assert (metadata["default_first_trial"], metadata["points_to_evaluate"]) == (False, [])
    assert json.loads(json.dumps(metadata["benchmark_definition"]))["default_first_trial"] is False
    result = invoke(*RUN, "--benchmark", str(path), "--experiment-tag", "with", "--default-first-trial")
    assert result.exit_code == 0, result.output
    config, metadata = _first_trial(results_root, "with", "RS-0")
    assert config == {"x": 0.0, "opt": "sgd"} and metadata["default_first_trial"] is True


def test_a_benchmarks_points_to_evaluate_win(invoke, tmp_path, results_root):
    path = write_benchmark(tmp_path / "quadratic")
    path.write_text(path.read_text().replace("[config_space]", "points_to_evaluate = [{ x = 0.5 }]\n\n[config_space]"))
    result = invoke(*RUN, "--benchmark", str(path), "--experiment-tag", "given")
    assert result.exit_code == 0, result.output
    config, metadata = _first_trial(results_root, "given", "RS-0")
    assert config == {"x": 0.5, "opt": "sgd"}  # completed by the default's first category
    assert metadata["points_to_evaluate"] == [{"x": 0.5, "opt": "sgd"}]


def test_list_methods_says_how_each_method_takes_it(invoke):
    result = invoke("list", "methods", "--json")
    records = json.loads(result.output)
    assert all(record["first_trial"] for record in records)
    table = invoke("list", "methods")
    assert "Each method's first trial is the default configuration" in " ".join(table.output.split())


def test_launch_remote_passes_it_to_every_job_of_both_engines(invoke, results_root):
    from hpobench.experiment_setup import settings_from_job_values
    from hpobench.plan import plan_experiment
    from hpobench.remote.cell_job import parse_arguments

    common = ["--benchmark", "gbt_breast_cancer", "--method", "RS", "--experiment-tag", "first", "--dry-run", "--json"]
    sagemaker = invoke("launch-remote", *common, "--region", "eu-west-1", "--no-default-first-trial")
    assert sagemaker.exit_code == 0, sagemaker.output
    values = json.loads(sagemaker.output)["jobs"][0]["HyperParameters"]
    assert values["default_first_trial"] == "false"
    assert plan_experiment(settings_from_job_values(values, results_root)).default_first_trial is False
    slurm = invoke("launch-remote", "--engine", "slurm", *common, "--no-default-first-trial")
    assert slurm.exit_code == 0, slurm.output
    plan = json.loads(slurm.output)
    assert "--default_first_trial false" in plan["script"]
    assert plan["setup"]["default_first_trial"] is False
    (line,) = [line for line in plan["script"].splitlines() if line.startswith("exec ")]
    tokens = shlex.split(line)
    argv = [*tokens[tokens.index("hpobench.remote.cell_job") + 1 : -1], "--method", "RS", "--seed", "0"]
    cell_values, _, _ = parse_arguments(argv)
    assert plan_experiment(settings_from_job_values(cell_values, results_root)).default_first_trial is False
