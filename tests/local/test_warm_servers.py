"""A launch keeps its fork server warm from one run to the next (`WarmServers`).

Two `FastLocalBackend`s sharing one `WarmServers` stand for two runs of a launch, as
`run-local` makes them; their trials are real (tests/assets/probe.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_fast_backend import PROBE, _all_gone, wait_for_result, wait_until_done

from hpobench.local.forkserver.backend import FastLocalBackend
from hpobench.local.forkserver.client import SERVER_LOG
from hpobench.local.forkserver.warm_servers import WarmServers


@pytest.fixture
def servers():
    with WarmServers() as warm:
        yield warm


def run_backend(servers: WarmServers, folder: Path) -> FastLocalBackend:
    """The back-end of one run of the launch (as make_backend gives it)."""
    backend = FastLocalBackend(entry_point=str(PROBE))
    backend.set_path(str(folder))
    backend.servers = servers
    return backend


def report_once(backend: FastLocalBackend) -> dict:
    trial = backend.start_trial({"mode": "report", "steps": 1})
    status, results = wait_until_done(backend, [trial.trial_id])[trial.trial_id]
    assert status == "Completed", backend.stderr(trial.trial_id)
    return results[0]


def test_the_next_run_gets_the_same_server_with_its_log_in_the_runs_folder(servers, tmp_path):
    first = run_backend(servers, tmp_path / "run-1")
    report_once(first)
    server = first._client
    first.stop_all()  # the tuner's end of the run
    assert server.process.poll() is None  # kept warm
    second = run_backend(servers, tmp_path / "run-2")
    report_once(second)
    assert second._client is server
    assert server.log_path == tmp_path / "run-2" / SERVER_LOG
    # What the server says from now on goes to the second run's log.
    server._requests.write(b"a torn request\n")
    server._requests.flush()
    deadline = time.monotonic() + 20
    while "skipped" not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "skipped" in (tmp_path / "run-2" / SERVER_LOG).read_text()
    assert "skipped" not in (tmp_path / "run-1" / SERVER_LOG).read_text()


def test_a_trial_the_run_left_running_is_killed_before_the_server_serves_the_next(servers, tmp_path):
    first = run_backend(servers, tmp_path / "run-1")
    trial = first.start_trial({"mode": "sleep"})
    seen = wait_for_result(first, trial.trial_id)
    servers.give_back(first._client)  # without stopping the trial first
    assert _all_gone([seen["pid"], seen["child_pid"]])
    second = run_backend(servers, tmp_path / "run-2")
    assert report_once(second)["env_leak"] == ""
    assert second._client is first._client


def test_a_run_after_a_mutating_one_sees_none_of_its_changes(servers, tmp_path):
    first = run_backend(servers, tmp_path / "run-1")
    mutator = first.start_trial({"mode": "mutate", "steps": 1})
    wait_until_done(first, [mutator.trial_id])
    first.stop_all()
    seen = report_once(run_backend(servers, tmp_path / "run-2"))
    assert seen["env_leak"] == "" and seen["module_leak"] == "" and not seen["path_leak"]


def test_a_server_that_learns_from_trials_serves_one_run_only(servers, tmp_path, monkeypatch):
    monkeypatch.setenv("HPOBENCH_FORK_SERVER_LEARN", "1")
    first = run_backend(servers, tmp_path / "run-1")
    report_once(first)
    server = first._client
    first.stop_all()
    second = run_backend(servers, tmp_path / "run-2")
    report_once(second)
    assert second._client is not server and server.closed


def test_another_start_up_environment_gets_a_fresh_server(servers, tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    first = run_backend(servers, tmp_path / "run-1")
    report_once(first)
    server = first._client
    first.stop_all()
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    second = run_backend(servers, tmp_path / "run-2")
    assert report_once(second)["unbuffered"] is True
    assert second._client is not server


def test_the_end_of_the_launch_ends_every_server(tmp_path):
    with WarmServers() as servers:
        first = run_backend(servers, tmp_path / "run-1")
        report_once(first)
        kept = first._client.process
        first.stop_all()
        running = run_backend(servers, tmp_path / "run-2")  # a run whose end was never reached
        trial = running.start_trial({"mode": "sleep"})
        seen = wait_for_result(running, trial.trial_id)
        assert running._client.process is kept
    assert kept.poll() is not None
    assert _all_gone([seen["pid"], seen["child_pid"]])


def _servers_of_this_process() -> set[int]:
    import psutil

    return {
        child.pid
        for child in psutil.Process().children()
        if any(part.endswith("forkserver/server.py") for part in child.cmdline())
    }


def test_a_launch_ends_its_servers_unless_the_process_keeps_them(invoke, monkeypatch):
    from hpobench.local.forkserver import warm_servers

    def launch(tag: str) -> None:
        result = invoke(
            *"run-local --benchmark gbt_breast_cancer --method RS --num-seeds 2 --max-num-evaluations 2".split(),
            *"--max-wallclock-time 60 --set boosting_rounds=2 --experiment-tag".split(),
            tag,
        )
        assert result.exit_code == 0, result.output

    monkeypatch.setattr(warm_servers, "_KEPT", None)  # as in `hpobench run-local` (the suite keeps them)
    before = _servers_of_this_process()
    launch("own")
    assert _servers_of_this_process() == before
    with warm_servers.kept_for_the_process():
        launch("kept-1")
        kept = _servers_of_this_process() - before
        assert len(kept) == 1  # both runs' server, kept after the launch
        launch("kept-2")
        assert _servers_of_this_process() - before == kept  # the next launch used it
    assert _servers_of_this_process() == before


def test_a_log_the_server_cannot_open_leaves_it_serving(servers, tmp_path):
    from hpobench.local.forkserver.protocol import Log

    backend = run_backend(servers, tmp_path / "run-1")
    report_once(backend)
    server = backend._client
    server._send(Log(str(tmp_path / "no-such-folder" / SERVER_LOG)))
    report_once(backend)  # still serving
    assert "cannot log to" in (tmp_path / "run-1" / SERVER_LOG).read_text()
