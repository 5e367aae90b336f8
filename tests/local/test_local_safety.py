"""`run-local` that nothing can corrupt: paths with spaces, concurrent runs, failed
trials, killed launchers (issue 12). Real trials of the embedded benchmarks, tiny budgets."""

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

# gbt_breast_cancer needs neither torch nor a download: its trials take about a second.
GBT = [
    *(
        "--benchmark gbt_breast_cancer --method RS --set boosting_rounds=3 --max-num-evaluations 6 "
        "--max-wallclock-time 60"
    ).split()
]


@pytest.mark.parametrize("backend", ["fast", "stock"])
def test_a_results_root_with_spaces_reaches_each_trial_intact(invoke, tmp_path, backend):
    root = tmp_path / "my results" / "a  b"
    result = invoke(
        "run-local",
        *GBT,
        *"--n-workers 2 --backend".split(),
        backend,
        "--results-root",
        str(root),
        "--experiment-tag",
        "spaces",
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(root / "spaces" / "RS-0")
    trials = sorted(p for p in tuner_dir.iterdir() if p.name.isdigit())
    reported = [t for t in trials if "[tune-metric]" in (t / "std.out").read_text()]
    assert len(reported) >= 3
    for trial in reported:  # each wrote its own checkpoint (before reporting), in its own folder
        assert (trial / "checkpoints" / "model.pkl").is_file(), trial
    assert not (tmp_path / "my").exists()  # the path cut at the first space
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my results", "work"]


def _tuner_metadata(root: Path, tag: str, run: str) -> dict:
    (tuner_dir,) = layout.tuner_dirs(root / tag / run)
    return layout.read_metadata(tuner_dir) or {}


def test_a_broken_run_is_marked_failed_and_the_next_methods_still_run(invoke, monkeypatch, results_root):
    # Every trial crashes for real: the script parses this variable as an int.
    monkeypatch.setenv("HPOBENCH_TORCH_THREADS", "many")
    result = invoke(
        *(
            "run-local --benchmark mlp_digits --method RS --method ASHA --set epochs=2 --max-wallclock-time 60 "
            "--experiment-tag broken"
        ).split()
    )
    assert result.exit_code == 1, result.output
    for run in ("RS-0", "ASHA-0"):  # the second method ran although the first failed
        metadata = _tuner_metadata(results_root, "broken", run)
        assert metadata["hpobench_status"] == "failed"
        assert metadata["hpobench_trials_failed"] >= 3
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    assert errors[0].startswith("Error: 2 of 2 runs failed: RS-0 failed: trial")
    assert "ValueError" in errors[0] and "its first 3 trials failed before any trial reported a result" in errors[0]
    assert "Traceback" not in result.output


def test_failed_trials_within_the_limit_leave_the_run_complete(invoke, monkeypatch, results_root):
    monkeypatch.setenv("HPOBENCH_TORCH_THREADS", "many")
    result = invoke(
        *(
            "run-local --benchmark mlp_digits --method RS --n-workers 2 --set epochs=2 --max-wallclock-time 12 "
            "--experiment-tag tolerant --max-failed-fraction 1"
        ).split()
    )
    assert result.exit_code == 0, result.output
    metadata = _tuner_metadata(results_root, "tolerant", "RS-0")
    assert metadata["hpobench_status"] == "complete"
    failed, started = metadata["hpobench_trials_failed"], metadata["hpobench_trials_started"]
    assert failed > 3 and failed >= started - 2  # went on past 3; 2 were stopped at the end
    assert f"{failed} of {started} trials failed" in result.output


CRASHY_SCRIPT = """\
import argparse
from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
args, _ = parser.parse_known_args()
if args.x < -0.3:  # about a third of the space, as large batches running out of memory
    raise ValueError(f"diverged at x={args.x}")
report = Reporter()
for epoch in range(1, args.epochs + 1):
    report(epoch=epoch, loss=(args.x - 0.3) ** 2 + 1 / epoch)
"""

CRASHY_DEFINITION = """\
name = "crashy"
script = "train.py"
metric = "loss"
mode = "min"
resource_attr = "epoch"
max_resource_attr = "epochs"
max_wallclock_time = 10
n_workers = 1
instance_type = "ml.c5.xlarge"
points_to_evaluate = [{x = -0.9}, {x = 0.5}, {x = -0.8}, {x = -0.7}, {x = 0.1}]

[config_space]
epochs = 3
x = { kind = "uniform", lower = -1.0, upper = 1.0 }
"""


def test_a_study_where_a_third_of_the_configurations_crash_completes(invoke, tmp_path, results_root):
    """Issue 23: the run was marked failed at its third crash, 3 of 4 started trials (a
    fluke of the first configurations); now it goes on and completes with the crashes
    recorded as failed trials."""
    folder = tmp_path / "crashy"
    folder.mkdir()
    (folder / "train.py").write_text(CRASHY_SCRIPT)
    (folder / "crashy.toml").write_text(CRASHY_DEFINITION)
    result = invoke(
        "run-local",
        "--benchmark",
        str(folder / "crashy.toml"),
        *"--method RS --method ASHA-STOP --experiment-tag crashy --random-seed 3".split(),
    )
    assert result.exit_code == 0, result.output
    for run in ("RS-0", "ASHA-STOP-0"):
        metadata = _tuner_metadata(results_root, "crashy", run)
        assert metadata["hpobench_status"] == "complete", metadata.get("hpobench_error")
        failed, started = metadata["hpobench_trials_failed"], metadata["hpobench_trials_started"]
        assert failed >= 3 and 0.15 < failed / started < 0.5, (failed, started)


def test_the_failed_trial_limit_is_validated(invoke):
    result = invoke("run-local", "--benchmark", "mlp_digits", "--max-failed-fraction", "0")
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid --max-failed-fraction 0.0")


def _run_local_command(tag: str, *extra: str, budget: int = 120) -> list[str]:
    """A real `hpobench run-local` on gbt_breast_cancer, with a long budget by default."""
    return [
        sys.executable,
        *(
            "-m hpobench run-local --benchmark gbt_breast_cancer --method RS --n-workers 1 --set boosting_rounds=50 "
            "--max-wallclock-time"
        ).split(),
        str(budget),
        "--experiment-tag",
        tag,
        *extra,
    ]


def _start_run_local(tag: str, *extra: str, budget: int = 120) -> subprocess.Popen:
    command = _run_local_command(tag, *extra, budget=budget)
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_metadata(root: Path, tag: str, process: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        found = list((root / tag / "RS-0").glob(f"*/{layout.METADATA_FILE}"))
        if found:
            return found[0].parent
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"run-local did not start its tuner: {process.communicate()[1]}")


def test_a_second_launcher_on_the_same_tag_is_refused_naming_the_first(invoke, results_root):
    first = _start_run_local("busy")
    try:
        _wait_for_metadata(results_root, "busy", first)
        second = invoke("run-local", *GBT, "--experiment-tag", "busy")
        assert second.exit_code == 1, second.output
        assert second.output.startswith("Error: Experiment 'busy' under ")
        assert f"being run by another hpobench (pid {first.pid} on " in second.output
        assert "--experiment-tag busy" in second.output  # the other command line
        assert len(list((results_root / "busy" / "RS-0").iterdir())) == 1  # nothing ran twice
        other = invoke("run-local", *GBT, "--experiment-tag", "other")
        assert other.exit_code == 0, other.output  # other tags are free
    finally:
        first.kill()
        first.wait()


def test_a_killed_launcher_shows_as_resumable_and_a_rerun_continues_it(invoke, results_root):
    process = _start_run_local("killed", "--random-seed", "3", budget=10)
    tuner_dir = _wait_for_metadata(results_root, "killed", process)
    deadline = time.monotonic() + 60
    while not (tuner_dir / layout.TUNER_FILE).exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # saved within a second of its first trial's start
    process.send_signal(signal.SIGKILL)
    process.wait()
    status = invoke("status", "--experiment-tag", "killed")
    assert status.exit_code == 0, status.output
    row = next(line for line in status.output.splitlines() if " RS " in line or "│ RS" in line)
    assert "resumable" in row and "running" not in row
    saved = (tuner_dir / layout.TUNER_FILE).read_bytes()
    (tuner_dir / layout.TUNER_FILE).unlink()  # as if killed before its first save
    stale = invoke("status", "--experiment-tag", "killed")
    assert "stale" in stale.output and f"pid {process.pid}" in stale.output and "is gone" in stale.output
    (tuner_dir / layout.TUNER_FILE).write_bytes(saved)
    rerun = invoke(*_run_local_command("killed", "--random-seed", "3", budget=10)[3:])
    assert rerun.exit_code == 0, rerun.output  # the lock died with the process
    assert "already complete" not in rerun.output and "RS-0: resuming at " in rerun.output
    assert layout.tuner_dirs(results_root / "killed" / "RS-0") == [tuner_dir]
    assert layout.read_metadata(tuner_dir)["hpobench_status"] == "complete"


def test_rerunning_without_a_tag_reuses_the_recorded_master_seed(invoke, results_root):
    first = invoke("run-local", *GBT)
    assert first.exit_code == 0, first.output
    again = invoke("run-local", *GBT, "--num-seeds", "2")  # same default tag, one more seed
    assert again.exit_code == 0, again.output
    assert "RS-0: already complete" in again.output
    seeds = {
        run: _tuner_metadata(results_root, "gbt-breast-cancer", run)["random_seed_master"] for run in ("RS-0", "RS-1")
    }
    assert seeds["RS-0"] == seeds["RS-1"]


def _run_with_file_size_limit(limit: int, tag: str) -> subprocess.CompletedProcess:
    """run-local where no file may grow past `limit` bytes: a disk that is full (or fills up)."""
    import resource

    def limit_files() -> None:  # Python ignores SIGXFSZ, so writes fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    command = [
        sys.executable,
        "-m",
        "hpobench",
        "run-local",
        *GBT,
        *"--method ASHA --max-wallclock-time 6 --experiment-tag".split(),
        tag,
    ]
    return subprocess.run(command, preexec_fn=limit_files, capture_output=True, text=True, timeout=120)


