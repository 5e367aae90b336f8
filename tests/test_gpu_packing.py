"""--trials-per-gpu: which GPUs (CUDA_VISIBLE_DEVICES) each trial gets, without a GPU.

The back-ends are told how many GPUs the machine has, as the launcher tells
them from nvidia-smi; real trials then report the CUDA_VISIBLE_DEVICES they saw.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from hpobench.local.forkserver.backend import FastLocalBackend
from hpobench.local.gpu_packing import GpuSlots
from hpobench.local.stock import StockLocalBackend
from hpobench.local.backends import gpu_metadata
from test_fast_backend import PROBE, wait_until_done

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

    monkeypatch.setattr(workers, "count_gpus", lambda: 1)  # hpobench's own probe of nvidia-smi
    monkeypatch.setattr(workers, "cpu_count", lambda: 16)
    resnet = get_benchmark("resnet_cifar10")  # meant for a GPU
    for gpus_per_trial, trials_per_gpu in [(1, 1), (1, 4), (2, 4), (3, 2)]:
        limit, _ = workers.worker_limit(resnet, gpus_per_trial, trials_per_gpu)
        assert limit == GpuSlots(1, trials_per_gpu, gpus_per_trial).capacity


def test_a_cpu_benchmark_is_limited_by_the_cores_even_on_a_gpu_machine(monkeypatch):
    from hpobench.benchmarks import get_benchmark
    from hpobench.local import workers

    monkeypatch.setattr(workers, "count_gpus", lambda: 1)
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
    from hpobench.local import backends, workers

    monkeypatch.setattr(workers, "count_gpus", lambda: 1)  # a one-GPU machine
    monkeypatch.setattr(backends, "count_gpus", lambda: 1)
    result = invoke(
        "run-local", "--benchmark", "mlp_digits", "--method", "RS", "--experiment-tag", "cpu",
        "--max-num-evaluations", "2", "--max-wallclock-time", "60", "--set", "epochs=2",
        "--n-workers", "2",
    )  # fmt: skip
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
        "run-local", "--benchmark", "mlp_digits", "--method", "RS", "--experiment-tag", "packed",
        "--max-num-evaluations", "2", "--max-wallclock-time", "60", "--set", "epochs=2",
        "--n-workers", "1", "--trials-per-gpu", "3",
    )  # fmt: skip
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
