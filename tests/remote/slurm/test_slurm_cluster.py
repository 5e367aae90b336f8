"""`launch-remote --engine slurm`, `tabulate --engine slurm` and `status` on a real one-node Slurm cluster.

Real array jobs run real gbt_breast_cancer cells with budgets of seconds. The cells
that take minutes (one killed by its time limit, one requeued while it runs) are
launched first, by a module fixture, and checked by the last tests, so that they
run while the others do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hpobench.benchmarks import get_benchmark
from hpobench.cli import app
from hpobench.plan import with_overrides
from hpobench.remote.slurm.records import read_submissions
from hpobench.tables.design import make_design
from hpobench.tables.format import MANIFEST_FILE

# One worker runs every test of the session's Slurm cluster (pytest-xdist's loadgroup), so the
# cluster starts once.
pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("slurm")]

LAUNCH = ("launch-remote", "--engine", "slurm", "--benchmark", "gbt_breast_cancer", "--cpus-per-job", "1")
# A tiny tabulation: 4 configurations x 2 seeds of 5 boosting rounds.
TABULATE = ("tabulate", *"--benchmark gbt_breast_cancer --configs 4 --seeds 2 --set boosting_rounds=5".split())
ON_SLURM = (*TABULATE, "--engine", "slurm", "--cpus-per-job", "2", "--json")
TABLE_TAG = "table-gbt-breast-cancer"


def wait_for(check: Callable[[], Any], timeout: float, what: str, cluster: Any = None) -> Any:
    """Poll `check` until it returns something true; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = cluster.logs() if cluster is not None else ""
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{logs}")
        time.sleep(1.0)


def status(invoke_: Callable[..., Any], tag: str, root: Path) -> dict[tuple[str, int], dict[str, Any]]:
    result = invoke_("status", "--experiment-tag", tag, "--results-root", str(root), "--format", "json")
    assert result.exit_code == 0, result.output
    return {(r["method"], r["seed"]): r for r in json.loads(result.output)["runs"]}


def in_states(invoke_: Callable[..., Any], tag: str, root: Path, wanted: set[str], count: int) -> bool:
    runs = status(invoke_, tag, root)
    return len(runs) == count and all(r["state"] in wanted for r in runs.values())


def slurm_command(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True, env=os.environ).stdout


@pytest.fixture(scope="module")
def background(slurm_cluster, tmp_path_factory: pytest.TempPathFactory):
    """Two cells launched before the module's other tests: `timeout` (100 s budget, 1-minute
    limit) and `requeue` (15 s budget, requeued by scontrol once it runs). Their benchmark's
    trials sleep through their epochs: what they test is Slurm's limits and requeues, which
    a CPU-bound benchmark would only make cost minutes of both cores. Yields the launch's
    first arguments, besides the runner and the results root."""
    from user_benchmark import DEFINITION, write_benchmark

    folder = tmp_path_factory.mktemp("slurm-background")
    root = folder / "results"
    definition = write_benchmark(folder / "slow-benchmark", "slow", DEFINITION.replace("epochs = 3", "epochs = 9"))
    launch = ("launch-remote", "--engine", "slurm", "--benchmark", str(definition), "--cpus-per-job", "1")
    env = {**slurm_cluster.env, "HPOBENCH_RESULTS_ROOT": str(root)}
    runner = CliRunner()

    def invoke_(*args: str) -> Any:
        return runner.invoke(app, list(args), env=env)

    previous = os.getcwd()
    os.chdir(folder)  # the cells' working directory (sbatch's default)
    old_conf = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = env["SLURM_CONF"]
    try:
        timed = invoke_(
            *launch, "--method", "RS", "--max-wallclock-time", "100", "--time-limit", "1", "--experiment-tag", "timeout"
        )
        assert timed.exit_code == 0, timed.output
        assert "Warning: --time-limit 1 is shorter than the 100 s budget" in timed.output
        requeued = invoke_(*launch, "--method", "RS", "--max-wallclock-time", "15", "--experiment-tag", "requeue")
        assert requeued.exit_code == 0, requeued.output
        # Requeue once the cell's run has started (its tuner folder exists).
        wait_for(
            lambda: list((root / "requeue" / "RS-0").glob("*/metadata.json")),
            60,
            "the requeue cell to start",
            slurm_cluster,
        )
        task = status(invoke_, "requeue", root)[("RS", 0)]["job"]
        slurm_command("scontrol", "requeue", task)
        yield invoke_, root, launch
    finally:
        for tag in ("timeout", "requeue"):
            names = (
                {
                    json.loads(line)["job_name"]
                    for line in (root / tag / "slurm" / "submissions.jsonl").read_text().splitlines()
                }
                if (root / tag).exists()
                else set()
            )
            for name in names:
                subprocess.run(["scancel", f"--name={name}"], env={**os.environ, **slurm_cluster.env}, check=False)
        os.chdir(previous)
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old_conf


