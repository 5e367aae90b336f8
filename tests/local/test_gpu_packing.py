"""--trials-per-gpu: which GPUs (CUDA_VISIBLE_DEVICES) each trial gets, without a GPU.

The back-ends are told how many GPUs the machine has, as the launcher tells
them from nvidia-smi; real trials then report the CUDA_VISIBLE_DEVICES they saw.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from test_fast_backend import PROBE, wait_until_done

from hpobench.local.backends import gpu_metadata
from hpobench.local.forkserver.backend import FastLocalBackend
from hpobench.local.gpu_packing import GpuSlots
from hpobench.local.stock import StockLocalBackend

KINDS = {"fast": FastLocalBackend, "stock": StockLocalBackend}


def test_k_trials_per_gpu_fill_the_least_loaded_gpu_first():
    slots = GpuSlots(num_gpus=2, trials_per_gpu=2)
    assert slots.capacity == 4
    assert [slots.assign(trial) for trial in range(4)] == [[0], [1], [0], [1]]
    assert slots.load() == [2, 2]
    slots.release(1)  # a trial on GPU 1 ends: the next one goes there
    assert slots.assign(4) == [1]


def test_one_trial_per_gpu_by_default_and_multi_gpu_trials():
    assert GpuSlots(num_gpus=4).capacity == 4
    slots = GpuSlots(num_gpus=4, trials_per_gpu=2, gpus_per_trial=2)
    assert slots.capacity == 4
    assert [slots.assign(t) for t in range(4)] == [[0, 1], [2, 3], [0, 1], [2, 3]]


def test_the_launchers_worker_limit_is_the_packings_capacity(monkeypatch):
    from hpobench.benchmarks import get_benchmark
    from hpobench.local import workers

    monkeypatch.setattr(workers, "listed_gpus", lambda: 1)  # hpobench's own probe of nvidia-smi
    monkeypatch.setattr(workers, "cpu_count", lambda: 16)
    resnet = get_benchmark("resnet_cifar10")  # meant for a GPU
    for gpus_per_trial, trials_per_gpu in [(1, 1), (1, 4), (2, 4), (3, 2)]:
        limit, _ = workers.worker_limit(resnet, gpus_per_trial, trials_per_gpu)
        assert limit == GpuSlots(1, trials_per_gpu, gpus_per_trial).capacity


def test_a_cpu_benchmark_is_limited_by_the_cores_even_on_a_gpu_machine(monkeypatch):
    from hpobench.benchmarks import get_benchmark
    from hpobench.local import workers

    monkeypatch.setattr(workers, "listed_gpus", lambda: 1)
    monkeypatch.setattr(workers, "cpu_count", lambda: 16)
    gbt = get_benchmark("gbt_breast_cancer")  # ml.c5.2xlarge: no GPU
    assert workers.trial_gpus(gbt) == 0
    assert workers.worker_limit(gbt, 1, 1) == (16, "16 CPU core(s)")
    assert workers.trial_gpus(get_benchmark("resnet_cifar10")) == 1


def test_concurrency_is_capped_by_the_gpus_and_unlimited_without_them():
    assert GpuSlots(num_gpus=1, trials_per_gpu=1).concurrent_trials(4) == 1
    assert GpuSlots(num_gpus=1, trials_per_gpu=4).concurrent_trials(4) == 4
    assert GpuSlots(num_gpus=4, trials_per_gpu=1).concurrent_trials(4) == 4
    assert GpuSlots(num_gpus=2, trials_per_gpu=4).concurrent_trials(4) == 4
    cpu_only = GpuSlots(num_gpus=0, trials_per_gpu=2)
    assert cpu_only.concurrent_trials(7) == 7
    assert cpu_only.assign(0) == []


def backend_with_gpus(kind: str, tmp_path: Path, num_gpus: int, trials_per_gpu: int):
    backend = KINDS[kind](entry_point=str(PROBE), trials_per_gpu=trials_per_gpu)
    backend.set_path(str(tmp_path / "trials"))
    backend._prepare_for_schedule(num_gpus=num_gpus)  # as the launcher does
    return backend


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(
    ("num_gpus", "trials_per_gpu", "expected"),
    [(2, 2, ["0", "0", "1", "1"]), (1, 4, ["0", "0", "0", "0"]), (4, 1, ["0", "1", "2", "3"])],
)
def test_each_trial_gets_its_packed_cuda_visible_devices(kind, tmp_path, num_gpus, trials_per_gpu, expected):
    backend = backend_with_gpus(kind, tmp_path, num_gpus, trials_per_gpu)
    try:
        trials = [backend.start_trial({"mode": "report", "steps": 1}) for _ in range(4)]
        done = wait_until_done(backend, [t.trial_id for t in trials])
    finally:
        backend.stop_all()
    seen = sorted(results[0]["cuda_visible_devices"] for _, results in done.values())
    assert seen == expected
    assert backend.gpu_slots.assigned == {}  # every finished trial gave its GPU back


@pytest.mark.parametrize("kind", list(KINDS))
def test_trials_given_no_gpu_see_none_when_the_gpus_are_hidden(kind, tmp_path):
    backend = backend_with_gpus(kind, tmp_path, num_gpus=0, trials_per_gpu=1)
    backend.hide_gpus = True  # as the launcher does for a CPU benchmark on a GPU machine
    try:
        trial = backend.start_trial({"mode": "report", "steps": 1})
        done = wait_until_done(backend, [trial.trial_id])
    finally:
        backend.stop_all()
    assert done[trial.trial_id][1][0]["cuda_visible_devices"] == ""


def test_a_cpu_benchmark_runs_all_its_workers_without_the_gpus(invoke, results_root, monkeypatch, caplog):
    from hpobench.local import workers

    monkeypatch.setattr(workers, "listed_gpus", lambda: 1)  # a one-GPU machine
    result = invoke(
        *(
            "run-local --benchmark mlp_digits --method RS --experiment-tag cpu --max-num-evaluations 2 "
            "--max-wallclock-time 60 --set epochs=2 --n-workers 2"
        ).split()
    )
    assert result.exit_code == 0, result.output
    assert "has no GPU: its trials run on the CPU here too" in caplog.text
    (metadata,) = results_root.glob("cpu/RS-0/*/metadata.json")
    gpus = json.loads(metadata.read_text())["gpus"]
    assert (gpus["count"], gpus["hidden_from_trials"], gpus["concurrent_trials"]) == (0, 1, 2)


def test_launcher_caps_the_tuner_workers_and_records_the_packing(tmp_path, caplog):
    backend = backend_with_gpus("stock", tmp_path, num_gpus=1, trials_per_gpu=2)
    recorded = gpu_metadata(backend, n_workers=4)
    assert recorded["count"] == 1 and recorded["trials_per_gpu"] == 2
    assert recorded["concurrent_trials"] == 2
    assert "compute capability >= 8.0" in recorded["precision_rule"]
    assert "pass --trials-per-gpu" in caplog.text


def test_syne_tune_private_names_the_packing_overrides_still_exist():
    from syne_tune.backend import LocalBackend

    expected = {
        "_prepare_for_schedule": ["self", "num_gpus"],
        "_allocate_gpu": ["self", "trial_id", "env"],
        "_deallocate_gpu": ["self", "trial_id"],
    }
    for name, parameters in expected.items():
        assert list(inspect.signature(getattr(LocalBackend, name)).parameters) == parameters
    assert "num_gpus_per_trial" in inspect.signature(LocalBackend.__init__).parameters


def test_run_local_records_trials_per_gpu(invoke, results_root):
    result = invoke(
        *(
            "run-local --benchmark mlp_digits --method RS --experiment-tag packed --max-num-evaluations 2 "
            "--max-wallclock-time 60 --set epochs=2 --n-workers 1 --trials-per-gpu 3"
        ).split()
    )
    assert result.exit_code == 0, result.output
    (metadata,) = results_root.glob("packed/RS-0/*/metadata.json")
    gpus = json.loads(metadata.read_text())["gpus"]
    assert gpus["trials_per_gpu"] == 3
    assert gpus["count"] == 0 and gpus["concurrent_trials"] == 1  # no GPU here: no cap


def test_trials_per_gpu_must_be_positive(invoke):
    result = invoke("run-local", "--benchmark", "mlp_digits", "--trials-per-gpu", "0")
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid --trials-per-gpu 0")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("gpus_to_use", "num_gpus"), [(None, 4), ([5, 0, 7, 2], 8)])
def test_both_back_ends_keep_local_backends_gpu_contract(kind, tmp_path, gpus_to_use, num_gpus):
    """LocalBackend's constructor arguments, its `gpus_to_use` mapping and its tie-breaking:
    a free GPU first, then the one given out least often; `trial_gpu` and
    `gpu_times_assigned` kept as Syne Tune keeps them."""
    import sys

    backend = KINDS[kind](
        entry_point=str(PROBE),
        binary=sys.executable,
        delete_checkpoints=False,
        pass_args_as_json=False,
        rotate_gpus=True,
        num_gpus_per_trial=1,
        gpus_to_use=gpus_to_use,
    )
    backend._prepare_for_schedule(num_gpus=num_gpus)
    name = (lambda gpu: str(gpu)) if gpus_to_use is None else (lambda gpu: str(gpus_to_use[gpu]))
    env: dict = {}
    for trial_id in range(4):
        backend._allocate_gpu(trial_id=trial_id, env=env)
        assert env["CUDA_VISIBLE_DEVICES"] == name(trial_id)
    assert backend.trial_gpu == {0: [0], 1: [1], 2: [2], 3: [3]}
    assert backend.gpu_times_assigned == [1, 1, 1, 1]
    backend._deallocate_gpu(trial_id=2)
    backend._allocate_gpu(trial_id=4, env=env)  # GPU 2, the only free one
    assert backend.trial_gpu[4] == [2] and env["CUDA_VISIBLE_DEVICES"] == name(2)
    backend._deallocate_gpu(trial_id=0)
    backend._deallocate_gpu(trial_id=4)
    backend._allocate_gpu(trial_id=5, env=env)  # 0 and 2 free; 0 was given out less often
    assert backend.trial_gpu[5] == [0] and backend.gpu_times_assigned[0] == 2
    backend._allocate_gpu(trial_id=6, env=env)  # GPU 2, free again
    assert backend.trial_gpu[6] == [2]
    backend._allocate_gpu(trial_id=7, env=env)  # all busy: 1 and 3 were given out least
    assert backend.trial_gpu[7] == [1] and env["CUDA_VISIBLE_DEVICES"] == name(1)
    assert backend.gpu_times_assigned == [2, 2, 3, 1]


@pytest.mark.parametrize("kind", list(KINDS))
def test_gpus_to_use_must_name_distinct_gpus_and_rotate_gpus_false_sets_none(kind, tmp_path):
    backend = KINDS[kind](entry_point=str(PROBE), gpus_to_use=[1, 9])
    with pytest.raises(ValueError, match="must be distinct GPUs among"):
        backend._prepare_for_schedule(num_gpus=4)
    backend = KINDS[kind](entry_point=str(PROBE), rotate_gpus=False)
    backend._prepare_for_schedule(num_gpus=4)
    env: dict = {}
    backend._allocate_gpu(trial_id=0, env=env)
    assert "CUDA_VISIBLE_DEVICES" not in env  # every trial sees every GPU, as in Syne Tune


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_preset_cuda_visible_devices_is_respected(kind, tmp_path, monkeypatch):
    """Slurm gives a job GPUs 3 and 1 of a 4-GPU node (nvidia-smi lists all 4): the
    trials run on those two, never on 0 or 2."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.local import workers

    monkeypatch.setattr(workers, "listed_gpus", lambda: 4)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    resnet = get_benchmark("resnet_cifar10")
    assert workers.visible_gpus() == ["3", "1"] and workers.trial_gpus(resnet) == 2
    backend = KINDS[kind](entry_point=str(PROBE))
    backend.set_path(str(tmp_path / "trials"))
    backend.prepare_gpus(workers.trial_devices(resnet))  # as the launcher does
    try:
        trials = [backend.start_trial({"mode": "report", "steps": 1}) for _ in range(2)]
        done = wait_until_done(backend, [t.trial_id for t in trials])
    finally:
        backend.stop_all()
    assert sorted(results[0]["cuda_visible_devices"] for _, results in done.values()) == ["1", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,-1,0")  # CUDA stops at the first invalid entry
    assert workers.visible_gpus() == ["2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert workers.visible_gpus() == []


def test_gpus_choose_the_trials_gpus_and_an_unknown_one_is_one_line(invoke, monkeypatch):
    from hpobench.benchmarks import get_benchmark
    from hpobench.local import workers

    monkeypatch.setattr(workers, "listed_gpus", lambda: 4)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    resnet = get_benchmark("resnet_cifar10")
    assert workers.trial_devices(resnet, ("0", "2")) == ["0", "2"]
    assert workers.worker_limit(resnet, 1, 1, ("0", "2"))[0] == 2
    result = invoke("run-local", "--benchmark", "resnet_cifar10", "--method", "RS", "--gpus", "0,5")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: --gpus 0,5: GPU 5 is not one this process may use (0, 1, 2, 3, from nvidia-smi); choose among those"
    )
    monkeypatch.setenv("HPOBENCH_GPUS", "1,1")
    result = invoke("run-local", "--benchmark", "resnet_cifar10", "--method", "RS")
    assert result.exit_code == 2 and "Invalid --gpus" in result.output and "give distinct GPUs" in result.output
