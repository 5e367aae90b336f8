"""Small tables of a benchmark in the on-disk format `hpobench tabulate` writes (tables/format.py):
Syne Tune's BlackboxTabular over the benchmark's searched space, every level of its resource,
a few seeds, a plausible metric curve and cumulative elapsed times, plus hpobench's manifest.

Values are made up but shaped like the real ones: the metric falls with the level towards a
floor that depends on the configuration (the learning rate's distance to a best value most),
seeds add noise; a trial costs `startup` seconds, then `seconds_per_level` per level (more
for deeper trees). Also a fake Syne Tune blackbox (`write_fcnet_like`) in the repository's layout.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

import numpy as np

from hpobench.benchmarks import get_benchmark
from hpobench.benchmarks.space import is_domain
from hpobench.tables.format import ELAPSED_TIME, STARTUP_TIME, TableManifest, definition_hash, write_table


def sample_rows(benchmark: Any, configs: int, generator: np.random.Generator) -> list[dict[str, Any]]:
    """`configs` distinct configurations drawn from the benchmark's searched space."""
    searched = {name: entry.to_syne_tune() for name, entry in benchmark.config_space.items() if is_domain(entry)}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    while len(rows) < configs:
        row = {
            name: domain.sample(random_state=np.random.RandomState(generator.integers(2**31)))
            for name, domain in searched.items()
        }
        row = {name: (value.item() if hasattr(value, "item") else value) for name, value in row.items()}
        key = tuple(row.values())
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def _final_loss(row: dict[str, Any]) -> float:
    """A configuration's floor: best near learning_rate 0.1 (or the middle of its first float)."""
    rate = row.get("learning_rate", row.get("lr", 0.05))
    return 0.08 + 0.15 * abs(math.log(float(rate) / 0.1)) + 0.02 * float(row.get("max_depth", 3)) / 6


def build_table(
    benchmark_name: str = "gbt_breast_cancer",
    configs: int = 60,
    seeds: int = 3,
    levels: Optional[int] = None,
    startup: float = 2.0,
    seconds_per_level: float = 0.2,
    depth_cost: float = 0.1,
    seed: int = 0,
    rows: Optional[list[dict[str, Any]]] = None,
    metric: Optional[str] = None,
    train_time: Optional[bool] = None,
    host_memory: bool = False,
) -> tuple[Any, TableManifest]:
    """(BlackboxTabular, manifest) of `benchmark_name` with `configs` configurations x `seeds`
    seeds x `levels` levels (default: every level up to its maximum resource); `metric` names
    the metric's column otherwise than the benchmark does. `train_time` (default: when the
    benchmark has it as an objective) adds `hpobench_train_time`, the levels' training time
    without the start-up, as hpobench records it with every result; `host_memory` adds
    `hpobench_peak_host_memory`, growing with the model's depth and the level."""
    import pandas as pd
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.config_space import randint

    benchmark = get_benchmark(benchmark_name)
    levels = levels or int(benchmark.max_resource)
    generator = np.random.default_rng(seed)
    rows = rows if rows is not None else sample_rows(benchmark, configs, generator)
    fidelities = np.arange(1, levels + 1)
    if train_time is None:
        train_time = any(o.metric == "hpobench_train_time" for o in benchmark.objectives)
    extra = ["hpobench_train_time"] * bool(train_time) + ["hpobench_peak_host_memory"] * host_memory
    objectives = np.zeros((len(rows), seeds, levels, 3 + len(extra)))
    for i, row in enumerate(rows):
        floor = _final_loss(row)
        per_level = seconds_per_level * (1 + depth_cost * float(row.get("max_depth", 3)))
        for s in range(seeds):
            noise = generator.normal(0, 0.01)
            curve = floor + noise + 0.6 * np.exp(-fidelities / (0.05 * levels + 1))
            start = startup * (1 + 0.1 * generator.random()) if startup else 0.0
            objectives[i, s, :, 0] = curve
            objectives[i, s, :, 1] = start + per_level * fidelities
            objectives[i, s, :, 2] = start
            if train_time:
                objectives[i, s, :, 3] = per_level * fidelities
            if host_memory:
                objectives[i, s, :, -1] = 2**20 * (60 + 10 * float(row.get("max_depth", 3)) + fidelities)
    searched = {name: entry.to_syne_tune() for name, entry in benchmark.config_space.items() if is_domain(entry)}
    blackbox = BlackboxTabular(
        hyperparameters=pd.DataFrame(rows),
        configuration_space=searched,
        fidelity_space={benchmark.resource_attr: randint(1, levels)},
        objectives_evaluations=objectives,
        fidelity_values=fidelities,
        objectives_names=[metric or benchmark.metric, ELAPSED_TIME, STARTUP_TIME, *extra],
    )
    manifest = TableManifest(
        benchmark=benchmark.name,
        definition_hash=definition_hash(benchmark),
        metric=benchmark.metric,
        mode=benchmark.mode,
        resource_attr=benchmark.resource_attr,
        max_resource_attr=benchmark.max_resource_attr,
        design="random",
        design_seed=seed,
        configs=len(rows),
        seeds=seeds,
        fidelities=[int(f) for f in fidelities],
        versions={"hpobench": "test", "syne_tune": None, "torch": None, "python": None},
        hardware={"cpu": "made up by tests/tables/table_factory.py"},
        precision=None,
    )
    return blackbox, manifest


