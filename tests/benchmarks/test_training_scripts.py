"""The embedded training scripts: real training, Syne Tune reports, resume from checkpoints."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from hpobench.benchmarks import BENCHMARK_FACTORIES, get_benchmark

ARGS = {
    "mlp_digits": [
        *"--learning_rate 0.01 --batch_size 32 --n_units 64 --dropout 0.1 --weight_decay 0.0001 --n_layers 2".split()
    ],
    "gbt_breast_cancer": [
        *(
            "--learning_rate 0.1 --max_depth 3 --subsample 0.8 --min_samples_leaf 2 --max_features 0.5 "
            "--trees_per_round 1"
        ).split()
    ],
}


def _run(name: str, resource: int, checkpoint_dir: Path) -> list[dict]:
    from syne_tune.report import retrieve

    benchmark = get_benchmark(name)
    command = [
        sys.executable,
        str(benchmark.script_path),
        f"--{benchmark.max_resource_attr}",
        str(resource),
        *ARGS[name],
        "--st_checkpoint_dir",
        str(checkpoint_dir),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return retrieve(done.stdout.splitlines())


@pytest.mark.parametrize("name", sorted(ARGS))
def test_script_reports_every_resource_level_and_resumes(name, tmp_path):
    benchmark = get_benchmark(name)
    level, metric = benchmark.resource_attr, benchmark.metric
    first = _run(name, 2, tmp_path)
    assert [r[level] for r in first] == [1, 2]
    assert all(isinstance(r[metric], float) for r in first)
    resumed = _run(name, 4, tmp_path)
    assert [r[level] for r in resumed] == [3, 4]  # continues at the next level


def test_mlp_digits_learns(tmp_path):
    reports = _run("mlp_digits", 5, tmp_path)
    assert reports[-1]["val_accuracy"] > 0.85  # 10 classes: chance is 0.1


def test_gbt_log_loss_falls(tmp_path):
    reports = _run("gbt_breast_cancer", 10, tmp_path)
    assert reports[-1]["val_log_loss"] < reports[0]["val_log_loss"]


def _shared_names() -> set[str]:
    from hpobench.paths import TRIAL_SUPPORT, training_scripts_root

    tree = ast.parse((training_scripts_root() / TRIAL_SUPPORT).read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("name", BENCHMARK_FACTORIES)
def test_each_built_in_script_uses_trial_support_and_keeps_no_copy_of_it(name):
    tree = ast.parse(get_benchmark(name).script_path.read_text())
    imported = {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.level == 0} | {
        alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
    }
    assert "trial_support" in imported
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    # A script may wrap a shared function (fail with its name); it may not copy one.
    wrappers = {"fail", "data_root", "device_precision", "choose_precision"}
    assert (defined & _shared_names()) - wrappers == set()


def test_trial_support_needs_only_the_standard_library_at_import():
    from hpobench.paths import TRIAL_SUPPORT, training_scripts_root

    tree = ast.parse((training_scripts_root() / TRIAL_SUPPORT).read_text())
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert top - {"__future__"} <= set(sys.stdlib_module_names)
