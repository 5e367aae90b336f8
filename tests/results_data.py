"""Result folders for the status / results / plot tests.

`real_experiment_root` makes them with real `run-local` runs (once per test
session, however many modules ask); `write_run` lays out hand-built ones in the
same on-disk format, for the edge cases and the hand-computed statistics.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from hpobench.results import layout

REAL_TAG = "real"
REAL_METHODS = ("RS", "ASHA")
REAL_SEEDS = (0, 1)
TOY_TAG = "toy"


def write_metadata(tuner_dir: Path, metadata: dict[str, Any]) -> None:
    """metadata.json, as a run writes it."""
    (tuner_dir / layout.METADATA_FILE).write_text(json.dumps(metadata))


def write_results(tuner_dir: Path, csv_text: str) -> Path:
    """results.csv.zip holding `csv_text`, as Syne Tune writes it; its path."""
    path = tuner_dir / layout.RESULTS_FILE
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("results.csv", csv_text)
    return path


@functools.cache
def make_real_experiment(root: Path) -> Path:
    """Tiny real runs: mlp_digits, RS and ASHA, 2 seeds, 3 epochs, 6 results each."""
    from hpobench.local.launcher import run_local
    from hpobench.settings import LocalSettings, load_settings

    settings = load_settings(
        LocalSettings,
        experiment_tag=REAL_TAG,
        benchmark="mlp_digits",
        methods=REAL_METHODS,
        num_seeds=len(REAL_SEEDS),
        n_workers=2,
        # A trial process needs 4-15 s to import torch on a loaded 2-core machine, so a
        # short wall-clock budget may end before any result: stop at 6 results (two
        # 3-epoch trials; Syne Tune stops at *more than* max_num_evaluations), with
        # the wall-clock budget only as a safety cap.
        max_wallclock_time=90,
        max_num_evaluations=5,
        overrides={"epochs": "3"},
        results_root=root,
        random_seed=1234,
    )
    # Session fixtures start before the per-test working folder: keep whatever the
    # tuner drops in the working directory (an empty std.out) out of the checkout.
    root.mkdir(parents=True, exist_ok=True)
    previous = os.getcwd()
    os.chdir(root)
    try:
        outcomes = run_local(settings)
    finally:
        os.chdir(previous)
    assert [o.status for o in outcomes] == ["complete"] * 4, outcomes
    return root


def write_run(
    root: Path,
    method: str,
    seed: int,
    rows: Optional[list[tuple[Any, ...]]],
    status: Optional[str] = "complete",
    tag: str = TOY_TAG,
    benchmark: str = "toy",
    metric: str = "loss",
    mode: str = "min",
    timestamp: str = "2026-01-01-00-00-00-000",
    results: str = "csv",
) -> Path:
    """A tuner folder with metadata.json (unless status is None) and results.csv.zip.

    rows: (trial_id, st_tuner_time, metric value, epoch); `results` is 'csv',
    'empty' (no row, no header, as Syne Tune writes before any result),
    'truncated' or 'none' (no file).
    """
    tuner_dir = root / tag / f"{method}-{seed}" / f"{tag}-{benchmark}-{seed}-{timestamp}"
    tuner_dir.mkdir(parents=True)
    if status is not None:
        metadata = {
            "benchmark": benchmark,
            "method": method,
            "seed": seed,
            "metric": metric,
            "metric_names": [metric],
            "metric_mode": mode,
            "mode": mode,
            "resource_attr": "epoch",
            "max_resource_attr": "epochs",
            "max_wallclock_time": 10.0,
            "hpobench_status": status,
            "hpobench_wallclock_time": 9.5,
        }
        write_metadata(tuner_dir, metadata)
    frame = pd.DataFrame(rows or [], columns=["trial_id", "st_tuner_time", metric, "epoch"])
    frame["config_epochs"] = 2
    frame["st_decision"] = "CONTINUE"
    if results == "csv":
        write_results(tuner_dir, frame.to_csv(index=False))
    elif results == "empty":
        write_results(tuner_dir, pd.DataFrame().to_csv(index=False))
    elif results == "truncated":
        path = write_results(tuner_dir, frame.to_csv(index=False))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return tuner_dir


# The hand-computed example of test_results.py (loss, minimized):
#   RS seed 0: t=1 5, t=2 3, t=3 4   -> best-so-far 5, 3, 3      final 3
#   RS seed 1: t=1.5 4, t=4 2        -> 4, 2                     final 2
#   BO seed 0: t=0.5 6, t=2.5 1      -> 6, 1                     final 1
#   BO seed 1: t=1 3, t=3.5 2.5      -> 3, 2.5                   final 2.5
#   RS seed 2: interrupted, t=1 0    -> left out unless --include-incomplete
TOY_ROWS = {
    ("RS", 0): [(0, 1.0, 5.0, 1), (1, 2.0, 3.0, 1), (0, 3.0, 4.0, 2)],
    ("RS", 1): [(0, 1.5, 4.0, 1), (1, 4.0, 2.0, 1)],
    ("BO", 0): [(0, 0.5, 6.0, 1), (1, 2.5, 1.0, 1)],
    ("BO", 1): [(0, 1.0, 3.0, 1), (0, 3.5, 2.5, 2)],
}


def write_toy_experiment(root: Path) -> Path:
    """The hand-computed example, plus one interrupted RS seed."""
    for (method, seed), rows in TOY_ROWS.items():
        write_run(root, method, seed, rows)
    write_run(root, "RS", 2, [(0, 1.0, 0.0, 1)], status="interrupted")
    return root


# Two objectives, both minimized: `loss` (the script's) and `hpobench_train_time` (hpobench's,
# derived from `st_worker_time` where a results file has no column of its own).
MO_TAG = "toy-mo"
MO_OBJECTIVES = [{"metric": "loss", "mode": "min"}, {"metric": "hpobench_train_time", "mode": "min"}]
MO_HYPERVOLUME = {"reference_point": [4.0, 4.0], "normalization": "none", "ideal_point": None}


def write_mo_run(
    root: Path,
    method: str,
    seed: int,
    rows: list[tuple[Any, ...]],
    tag: str = MO_TAG,
    benchmark: str = "toy_mo",
    hypervolume: Optional[dict[str, Any]] = None,
    status: str = "complete",
    train_time_column: bool = False,
    budget: float = 10.0,
) -> Path:
    """A multi-objective run: rows (trial_id, st_tuner_time, loss, training time, epoch); the
    training time is written as `st_worker_time` (Syne Tune's), and also as
    `hpobench_train_time` when `train_time_column`. metadata.json records the definition's
    objectives and hypervolume under benchmark_definition, as run-local writes them."""
    tuner_dir = root / tag / f"{method}-{seed}" / f"{tag}-{benchmark}-{seed}-2026-01-01-00-00-00-000"
    tuner_dir.mkdir(parents=True)
    write_metadata(
        tuner_dir,
        {
            "benchmark": benchmark,
            "method": method,
            "seed": seed,
            "metric": "loss",
            "metric_names": ["loss"],
            "metric_mode": "min",
            "mode": "min",
            "resource_attr": "epoch",
            "max_resource_attr": "epochs",
            "max_wallclock_time": budget,
            "benchmark_definition": {
                "name": benchmark,
                "metric": "loss",
                "mode": "min",
                "objectives": MO_OBJECTIVES,
                "hypervolume": hypervolume or MO_HYPERVOLUME,
            },
            "hpobench_status": status,
            "hpobench_best": min(r[2] for r in rows) if rows else None,
            "hpobench_wallclock_time": budget * 0.95,
        },
    )
    frame = pd.DataFrame(rows, columns=["trial_id", "st_tuner_time", "loss", "st_worker_time", "epoch"])
    if train_time_column:
        frame["hpobench_train_time"] = frame["st_worker_time"]
        frame["st_worker_time"] = frame["st_worker_time"] + 100.0  # the results' own column wins
    frame["config_epochs"] = 2
    frame["st_decision"] = "CONTINUE"
    write_results(tuner_dir, frame.to_csv(index=False))
    return tuner_dir


# The hand-computed two-method study (reference point (4, 4), no normalization; rows are
# (trial, time, loss, training time, epoch)):
#   MO-RS seed 0: (3, 1) -> 3; (1, 3) -> 5; (2, 2) -> 6; (5, 0) beyond the reference -> 6.
#                 Final 6, front of 3 (rows 0, 1, 2).
#   MO-RS seed 1: (2, 3) -> 2; (3, 3) dominated -> 2. Final 2, front of 1.
#   MOASHA seed 0: (1, 1) -> 9. Final 9, front of 1.
#   MOASHA seed 1: (3, 2) -> 2; (2, 3) -> 3. Final 3, front of 2.
# Final hypervolume: MO-RS 4 ± 2 (mean ± s.e.), MOASHA 6 ± 3; front size 2 and 1.5.
MO_ROWS = {
    ("MO-RS", 0): [(0, 1.0, 3.0, 1.0, 1), (1, 2.0, 1.0, 3.0, 1), (2, 3.0, 2.0, 2.0, 1), (3, 4.0, 5.0, 0.0, 1)],
    ("MO-RS", 1): [(0, 1.0, 2.0, 3.0, 1), (1, 3.0, 3.0, 3.0, 1)],
    ("MOASHA", 0): [(0, 0.5, 1.0, 1.0, 1)],
    ("MOASHA", 1): [(0, 1.0, 3.0, 2.0, 1), (1, 2.0, 2.0, 3.0, 1)],
}
MO_FINAL = {("MO-RS", 0): 6.0, ("MO-RS", 1): 2.0, ("MOASHA", 0): 9.0, ("MOASHA", 1): 3.0}


def write_mo_experiment(root: Path, tag: str = MO_TAG, benchmark: str = "toy_mo") -> Path:
    """The hand-computed two-method study; MOASHA seed 1 records hpobench_train_time itself."""
    for (method, seed), rows in MO_ROWS.items():
        write_mo_run(root, method, seed, rows, tag, benchmark, train_time_column=(method, seed) == ("MOASHA", 1))
    return root
