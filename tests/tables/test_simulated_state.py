"""A simulated run records and decides what it did before it was made fast (issue 28, point 7:
the same results rows for the same seeds), counts its tuning status as Syne Tune does, and
resumes from the state it saves while it runs, even when it is killed without warning."""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from table_factory import write_test_table

from hpobench.results import layout

GBT = "gbt_breast_cancer"

# sha256 of results.csv (unzipped) of `run-local --backend simulated --random-seed 7
# --max-wallclock-time BUDGET` on the 60-configuration test table, as hpobench recorded it before
# the simulated back-end's speed-ups (commit 172805e). A change here is a change of what runs
# decide or record: make it on purpose, and say so where the hash is replaced. MOBSTER's budget
# is shorter (its GP fits cost seconds; its 200 s hash was taken from 172805e as well).
RECORDED = {
    "RS": (600, "bf4d76e8be21ba8ebf12559f8125e27da79c21e17fe2727fe34a4aa8497df6f2"),
    "ASHA": (600, "87f25c70cc23dacba42e9fa2befde54754a1dce706a5657f98a09d9beb0bd6b3"),
    "MOBSTER": (200, "6a4b3fdfa30380a1b15f9627923b6e0e31528e0b2256c02031d587d79776de3a"),
}


@pytest.fixture
def gbt_table(results_root: Path) -> Path:
    """A 60-configuration table of gbt_breast_cancer where `hpobench tabulate` puts it."""
    return write_test_table(results_root / "tables" / GBT, configs=60, seeds=3)


def simulate(invoke, tag: str, *extra: str):
    return invoke("run-local", "--benchmark", GBT, "--backend", "simulated", "--experiment-tag", tag, *extra)


def results_text(tuner_dir: Path) -> bytes:
    with zipfile.ZipFile(io.BytesIO((tuner_dir / layout.RESULTS_FILE).read_bytes())) as archive:
        return archive.read(archive.namelist()[0])


@pytest.mark.parametrize("method", sorted(RECORDED))
def test_a_simulated_run_records_the_rows_it_recorded_before(method, invoke, gbt_table, results_root):
    budget, recorded = RECORDED[method]
    result = simulate(invoke, "recorded", "--method", method, "--random-seed", "7", "--max-wallclock-time", str(budget))
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "recorded" / f"{method}-0")
    assert hashlib.sha256(results_text(tuner_dir)).hexdigest() == recorded


def test_the_tuning_status_counts_as_syne_tunes(caplog):
    """SimulatedTuningStatus.update against Syne Tune's TuningStatus.update on the same
    results: every statistic and trial row the same, numbers of every kind, NaN, strings,
    a metric that turns non-numeric (Syne Tune's warning, once each)."""
    from syne_tune.backend.trial_status import Status, Trial
    from syne_tune.tuning_status import TuningStatus

    from hpobench.tables.simulated_backend import SimulatedTuningStatus

    trials = {i: Trial(trial_id=i, config={"lr": 0.1 * (i + 1), "depth": i}, creation_time=None) for i in range(3)}
    results = [
        (0, {"loss": 0.5, "round": 1, "ok": True, "st_worker_time": 2}),
        (1, {"loss": np.float32(0.25), "round": 1, "note": "a"}),
        (0, {"loss": math.nan, "round": 2, "ok": False, "st_worker_time": 1.5}),
        (2, {"loss": 0.75, "round": 1, "note": 3}),  # `note` was a string: Syne Tune warns
        (1, {"loss": -1, "round": 2, "st_worker_cost": 0.01}),
    ]
    states = []
    for status in (TuningStatus(metric_names=["loss"]), SimulatedTuningStatus(metric_names=["loss"])):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for step in range(0, len(results), 2):
                batch = results[step : step + 2]
                seen = {trial_id: (trials[trial_id], Status.in_progress) for trial_id, _ in batch}
                status.update(trial_status_dict=seen, new_results=batch)
            status.update(trial_status_dict={0: (trials[0], Status.completed)}, new_results=[])
        statistics = {k: vars(v) for k, v in status.trial_metric_statistics.items()}
        states.append(
            repr(
                (
                    vars(status.overall_metric_statistics),
                    statistics,
                    dict(status.trial_rows),
                    dict(status.last_trial_status_seen),
                    [record.getMessage() for record in caplog.records],
                )
            )
        )
    assert "Numeric and non-numeric values reported for metric note" in states[0]
    assert states[1] == states[0]


def test_a_simulated_run_killed_without_warning_resumes(this_hpobench_env, invoke, gbt_table, results_root):
    """SIGKILL (no handler runs, nothing is written at the end) once tuner.dill is there: the
    same command continues from the state the run saved while it ran."""
    command = ["--method", "ASHA", "--max-wallclock-time", "3000", "--random-seed", "3"]
    options = ["--results-root", str(results_root), "--experiment-tag", "killed", *command]
    run_dir = results_root / "killed" / "ASHA-0"
    process = subprocess.Popen(
        [sys.executable, "-m", "hpobench", "run-local", "--benchmark", GBT, "--backend", "simulated", *options],
        env=this_hpobench_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        dirs = layout.tuner_dirs(run_dir)
        if dirs and (dirs[0] / layout.TUNER_FILE).exists():
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, f"the run ended before it was killed: {stderr}"
    (tuner_dir,) = layout.tuner_dirs(run_dir)
    assert layout.read_metadata(tuner_dir)[layout.STATUS_KEY] == layout.STATUS_RUNNING  # no end recorded

    resumed = simulate(invoke, "killed", *command)
    assert resumed.exit_code == 0, resumed.output
    assert layout.tuner_dirs(run_dir) == [tuner_dir]  # the same folder, continued
    after = layout.read_metadata(tuner_dir)
    assert after[layout.STATUS_KEY] == layout.STATUS_COMPLETE
    assert len(after["hpobench_resumes"]) == 1
    frame = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
    assert 2900 < frame["st_tuner_time"].max() <= 3001
    for _, trial in frame.groupby("trial_id"):  # each trial's levels once and in order
        assert trial["round"].is_monotonic_increasing and trial["round"].is_unique


def test_tuner_dill_of_a_simulated_run_is_a_plain_pickle(invoke, gbt_table, results_root):
    """Written by the C pickler (dill's pure-Python one took half a second per save), read
    back by Syne Tune's own `Tuner.load`."""
    from syne_tune import Tuner

    result = simulate(invoke, "plain", "--method", "ASHA", "--max-wallclock-time", "600")
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "plain" / "ASHA-0")
    data = (tuner_dir / layout.TUNER_FILE).read_bytes()
    assert b"dill._dill" not in data  # dill marks what it alone pickles with its own loaders
    previous = os.environ.get("SYNETUNE_FOLDER")
    os.environ["SYNETUNE_FOLDER"] = str(results_root)
    try:
        tuner = Tuner.load(str(tuner_dir))
    finally:
        os.environ.pop("SYNETUNE_FOLDER") if previous is None else os.environ.update(SYNETUNE_FOLDER=previous)
    assert len(tuner.trial_backend.trial_ids) == tuner.tuning_status.num_trials_started > 0
