"""The embedded training scripts: real training, Syne Tune reports, resume from checkpoints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hpobench.benchmarks import get_benchmark

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
