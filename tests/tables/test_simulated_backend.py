"""`run-local --backend simulated` (issue 28, points 3 and 9): every method replays a table in
simulated time, only the table's configurations without a surrogate, reproducibly, with the
budget on the simulated clock; status and results read the run; an interrupted run resumes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from method_decisions import assert_decisions_fit_the_method
from table_factory import table_rows, write_test_table

from hpobench.methods import METHODS
from hpobench.results import layout
from hpobench.results.record import RunRecord

GBT = "gbt_breast_cancer"
SEARCHED = ["learning_rate", "max_depth", "subsample", "min_samples_leaf", "max_features"]


@pytest.fixture
def gbt_table(results_root: Path) -> Path:
    """A 60-configuration table of gbt_breast_cancer where `hpobench tabulate` puts it."""
    return write_test_table(results_root / "tables" / GBT, configs=60, seeds=3)


PLUGIN = "hpb_table_plugin"
PLUGIN_MODULE = """\
\"\"\"hpobench plugin: random search that tries one given configuration first.\"\"\"

FIRST = {first!r}


def table_random_search(args):
    from syne_tune.optimizer.baselines import RandomSearch

    first = {{**args.points_to_evaluate[0], **FIRST}}
    return RandomSearch(args.config_space, metrics=[args.metric], do_minimize=args.do_minimize,
                        random_seed=args.random_seed, points_to_evaluate=[first])
"""


@pytest.fixture
def plugin_method(gbt_table: Path, tmp_path: Path):
    """An installed plugin (code and .dist-info on sys.path) registering method TABLE_RS, whose
    first point is the table's row 7."""
    import sys

    from test_plugins import _dist_info

    site = tmp_path / "site-packages"
    (site / PLUGIN).mkdir(parents=True)
    (site / PLUGIN / "__init__.py").write_text(PLUGIN_MODULE.format(first=table_rows(gbt_table)[7]))
    _dist_info(site, "hpb-table-plugin", "0.1", f"[hpobench.methods]\nTABLE_RS = {PLUGIN}:table_random_search\n")
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    sys.modules.pop(PLUGIN, None)


def simulate(invoke, tag: str, *extra: str):
    return invoke("run-local", "--benchmark", GBT, "--backend", "simulated", "--experiment-tag", tag, *extra)


def only_run(results_root: Path, tag: str, run: str) -> Path:
    (tuner_dir,) = layout.tuner_dirs(results_root / tag / run)
    return tuner_dir


def results_of(tuner_dir: Path) -> pd.DataFrame:
    return pd.read_csv(tuner_dir / layout.RESULTS_FILE)


def configs_of(frame: pd.DataFrame) -> set[tuple]:
    return {tuple(row) for row in frame[[f"config_{name}" for name in SEARCHED]].itertuples(index=False)}


def row_keys(table: Path) -> set[tuple]:
    return {tuple(row[name] for name in SEARCHED) for row in table_rows(table)}


