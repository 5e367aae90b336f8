"""Contract tests, parametrized over every registered benchmark and method."""

from __future__ import annotations

import ast

import pytest
from pydantic import ValidationError

from hpobench.benchmarks import BENCHMARK_FACTORIES, benchmark_names, get_benchmark
from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import is_domain, to_syne_tune_space
from hpobench.errors import UsageError
from hpobench.methods import METHODS, MethodArguments, get_method, method_names


@pytest.fixture(params=benchmark_names())
def benchmark(request) -> BenchmarkDefinition:
    return get_benchmark(request.param)


def test_benchmark_is_registered_under_its_own_name(benchmark):
    assert BENCHMARK_FACTORIES[benchmark.name]().name == benchmark.name


def test_benchmark_script_and_requirements_exist(benchmark):
    assert benchmark.script_path.is_file()
    assert (benchmark.script_dir / "requirements.txt").is_file()


def test_training_script_does_not_import_hpobench(benchmark):
    tree = ast.parse(benchmark.script_path.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert "hpobench" not in imported


def test_benchmark_space_converts_to_syne_tune(benchmark):
    from syne_tune.config_space import Domain

    space = to_syne_tune_space(benchmark.config_space)
    assert set(space) == set(benchmark.config_space)
    searched = [k for k, v in benchmark.config_space.items() if is_domain(v)]
    assert searched, "a benchmark must search something"
    assert all(isinstance(space[k], Domain) for k in searched)
    assert isinstance(benchmark.max_resource, int) and benchmark.max_resource > 0


def test_definitions_are_frozen(benchmark):
    with pytest.raises(ValidationError):
        benchmark.n_workers = 99


def test_definition_needs_max_resource_attr_in_space(benchmark):
    data = benchmark.model_dump()
    data["max_resource_attr"] = "not_there"
    with pytest.raises(ValidationError, match="must contain max_resource_attr"):
        BenchmarkDefinition(**data)


def test_unknown_names_raise_with_choices():
    with pytest.raises(UsageError, match="mlp_digits"):
        get_benchmark("resnet_cifar1000")
    with pytest.raises(UsageError, match="ASHA"):
        get_method("HyperBand")


@pytest.mark.parametrize("name", method_names())
def test_method_builds_a_scheduler_for_every_benchmark(name):
    from syne_tune.optimizer.scheduler import TrialScheduler

    for benchmark_name in benchmark_names():
        benchmark = get_benchmark(benchmark_name)
        if METHODS[name].multi_objective and not benchmark.multi_objective:
            continue  # refused: tests/methods/test_multi_objective_methods.py
        scheduler = METHODS[name].build(MethodArguments.for_benchmark(benchmark, random_seed=1))
        assert isinstance(scheduler, TrialScheduler)
        assert scheduler.metric_mode() == benchmark.mode
        suggestion = scheduler.suggest()
        assert suggestion is not None and set(suggestion.config) == set(benchmark.config_space)