def test_a_full_disk_at_start_is_one_line(results_root):
    done = _run_with_file_size_limit(0, "full-at-start")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"Error: Results root {results_root} is not writable (File too large)")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_disk_filling_up_mid_run_fails_the_runs_in_one_line(results_root, invoke):
    done = _run_with_file_size_limit(3000, "full-mid-run")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "File too large" in errors[0]
    assert f"cannot write under {results_root}" in errors[0]
    status = invoke("status", "--experiment-tag", "full-mid-run")  # what was written stays readable
    assert status.exit_code == 0, status.output
    assert "failed" in status.output


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 1.5 MB file system (tmpfs): writes fail with 'No space left on device'."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def test_a_disk_that_fills_up_is_named_and_status_tells_the_truth(invoke, small_disk):
    """Issue 23: the runs ended with an unrelated parse error and metadata saying `running`."""
    root = small_disk / "results"
    result = invoke(
        *(
            "run-local --benchmark gbt_breast_cancer --method RS --method ASHA --n-workers 2 --max-wallclock-time 20 "
            "--results-root"
        ).split(),
        str(root),
        "--experiment-tag",
        "full",
    )
    assert result.exit_code == 1, result.output
    (error,) = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert f"cannot write under {root} (No space left on device" in error, error
    tuner_dirs = [d for run in (root / "full").glob("*-0") for d in layout.tuner_dirs(run)]
    assert tuner_dirs  # the first run started; what it wrote is readable and says why it ended
    for tuner_dir in tuner_dirs:
        metadata = layout.read_metadata(tuner_dir)
        assert metadata is not None and metadata["hpobench_status"] == "failed"
        assert "No space left on device" in metadata["hpobench_error"]
        results = pd.read_csv(tuner_dir / "results.csv.zip")  # whole, with the results it had
        assert {"trial_id", "st_tuner_time", "val_log_loss"} <= set(results.columns) and len(results) > 0
    status = invoke("status", "--experiment-tag", "full", "--results-root", str(root), "--format", "json")
    assert status.exit_code == 0, status.output
    states = {r["method"]: r["state"] for r in json.loads(status.output)["runs"]}
    assert set(states.values()) <= {"failed", "missing"} and "failed" in states.values(), states