# The multi-objective ones replay a multi-objective table: tests/tables/test_simulated_multi_objective.py.
@pytest.mark.parametrize("method", [name for name, spec in METHODS.items() if not spec.multi_objective])
def test_every_method_replays_the_table_in_simulated_time(method, invoke, gbt_table, results_root):
    """Each built-in method (and other libraries': OPTUNA-*, NEVERGRAD-*, DEHB, SMAC) runs on the
    table, evaluates only its rows, spends the budget in simulated seconds, and makes the early
    decisions its kind makes (gbt_breast_cancer's space for every method: test_methods_run.py
    runs them with real trials on mlp_digits). That the simulated budget is not spent in real
    time is test_the_budget_is_simulated_time's check: a GP method's suggestions on a loaded
    machine may take 40 real seconds."""
    result = simulate(invoke, "every", "--method", method, "--max-wallclock-time", "40", "--n-workers", "4")
    assert result.exit_code == 0, result.output
    tuner_dir = only_run(results_root, "every", f"{method}-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == "complete"
    frame = results_of(tuner_dir)
    assert len(frame) > 20
    assert configs_of(frame) <= row_keys(gbt_table)  # every evaluated configuration is a table row
    assert 25 < frame["st_tuner_time"].max() <= 40 + 1
    assert metadata["hpobench_wallclock_time"] == pytest.approx(40, abs=1)  # the simulated budget spent
    assert_decisions_fit_the_method(method, frame, "round")


def test_a_plugin_method_replays_the_table(plugin_method, invoke, gbt_table, results_root):
    result = simulate(invoke, "plugged", "--method", "TABLE_RS", "--max-wallclock-time", "40")
    assert result.exit_code == 0, result.output
    frame = results_of(only_run(results_root, "plugged", "TABLE_RS-0"))
    assert configs_of(frame) <= row_keys(gbt_table)
    first = frame[frame.trial_id == 0].iloc[0]
    # The plugin's first point (the table's row 7) came first, as it suggested it.
    assert first["config_learning_rate"] == table_rows(gbt_table)[7]["learning_rate"]


def test_the_budget_is_simulated_time(invoke, results_root):
    """Trials of 10 s each, 2 workers, 60 s: about 12 trials, results up to 60 simulated
    seconds, in far less real time."""
    write_test_table(results_root / "tables" / GBT, configs=40, startup=0, seconds_per_level=0.2, depth_cost=0)
    began = time.monotonic()
    result = simulate(invoke, "budget", "--method", "RS", "--max-wallclock-time", "60", "--n-workers", "2")
    real = time.monotonic() - began
    assert result.exit_code == 0, result.output
    tuner_dir = only_run(results_root, "budget", "RS-0")
    frame = results_of(tuner_dir)
    times = frame.groupby("trial_id")["elapsed_time"].max()
    assert times.between(9.9, 10.1).sum() >= 10  # whole trials of 10 s
    assert 59 <= frame["st_tuner_time"].max() <= 61
    assert 11 <= frame["trial_id"].nunique() <= 14
    assert real < 20, real
    clock = layout.read_clock(tuner_dir)
    assert clock is not None and clock[0] == pytest.approx(60, abs=1)  # the clock file counts simulated seconds


@pytest.mark.parametrize("method", ["RS", "ASHA"])
def test_the_same_seeds_replay_the_same_run(method, invoke, gbt_table, results_root):
    frames = []
    for tag in ("once", "twice"):
        result = simulate(invoke, tag, "--method", method, "--random-seed", "7", "--max-wallclock-time", "60")
        assert result.exit_code == 0, result.output
        frames.append(results_of(only_run(results_root, tag, f"{method}-0")))
    columns = ["trial_id", "round", "val_log_loss", "st_tuner_time", *[f"config_{name}" for name in SEARCHED]]
    pd.testing.assert_frame_equal(frames[0][columns], frames[1][columns])
    other = simulate(invoke, "other", "--method", method, "--random-seed", "8", "--max-wallclock-time", "60")
    assert other.exit_code == 0, other.output
    assert not frames[0][columns].equals(results_of(only_run(results_root, "other", f"{method}-0"))[columns])


def test_the_table_seed_of_each_trial_is_drawn_per_trial(invoke, gbt_table, results_root):
    """The same configuration replays different seeds of the table in different trials."""
    result = simulate(invoke, "seeds", "--method", "RS", "--max-wallclock-time", "600")
    assert result.exit_code == 0, result.output
    frame = results_of(only_run(results_root, "seeds", "RS-0"))
    last = frame[frame["round"] == 50]
    repeated = last.groupby([f"config_{name}" for name in SEARCHED])["val_log_loss"].nunique()
    assert (repeated > 1).any()  # one row, several seeds


@pytest.mark.parametrize("surrogate", ["knn", "random_forest"])
def test_a_surrogate_predicts_configurations_outside_the_table(surrogate, invoke, gbt_table, results_root):
    result = simulate(invoke, "outside", "--method", "RS", "--surrogate", surrogate, "--max-wallclock-time", "60")
    assert result.exit_code == 0, result.output
    tuner_dir = only_run(results_root, "outside", "RS-0")
    frame = results_of(tuner_dir)
    outside = configs_of(frame) - row_keys(gbt_table)
    assert len(outside) >= 5
    assert frame["val_log_loss"].notna().all()
    record = layout.read_metadata(tuner_dir)[layout.SIMULATED_KEY]
    assert record["surrogate"] == surrogate
    # Curves from the table's: losses within its range, elapsed time growing with the rounds.
    assert frame["val_log_loss"].between(0.0, 1.5).all()
    assert all(trial["elapsed_time"].is_monotonic_increasing for _, trial in frame.groupby("trial_id"))
    assert record["source"] == "hpobench"
    assert record["table"] == str(gbt_table)
    assert record["manifest"]["benchmark"] == GBT and record["manifest_sha256"]


def test_the_record_says_simulated_and_status_and_results_read_it(invoke, gbt_table, results_root):
    result = simulate(invoke, "read", "--method", "RS", "--method", "ASHA", "--num-seeds", "2")
    assert result.exit_code == 0, result.output
    metadata = layout.read_metadata(only_run(results_root, "read", "ASHA-1"))
    assert metadata["trial_backend"] == "simulated"
    assert metadata[layout.SIMULATED_KEY]["surrogate"] is None
    assert metadata[layout.SIMULATED_KEY]["manifest_sha256"] == metadata["table_sha256"]
    assert RunRecord.from_metadata(metadata).simulated == metadata[layout.SIMULATED_KEY]
    assert "--backend simulated" in metadata["reproduce_command"]
    assert f"--table {gbt_table}" in metadata["reproduce_command"]
    status = invoke("status", "--experiment-tag", "read", "--format", "json")
    assert status.exit_code == 0, status.output
    runs = json.loads(status.output)["runs"]
    assert {(r["method"], r["seed"], r["state"]) for r in runs} == {
        (method, seed, "complete") for method in ("RS", "ASHA") for seed in (0, 1)
    }
    assert all(r["wallclock_used"] == pytest.approx(r["budget"], abs=1) for r in runs)  # simulated seconds
    results = invoke("results", "--experiment-tag", "read", "--format", "json")
    assert results.exit_code == 0, results.output
    summary = json.loads(results.output)["summary"]
    assert {(r["method"], r["seeds"]) for r in summary} == {("RS", 2), ("ASHA", 2)}
    figure = results_root / "read.png"
    plot = invoke("plot", "--experiment-tag", "read", "--output", str(figure))
    assert plot.exit_code == 0, plot.output
    assert figure.stat().st_size > 1000


def test_one_tag_never_mixes_tables(invoke, gbt_table, results_root, tmp_path):
    assert simulate(invoke, "mixed", "--method", "RS").exit_code == 0
    other = write_test_table(tmp_path / "other-table", configs=40, seed=3)
    result = simulate(invoke, "mixed", "--method", "ASHA", "--table", str(other))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: Experiment 'mixed' already has RS-0 (complete) with table_sha256=")
    assert not (results_root / "mixed" / "ASHA-0").exists()


def test_an_interrupted_simulated_run_resumes(invoke, gbt_table, results_root):
    """SIGTERM once tuner.dill is there; the same command continues the simulation from its
    saved state: earlier results kept, simulated time going on up to the budget."""
    command = ["--method", "ASHA", "--max-wallclock-time", "3000", "--n-workers", "4", "--random-seed", "3"]
    run_dir = results_root / "resumed" / "ASHA-0"

    def stop_when_saved() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dirs = layout.tuner_dirs(run_dir)
            if dirs and (dirs[0] / layout.TUNER_FILE).exists():
                time.sleep(0.3)  # some simulated minutes in
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)

    # A signal that comes after the run ended must not end pytest: the launcher restores this.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    killer = threading.Thread(target=stop_when_saved)
    killer.start()
    try:
        first = simulate(invoke, "resumed", *command)
        killer.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert first.exit_code == 128 + signal.SIGTERM, first.output
    tuner_dir = only_run(results_root, "resumed", "ASHA-0")
    before = layout.read_metadata(tuner_dir)
    assert before[layout.STATUS_KEY] == "interrupted"
    stopped_at = results_of(tuner_dir)["st_tuner_time"].max()
    assert stopped_at < 2900
    assert (tuner_dir / layout.TUNER_FILE).stat().st_size < 2_000_000  # the table is not pickled

    second = simulate(invoke, "resumed", *command)
    assert second.exit_code == 0, second.output
    assert only_run(results_root, "resumed", "ASHA-0") == tuner_dir  # the same folder, continued
    after = layout.read_metadata(tuner_dir)
    assert after[layout.STATUS_KEY] == "complete"
    (resume,) = after["hpobench_resumes"]
    assert resume["trials_kept"] > 0
    frame = results_of(tuner_dir)
    assert 2900 < frame["st_tuner_time"].max() <= 3001
    assert frame["trial_id"].max() > resume["trials_kept"]  # new trials after the resume
    # Each trial's levels are reported once and in order, across the resume.
    for _, trial in frame.groupby("trial_id"):
        assert trial["round"].is_monotonic_increasing and trial["round"].is_unique
    assert configs_of(frame) <= row_keys(gbt_table)
