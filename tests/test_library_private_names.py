"""The private names of Syne Tune, the SageMaker SDK, pydantic-settings, SMAC and
Python that hpobench overrides, calls, reads or sets.

An upgrade that renames or reshapes one of them fails here, by name, instead of
as trials that silently misbehave. `GUARDED` lists every one of them, and a test reads
hpobench's source to check that the list is complete and that each name is still used.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "hpobench"

# Private name -> where it lives ("module:Class" or "module"): a method or class attribute
# of it, or an attribute its __init__ (or a base class's) sets on `self`.
GUARDED = {
    # Syne Tune 0.16: the trial back-end (both of hpobench's back-ends, GPU packing, resume)
    "_schedule": "syne_tune.backend.local_backend:LocalBackend",
    "_prepare_for_schedule": "syne_tune.backend.local_backend:LocalBackend",
    "_allocate_gpu": "syne_tune.backend.local_backend:LocalBackend",
    "_deallocate_gpu": "syne_tune.backend.local_backend:LocalBackend",
    "_read_status": "syne_tune.backend.local_backend:LocalBackend",
    "_all_trial_results": "syne_tune.backend.local_backend:LocalBackend",
    "_read_time_stamp": "syne_tune.backend.local_backend:LocalBackend",
    "_write_time_stamp": "syne_tune.backend.local_backend:LocalBackend",
    "_is_process_done": "syne_tune.backend.local_backend:LocalBackend",
    "_kill_process": "syne_tune.backend.local_backend:LocalBackend",
    "_busy_trial_id_candidates": "syne_tune.backend.local_backend:LocalBackend",
    "_trial_dict": "syne_tune.backend.local_backend:LocalBackend",
    "_last_metric_seen_index": "syne_tune.backend.local_backend:LocalBackend",
    # Syne Tune 0.16: the tuner and its results callback (resume)
    "_schedule_new_task": "syne_tune.tuner:Tuner",
    "_schedule_new_tasks": "syne_tune.tuner:Tuner",
    "_start_time_stamp": "syne_tune.results_callback:StoreResultsCallback",
    "_sleep": "syne_tune.tuner:Tuner",
    "_stop_condition": "syne_tune.tuner:Tuner",
    # ... where every result passes before the scheduler sees it (local/result_objectives.py)
    "_update_running_trials": "syne_tune.tuner:Tuner",
    # Syne Tune 0.16: the simulator back-end on a table and its callback (tables/simulated_backend.py)
    "_current_time": "syne_tune.backend.simulator_backend.time_keeper:SimulatedTimeKeeper",
    "_simulator_state": "syne_tune.blackbox_repository.simulated_tabular_backend:UserBlackboxBackend",
    "_max_resource_attr": "syne_tune.blackbox_repository.simulated_tabular_backend:UserBlackboxBackend",
    "_resource_paused_for_trial": "syne_tune.blackbox_repository.simulated_tabular_backend:UserBlackboxBackend",
    "_run_job_and_collect_results": "syne_tune.blackbox_repository.simulated_tabular_backend:UserBlackboxBackend",
    "_seed_for_trial": "syne_tune.blackbox_repository.simulated_tabular_backend:UserBlackboxBackend",
    "_debug_message": "syne_tune.backend.simulator_backend.simulator_backend:SimulatorBackend",
    "_modify_stop_criterion": "syne_tune.backend.simulator_backend.simulator_callback:SimulatorCallback",
    "_tuner": "syne_tune.backend.simulator_backend.simulator_callback:SimulatorCallback",
    "_tuner_sleep_time": "syne_tune.backend.simulator_backend.simulator_callback:SimulatorCallback",
    # The SageMaker SDK v3: the job the first submission created
    "_latest_training_job": "sagemaker.train.model_trainer:ModelTrainer",
    # pydantic-settings: hpobench.toml read with hpobench's own errors
    "_read_file": "pydantic_settings:TomlConfigSettingsSource",
    # SMAC3: a saved tuner holds the facade without its generators
    "_optimizer": "smac.facade.abstract_facade:AbstractFacade",
    "_intensifier": "smac.main.smbo:SMBO",
    "_trial_generator": "smac.main.smbo:SMBO",
    "_config_generator": "smac.intensifier.abstract_intensifier:AbstractIntensifier",
    "_config_selector": "smac.intensifier.abstract_intensifier:AbstractIntensifier",
    # SMAC3: the local search's start points sorted and the forest in one thread (methods/smac_parts.py)
    "_local_search": "smac.acquisition.maximizer.local_and_random_search:LocalAndSortedRandomSearch",
    "_get_initial_points": "smac.acquisition.maximizer.local_search:LocalSearch",
    "_rf_opts": "smac.model.random_forest.random_forest:RandomForest",
    # Python: what interpreter exit runs, run by the fork server in each trial
    "_shutdown": "threading",
    "_run_exitfuncs": "atexit",
    # Optuna's private GP modules, imported before a resumed run's clock starts (OPTUNA-GP)
    "optuna._gp.acqf": "module",
    "optuna._gp.gp": "module",
    "optuna._gp.optim_mixed": "module",
    "optuna._gp.prior": "module",
    "optuna._gp.search_space": "module",
}
# Set on classes by Python itself, not names hpobench relies on.
PYTHON_MACHINERY = {"_abc_impl", "_is_protocol", "_is_runtime_protocol"}


def _owner(where: str):
    module, _, qualname = where.partition(":")
    owner = importlib.import_module(module)
    for part in filter(None, qualname.split(".")):
        owner = getattr(owner, part)
    return owner


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_each_guarded_private_name_exists(name):
    if GUARDED[name] == "module":
        assert importlib.util.find_spec(name) is not None, f"no module {name} any more"
        return
    owner = _owner(GUARDED[name])
    if hasattr(owner, name):
        return
    classes = [c for c in getattr(owner, "__mro__", ()) if c is not object]
    sources = [inspect.getsource(c) for c in classes]
    assert any(f"self.{name} =" in source or f"self.{name}:" in source for source in sources), (
        f"{GUARDED[name]} has no {name} any more"
    )


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_module(name: str) -> bool:
    """A module another package keeps private (`optuna._gp.acqf`); hpobench's own are its own."""
    return not name.startswith("hpobench") and any(_private(part) for part in name.split(".")[1:])


