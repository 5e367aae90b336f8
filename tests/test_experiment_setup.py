"""The experiment setup record: one form for run-local, job arguments, reproduce_command and
the same-setup check; and the run lock that keeps a Slurm cell and run-local apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpobench.experiment_setup import JOB_OPTIONAL, JOB_REQUIRED, ExperimentSetup, settings_from_job_values
from hpobench.local.lock import run_lock
from hpobench.plan import plan_experiment
from hpobench.settings import LocalSettings

RUN = (
    *(
        "run-local --benchmark gbt_breast_cancer --method RS --experiment-tag setup --n-workers 2 "
        "--max-wallclock-time 5 --random-seed 7"
    ).split(),
)


def setup_of(**options) -> ExperimentSetup:
    settings = LocalSettings(
        benchmark="gbt_breast_cancer", methods=("RS", "ASHA"), num_seeds=2, random_seed=7, **options
    )
    return plan_experiment(settings).setup


def test_job_values_read_back_into_the_same_settings():
    setup = setup_of(max_num_evaluations=9, overrides={"trees_per_round": "4"}, trials_per_gpu=3, backend="stock")
    values = setup.job_values("ASHA", 1)
    assert set(JOB_REQUIRED) <= set(values) <= set(JOB_REQUIRED + JOB_OPTIONAL)
    settings = settings_from_job_values(values, Path("/results"))
    assert (settings.methods, settings.seeds, settings.random_seed) == (("ASHA",), [1], 7)
    assert (settings.trials_per_gpu, settings.backend, settings.max_num_evaluations) == (3, "stock", 9)
    assert settings.overrides == {"trees_per_round": "4"}
    again = plan_experiment(settings).setup
    assert again.comparable() == setup.comparable()


@pytest.mark.parametrize("flag", [True, False])
def test_the_default_first_trial_travels_to_a_job_and_into_its_reproduce_command(flag):
    setup = setup_of(default_first_trial=flag)
    assert setup.default_first_trial is flag and setup.comparable()["default_first_trial"] is flag
    values = setup.job_values("ASHA", 0)
    assert values["default_first_trial"] == ("true" if flag else "false")
    settings = settings_from_job_values(values, Path("/results"))
    assert plan_experiment(settings).default_first_trial is flag
    command = setup.reproduce_command("ASHA", 0)
    assert command.endswith("--default-first-trial" if flag else "--no-default-first-trial")


def test_reproduce_command_names_every_part_of_the_setup():
    command = setup_of(trials_per_gpu=2, backend="stock").reproduce_command("ASHA", 1)
    assert command == (
        "hpobench run-local --experiment-tag gbt-breast-cancer --benchmark gbt_breast_cancer --method ASHA "
        "--start-seed 1 --num-seeds 1 --n-workers 2 --max-wallclock-time 60 --random-seed 7 "
        "--trials-per-gpu 2 --backend stock --default-first-trial"
    )


def test_a_changed_backend_or_packing_is_another_setup():
    recorded = setup_of().comparable()
    assert setup_of().conflict(recorded) is None
    assert setup_of(backend="stock").conflict(recorded) == ("trial_backend", "fast", "stock")
    assert setup_of(trials_per_gpu=4).conflict(recorded) == ("trials_per_gpu", 1, 4)
    # Metadata written before these keys existed is not compared on them.
    older = {k: v for k, v in recorded.items() if k not in ("trial_backend", "trials_per_gpu")}
    older["backend"] = "FastLocalBackend"  # what Syne Tune's Tuner records: not the setup's key
    assert setup_of(backend="stock").conflict(older) is None
    assert setup_of(backend="stock").conflict(older) is None


def complete_run(results_root: Path, **setup) -> Path:
    """A completed RS-0 of tag `setup`, as run-local records it (no training needed)."""
    tuner_dir = results_root / "setup" / "RS-0" / "setup-gbt_breast_cancer-0-2026-01-01-00-00-00-000"
    tuner_dir.mkdir(parents=True)
    recorded = {
        "benchmark": "gbt_breast_cancer",
        "n_workers": 2,
        "max_wallclock_time": 5.0,
        "max_num_evaluations": None,
        "overrides": {},
        "random_seed_master": 7,
        "trials_per_gpu": 1,
        "trial_backend": "fast",
        "backend": "FastLocalBackend",
        **setup,
    }
    metadata = {
        **recorded,
        "method": "RS",
        "seed": 0,
        "metric": "val_log_loss",
        "mode": "min",
        "hpobench_status": "complete",
    }
    (tuner_dir / "metadata.json").write_text(json.dumps(metadata))
    return tuner_dir


def test_run_local_reuses_a_completed_run_only_with_the_same_backend(invoke, results_root):
    complete_run(results_root)
    same = invoke(*RUN)
    assert same.exit_code == 0, same.output
    assert "Every run had already completed" in same.output
    other = invoke(*RUN, "--backend", "stock")
    assert other.exit_code == 2
    assert "Experiment 'setup' already has RS-0 (complete) with trial_backend='fast', not 'stock'" in other.output


def test_a_run_held_by_another_launcher_is_refused_by_name(invoke, results_root):
    """A Slurm cell holds its run's lock, not the tag's: run-local on the tag still meets it."""
    with run_lock(results_root, "setup", "RS-0"):
        result = invoke(*RUN)
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: RS-0 of experiment 'setup' is being run by another hpobench (pid ")
    assert "] started" not in result.output  # no run began
    assert not list((results_root / "setup").glob("RS-0/*"))  # nothing started
