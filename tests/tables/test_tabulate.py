"""`hpobench tabulate`: real trials of gbt_breast_cancer on the fast back-end, read back by Syne
Tune's own deserialize; re-runs, an interrupted tabulation, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import pytest
from user_benchmark import write_benchmark

from hpobench.benchmarks import get_benchmark
from hpobench.errors import UsageError
from hpobench.plan import with_overrides
from hpobench.results import layout
from hpobench.tables.design import make_design
from hpobench.tables.format import ELAPSED_TIME, MANIFEST_FILE, STARTUP_TIME, definition_hash

BENCHMARK = "gbt_breast_cancer"
ROUNDS = 5  # boosting rounds: the levels of the table
TAG = "table-gbt-breast-cancer"


def _tabulate(invoke, *extra: str):
    return invoke("tabulate", "--benchmark", BENCHMARK, "--set", f"boosting_rounds={ROUNDS}", *extra)


def _design(configs: int):
    benchmark, _ = with_overrides(get_benchmark(BENCHMARK), {"boosting_rounds": str(ROUNDS)})
    return benchmark, make_design(benchmark.config_space, configs, "sobol", 0)


def _run_results(root: Path, seed: int) -> pd.DataFrame:
    """Every result row the runs of seed `seed` wrote, whichever folder holds it."""
    run_dir = layout.run_dir(root, TAG, f"TABULATE-{seed}")
    frames = [pd.read_csv(d / layout.RESULTS_FILE) for d in layout.tuner_dirs(run_dir)]
    return pd.concat(frames, ignore_index=True)


def _design_index(row: pd.Series, design) -> int:
    """The design configuration a result row's trial ran (its config_* columns)."""
    (index,) = [
        i
        for i, config in enumerate(design.configs)
        if all(np.isclose(row[f"config_{k}"], v) for k, v in config.items() if isinstance(v, (int, float)))
    ]
    return index


def _read(path: Path):
    return _read_task(path, BENCHMARK)


def _read_task(path: Path, task: str):
    """The table's one task, read by Syne Tune's own deserialize, and the manifest."""
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    tasks = deserialize(str(path))
    assert list(tasks) == [task]
    return tasks[task], json.loads((path / MANIFEST_FILE).read_text())