def write_test_table(path: Path, benchmark_name: str = "gbt_breast_cancer", **options: Any) -> Path:
    """A table built by `build_table(**options)`, written where `hpobench tabulate` would."""
    blackbox, manifest = build_table(benchmark_name, **options)
    write_table(path, blackbox, manifest)
    return path


def table_rows(path: Path) -> list[dict[str, Any]]:
    """The configurations of a table on disk."""
    import pandas as pd

    return pd.read_parquet(path / "hyperparameters.parquet", engine="fastparquet").to_dict("records")


def write_fcnet_like(repository: Path, configs: int = 40, seeds: int = 2, epochs: int = 20) -> Path:
    """A blackbox named `fcnet` in Syne Tune's repository layout, as fcnet_import.py writes it:
    choice domains, fidelity `hp_epoch`, objectives with `metric_elapsed_time`, two tasks."""
    import pandas as pd
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, serialize
    from syne_tune.config_space import choice, randint

    space = {
        "hp_activation_fn_1": choice(["tanh", "relu"]),
        "hp_batch_size": choice([8, 16, 32, 64]),
        "hp_dropout_1": choice([0.0, 0.3, 0.6]),
        "hp_init_lr": choice([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]),
        "hp_n_units_1": choice([16, 32, 64, 128, 256, 512]),
    }
    generator = np.random.default_rng(1)
    rows: list[dict[str, Any]] = []
    while len(rows) < configs:
        row = {name: domain.categories[generator.integers(len(domain.categories))] for name, domain in space.items()}
        if row not in rows:
            rows.append(row)
    fidelities = np.arange(1, epochs + 1)
    names = ["metric_valid_loss", "metric_train_loss", "metric_elapsed_time"]
    tasks = {}
    for task in ("protein_structure", "naval_propulsion"):
        values = np.zeros((configs, seeds, epochs, len(names)))
        for i, row in enumerate(rows):
            floor = 0.1 + abs(math.log(row["hp_init_lr"] / 0.005)) * 0.05
            for s in range(seeds):
                values[i, s, :, 0] = floor + 0.5 * np.exp(-fidelities / 4) + generator.normal(0, 0.01)
                values[i, s, :, 1] = values[i, s, :, 0] * 0.8
                values[i, s, :, 2] = fidelities * (0.5 + row["hp_n_units_1"] / 512)
        tasks[task] = BlackboxTabular(
            hyperparameters=pd.DataFrame(rows),
            configuration_space=space,
            fidelity_space={"hp_epoch": randint(1, epochs)},
            objectives_evaluations=values,
            fidelity_values=fidelities,
            objectives_names=names,
        )
    folder = repository / "fcnet"
    repository.mkdir(parents=True, exist_ok=True)
    serialize(
        tasks,
        str(folder),
        metadata={
            "metric_elapsed_time": "metric_elapsed_time",
            "metric_default": "metric_valid_loss",
            "time_attr": "hp_epoch",
        },
    )
    json.loads((folder / "metadata.json").read_text())  # written whole
    return folder