def test_cells_complete_through_slurm_and_a_relaunch_submits_nothing(background, slurm, invoke, results_root):
    # Runs end at 12 results (seconds of training each), the time only a cap.
    args = (
        *LAUNCH,
        *"--method RS --method ASHA --num-seeds 2 --max-num-evaluations 12 --max-wallclock-time 10".split(),
        *"--experiment-tag e2e".split(),
    )
    launched = invoke(*args)
    assert launched.exit_code == 0, launched.output
    assert "Submitted 4 cell(s) as Slurm job" in launched.output
    # Complete on disk first, then the task's process exits: wait for Slurm to say so too.
    wait_for(
        lambda: (
            in_states(invoke, "e2e", results_root, {"complete"}, 4)
            and all(r["job_state"] in ("COMPLETED", "COMPLETING") for r in status(invoke, "e2e", results_root).values())
        ),
        240,
        "4 complete cells",
        slurm,
    )
    runs = status(invoke, "e2e", results_root)
    for (method, seed), run in runs.items():
        assert run["job_state"] in ("COMPLETED", "COMPLETING"), run
        log = Path(run["log"])
        assert log.parent == results_root / "e2e" / "slurm" / "logs" and log.name == f"{run['job']}.out"
        assert f"{method}-{seed}: complete" in log.read_text()
        # Written straight into the results root, as run-local writes it.
        assert Path(run["folder"]).parent == results_root / "e2e" / f"{method}-{seed}"
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert "Submitted 0 cell(s); skipped 4 (4 complete)." in again.output
    changed = invoke(*args[:-4], "--max-wallclock-time", "20", "--experiment-tag", "e2e")
    assert changed.exit_code == 2
    assert "Error: Experiment 'e2e' already has Slurm job " in changed.output
    assert "with max_wallclock_time=10.0, not 20.0; use another --experiment-tag" in changed.output
    results = invoke("results", "--experiment-tag", "e2e", "--format", "json")
    assert results.exit_code == 0, results.output
    methods = json.loads(results.output)["benchmarks"][0]["methods"]
    assert {method: item["seeds"] for method, item in methods.items()} == {"RS": [0, 1], "ASHA": [0, 1]}
    plotted = invoke("plot", "--experiment-tag", "e2e", "-o", str(results_root / "e2e.png"))
    assert plotted.exit_code == 0, plotted.output


def test_methods_from_other_libraries_run_as_slurm_cells(background, slurm, invoke, results_root):
    """A cell imports its method's library in the environment it runs in: Optuna's TPE and
    SMAC3 (whose logging setup must not swallow the cell's own lines) complete."""
    # Ended by its evaluations (4 trials of 2 rounds), not by seconds: on a loaded machine
    # SMAC's start once left a 10 s cell only 2 trials.
    args = (
        *LAUNCH,
        *"--method OPTUNA-TPE --method SMAC --set boosting_rounds=2 --max-num-evaluations 8".split(),
        *"--max-wallclock-time 120 --experiment-tag external".split(),
    )
    launched = invoke(*args)
    assert launched.exit_code == 0, launched.output
    assert "Submitted 2 cell(s) as Slurm job" in launched.output
    wait_for(
        lambda: in_states(invoke, "external", results_root, {"complete", "failed"}, 2), 240, "2 finished cells", slurm
    )
    for (method, seed), run in status(invoke, "external", results_root).items():
        assert run["state"] == "complete", run
        assert f"{method}-{seed}: complete" in Path(run["log"]).read_text()
    results = invoke("results", "--experiment-tag", "external", "--format", "json")
    assert results.exit_code == 0, results.output
    methods = json.loads(results.output)["benchmarks"][0]["methods"]
    assert set(methods) == {"OPTUNA-TPE", "SMAC"}
    for method in ("OPTUNA-TPE", "SMAC"):
        (tuner_dir,) = [p.parent for p in (results_root / "external" / f"{method}-0").glob("*/metadata.json")]
        trials = {p.name for p in tuner_dir.iterdir() if p.is_dir() and p.name.isdigit()}
        assert len(trials) > 2, (method, trials)  # it went on suggesting after results came in