def _used_from_outside() -> set[str]:
    """Private names hpobench's source reads or sets on objects it does not define: every
    `x._name`, `from m import _name` and private module (`import m._private`), less the names
    hpobench defines itself (its functions, classes and module or class attributes, and what
    it sets on `self`)."""
    used: set[str] = set()
    defined: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)  # module and class attributes (pydantic's PrivateAttr too)
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
                if on_self and isinstance(node.ctx, ast.Store):
                    defined.add(node.attr)
                else:
                    used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                used |= {alias.name for alias in node.names if _private(alias.name)}
                used |= {node.module} if _private_module(node.module or "") else set()
            elif isinstance(node, ast.Import):
                used |= {alias.name for alias in node.names if _private_module(alias.name)}
    return used - defined


def _overridden() -> set[str]:
    """Private names an hpobench class defines that a library class it derives from has."""
    found: set[str] = set()
    for info in pkgutil.walk_packages([str(SOURCE)], "hpobench."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == info.name):
                continue
            ours = [c for c in cls.__mro__ if c.__module__.startswith("hpobench")]
            theirs = [c for c in cls.__mro__ if not c.__module__.startswith(("hpobench", "builtins"))]
            for name in {n for c in ours for n in vars(c) if _private(n)} - PYTHON_MACHINERY:
                if any(hasattr(c, name) for c in theirs):
                    found.add(name)
    return found


def test_every_private_name_of_a_library_that_hpobench_relies_on_is_guarded():
    relied_on = _used_from_outside() | _overridden()
    assert relied_on - set(GUARDED) == set(), "add these to GUARDED, with where they live"
    assert set(GUARDED) - relied_on == set(), "no longer used: drop these from GUARDED"


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


def test_python_exit_hooks_the_fork_server_runs_in_each_trial():
    import atexit
    import threading

    assert callable(threading._shutdown)  # joins non-daemon threads, as at interpreter exit
    assert callable(atexit._run_exitfuncs)


def test_the_fork_server_needs_only_the_standard_library():
    """The client may start `server.py` with another interpreter (the back-end's `binary`):
    it and the sibling modules it imports must not need hpobench or any other package."""
    import ast
    import sys
    from pathlib import Path

    from hpobench.local.forkserver import client

    pending, seen, imported = [Path(client.SERVER_SCRIPT)], set(), set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                pending.append(path.with_name(f"{node.module}.py"))  # a sibling: its imports count too
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


def test_the_tuner_hands_results_to_the_scheduler_in_update_running_trials():
    """HpobenchTuner adds the measured costs to each result there (local/result_objectives.py)."""
    from syne_tune.tuner import Tuner

    parameters = list(inspect.signature(Tuner._update_running_trials).parameters)
    assert parameters == ["self", "trial_status_dict", "new_results"]
    assert "self.scheduler.on_trial_result(trial=trial, result=result)" in inspect.getsource(
        Tuner._update_running_trials
    )
