"""The private names of Syne Tune (and of Python) that hpobench overrides or calls.

An upgrade that renames or reshapes one of them fails here, by name, instead of
as trials that silently misbehave.
"""

from __future__ import annotations

import inspect

import pytest

# (owner, name, the parameters hpobench passes or overrides, in order)
LOCAL_BACKEND_METHODS = [
    ("_schedule", ["self", "trial_id", "config"]),  # both back-ends: arguments passed intact
    ("_prepare_for_schedule", ["self", "num_gpus"]),  # launcher: GPUs counted without std.out
    ("_allocate_gpu", ["self", "trial_id", "env"]),
    ("_deallocate_gpu", ["self", "trial_id"]),
    ("_read_status", ["self", "trial_id"]),
    ("_all_trial_results", ["self", "trial_ids"]),  # fast back-end: incremental std.out
    ("_read_time_stamp", ["self", "trial_id", "name"]),
    ("_write_time_stamp", ["self", "trial_id", "name"]),
    ("_is_process_done", ["self", "trial_id"]),
    ("_kill_process", ["self", "trial_id"]),  # fast back-end: kill through the server
]


@pytest.mark.parametrize("name,parameters", LOCAL_BACKEND_METHODS, ids=[n for n, _ in LOCAL_BACKEND_METHODS])
def test_local_backend_methods_hpobench_relies_on(name, parameters):
    from syne_tune.backend import LocalBackend

    method = getattr(LocalBackend, name, None)
    assert callable(method), f"LocalBackend.{name} is gone"
    assert list(inspect.signature(method).parameters) == parameters


def test_local_backend_attributes_hpobench_relies_on(tmp_path):
    from syne_tune.backend import LocalBackend

    script = tmp_path / "train.py"
    script.write_text("")
    backend = LocalBackend(entry_point=str(script))
    for attribute in (
        "_busy_trial_id_candidates",
        "_trial_dict",
        "trial_subprocess",
        "pass_args_as_json",
        "binary",
        "entry_point",
        "rotate_gpus",
    ):
        assert hasattr(backend, attribute), f"LocalBackend().{attribute} is gone"
    assert isinstance(backend._busy_trial_id_candidates, set)


def test_tuning_status_counts_the_failure_limit_reads():
    from syne_tune.tuning_status import TuningStatus

    status = TuningStatus(metric_names=["loss"])
    assert status.num_trials_failed == 0 and status.num_trials_started == 0
    assert status.last_trial_status_seen == {}


def test_tuner_takes_max_failures():
    from syne_tune import Tuner

    assert "max_failures" in inspect.signature(Tuner.__init__).parameters


def test_botorch_searcher_methods_the_mobster_searcher_overrides():
    from syne_tune.optimizer.schedulers.searchers.botorch.botorch_searcher import BoTorchSearcher

    for name in ("_sample_next_candidate", "_get_random_config"):
        method = getattr(BoTorchSearcher, name, None)
        assert callable(method), f"BoTorchSearcher.{name} is gone"
        assert list(inspect.signature(method).parameters) == ["self"]


def test_python_exit_hooks_the_fork_server_runs_in_each_trial():
    import atexit
    import threading

    assert callable(threading._shutdown)  # joins non-daemon threads, as at interpreter exit
    assert callable(atexit._run_exitfuncs)


def test_the_fork_server_needs_only_the_standard_library():
    import ast
    import sys
    from pathlib import Path

    from hpobench.local.forkserver import client

    tree = ast.parse(Path(client.SERVER_SCRIPT).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_tuner_names_a_resumed_run_relies_on(tmp_path):
    """`resumable_tuner`: the methods HpobenchTuner overrides, the state `restore` moves
    into a fresh tuner and back-end, and the results callback's clock it sets."""
    from syne_tune import Tuner
    from syne_tune.backend import LocalBackend
    from syne_tune.results_callback import StoreResultsCallback
    from syne_tune.tuning_status import TuningStatus

    assert list(inspect.signature(Tuner._schedule_new_task).parameters) == ["self"]
    assert list(inspect.signature(Tuner._schedule_new_tasks).parameters) == ["self", "running_trials_ids"]
    assert list(inspect.signature(Tuner.save).parameters) == ["self", "folder"]
    run_source = inspect.getsource(Tuner.run)
    assert "if self.tuning_status is None" in run_source  # a restored status is kept
    for attribute in ("last_seen_result_per_trial", "trials_scheduler_stopped", "tuner_path"):
        assert f"self.{attribute}" in inspect.getsource(Tuner.__init__), attribute
    script = tmp_path / "train.py"
    script.write_text("")
    backend = LocalBackend(entry_point=str(script))
    for attribute in ("trial_ids", "_trial_dict", "_last_metric_seen_index", "trial_subprocess"):
        assert hasattr(backend, attribute), f"LocalBackend().{attribute} is gone"
    callback = StoreResultsCallback()
    assert hasattr(callback, "_start_time_stamp") and hasattr(callback, "results")
    assert hasattr(TuningStatus(metric_names=["loss"]), "start_time")