def test_multi_objective_cells_record_both_objectives(background, slurm, invoke, results_root):
    """MO-RS on gbt_breast_cancer_mo, and RS on the same benchmark scalarized (the cell's
    command line carries --scalarization), as Slurm cells."""
    args = (
        *"launch-remote --engine slurm --benchmark gbt_breast_cancer_mo --cpus-per-job 1".split(),
        *"--method MO-RS --method RS --scalarization weighted:0.5,0.5 --max-num-evaluations 6".split(),
        *"--max-wallclock-time 60 --experiment-tag mo".split(),
    )
    launched = invoke(*args)
    assert launched.exit_code == 0, launched.output
    assert "Submitted 2 cell(s) as Slurm job" in launched.output
    wait_for(lambda: in_states(invoke, "mo", results_root, {"complete", "failed"}, 2), 240, "2 finished cells", slurm)
    for (method, seed), run in status(invoke, "mo", results_root).items():
        assert run["state"] == "complete", run
        (tuner_dir,) = [p.parent for p in (results_root / "mo" / f"{method}-{seed}").glob("*/metadata.json")]
        results = pd.read_csv(tuner_dir / "results.csv.zip")
        assert results["val_log_loss"].notna().all() and results["hpobench_train_time"].notna().all()
        metadata = json.loads((tuner_dir / "metadata.json").read_text())
        assert metadata["benchmark"] == "gbt_breast_cancer_mo"
        assert metadata["scalarization"] == "weighted:0.5,0.5"
    (rs_dir,) = [p.parent for p in (results_root / "mo" / "RS-0").glob("*/metadata.json")]
    assert pd.read_csv(rs_dir / "results.csv.zip")["hpobench_scalarized"].notna().all()


def test_a_cancelled_cell_alone_is_resubmitted(background, slurm, invoke, results_root):
    args = (*LAUNCH, "--method", "RS", "--num-seeds", "2", "--max-wallclock-time", "60", "--experiment-tag", "cancel")
    assert invoke(*args).exit_code == 0
    wait_for(lambda: in_states(invoke, "cancel", results_root, {"running"}, 2), 60, "2 running cells", slurm)
    cancelled = status(invoke, "cancel", results_root)[("RS", 1)]["job"]
    slurm_command("scancel", cancelled)
    wait_for(lambda: status(invoke, "cancel", results_root)[("RS", 1)]["state"] == "failed", 60, "the cancelled cell")
    assert status(invoke, "cancel", results_root)[("RS", 1)]["job_state"] == "CANCELLED"
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert "Submitted 1 cell(s) as Slurm job" in again.output and "skipped 1 (1 running)" in again.output
    rows = [line for line in again.output.splitlines() if "│ RS" in line]
    assert "resubmitted" in rows[1] and "skipped: running" in rows[0]
    runs = status(invoke, "cancel", results_root)
    assert runs[("RS", 1)]["job"] != cancelled and runs[("RS", 1)]["state"] in ("pending", "running")
    name = json.loads((results_root / "cancel" / "slurm" / "submissions.jsonl").read_text().splitlines()[0])["job_name"]
    slurm_command("scancel", f"--name={name}")


