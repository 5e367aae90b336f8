"""The fast (fork server) and stock trial back-ends: same guarantees, real trials.

Back-end tests drive Syne Tune's trial-backend interface directly with small
scripts under tests/assets/; end-to-end tests run `hpobench run-local` on
`mlp_digits` with tiny budgets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from hpobench.local.forkserver.backend import FastLocalBackend
from hpobench.local.forkserver.imports import script_imports

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PROBE = ASSETS / "probe.py"
BACKENDS = ["fast", "stock"]
TRIAL_TIMEOUT = 90.0


def make_backend(kind: str, script: Path, root: Path) -> Any:
    from syne_tune.backend import LocalBackend

    cls = FastLocalBackend if kind == "fast" else LocalBackend
    backend = cls(entry_point=str(script))
    backend.set_path(str(root / "trials"))
    return backend


@pytest.fixture
def backend_factory(tmp_path: Path):
    made: list[Any] = []

    def make(kind: str, script: Path = PROBE) -> Any:
        backend = make_backend(kind, script, tmp_path)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.stop_all()  # as the Tuner does at its end; ends the fork server


def wait_until_done(backend: Any, trial_ids: list[int]) -> dict[int, tuple[str, list[dict]]]:
    """Poll like the Tuner until every trial has ended; returns status and all results."""
    results: dict[int, list[dict]] = {t: [] for t in trial_ids}
    deadline = time.monotonic() + TRIAL_TIMEOUT
    while True:
        statuses, new = backend.fetch_status_results(trial_ids)
        for trial_id, result in new:
            results[trial_id].append(result)
        if all(status != "InProgress" for _, status in statuses.values()):
            return {t: (statuses[t][1], results[t]) for t in trial_ids}
        assert time.monotonic() < deadline, f"trials still running: {statuses}"
        time.sleep(0.05)


def wait_for_result(backend: Any, trial_id: int) -> dict:
    deadline = time.monotonic() + TRIAL_TIMEOUT
    while time.monotonic() < deadline:
        _, new = backend.fetch_status_results([trial_id])
        if new:
            return new[0][1]
        time.sleep(0.05)
    raise AssertionError(f"trial {trial_id} reported nothing; stderr: {backend.stderr(trial_id)}")


# ---------------------------------------------------------------- back-end level


@pytest.mark.parametrize("kind", BACKENDS)
def test_trial_reports_logs_and_checkpoint_folder(kind, backend_factory):
    backend = backend_factory(kind)
    trial = backend.start_trial({"mode": "report", "steps": 3})
    status, results = wait_until_done(backend, [trial.trial_id])[trial.trial_id]
    assert status == "Completed"
    assert [r["step"] for r in results] == [1, 2, 3]
    folder = backend.trial_path(trial.trial_id)
    assert sum("[tune-metric]" in line for line in backend.stdout(trial.trial_id)) == 3
    assert "probe stderr line" in (folder / "std.err").read_text()
    assert (folder / "checkpoints" / "probe.txt").read_text() == "report"
    assert json.loads((folder / "config.json").read_text()) == {"mode": "report", "steps": 3}
    assert results[0]["argv0"] == str(PROBE)  # the script runs as itself, not via a wrapper
    assert results[0]["cwd"] == os.getcwd()


@pytest.mark.parametrize("kind", BACKENDS)
def test_crashing_trial_fails_with_its_traceback(kind, backend_factory):
    backend = backend_factory(kind)
    trial = backend.start_trial({"mode": "crash", "steps": 1})
    status, results = wait_until_done(backend, [trial.trial_id])[trial.trial_id]
    assert status == "Failed"
    assert len(results) == 1  # what it reported before crashing still counts
    stderr = "".join(backend.stderr(trial.trial_id))
    assert "RuntimeError: probe crashed on purpose" in stderr
    assert "Traceback" in stderr


@pytest.mark.parametrize("kind", BACKENDS)
def test_script_that_fails_at_import_gives_failed_trials(kind, backend_factory):
    backend = backend_factory(kind, ASSETS / "import_fails.py")
    first = backend.start_trial({"x": 1})
    second = backend.start_trial({"x": 2})
    done = wait_until_done(backend, [first.trial_id, second.trial_id])
    for trial_id, (status, results) in done.items():
        assert status == "Failed" and results == []
        stderr = "".join(backend.stderr(trial_id))
        assert "ModuleNotFoundError: No module named 'hpobench_no_such_module'" in stderr
        assert "never reached" not in "".join(backend.stdout(trial_id))


@pytest.mark.parametrize("mode", ["sleep", "session"])
@pytest.mark.parametrize("kind", BACKENDS)
def test_stopped_trial_and_its_children_are_killed(kind, mode, backend_factory):
    # "session": the child left the trial's process group; a group kill misses it.
    backend = backend_factory(kind)
    trial = backend.start_trial({"mode": mode})
    first = wait_for_result(backend, trial.trial_id)
    pids = [first["pid"], first["child_pid"]]
    assert all(psutil.pid_exists(pid) for pid in pids)
    backend.stop_trial(trial.trial_id)
    status, _ = wait_until_done(backend, [trial.trial_id])[trial.trial_id]
    assert status == "Stopped"
    assert _all_gone(pids), f"still running: {[p for p in pids if _alive(p)]}"


@pytest.mark.parametrize("kind", BACKENDS)
def test_each_trial_sees_its_own_cuda_visible_devices(kind, backend_factory):
    backend = backend_factory(kind)
    backend._prepare_for_schedule(num_gpus=2)  # GPU rotation as on a two-GPU machine
    trials = [backend.start_trial({"mode": "report", "steps": 1}) for _ in range(2)]
    done = wait_until_done(backend, [t.trial_id for t in trials])
    seen = sorted(results[0]["cuda_visible_devices"] for _, results in done.values())
    assert seen == ["0", "1"]


@pytest.mark.parametrize("kind", BACKENDS)
def test_state_changed_by_one_trial_does_not_reach_the_next(kind, backend_factory):
    backend = backend_factory(kind)
    mutator = backend.start_trial({"mode": "mutate", "steps": 1})
    wait_until_done(backend, [mutator.trial_id])
    later = [backend.start_trial({"mode": "report", "steps": 1}) for _ in range(2)]
    done = wait_until_done(backend, [t.trial_id for t in later])
    first, second = (done[t.trial_id][1][0] for t in later)
    for seen in (first, second):
        assert seen["env_leak"] == "" and seen["module_leak"] == "" and not seen["path_leak"]
        assert seen["cwd"] == os.getcwd()
    # A new process draws fresh seeds; forked trials must not share the server's.
    assert first["python_random"] != second["python_random"]
    assert first["numpy_random"] != second["numpy_random"]


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_module_only_some_trials_import_never_reaches_the_others(kind, backend_factory, monkeypatch):
    """By default (the fork server's learning is opt-in, HPOBENCH_FORK_SERVER_LEARN=1, and
    tested on its own below) the server imports only what every run of the script imports."""
    monkeypatch.delenv("HPOBENCH_FORK_SERVER_LEARN", raising=False)
    backend = backend_factory(kind)
    plugin = backend.start_trial({"mode": "plugin", "steps": 1})
    (_, (seen,)) = wait_until_done(backend, [plugin.trial_id])[plugin.trial_id]
    assert seen["plugin_loaded"] is True
    assert "Beautiful is better than ugly" in "".join(backend.stdout(plugin.trial_id))
    others = [backend.start_trial({"mode": "report", "steps": 1}) for _ in range(2)]
    for other in others:  # later trials, started together
        (_, (seen,)) = wait_until_done(backend, [other.trial_id])[other.trial_id]
        assert seen["plugin_loaded"] is False


@pytest.mark.parametrize("kind", BACKENDS)
def test_startup_variables_set_after_the_first_trial_reach_later_trials(kind, backend_factory, monkeypatch):
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    backend = backend_factory(kind)
    first = backend.start_trial({"mode": "report", "steps": 1})
    (_, (before,)) = wait_until_done(backend, [first.trial_id])[first.trial_id]
    assert before["unbuffered"] is False and before["pythonpath_seen"] is False
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(["/tmp/hpobench-probe-pythonpath", os.environ.get("PYTHONPATH", "")])
    )
    later = backend.start_trial({"mode": "report", "steps": 1})
    (_, (after,)) = wait_until_done(backend, [later.trial_id])[later.trial_id]
    assert after["unbuffered"] is True and after["pythonpath_seen"] is True


def test_fork_server_learns_modules_that_trials_import_at_run_time(backend_factory, monkeypatch):
    monkeypatch.setenv("HPOBENCH_FORK_SERVER_LEARN", "1")  # opt-in
    backend = backend_factory("fast")
    seen = []
    for _ in range(6):  # the server imports what it learned between requests
        trial = backend.start_trial({"mode": "lazy"})
        _, results = wait_until_done(backend, [trial.trial_id])[trial.trial_id]
        seen.append(results[0]["preloaded"])
        if seen[-1]:
            break
        time.sleep(0.2)
    assert seen[0] is False and seen[-1] is True, seen


def test_trials_of_a_dead_fork_server_fail_and_a_new_server_takes_over(backend_factory):
    backend = backend_factory("fast")
    trial = backend.start_trial({"mode": "sleep"})
    seen = wait_for_result(backend, trial.trial_id)
    os.kill(backend._client.process.pid, signal.SIGKILL)
    status, _ = wait_until_done(backend, [trial.trial_id])[trial.trial_id]
    assert status == "Failed"
    assert "hpobench fork server ended" in backend.stderr(trial.trial_id)[-1]
    assert _all_gone([seen["pid"], seen["child_pid"]])  # the trial died with its server
    again = backend.start_trial({"mode": "report", "steps": 1})
    assert wait_until_done(backend, [again.trial_id])[again.trial_id][0] == "Completed"


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _has_cuda(), reason="needs a CUDA GPU")
def test_forked_trials_use_the_gpu_they_are_given(backend_factory, monkeypatch):
    """The server never opens CUDA, so a forked child can; each sees only its devices."""
    backend = backend_factory("fast", ASSETS / "cuda_probe.py")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with_gpu = backend.start_trial({"x": 1})
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    without = backend.start_trial({"x": 2})
    done = wait_until_done(backend, [with_gpu.trial_id, without.trial_id])
    assert done[with_gpu.trial_id][0] == "Completed", backend.stderr(with_gpu.trial_id)
    seen = done[with_gpu.trial_id][1][0]
    assert (seen["devices"], seen["value"], seen["visible"]) == (1, 64.0**3, "0")
    assert done[without.trial_id][1][0]["devices"] == 0
    # The server may map the driver library (importing torch can load it), but it
    # must never create a CUDA context: the driver lists every process that has one.
    server_pid = backend._client.process.pid
    assert backend._client.process.poll() is None  # it did not retire over CUDA
    contexts = subprocess.run(
        ["nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert str(server_pid) not in contexts


def test_fork_server_ends_when_the_tuner_dies_hard(tmp_path, this_hpobench_env):
    """SIGKILL leaves no cleanup code running: the server sees its stdin close."""
    code = f"""