def test_data_that_cannot_be_downloaded_is_one_line_before_any_trial(invoke, monkeypatch, tmp_path, results_root):
    # Every download goes to a closed local port: refused at once, with or without internet.
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    data = tmp_path / "no data"
    result = invoke(
        *"run-local --benchmark mlp_fashionmnist --method RS --n-workers 1 --set".split(),
        f"dataset_path={data}",
        *"--set epochs=1 --max-wallclock-time 60 --experiment-tag no-data".split(),
    )
    assert result.exit_code == 2, result.output
    (error,) = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert error.startswith(
        f"Error: mlp_fashionmnist: no Fashion-MNIST data in {data}/FashionMNIST/raw; download failed ("
    )
    # Under 300 characters but for the data path (a test's temporary path is long).
    assert error.endswith("then --set dataset_path=DIR") and len(error.replace(str(data), "D")) < 300
    assert "\\n" not in error and "Error(" not in error  # no Python repr
    assert not list((results_root / "no-data").glob("RS-0/*"))  # no trial was started


@pytest.mark.parametrize(
    ("benchmark", "needs"), [("distilbert_imdb", "no IMDB data in"), ("transformer_wikitext2", "no WikiText-2 data in")]
)
def test_a_benchmark_without_its_data_is_one_short_line_before_any_trial(
    invoke, monkeypatch, tmp_path, results_root, benchmark, needs
):
    """Issue 23: these started trials that each failed, then a 600-character error."""
    monkeypatch.setenv("HPOBENCH_OFFLINE", "1")
    result = invoke(
        "run-local",
        "--benchmark",
        benchmark,
        *"--method RS --set".split(),
        f"dataset_path={tmp_path / 'none'}",
        "--experiment-tag",
        "nodata",
    )
    assert result.exit_code == 2, result.output
    (error,) = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert error.startswith(f"Error: {benchmark}: {needs} {tmp_path / 'none'}")
    assert len(error.replace(str(tmp_path / "none"), "D")) < 300, error
    assert "--set dataset_path=DIR" in error
    assert not list((results_root / "nodata").glob("RS-0/*"))