def test_status_asks_slurm_once_whatever_the_number_of_cells(
    background, slurm, invoke, results_root, tmp_path, monkeypatch
):
    """Six cells held in the queue; squeue and sacct wrapped by scripts that count their
    calls, then run the real ones."""
    args = (
        *LAUNCH,
        *(
            "--method RS --method BO --num-seeds 3 --max-wallclock-time 10 --experiment-tag once --slurm-option hold"
        ).split(),
    )
    launched = invoke(*args)
    assert launched.exit_code == 0, launched.output
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for command in ("squeue", "sacct"):
        real = subprocess.run(["which", command], capture_output=True, text=True).stdout.strip()
        (wrappers / command).write_text(f'#!/bin/sh\necho {command} >> "{tmp_path}/calls"\nexec {real} "$@"\n')
        (wrappers / command).chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}:{os.environ['PATH']}")
    runs = status(invoke, "once", results_root)
    assert (tmp_path / "calls").read_text().split() == ["squeue"]
    assert {(r["state"], r["job_state"]) for r in runs.values()} == {("pending", "PENDING (JobHeldUser)")}
    assert len(runs) == 6
    name = json.loads((results_root / "once" / "slurm" / "submissions.jsonl").read_text())["job_name"]
    slurm_command("scancel", f"--name={name}")
    from hpobench.remote.slurm import queue

    # A task Slurm no longer lists is asked of sacct, once; this cluster keeps no accounting.
    view = queue.query("hpobench-none", ["99999_0", "99999_1"])
    assert view.tasks == {} and view.accounting is False
    assert (tmp_path / "calls").read_text().split() == ["squeue", "squeue", "sacct"]


def test_a_failed_cell_shows_its_last_error_line(background, slurm, invoke, results_root, tmp_path):
    from user_benchmark import write_benchmark

    definition = write_benchmark(tmp_path / "mine", "crashes_at_import")
    launched = invoke(
        *"launch-remote --engine slurm --benchmark".split(),
        str(definition),
        *"--method RS --max-wallclock-time 30 --cpus-per-job 1 --experiment-tag crash".split(),
    )
    assert launched.exit_code == 0, launched.output
    wait_for(
        lambda: (
            status(invoke, "crash", results_root)[("RS", 0)]["state"] == "failed"
            and status(invoke, "crash", results_root)[("RS", 0)]["job_state"] != "RUNNING"
        ),
        120,
        "the failed cell",
        slurm,
    )  # the run fails on disk before its process exits
    run = status(invoke, "crash", results_root)[("RS", 0)]
    assert run["job_state"] == "FAILED", run
    assert "a_module_that_is_not_installed" in run["note"], run
    assert "Error: RS-0 failed" in Path(run["log"]).read_text()


def test_bad_partition_or_a_refused_job_is_one_line_and_records_nothing(background, slurm, invoke, results_root):
    args = (*LAUNCH, "--method", "RS", "--max-wallclock-time", "10", "--experiment-tag", "refused")
    result = invoke(*args, "--partition", "nosuch")
    assert result.exit_code == 2
    assert result.output.strip() == "Error: Unknown Slurm partition 'nosuch'; this cluster has: debug (see `sinfo -s`)"
    result = invoke(*args, "--mem", "100000G")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Slurm refused the job: sbatch: error:"), result.output
    assert len(result.output.strip().splitlines()) == 1
    slurm_dir = results_root / "refused" / "slurm"
    assert not (slurm_dir / "submissions.jsonl").exists() and not list(slurm_dir.glob("*.sh"))


def test_a_missing_extra_is_refused_before_any_cell_is_submitted(background, slurm, invoke, results_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "dehb", None)  # as if not installed in the venv the cells run
    result = invoke(*LAUNCH, *"--method RS --method DEHB --max-wallclock-time 10 --experiment-tag no-dehb".split())
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith("Error: Method DEHB needs dehb, which is not installed")
    assert len(result.output.strip().splitlines()) == 1
    assert not (results_root / "no-dehb" / "slurm").exists()