import time
from hpobench.local.forkserver.backend import FastLocalBackend
backend = FastLocalBackend(entry_point={str(PROBE)!r})
backend.set_path({str(tmp_path / "trials")!r})
backend.start_trial({{"mode": "sleep"}})
time.sleep(300)
"""
    tuner = subprocess.Popen([sys.executable, "-c", code], env=this_hpobench_env)
    try:
        stdout = tmp_path / "trials" / "0" / "std.out"
        _wait_for(lambda: stdout.exists() and "[tune-metric]" in stdout.read_text(), 90)
        report = json.loads(stdout.read_text().split("[tune-metric]: ")[1].splitlines()[0])
        processes = psutil.Process(tuner.pid).children(recursive=True)
        assert len(processes) >= 3  # server, trial, trial's child
        assert {report["pid"], report["child_pid"]} <= {p.pid for p in processes}
    finally:
        tuner.kill()
        tuner.wait()
    assert _all_gone([p.pid for p in processes])


def test_preimports_cover_imports_inside_functions(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "from __future__ import annotations\nimport numpy as np\nfrom torch import nn\n"
        "def main():\n    from syne_tune import Reporter\n    from . import sibling\n"
    )
    assert script_imports(script) == [
        "__future__",
        "__future__.annotations",
        "numpy",
        "torch",
        "torch.nn",
        "syne_tune",
        "syne_tune.Reporter",
    ]


def test_preimports_leave_out_imports_that_only_some_runs_reach(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import json\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy\n"
        "def main(args):\n    import csv\n    if args.plugin:\n        import this\n"
        "    else:\n        import tabnanny\n    value = __import__('x') if args.x else 1\n"
        "if __name__ == '__main__':\n    import argparse\n"
    )
    assert script_imports(script) == ["json", "typing", "typing.TYPE_CHECKING", "csv", "argparse"]


# ---------------------------------------------------------------- run-local, end to end


def test_results_have_the_same_format_with_both_backends(invoke, results_root):
    import dill
    import pandas as pd

    columns = {}
    for kind in BACKENDS:
        result = invoke(
            *"run-local --benchmark mlp_digits --method ASHA --experiment-tag".split(),
            f"format-{kind}",
            *"--max-wallclock-time 90 --max-num-evaluations 3 --n-workers 1 --set epochs=3".split(),
            *"--random-seed 7 --backend".split(),
            kind,
        )
        assert result.exit_code == 0, result.output
        (tuner_dir,) = results_root.glob(f"format-{kind}/ASHA-0/*/")
        metadata = json.loads((tuner_dir / "metadata.json").read_text())
        assert metadata["hpobench_status"] == "complete"
        assert metadata["backend"] == ("FastLocalBackend" if kind == "fast" else "StockLocalBackend")
        frame = pd.read_csv(tuner_dir / "results.csv.zip")
        assert len(frame) > 0, kind
        columns[kind] = list(frame.columns)
        with open(tuner_dir / "tuner.dill", "rb") as f:
            assert dill.load(f).trial_backend.trial_ids  # the saved tuner reloads
        trial = tuner_dir / "0"
        assert (trial / "std.out").exists() and (trial / "std.err").exists()
        assert (trial / "checkpoints" / "checkpoint.pt").exists()
    assert columns["fast"] == columns["stock"]


STOPS = [
    # (back-end, how the run is stopped, its exit code, its message)
    ("fast", "SIGTERM", 143, "Stopped by SIGTERM"),
    ("stock", "SIGTERM", 143, "Stopped by SIGTERM"),
    ("fast", "Ctrl-C", 130, "Interrupted (Ctrl-C)"),
]


@pytest.mark.parametrize(("kind", "how", "code", "message"), STOPS)
def test_stopping_a_run_with_trials_in_flight_leaves_no_processes(
    kind, how, code, message, results_root, this_hpobench_env
):
    command = [
        sys.executable,
        *(
            "-m hpobench run-local --benchmark mlp_digits --method RS --experiment-tag stopped --max-wallclock-time "
            "120 --set epochs=200 --random-seed 3 --backend"
        ).split(),
        kind,
    ]
    # Its own session, so that Ctrl-C can be sent to its whole process group as a terminal does.
    run = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=this_hpobench_env,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _reporting_trials(results_root) >= 1 or run.poll() is not None, 120)
        assert run.poll() is None, run.communicate()
        descendants = psutil.Process(run.pid).children(recursive=True)
        assert descendants
        if how == "SIGTERM":
            run.send_signal(signal.SIGTERM)
        else:
            os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == code, stderr
    assert message in stderr
    assert _all_gone([p.pid for p in descendants])
    (tuner_dir,) = results_root.glob("stopped/RS-0/*/")
    assert (tuner_dir / "results.csv.zip").exists()
    assert json.loads((tuner_dir / "metadata.json").read_text())["hpobench_status"] == "interrupted"


def test_unknown_backend_is_one_line(invoke):
    result = invoke("run-local", "--benchmark", "mlp_digits", "--backend", "turbo")
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid --backend 'turbo'")
    assert "'fast', 'stock' or 'simulated'" in result.output
    assert len(result.output.strip().splitlines()) == 1


# ---------------------------------------------------------------- helpers


def _reporting_trials(results_root: Path) -> int:
    return sum("[tune-metric]" in p.read_text(errors="replace") for p in results_root.glob("**/std.out"))


def _wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _all_gone(pids: list[int], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
