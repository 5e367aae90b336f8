"""Resuming an interrupted (method, seed) run where it stopped (issue 20).

Real trials of a toy benchmark whose epochs take 0.1 s each: a run is stopped (kill -9,
SIGTERM, Ctrl-C) at about half its budget, then the same command runs again; it must go on
in its own folder from the budget it had used, with the scheduler's data and one clock.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from hpobench.results import layout

BUDGET = 12.0
SEED = ["--random-seed", "7"]


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from user_benchmark import DEFINITION, write_benchmark

    folder = tmp_path_factory.mktemp("slow-benchmark")
    return write_benchmark(folder, "slow", DEFINITION.replace("epochs = 3", "epochs = 9"))


def _command(definition: Path, root: Path, tag: str, method: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        *"-m hpobench run-local --benchmark".split(),
        str(definition),
        "--method",
        method,
        "--results-root",
        str(root),
        "--experiment-tag",
        tag,
        "--max-wallclock-time",
        f"{BUDGET:g}",
        *SEED,
        *extra,
    ]


def _results(tuner_dir: Path) -> pd.DataFrame:
    return pd.read_csv(tuner_dir / layout.RESULTS_FILE)


class Stopped(NamedTuple):
    tuner_dir: Path
    clock: float  # budget spent by the last clock entry seen before the signal
    shutdown_s: float  # how long the run took to end after the signal


def _stop_at_half_budget(command: list[str], run_dir: Path, signum: int, fraction: float = 0.5) -> Stopped:
    """Start `command`, send `signum` once the run has used `fraction` of its budget."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        clocks = list(run_dir.glob(f"*/{layout.CLOCK_FILE}"))
        clock = layout.read_clock(clocks[0].parent) if clocks else None
        if clock is not None and clock[0] >= BUDGET * fraction:
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail(f"the run did not reach {fraction:.0%} of its budget: {process.communicate()[1]}")
    signalled = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (-signal.SIGKILL, 128 + signum), stderr
    (tuner_dir,) = layout.tuner_dirs(run_dir)
    return Stopped(tuner_dir, clock[0], time.monotonic() - signalled)


def _spent_as_observed(spent_before: float, stopped: Stopped) -> bool:
    """A resume starts from the budget the run had used when it ended: at least what its
    clock showed when signalled (less one write interval), at most that plus the time it
    took to shut down (a graceful stop keeps counting while it ends its trials; under load
    that has taken 1.7 s)."""
    return stopped.clock - 0.5 <= spent_before <= stopped.clock + stopped.shutdown_s + 0.5


def _observations(tuner_dir: Path) -> int:
    """What the scheduler has learned: its searcher's observations, else its rungs' entries,
    else the results the tuner handed it."""
    import dill

    with (tuner_dir / layout.TUNER_FILE).open("rb") as saved:
        tuner = dill.load(saved)
    scheduler = tuner.scheduler
    suggester = getattr(scheduler, "suggester", None)
    if hasattr(suggester, "_observations"):
        return len(suggester._observations)
    if hasattr(scheduler, "_rungs"):
        return sum(len(rung) for rung in scheduler._rungs.values())
    if hasattr(scheduler, "brackets") and hasattr(scheduler, "objectives"):  # MOASHA's rungs
        return sum(len(recorded) for bracket in scheduler.brackets for _, recorded in bracket.rungs)
    return tuner.tuning_status.overall_metric_statistics.count


CASES = [
    ("RS", signal.SIGKILL),
    ("BO", signal.SIGKILL),
    ("ASHA", signal.SIGKILL),
    ("MOBSTER", signal.SIGKILL),
    ("ASHA", signal.SIGTERM),
    ("MOBSTER", signal.SIGINT),
]


@pytest.mark.parametrize("method,signum", CASES, ids=[f"{m}-{signal.Signals(s).name}" for m, s in CASES])
def test_an_interrupted_run_continues_where_it_stopped(definition, tmp_path, method, signum):
    _continues_where_it_stopped(definition, tmp_path, method, signum)


@pytest.fixture(scope="module")
def mo_definition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from user_benchmark import MULTI_OBJECTIVE_DEFINITION, write_benchmark

    folder = tmp_path_factory.mktemp("slow-mo-benchmark")
    return write_benchmark(folder, "slow", MULTI_OBJECTIVE_DEFINITION.replace("epochs = 3", "epochs = 9"))


def test_an_interrupted_multi_objective_run_continues_where_it_stopped(mo_definition, tmp_path):
    """MOASHA on two objectives, SIGTERM at half its budget: resumed like a single-objective run,
    its rungs carried over, the measured cost in every row of both sessions."""
    tuner_dir = _continues_where_it_stopped(mo_definition, tmp_path, "MOASHA", signal.SIGTERM)
    results = _results(tuner_dir)
    assert results["loss"].notna().all() and (results["hpobench_train_time"] == results["st_worker_time"]).all()


