"""`hpobench run-local` end to end: real trials of the embedded benchmarks, tiny budgets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hpobench.results import layout

# Stop on a count of results, not on time: trial start-up is slow on a loaded machine.
FAST = ["--set", "epochs=4", "--max-num-evaluations", "6", "--max-wallclock-time", "60"]


def tuner_folders(root: Path, tag: str) -> dict[str, list[Path]]:
    """Run folder name -> its tuner folders (hidden ones, such as the run locks, left out)."""
    return {
        run.name: layout.tuner_dirs(run)
        for run in sorted((root / tag).iterdir())
        if run.is_dir() and not run.name.startswith(".")
    }


def load(root: Path, tuner_dir: Path):
    from syne_tune.experiments import load_experiment

    return load_experiment(str(tuner_dir.relative_to(root)), local_path=str(root))


@pytest.fixture(scope="module")
def two_methods_two_seeds(tmp_path_factory):
    """ASHA and RS, 2 workers, seeds 0 and 1, through the CLI, run once for the module."""
    from typer.testing import CliRunner

    from hpobench.cli import app

    root = tmp_path_factory.mktemp("results")
    args = [
        *(
            "run-local --benchmark mlp_digits --method ASHA --method RS --n-workers 2 --num-seeds 2 --experiment-tag "
            "e2e --random-seed 42 --results-root"
        ).split(),
        str(root),
        *FAST,
    ]
    result = CliRunner().invoke(app, args)
    return root, args, result


@pytest.mark.xdist_group("run_local_e2e")  # one worker makes the module's runs once
def test_runs_every_method_and_seed_into_the_layout(two_methods_two_seeds):
    root, _, result = two_methods_two_seeds
    assert result.exit_code == 0, result.output
    folders = tuner_folders(root, "e2e")
    assert sorted(folders) == ["ASHA-0", "ASHA-1", "RS-0", "RS-1"]
    for run, dirs in folders.items():
        assert len(dirs) == 1
        seed = run.split("-")[1]
        assert dirs[0].name.startswith(f"e2e-mlp_digits-{seed}-")
        assert {"results.csv.zip", "metadata.json", "tuner.dill"} <= {p.name for p in dirs[0].iterdir()}


@pytest.mark.xdist_group("run_local_e2e")  # one worker makes the module's runs once
def test_results_load_with_syne_tunes_loader(two_methods_two_seeds):
    root, _, _ = two_methods_two_seeds
    for run, (tuner_dir,) in tuner_folders(root, "e2e").items():
        experiment = load(root, tuner_dir)
        frame = experiment.results
        assert isinstance(frame, pd.DataFrame) and len(frame) >= 2, run
        assert {"val_accuracy", "epoch", "trial_id", "st_tuner_time"} <= set(frame.columns)
        assert frame["val_accuracy"].between(0, 1).all()
        assert frame["epoch"].max() <= 4  # --set epochs=4 reached the script


@pytest.mark.xdist_group("run_local_e2e")  # one worker makes the module's runs once
def test_metadata_records_what_reproduces_the_run(two_methods_two_seeds):
    root, _args, _ = two_methods_two_seeds
    (tuner_dir,) = tuner_folders(root, "e2e")["ASHA-1"]
    metadata = json.loads((tuner_dir / "metadata.json").read_text())
    assert metadata["benchmark"] == "mlp_digits"
    assert metadata["method"] == "ASHA" and metadata["seed"] == 1
    assert metadata["random_seed_master"] == 42
    assert metadata["random_seed"] == 43  # master + seed
    assert metadata["n_workers"] == 2
    assert metadata["stopping_criterion"] == {"max_wallclock_time": 60.0, "max_num_evaluations": 6}
    assert metadata["overrides"] == {"epochs": 4}
    assert metadata["instance_type"] == "ml.c5.2xlarge"
    assert set(metadata["versions"]) >= {"hpobench", "syne_tune", "torch"}
    assert metadata["versions"]["syne_tune"].startswith("0.16")
    assert isinstance(metadata["command_line"], list)
    assert metadata["reproduce_command"] == (
        "hpobench run-local --experiment-tag e2e --benchmark mlp_digits --method ASHA "
        "--start-seed 1 --num-seeds 1 --n-workers 2 --max-wallclock-time 60 "
        "--max-num-evaluations 6 --random-seed 42 --trials-per-gpu 1 --backend fast --default-first-trial "
        "--set epochs=4"
    )
    assert metadata["hpobench_status"] == "complete"


@pytest.mark.xdist_group("run_local_e2e")  # one worker makes the module's runs once
def test_plain_progress_lines_without_a_terminal(two_methods_two_seeds):
    _, _, result = two_methods_two_seeds
    assert "[1/4] started e2e: mlp_digits ASHA-0" in result.output
    assert "RS-1: complete; best" in result.output


@pytest.mark.xdist_group("run_local_e2e")  # one worker makes the module's runs once
def test_rerun_skips_completed_runs_and_force_reruns(two_methods_two_seeds, invoke):
    root, args, _ = two_methods_two_seeds
    before = tuner_folders(root, "e2e")
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert "ASHA-0: already complete" in again.output
    assert "nothing to do" in again.output
    assert tuner_folders(root, "e2e") == before

    changed = invoke(*args[:-1], "70")  # another budget under the same tag
    assert changed.exit_code == 2
    assert "(complete) with max_wallclock_time=60.0" in changed.output

    forced = invoke(*args, "--force", "--method", "RS")
    assert forced.exit_code == 0, forced.output
    after = tuner_folders(root, "e2e")
    assert len(after["RS-0"]) == 2 and after["RS-0"][0] == before["RS-0"][0]  # nothing lost


def _configs(root: Path, tag: str) -> list[dict]:
    (tuner_dir,) = tuner_folders(root, tag)["RS-0"]
    frame = load(root, tuner_dir).results
    columns = [c for c in frame.columns if c.startswith("config_")]
    firsts = frame.sort_values("trial_id").groupby("trial_id").first()
    return firsts[columns].to_dict("records")


def test_same_random_seed_reproduces_the_suggestions(invoke, results_root):
    base = [
        *(
            "run-local --benchmark mlp_digits --method RS --n-workers 1 --set epochs=1 --max-num-evaluations 3 "
            "--max-wallclock-time 60"
        ).split()
    ]
    for tag, seed in (("rep-a", "5"), ("rep-b", "5"), ("rep-c", "6")):
        result = invoke(*base, "--experiment-tag", tag, "--random-seed", seed)
        assert result.exit_code == 0, result.output
    assert not Path("std.out").exists()  # Syne Tune's GPU probe must not litter the cwd
    a, b, c = (_configs(results_root, tag) for tag in ("rep-a", "rep-b", "rep-c"))
    common = min(len(a), len(b))
    assert common >= 2
    assert a[:common] == b[:common]
    assert a[0] == c[0] and a[1] != c[1]  # the default configuration first, whatever the seed


def test_a_crashing_script_fails_the_run_with_its_error(invoke, monkeypatch):
    # A real crash inside the training script: it parses this variable as an int.
    monkeypatch.setenv("HPOBENCH_TORCH_THREADS", "many")
    result = invoke("run-local", "--benchmark", "mlp_digits", "--method", "RS", *FAST)
    assert result.exit_code == 1, result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1
    assert "RS-0 failed: trial" in error[0] and "ValueError" in error[0] and "std.err" in error[0]


def _descendants_alive(marker: str) -> list[int]:
    import psutil

    alive = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any(marker in part for part in process.info["cmdline"] or []):
                alive.append(process.info["pid"])
        except psutil.Error:
            continue
    return alive


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_cleanly_without_orphans(results_root, signum, code):
    tag = f"sig-{signum}"
    command = [
        sys.executable,
        *(
            "-m hpobench run-local --benchmark mlp_digits --method RS --method ASHA --n-workers 2 --experiment-tag"
        ).split(),
        tag,
        *"--set epochs=30 --max-wallclock-time 120".split(),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = results_root / tag / "RS-0"
    deadline = time.monotonic() + 90
    # Wait until trials are running and have reported.
    while time.monotonic() < deadline:
        outs = list(run_dir.glob("*/*/std.out"))
        if len(outs) >= 2 and any("tune-metric" in p.read_text() for p in outs):
            break
        time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("no trial reported in time")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert "results so far are kept" in stderr
    assert "Traceback" not in stderr
    (tuner_dir,) = layout.tuner_dirs(run_dir)
    assert (tuner_dir / "results.csv.zip").exists()
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "interrupted"
    assert not (results_root / tag / "ASHA-0").exists()  # the sequence stopped
    deadline = time.monotonic() + 30  # reaped within moments; a loaded machine may take longer
    while _descendants_alive(str(tuner_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _descendants_alive(str(tuner_dir)) == []
