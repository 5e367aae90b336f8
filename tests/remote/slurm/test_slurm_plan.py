"""Slurm launches planned offline: the sbatch script, resources, the dry run, bad input.

Nothing here needs Slurm; `tests/remote/slurm/test_slurm_cluster.py` runs the same launches on
a real one-node cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpobench.errors import UsageError
from hpobench.remote.slurm import queue
from hpobench.remote.slurm.plan import job_time_limit, parse_time

SLURM = ("launch-remote", "--engine", "slurm")
GBT = (
    *(
        "--benchmark gbt_breast_cancer --method RS --method ASHA --num-seeds 2 --max-wallclock-time 30 --random-seed "
        "5 --experiment-tag plan"
    ).split(),
)


def dry_run_json(invoke, *args: str) -> dict:
    result = invoke(*SLURM, *args, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_dry_run_prints_each_cell_and_the_exact_script_without_slurm(invoke, monkeypatch, results_root):
    monkeypatch.setenv("PATH", "/nonexistent")  # no sbatch, no squeue: a dry run asks nothing
    result = invoke(*SLURM, *GBT, "--max-parallel", "3", "--dry-run")
    assert result.exit_code == 0, result.output
    for cell in ("array task 0", "array task 3"):
        assert cell in result.output
    assert "#SBATCH --array=0-3%3" in result.output
    assert f"#SBATCH --output={results_root}/plan/slurm/logs/%A_%a.out" in result.output
    assert "  3) cell=(--method ASHA --seed 1) ;;" in result.output
    assert "Slurm was not asked" in result.output


def test_json_plan_holds_cells_resources_setup_and_script(invoke, results_root):
    plan = dry_run_json(invoke, *GBT)
    assert [(c["method"], c["seed"], c["array_task"]) for c in plan["cells"]] == [
        ("RS", 0, 0),
        ("RS", 1, 1),
        ("ASHA", 0, 2),
        ("ASHA", 1, 3),
    ]
    # Defaults: CPUs = the benchmark's workers, no GPU for a CPU instance type, budget + 10 min.
    assert plan["resources"]["cpus"] == 2 and plan["resources"]["gpus"] == 0
    assert plan["resources"]["time_limit"] == "0-00:11:00"
    assert plan["setup"]["random_seed_master"] == 5 and plan["setup"]["trial_backend"] == "fast"
    assert plan["job_name"].startswith("hpobench-plan-")
    assert "--gres" not in plan["script"] and "--partition" not in plan["script"]
    assert plan["cells"][0]["reproduce_command"].startswith("hpobench run-local --experiment-tag plan")
    assert plan["results_root"] == str(results_root)


def test_resources_and_extra_options_reach_the_script(invoke):
    plan = dry_run_json(
        invoke,
        *GBT,
        *(
            "--partition gpu --account lab --qos high --mem 16g --cpus-per-job 6 --gpus-per-job 2 --time-limit "
            "2:00:00 --slurm-option constraint=a100 --slurm-option exclusive"
        ).split(),
    )
    script = plan["script"]
    for line in (
        *(
            "--cpus-per-task=6 --time=2:00:00 --gres=gpu:2 --mem=16G --partition=gpu --account=lab --qos=high "
            "--constraint=a100 --exclusive"
        ).split(),
    ):
        assert f"#SBATCH {line}\n" in script
    # A cluster that wants --gpus: the option replaces hpobench's --gres line.
    plan = dry_run_json(invoke, *GBT, "--gpus-per-job", "2", "--slurm-option", "gpus=a100:2")
    assert "--gres" not in plan["script"] and "#SBATCH --gpus=a100:2\n" in plan["script"]


def test_a_gpu_benchmark_asks_for_its_instance_types_gpus(invoke):
    plan = dry_run_json(invoke, "--benchmark", "resnet_cifar10", "--method", "RS", "--set", "epochs=1")
    assert plan["resources"]["gpus"] == 4  # ml.g4dn.12xlarge
    assert "#SBATCH --gres=gpu:4\n" in plan["script"]
    assert plan["resources"]["cpus"] == 4  # its workers
    assert plan["resources"]["time_limit"] == "0-03:10:00"  # 3 h budget + 10 min


def test_trials_per_gpu_and_backend_travel_with_each_cell(invoke):
    plan = dry_run_json(invoke, *GBT, "--trials-per-gpu", "2", "--backend", "stock")
    assert "--trials_per_gpu 2" in plan["script"] and "--backend stock" in plan["script"]
    assert "--trials-per-gpu 2 --backend stock" in plan["cells"][0]["reproduce_command"]


def test_a_complete_cell_is_left_out_of_the_dry_runs_script(invoke, results_root):
    from results_data import write_metadata, write_run

    tuner_dir = write_run(results_root, "RS", 0, [(0, 1.0, 0.2, 1)], tag="plan", benchmark="gbt_breast_cancer")
    metadata = json.loads((tuner_dir / "metadata.json").read_text())
    write_metadata(tuner_dir, {**metadata, "max_wallclock_time": 30.0})  # the launch's setup
    plan = dry_run_json(invoke, *GBT)
    assert plan["cells"][0]["array_task"] is None
    assert "#SBATCH --array=0-2\n" in plan["script"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--partition", "no such"), "is not a Slurm name"),
        (("--mem", "lots"), "is not a Slurm memory size"),
        (("--time-limit", "2 hours"), "Invalid --time-limit '2 hours'"),
        (("--slurm-option", "array=0-3"), "--slurm-option array is set by hpobench itself"),
        (("--slurm-option", "time=5"), "--slurm-option time has a flag of its own: use --time-limit"),
        (("--slurm-option", "Bad_Name=1"), "Invalid --slurm-option 'Bad_Name'"),
        (("--role", "r"), "--role is an option of --engine sagemaker, not of --engine slurm"),
        (("--backend", "turbo"), "Invalid --backend 'turbo'"),
    ],
)
def test_bad_slurm_input_is_one_line(invoke, args, message):
    result = invoke(*SLURM, *GBT, *args, "--dry-run")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_slurm_options_are_refused_on_sagemaker(invoke):
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--partition", "gpu", "--dry-run")
    assert result.exit_code == 2
    assert result.output.strip() == "Error: --partition is an option of --engine slurm, not of --engine sagemaker"


def test_a_results_root_slurm_cannot_name_is_refused(invoke, tmp_path):
    result = invoke(*SLURM, *GBT, "--results-root", str(tmp_path / "my results"), "--dry-run")
    assert result.exit_code == 2
    assert "has a space" in result.output and "--results-root" in result.output


def test_no_slurm_on_path_is_one_line_and_writes_nothing(invoke, monkeypatch, results_root):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = invoke(*SLURM, *GBT)
    assert result.exit_code == 2
    assert result.output.startswith("Error: Slurm's `sbatch` is not on PATH: run hpobench on a login node")
    assert not (results_root / "plan").exists()


def test_engine_comes_from_the_environment_too(invoke, monkeypatch):
    monkeypatch.setenv("HPOBENCH_ENGINE", "slurm")
    result = invoke("launch-remote", *GBT, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["engine"] == "slurm"
    monkeypatch.setenv("HPOBENCH_ENGINE", "kubernetes")
    result = invoke("launch-remote", *GBT, "--dry-run")
    assert result.exit_code == 2 and "Invalid --engine 'kubernetes'" in result.output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 5400),
        ("1:30", 90),
        ("2:00:00", 7200),
        ("1-12", 129600),
        ("1-00:30", 88200),
        ("2-01:02:03", 176523),
        ("UNLIMITED", None),
    ],
)
def test_slurm_time_formats(text, seconds):
    assert parse_time(text) == seconds


def test_default_time_limit_is_the_budget_plus_the_margin_in_whole_minutes():
    assert job_time_limit(30, None) == ("0-00:11:00", 660)
    assert job_time_limit(3601, None) == ("0-01:11:00", 4260)  # 3601 + 600 s rounds up to 71 min
    with pytest.raises(UsageError):
        job_time_limit(30, "soon")


def test_cells_without_a_budget_get_the_partitions_default_time_limit_unless_one_is_given():
    assert job_time_limit(None, None) == (None, None)  # a tabulation: sbatch gets no --time
    assert job_time_limit(None, "2:00:00") == ("2:00:00", 7200)


def test_squeue_and_sacct_lines_become_task_states():
    listed = queue.parse_squeue("12_0|RUNNING|None\n12_1|PENDING|JobArrayTaskLimit\n12_[2-3]|PENDING|Priority\n")
    assert [(t.task_id, t.describe()) for t in listed] == [("12_0", "RUNNING"), ("12_1", "PENDING (JobArrayTaskLimit)")]
    # A requeued task has a line per start: the last wins; 'CANCELLED by 0' is CANCELLED.
    found = queue.parse_sacct("12_0|PREEMPTED\n12_0|OUT_OF_MEMORY\n12_1|CANCELLED by 0\n12_2|TIMEOUT\n")
    assert {k: v.state for k, v in found.items()} == {"12_0": "OUT_OF_MEMORY", "12_1": "CANCELLED", "12_2": "TIMEOUT"}


@pytest.mark.parametrize(
    ("tail", "state"),
    [
        ("slurmstepd-vm: error: *** JOB 7 ON vm CANCELLED AT 2026-12-04T17:38:36 DUE TO TIME LIMIT ***", "TIMEOUT"),
        ("slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2026-12-04T17:38:36 DUE TO PREEMPTION ***", "PREEMPTED"),
        ("slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2026-12-04T17:38:36 DUE TO NODE FAILURE ***", "NODE_FAIL"),
        ("slurmstepd-vm: error: *** JOB 9 ON vm CANCELLED AT 2026-12-04T17:54:04 ***", "CANCELLED"),
        ("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=7.batch.", "OUT_OF_MEMORY"),
        ("Error: RS-0 failed: trial 3: ValueError: nan", None),
    ],
)
def test_how_slurm_ended_a_task_is_read_from_its_log(tmp_path: Path, tail, state):
    log = tmp_path / "7_0.out"
    log.write_text(f"hpobench: task 0 of job 7 on vm runs --method RS --seed 0\n{tail}\n")
    assert queue.state_from_log(log) == state


def test_only_the_last_start_of_a_requeued_task_counts(tmp_path: Path):
    log = tmp_path / "7_0.out"
    log.write_text(
        "hpobench: task 0 of job 7 on vm runs --method RS --seed 0\n"
        "slurmstepd: error: *** JOB 7 ON vm CANCELLED AT 2026-12-04T17:54:32 DUE TO JOB REQUEUE ***\n"
        "hpobench: task 0 of job 7 on vm runs --method RS --seed 0\n"
        "RS-0: complete, best 0.1, results in /r/t/RS-0/x\n"
    )
    assert queue.state_from_log(log) is None


def test_engine_and_slurm_options_come_from_hpobench_toml(invoke, isolated):
    (isolated / "work" / "hpobench.toml").write_text(
        'engine = "slurm"\npartition = "gpu"\nslurm_options = { constraint = "a100" }\n'
    )
    plan = json.loads(invoke("launch-remote", *GBT, "--dry-run", "--json").output)
    assert plan["engine"] == "slurm"
    assert "#SBATCH --partition=gpu\n" in plan["script"] and "#SBATCH --constraint=a100\n" in plan["script"]
    # The other commands read the same file and leave the launch's keys alone.
    listed = invoke("run-local", "--benchmark", "nosuch")
    assert listed.exit_code == 2 and "Unknown benchmark 'nosuch'" in listed.output, listed.output


def test_a_node_local_results_root_is_refused_on_a_cluster_of_several_nodes(tmp_path):
    from hpobench.remote.slurm.submit import node_local, shared_root_problem

    where = node_local(Path("/tmp/hpo/results"))
    assert where == "under /tmp"
    assert node_local(Path("/dev/shm/x")) == "under /dev/shm"
    problem = shared_root_problem(Path("/tmp/hpo/results"), where, nodes=12)
    assert problem == (
        "Results root /tmp/hpo/results is under /tmp, which each of the cluster's 12 nodes has its own "
        "of; pass a --results-root on a file system the compute nodes share"
    )
    assert shared_root_problem(Path("/tmp/hpo/results"), where, nodes=1) is None  # one machine: fine


@pytest.mark.parametrize("engine", ["slurm", "sagemaker"])
def test_every_option_of_one_engine_is_refused_by_the_other(invoke, engine):
    """The engines' own options come from their settings classes (settings.own_fields), the
    flags from settings.flag_of: an option added to one engine is refused by the other."""
    from hpobench.settings import RemoteSettings, SlurmSettings, flag_of, own_fields

    mine, other = (SlurmSettings, RemoteSettings) if engine == "slurm" else (RemoteSettings, SlurmSettings)
    values = {"slurm_options": "constraint=a100", "spot": None, "backend": "stock", "results_root": "/tmp/r"}
    for field in own_fields(other, mine):
        flag = [flag_of(field)] + ([values.get(field, "1")] if field != "spot" else [])
        result = invoke("launch-remote", "--engine", engine, "--benchmark", "mlp_digits", *flag, "--dry-run")
        assert result.exit_code == 2, (field, result.output)
        other_engine = "sagemaker" if engine == "slurm" else "slurm"
        assert (
            result.output.strip()
            == f"Error: {flag_of(field)} is an option of --engine {other_engine}, not of --engine {engine}"
        )