def _continues_where_it_stopped(definition: Path, tmp_path: Path, method: str, signum: int) -> Path:
    root = tmp_path / "results"
    command = _command(definition, root, "resumed", method)
    run_dir = root / "resumed" / f"{method}-0"
    stopped = _stop_at_half_budget(command, run_dir, signum)
    tuner_dir = stopped.tuner_dir
    before = _observations(tuner_dir)
    assert before > 0

    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"{method}-0: resuming at " in again.stdout

    assert layout.tuner_dirs(run_dir) == [tuner_dir]  # continued in its own folder
    metadata = layout.read_metadata(tuner_dir)
    assert metadata["hpobench_status"] == "complete"
    (resumed,) = metadata["hpobench_resumes"]
    assert _spent_as_observed(resumed["budget_spent_before"], stopped), (resumed, stopped)
    # The budget, not 1.5 budgets: the second session spent what was left, not a whole budget
    # (no window on the seconds a loaded machine adds to stopping).
    used = metadata["hpobench_wallclock_time"]
    assert BUDGET <= used < resumed["budget_spent_before"] + BUDGET

    results = _results(tuner_dir)
    assert not results.duplicated(["trial_id", "epoch"]).any()  # no result row twice
    assert (results.groupby("trial_id")["config_x"].nunique() == 1).all()  # no id for two configs
    assert results["st_tuner_time"].diff().dropna().min() > -0.05  # one continuous clock
    assert results["st_tuner_time"].max() <= used  # every result within the run's one clock
    # Not half of it (the first session's results kept) nor a fresh start (the second session
    # went on after the first one's clock): results on both sides of the resume. How many is
    # left to the machine's load, which no window here would survive.
    spent = resumed["budget_spent_before"]
    assert (results["st_tuner_time"] < spent).any() and (results["st_tuner_time"] > spent).any()
    assert _observations(tuner_dir) > before  # the scheduler's data went on from where it was

    from syne_tune.experiments import load_experiment

    loaded = load_experiment(str(tuner_dir), load_tuner=True)
    assert len(loaded.results) == len(results) and loaded.tuner is not None
    return tuner_dir


def test_a_run_interrupted_twice_resumes_twice(definition, tmp_path):
    root = tmp_path / "results"
    command = _command(definition, root, "twice", "BO")
    run_dir = root / "twice" / "BO-0"
    first_stop = _stop_at_half_budget(command, run_dir, signal.SIGKILL, fraction=1 / 3)
    second_stop = _stop_at_half_budget(command, run_dir, signal.SIGTERM, fraction=2 / 3)
    tuner_dir = first_stop.tuner_dir
    assert second_stop.tuner_dir == tuner_dir
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    metadata = layout.read_metadata(tuner_dir)
    first, second = metadata["hpobench_resumes"]
    assert first["budget_spent_before"] < second["budget_spent_before"]
    assert _spent_as_observed(first["budget_spent_before"], first_stop), (first, first_stop)
    assert _spent_as_observed(second["budget_spent_before"], second_stop), (second, second_stop)
    used = metadata["hpobench_wallclock_time"]
    assert metadata["hpobench_status"] == "complete" and BUDGET <= used < second["budget_spent_before"] + BUDGET
    results = _results(tuner_dir)
    assert not results.duplicated(["trial_id", "epoch"]).any()
    assert (results.groupby("trial_id")["config_x"].nunique() == 1).all()
    assert results["st_tuner_time"].diff().dropna().min() > -0.05


def test_status_shows_what_is_left_and_unloadable_state_is_refused(definition, tmp_path, invoke):
    root = tmp_path / "results"
    command = _command(definition, root, "broken", "ASHA")
    run_dir = root / "broken" / "ASHA-0"
    tuner_dir = _stop_at_half_budget(command, run_dir, signal.SIGKILL).tuner_dir
    files_before = sorted(p.relative_to(tuner_dir) for p in tuner_dir.rglob("*"))

    status = invoke("status", "--experiment-tag", "broken", "--results-root", str(root), "--format", "json")
    assert status.exit_code == 0, status.output
    (row,) = json.loads(status.output)["runs"]
    assert row["state"] == "resumable"
    assert f"s of its {BUDGET:g} s budget left; run the same command again to resume it" in row["note"]

    # Written by another version: refused, before anything runs.
    metadata = layout.read_metadata(tuner_dir)
    layout.write_metadata(tuner_dir, {**metadata, "versions": {**metadata["versions"], "hpobench": "0.0.1"}})
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"Error: Cannot resume ASHA-0 from {tuner_dir}: it was written by hpobench 0.0.1 (now "
        f"{metadata['versions']['hpobench']}); pass --force to start it afresh in a new folder (that one is kept)"
    )
    layout.write_metadata(tuner_dir, metadata)

    # Damaged: refused in one line.
    (tuner_dir / layout.TUNER_FILE).write_bytes(b"not a pickle")
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith(f"Error: Cannot resume ASHA-0 from {tuner_dir}: its tuner state cannot be loaded (")
    assert line.endswith("pass --force to start it afresh in a new folder (that one is kept)")
    assert sorted(p.relative_to(tuner_dir) for p in tuner_dir.rglob("*")) == files_before  # nothing deleted

    fresh = subprocess.run([*command, "--force"], capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    assert "resuming" not in fresh.stdout
    old, new = layout.tuner_dirs(run_dir)
    assert old == tuner_dir and layout.read_metadata(new)["hpobench_status"] == "complete"


@pytest.mark.parametrize(
    "env,expected",
    [
        ({"SLURM_ARRAY_JOB_ID": "123", "SLURM_ARRAY_TASK_ID": "4"}, True),  # the requeued task itself
        ({"SLURM_ARRAY_JOB_ID": "123", "SLURM_ARRAY_TASK_ID": "5"}, False),
        ({"TRAINING_JOB_NAME": "study-RS-0-20261204"}, False),
        ({}, False),  # a plain machine: run-local's own rule (resume unless --force)
    ],
)
def test_a_job_started_again_knows_its_own_run(tmp_path, monkeypatch, env, expected):
    from hpobench.local.resume import started_by_this_job

    for name in ("SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_ID", "TRAINING_JOB_NAME"):
        monkeypatch.delenv(name, raising=False)
    tuner_dir = tmp_path / "RS-0" / "tag-quadratic-0-2026-12-04-10-00-00-000"
    tuner_dir.mkdir(parents=True)
    layout.write_metadata(tuner_dir, {layout.PROCESS_KEY: {"host": "node1", "pid": 7, "job": "123_4"}})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert started_by_this_job(tmp_path / "RS-0") is expected