def test_a_launch_of_another_method_into_a_tag_shares_its_master_seed(background, slurm, invoke, results_root):
    base = (*LAUNCH, *"--max-wallclock-time 2 --experiment-tag mixed --method".split())
    try:
        for method in ("RS", "ASHA"):
            launched = invoke(*base, method)
            assert launched.exit_code == 0, launched.output
        submissions = read_submissions(results_root / "mixed" / "slurm")
        assert [s.cells for s in submissions] == [(("RS", 0),), (("ASHA", 0),)]
        assert len({s.setup["random_seed_master"] for s in submissions}) == 1
    finally:
        for name in {s.job_name for s in read_submissions(results_root / "mixed" / "slurm")}:
            subprocess.run(["scancel", f"--name={name}"], check=False)


def _read_table(path: Path):
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    (blackbox,) = deserialize(str(path)).values()
    return blackbox, json.loads((path / MANIFEST_FILE).read_text())


def _cells(output: str) -> dict[int, dict]:
    return {cell["seed"]: cell for cell in json.loads(output)["cells"]}


def test_a_tabulation_is_one_array_and_the_command_run_again_writes_the_local_table(
    background, slurm, invoke, results_root
):
    """`tabulate --engine slurm`: a tiny tabulation (4 configurations x 2 seeds, 5 boosting rounds) as one
    array; its table, written by the command run again, equals a local tabulation of the same design."""
    # Held in the queue: the command run again finds both cells pending and submits nothing.
    held = invoke(*ON_SLURM, "--slurm-option", "hold")
    assert held.exit_code == 0, held.output
    done = json.loads(held.output)
    assert done["table"] is None
    assert {seed: cell["action"] for seed, cell in _cells(held.output).items()} == {0: "submitted", 1: "submitted"}
    job = done["cells"][0]["job"].split("_")[0]
    try:
        again = invoke(*ON_SLURM)
        assert again.exit_code == 0, again.output
        assert {s: (c["state"], c["action"]) for s, c in _cells(again.output).items()} == {
            0: ("pending", "skipped"),
            1: ("pending", "skipped"),
        }
        (submission,) = read_submissions(results_root / TABLE_TAG / "slurm")
        assert submission.cells == (("TABULATE", 0), ("TABULATE", 1))
        # The design travels as arguments (drawn again in the cell), and a cell has no budget: no --time.
        script = Path(submission.script).read_text()
        assert "--design sobol --configs 4 --design_seed 0 --design_sha256 " in script
        assert "#SBATCH --time" not in script
    except BaseException:
        slurm_command("scancel", job)  # never leave the session's cluster a held array
        raise
    slurm_command("scontrol", "release", job)

    # Meanwhile, the same design tabulated on this machine, into a tag and table of its own.
    local_table = results_root / "local-table"
    local = invoke(*TABULATE, "--experiment-tag", "local", "--table", str(local_table), "--json")
    assert local.exit_code == 0, local.output

    wait_for(
        lambda: all(r["state"] == "complete" for r in status(invoke, TABLE_TAG, results_root).values()),
        120,
        "2 complete cells",
        slurm,
    )
    collected = invoke(*ON_SLURM)
    assert collected.exit_code == 0, collected.output
    done = json.loads(collected.output)
    table = results_root / "tables" / "gbt_breast_cancer"
    assert done["table"] == str(table)
    assert (done["configs"], done["seeds"], done["fidelities"], done["skipped"], done["missing"]) == (4, 2, 5, 8, [])
    assert {s: (c["state"], c["action"]) for s, c in _cells(collected.output).items()} == {
        0: ("complete", "skipped"),
        1: ("complete", "skipped"),
    }

    blackbox, manifest = _read_table(table)
    mine, _ = _read_table(local_table)
    benchmark, _ = with_overrides(get_benchmark("gbt_breast_cancer"), {"boosting_rounds": "5"})
    design = make_design(benchmark.config_space, 4, "sobol", 0)
    searched = list(blackbox.hyperparameters.columns)
    expected = pd.DataFrame([{k: c[k] for k in searched} for c in design.configs])
    pd.testing.assert_frame_equal(blackbox.hyperparameters.reset_index(drop=True), expected, check_dtype=False)
    pd.testing.assert_frame_equal(blackbox.hyperparameters, mine.hyperparameters)
    # Configurations, seeds, levels, and every metric and measured cost the results carry.
    assert blackbox.objectives_evaluations.shape == mine.objectives_evaluations.shape
    assert blackbox.objectives_evaluations.shape[:3] == (4, 2, 5)
    assert blackbox.objectives_names == mine.objectives_names
    assert {"val_log_loss", "hpobench_train_time", "elapsed_time"} <= set(blackbox.objectives_names)
    assert list(blackbox.fidelity_values) == list(mine.fidelity_values) == [1, 2, 3, 4, 5]
    # The built-in script is deterministic: the cells reported what this machine's trials did.
    np.testing.assert_allclose(blackbox.objectives_evaluations[..., 0], mine.objectives_evaluations[..., 0])
    assert (manifest["experiment_tag"], manifest["design"], manifest["seeds"]) == (TABLE_TAG, "sobol", 2)

    # Once more: nothing submitted, the same table.
    last = invoke(*ON_SLURM)
    assert last.exit_code == 0, last.output
    assert {c["action"] for c in _cells(last.output).values()} == {"skipped"}
    assert len(read_submissions(results_root / TABLE_TAG / "slurm")) == 1
    np.testing.assert_array_equal(_read_table(table)[0].objectives_evaluations, blackbox.objectives_evaluations)