def test_a_real_tabulation_is_syne_tunes_table_of_what_the_runs_reported(invoke, results_root):
    result = _tabulate(invoke, "--configs", "4", "--seeds", "2", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    table = results_root / "tables" / BENCHMARK
    assert done["table"] == str(table)
    assert (done["configs"], done["seeds"], done["evaluated"], done["skipped"]) == (4, 2, 8, 0)

    blackbox, manifest = _read(table)
    benchmark, design = _design(4)
    # The costs hpobench measured with each result too (a multi-objective benchmark's objectives).
    costs = ["hpobench_train_time", "hpobench_gpu_seconds", "hpobench_peak_host_memory", "hpobench_peak_gpu_memory"]
    assert blackbox.objectives_names == ["val_log_loss", *costs, ELAPSED_TIME, STARTUP_TIME]
    assert blackbox.objectives_evaluations.shape == (4, 2, ROUNDS, 1 + len(costs) + 2)
    assert list(blackbox.fidelity_values) == list(range(1, ROUNDS + 1))
    assert list(blackbox.fidelity_space) == ["round"]
    searched = ["learning_rate", "max_depth", "subsample", "min_samples_leaf", "max_features"]
    assert list(blackbox.hyperparameters.columns) == searched
    expected = pd.DataFrame([{k: c[k] for k in searched} for c in design.configs])
    pd.testing.assert_frame_equal(blackbox.hyperparameters.reset_index(drop=True), expected, check_dtype=False)

    # The metric of every (configuration, seed, level) is what that seed's run reported.
    # Elapsed times count from the decision to start the trial: the first level's includes the
    # start-up before the script's Reporter began timing, and levels lie as far apart as their
    # reports did.
    elapsed = blackbox.objectives_evaluations[..., -2]
    for seed in range(2):
        results = _run_results(results_root, seed)
        for _, row in results.iterrows():
            index = _design_index(row, design)
            level = int(row["round"]) - 1
            assert blackbox.objectives_evaluations[index, seed, level, 0] == pytest.approx(row["val_log_loss"])
            assert blackbox.objectives_evaluations[index, seed, level, 1] == pytest.approx(row["st_worker_time"])
            for column, cost in enumerate(costs[1:], start=2):
                assert blackbox.objectives_evaluations[index, seed, level, column] == pytest.approx(row[cost])
            first = results[(results.trial_id == row.trial_id) & (results["round"] == 1)].iloc[0]
            assert elapsed[index, seed, level] - elapsed[index, seed, 0] == pytest.approx(
                row.st_worker_timestamp - first.st_worker_timestamp, abs=1e-3
            )
            assert elapsed[index, seed, 0] > first.st_worker_time
    startup = blackbox.objectives_evaluations[..., -1]
    assert (np.diff(elapsed, axis=2) > 0).all()  # cumulative, level after level
    assert (startup > 0).all() and np.allclose(startup, elapsed[:, :, :1])
    # The built-in script is deterministic: the seeds repeat the metric, not the times.
    assert np.allclose(blackbox.objectives_evaluations[:, 0, :, 0], blackbox.objectives_evaluations[:, 1, :, 0])

    assert manifest["benchmark"] == BENCHMARK and manifest["definition_hash"] == definition_hash(benchmark)
    assert (manifest["design"], manifest["design_seed"], manifest["configs"], manifest["seeds"]) == ("sobol", 0, 4, 2)
    assert manifest["fidelities"] == list(range(1, ROUNDS + 1))
    assert manifest["experiment_tag"] == TAG and manifest["hardware"]["cpu_count"] >= 1
    assert manifest["versions"]["syne_tune"] and manifest["extra"]["overrides"] == {"boosting_rounds": str(ROUNDS)}
    assert "seeds differ in elapsed and start-up times only" in manifest["extra"]["seeds_meaning"]
    # 2 workers: each run's first two trials start with its back-end, the next ones after reports.
    assert manifest["extra"]["cold_starts"] == [[0, 0], [0, 1], [1, 0], [1, 1]]

    # Again: nothing evaluated, the same table; another design into this tag is refused.
    runs_before = sorted(str(d) for s in range(2) for d in layout.tuner_dirs(results_root / TAG / f"TABULATE-{s}"))
    again = _tabulate(invoke, "--configs", "4", "--seeds", "2")
    assert again.exit_code == 0, again.output
    assert "Nothing to evaluate: the 8 evaluations were already there." in again.output
    assert str(table) in again.output
    assert sorted(str(d) for s in range(2) for d in layout.tuner_dirs(results_root / TAG / f"TABULATE-{s}")) == (
        runs_before
    )
    np.testing.assert_array_equal(_read(table)[0].objectives_evaluations, blackbox.objectives_evaluations)

    other = _tabulate(invoke, "--configs", "8", "--seeds", "2")
    assert other.exit_code == 2
    assert other.output.strip().splitlines() == [
        f"Error: Experiment {TAG!r} already has TABULATE-0 with configs=4, not 8; use another "
        "--experiment-tag, or the options the tag was tabulated with"
    ]
    workers = _tabulate(invoke, "--configs", "4", "--seeds", "2", "--n-workers", "1")
    assert workers.exit_code == 2
    assert workers.output.strip().splitlines() == [
        f"Error: Experiment {TAG!r} already has TABULATE-0 (complete) with n_workers=2, not 1; use another "
        "--experiment-tag, or the options the tag was tabulated with"
    ]
    np.testing.assert_array_equal(_read(table)[0].objectives_evaluations, blackbox.objectives_evaluations)


def test_more_seeds_evaluate_only_the_new_seeds(invoke, results_root, tmp_path):
    assert _tabulate(invoke, "--configs", "2", "--json").exit_code == 0
    elsewhere = tmp_path / "my tables" / "gbt"
    result = _tabulate(invoke, "--configs", "2", "--seeds", "2", "--table", str(elsewhere), "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert (done["evaluated"], done["skipped"], done["seeds"], done["table"]) == (2, 2, 2, str(elsewhere))
    assert _read(elsewhere)[0].objectives_evaluations.shape == (2, 2, ROUNDS, 7)
    assert _read(results_root / "tables" / BENCHMARK)[0].objectives_evaluations.shape == (2, 1, ROUNDS, 7)


def _in_flight_and_saved(run_dir: Path, rounds: int) -> Optional[int]:
    """A trial that tuner.dill knows and that has reported less than half its rounds, if any:
    an interruption now restarts it when the run is continued."""
    import dill

    for saved in run_dir.glob(f"*/{layout.TUNER_FILE}"):
        try:
            with saved.open("rb") as handle:
                known = dill.load(handle).scheduler.trials
        except Exception:  # written meanwhile: the next look reads it whole (os.replace)
            return None
        for trial_id in known:
            out = saved.parent / str(trial_id) / "std.out"
            reports = out.read_text().count('"round"') if out.exists() else 0
            if 0 < reports < rounds // 2:
                return trial_id
    return None


def test_an_interrupted_tabulation_continues_and_ends_with_the_full_table(results_root):
    rounds = 50  # the benchmark's own: a trial trains long enough to be caught running
    command = [
        sys.executable,
        *"-m hpobench tabulate --benchmark gbt_breast_cancer --configs 4 --seeds 2 --n-workers 1".split(),
        *("--results-root", str(results_root)),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run_dir = results_root / TAG / "TABULATE-0"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        running = _in_flight_and_saved(run_dir, rounds)
        if running is not None:
            break
        time.sleep(0.02)
    else:
        process.kill()
        pytest.fail(f"no trial was caught running: {process.communicate()[1]}")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, stderr
    assert not (results_root / "tables" / BENCHMARK).exists()
    (stopped,) = layout.tuner_dirs(run_dir)
    assert layout.read_metadata(stopped)["hpobench_status"] == "interrupted"

    again = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    done = json.loads(again.stdout)
    assert (done["skipped"], done["evaluated"], done["missing"]) == (running, 8 - running, [])
    # Continued in its own folder; the trial it restarted spans the pause, so its configuration
    # was evaluated again, alone, in a new folder of the run.
    (resume,) = layout.read_metadata(stopped)["hpobench_resumes"]
    assert resume["trials_restarted"] == [running]
    first, refill = layout.tuner_dirs(run_dir)
    assert first == stopped and layout.read_metadata(refill)["scheduler_kwargs"]["to_evaluate"] == [running]
    blackbox, _ = _read(results_root / "tables" / BENCHMARK)
    assert blackbox.objectives_evaluations.shape == (4, 2, rounds, 7)  # the metric, 4 costs, 2 times
    assert not np.isnan(blackbox.objectives_evaluations).any()
    assert (np.diff(blackbox.objectives_evaluations[..., -2], axis=2) > 0).all()
    # Every trial in the table ran within one session: its elapsed time is not a pause.
    assert blackbox.objectives_evaluations[..., -2].max() < 60


def test_a_script_that_fails_every_trial_is_one_error_and_writes_no_table(invoke, results_root, tmp_path):
    definition = write_benchmark(tmp_path / "user", "crashes_at_import")
    result = invoke("tabulate", "--benchmark", str(definition), "--configs", "4", "--experiment-tag", "broken")
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()[-1:]
    assert line.startswith("Error: TABULATE-0 failed") and "a_module_that_is_not_installed" in line
    assert "Traceback" not in result.output
    assert not (results_root / "tables").exists()


CRASHES_ABOVE_ZERO = """\
import argparse
import sys

from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
args, _ = parser.parse_known_args()
if args.x > 0:
    sys.exit("x above 0 diverges")
report = Reporter()
for epoch in range(1, args.epochs + 1):
    report(epoch=epoch, loss=(args.x - 0.3) ** 2 + 1 / epoch)
"""


def test_a_script_that_reports_other_levels_is_one_error_and_writes_no_table(invoke, results_root, tmp_path):
    definition = write_benchmark(tmp_path / "user", "skips_level")  # levels 1, 3, 5 for 3 epochs
    result = invoke("tabulate", "--benchmark", str(definition), "--configs", "2", "--experiment-tag", "odd")
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: No configuration of quadratic was evaluated under every seed: no trial reported")
    assert "every level up to epoch=3" in line
    assert not (results_root / "tables").exists()


# Without a limit, the run-local rule applies to the first try only (its first trials do not all
# crash here); a retry of configurations that crashed is no sign of a script that cannot run.
@pytest.mark.parametrize("limit", [[], ["--max-failed-fraction", "1"]], ids=["default", "never-stop"])
def test_configurations_that_crash_are_tried_again_then_left_out_and_listed(invoke, results_root, tmp_path, limit):
    from hpobench.benchmarks import get_benchmark as load

    definition = write_benchmark(tmp_path / "user")
    (definition.parent / "train.py").write_text(CRASHES_ABOVE_ZERO)
    design = make_design(load(str(definition)).config_space, 8, "sobol", 0)
    crashing = [i for i, config in enumerate(design.configs) if config["x"] > 0]
    assert 0 < len(crashing) < 8 and not {0, 1, 2} <= set(crashing)  # the first try runs
    arguments = ("--benchmark", str(definition), "--configs", "8", "--experiment-tag", "crashy", "--json")
    result = invoke("tabulate", *arguments, *limit)
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert done["missing"] == [[i, 0] for i in crashing]
    assert (done["configs"], done["evaluated"]) == (8 - len(crashing), 8 - len(crashing))
    blackbox, manifest = _read_task(results_root / "tables" / "quadratic", "quadratic")
    kept = [i for i in range(8) if i not in crashing]
    assert manifest["extra"]["design_indices"] == kept
    assert list(blackbox.hyperparameters["x"]) == [design.configs[i]["x"] for i in kept]
    # Each crashing configuration was tried twice: once in the run, once in a new folder of it.
    _, retry = layout.tuner_dirs(results_root / "crashy" / "TABULATE-0")
    assert layout.read_metadata(retry)["scheduler_kwargs"]["to_evaluate"] == crashing


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--benchmark", "nope", "--configs", "4"], "Unknown benchmark 'nope'"),
        (["--benchmark", BENCHMARK, "--configs", "0"], "Invalid --configs 0: must be greater than 0"),
        (["--benchmark", BENCHMARK, "--configs", "4", "--seeds", "0"], "Invalid --seeds 0: must be greater than 0"),
        (["--benchmark", BENCHMARK, "--configs", "4", "--design", "lhs"], "Invalid --design 'lhs'"),
        (["--benchmark", BENCHMARK, "--configs", "4", "--engine", "pbs"], "Invalid --engine 'pbs'"),
        (
            ["--benchmark", BENCHMARK, "--configs", "4", "--time-limit", "10"],
            "--time-limit is an option of --engine slurm",
        ),
        (["--benchmark", BENCHMARK, "--configs", "4", "--engine", "slurm", "--mem", "lots"], "Invalid --mem"),
        (["--benchmark", BENCHMARK, "--configs", "4", "--set", "max_depth=3"], "Cannot --set max_depth"),
        (["--configs", "4"], "Give the benchmark to tabulate"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(invoke, results_root, arguments, message):
    result = invoke("tabulate", *arguments)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message in line, line
    assert not (results_root / "tables").exists()


def test_a_table_path_holding_other_files_is_refused_before_any_trial(invoke, results_root, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = _tabulate(invoke, "--configs", "2", "--table", str(mine))
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {mine} is not a table and not empty; a table replaces its folder whole: pass a new or empty folder"
    ]
    assert (mine / "notes.txt").read_text() == "keep me"
    assert not (results_root / TAG).exists()  # no trial ran


def test_another_tags_table_is_not_replaced(invoke, results_root):
    assert _tabulate(invoke, "--configs", "2").exit_code == 0
    table = results_root / "tables" / BENCHMARK
    before = (table / MANIFEST_FILE).read_text()
    result = _tabulate(invoke, "--configs", "2", "--experiment-tag", "other-design")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {table} holds the table of experiment '{TAG}', not 'other-design'; pass --table PATH for this "
        f"tabulation's own table, or --experiment-tag {TAG} to extend that one"
    ]
    assert (table / MANIFEST_FILE).read_text() == before
    assert not (results_root / "other-design").exists()  # refused before any trial


def test_the_tabulation_method_is_internal(invoke):
    from hpobench.methods import get_method, method_names

    listed = invoke("list", "methods")
    assert listed.exit_code == 0 and "TABULATE" not in listed.output
    assert "TABULATE" not in method_names()
    with pytest.raises(UsageError, match="Unknown method 'TABULATE'"):
        get_method("TABULATE")