def test_more_workers_than_the_machine_holds_is_refused_with_the_limit(invoke, results_root):
    from hpobench.local.workers import cpu_count

    result = invoke("run-local", *GBT, "--n-workers", "10000")
    assert result.exit_code == 2, result.output
    assert result.output.startswith(
        f"Error: --n-workers 10000 is more than this machine runs at once ({cpu_count()}: "
        f"{cpu_count()} CPU core(s)); pass --n-workers {cpu_count()} or less"
    )
    assert not (results_root / "gbt-breast-cancer").exists()  # refused before anything ran


def test_a_stated_worker_limit_overrides_the_machines(invoke, results_root):
    from hpobench.local.workers import cpu_count

    wanted = str(cpu_count() + 1)
    result = invoke("run-local", *GBT, "--n-workers", wanted, "--max-workers", wanted)
    assert result.exit_code == 0, result.output
    assert _tuner_metadata(results_root, "gbt-breast-cancer", "RS-0")["n_workers"] == int(wanted)


def test_a_benchmark_default_above_the_limit_is_lowered_with_a_warning(invoke, results_root, caplog):
    result = invoke("run-local", *GBT, "--max-workers", "1")  # gbt_breast_cancer runs 2 by default
    assert result.exit_code == 0, result.output
    assert _tuner_metadata(results_root, "gbt-breast-cancer", "RS-0")["n_workers"] == 1
    assert "gbt_breast_cancer runs 2 workers by default; this machine runs 1 at once" in caplog.text


def test_another_master_seed_on_a_tag_is_refused_even_for_new_seeds(invoke, results_root):
    first = invoke("run-local", *GBT, "--random-seed", "5", "--experiment-tag", "one-master")
    assert first.exit_code == 0, first.output
    other = invoke("run-local", *GBT, "--random-seed", "6", "--num-seeds", "2", "--experiment-tag", "one-master")
    assert other.exit_code == 2, other.output
    assert other.output.startswith("Error: Experiment 'one-master' already uses master random seed 5, not 6")
    assert not (results_root / "one-master" / "RS-1").exists()