def test_a_cell_killed_by_its_time_limit_shows_timeout_and_resumes_when_launched_again(background, slurm_cluster):
    invoke_, root, launch = background
    from hpobench.remote.slurm import queue

    wait_for(
        lambda: status(invoke_, "timeout", root)[("RS", 0)]["state"] == "failed",
        240,
        "the time limit to end the cell",
        slurm_cluster,
    )
    run = status(invoke_, "timeout", root)[("RS", 0)]
    assert run["job_state"] == "TIMEOUT", run
    assert queue.state_from_log(Path(run["log"])) == "TIMEOUT"  # also without squeue or sacct
    (tuner_dir,) = (root / "timeout" / "RS-0").iterdir()
    # Slurm's SIGTERM at the limit: the run is never counted as a result, and can be resumed.
    assert json.loads((tuner_dir / "metadata.json").read_text())["hpobench_status"] == "interrupted"
    assert "budget left; run the same command again to resume it" in run["note"]
    # The next launch resubmits it (with a longer limit here), and it continues where it stopped.
    again = invoke_(
        *launch, "--method", "RS", "--max-wallclock-time", "100", "--time-limit", "3", "--experiment-tag", "timeout"
    )
    assert again.exit_code == 0, again.output
    assert "resubmitted" in again.output
    wait_for(
        lambda: status(invoke_, "timeout", root)[("RS", 0)]["state"] == "complete",
        240,
        "the resubmitted cell to complete",
        slurm_cluster,
    )
    assert list((root / "timeout" / "RS-0").iterdir()) == [tuner_dir]
    metadata = json.loads((tuner_dir / "metadata.json").read_text())
    (resumed,) = metadata["hpobench_resumes"]
    assert resumed["budget_spent_before"] >= 40
    # The budget, not a budget and a half: the resumed run spent what was left, not a whole one
    # again (no window on the seconds a loaded machine adds to stopping).
    assert 100 <= metadata["hpobench_wallclock_time"] < resumed["budget_spent_before"] + 100


def test_a_requeued_cell_resumes_and_only_its_complete_run_counts(background, slurm_cluster):
    invoke_, root, _ = background
    # Slurm holds a requeued task about two minutes (BeginTime) before it starts again.
    wait_for(
        lambda: status(invoke_, "requeue", root)[("RS", 0)]["state"] == "complete",
        400,
        "the requeued cell to complete",
        slurm_cluster,
    )
    (folder,) = (root / "requeue" / "RS-0").iterdir()  # continued in its own folder
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["hpobench_status"] == "complete" and len(metadata["hpobench_resumes"]) == 1
    run = status(invoke_, "requeue", root)[("RS", 0)]
    assert run["folder"] == str(folder)
    assert "DUE TO JOB REQUEUE" in Path(run["log"]).read_text()
    results = invoke_("results", "--experiment-tag", "requeue", "--format", "json")
    assert json.loads(results.output)["benchmarks"][0]["methods"]["RS"]["seeds"] == [0]
