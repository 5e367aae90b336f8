"""Results folders of a made-up study, written in the exact on-disk format runs write.

For `hpobench report`'s tests (a study whose answer is known) and for
`benchmarks/report_speed.py` (a study of paper size). Each run is a sequence of
trials of `epochs` results each; a trial's values fall with its epochs towards a
level drawn from the method's distribution on that benchmark, so a method with a
lower `shift` finds better values, and time runs evenly over the budget.

A multi-objective study (`hypervolume` given) records the benchmark's two objectives, `loss`
and `hpobench_train_time` (both minimized, with that reference point), in metadata.json as
run-local does; a trial's training time grows with its epochs at a cost drawn per trial, so
more epochs trade a lower loss for a longer time.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Optional

import numpy as np
from results_data import write_metadata, write_results

from hpobench.results import layout

COLUMNS = [
    "trial_id",
    "epoch",
    "loss",
    "config_lr",
    "config_width",
    "config_epochs",
    "st_tuner_time",
    "st_worker_time",
    "st_decision",
    "st_status",
    "st_worker_cost",
    "st_worker_iter",
]


def write_level_run(
    root: Path,
    tag: str,
    benchmark: str,
    method: str,
    seed: int,
    levels: np.ndarray,
    budget: float = 100.0,
    epochs: int = 3,
    status: str = layout.STATUS_COMPLETE,
    rng: Optional[np.random.Generator] = None,
    hypervolume: Optional[dict[str, Any]] = None,
) -> Path:
    """One run of `len(levels)` trials whose last epoch reaches `levels[i]`; its tuner folder."""
    rng = rng if rng is not None else np.random.default_rng(seed)
    name = layout.tuner_name(tag, benchmark, method, seed, now=1_700_000_000.0 + seed)
    tuner_dir = root / name
    tuner_dir.mkdir(parents=True)
    n = len(levels)
    trial = np.repeat(np.arange(n), epochs)
    epoch = np.tile(np.arange(1, epochs + 1), n)
    loss = np.repeat(levels, epochs) + 0.5 / epoch  # falls with training
    time = np.linspace(budget / (n * epochs), budget * 0.99, n * epochs)
    lr = np.repeat(rng.uniform(1e-4, 1e-1, n), epochs)
    width = np.repeat(rng.integers(8, 128, n), epochs)
    decision = np.where(epoch == epochs, "STOP", "CONTINUE")
    worker_time = time / 4
    if hypervolume is not None:  # the training time up to each epoch, at the trial's own cost per epoch
        worker_time = epoch * np.repeat(rng.uniform(0.5, 1.5, n), epochs)
    body = io.StringIO()
    body.write(",".join(COLUMNS) + "\n")
    for i in range(n * epochs):
        body.write(
            f"{trial[i]},{epoch[i]},{loss[i]:.6f},{lr[i]:.6f},{width[i]},{epochs},{time[i]:.3f},"
            f"{worker_time[i]:.3f},{decision[i]},Completed,1.0,{epoch[i]}\n"
        )
    write_results(tuner_dir, body.getvalue())
    metadata = {
        "experiment_tag": tag,
        "benchmark": benchmark,
        "method": method,
        "seed": seed,
        "random_seed": 1000 + seed,
        "random_seed_master": 7,
        "metric": "loss",
        "mode": "min",
        "resource_attr": "epoch",
        "max_resource_attr": "epochs",
        "max_wallclock_time": budget,
        layout.STATUS_KEY: status,
        "hpobench_best": float(loss.min()),
        "hpobench_wallclock_time": float(time[-1]) if status == layout.STATUS_COMPLETE else None,
    }
    if hypervolume is not None:
        metadata["benchmark_definition"] = {
            "name": benchmark,
            "metric": "loss",
            "mode": "min",
            "objectives": [{"metric": "loss", "mode": "min"}, {"metric": "hpobench_train_time", "mode": "min"}],
            "hypervolume": hypervolume,
        }
    write_metadata(tuner_dir, metadata)
    return tuner_dir


def write_study(
    root: Path,
    tag_of: dict[str, str],
    shifts: dict[str, float],
    seeds: int,
    trials: int = 20,
    epochs: int = 3,
    budget: float = 100.0,
    spread: float = 1.0,
    seed: int = 0,
    multi_objective: bool = False,
) -> None:
    """Every benchmark (written under its tag, `tag_of`) x method x seed, complete.

    A trial's level is the benchmark's offset plus the method's shift plus spread x a
    standard normal; so methods with equal shifts are equal in distribution. `multi_objective`:
    on loss and training time, with a reference point (offset + 3 + 5 x spread, epochs x 1.5)
    normalized from (offset - 3 - 5 x spread, 0), within which every result lies."""
    rng = np.random.default_rng(seed)
    for b, (benchmark, tag) in enumerate(tag_of.items()):
        offset = 1.0 + b  # benchmarks on different scales: the report normalizes them
        hypervolume = None
        if multi_objective:
            hypervolume = {
                "reference_point": [offset + 3.0 + spread * 5, epochs * 1.5],
                "normalization": "bounds",
                "ideal_point": [offset - 3.0 - spread * 5, 0.0],
            }
        for method, shift in shifts.items():
            for s in range(seeds):
                levels = offset + shift + spread * rng.standard_normal(trials)
                write_level_run(
                    root, tag, benchmark, method, s, levels, budget, epochs, rng=rng, hypervolume=hypervolume
                )
