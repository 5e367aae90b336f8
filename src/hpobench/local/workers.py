"""How many trials this machine runs at once.

More workers than cores (or, for a benchmark that wants a GPU, than GPUs) only
makes trials compete: every trial is slower, the budget buys fewer results, and
thousands of workers make the tuner spend its time starting processes instead
of checking its budget or a stop request. `--max-workers` states a higher limit.
"""

from __future__ import annotations

import functools
import os
import subprocess

from hpobench.benchmarks import BenchmarkDefinition

# SageMaker instance families with NVIDIA GPUs: g4dn, g5, p3, p4d, p5, ...
GPU_INSTANCE_FAMILIES = ("g", "p")


def cpu_count() -> int:
    """CPU cores this process may run on (its affinity, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@functools.lru_cache(maxsize=1)
def count_gpus() -> int:
    """GPUs that `nvidia-smi --list-gpus` lists; 0 without NVIDIA's tools or GPUs.

    Asks nvidia-smi rather than torch so this process never initializes CUDA.
    """
    try:
        listed = subprocess.run(
            ["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return 0
    if listed.returncode != 0:
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))


def wants_gpu(benchmark: BenchmarkDefinition) -> bool:
    """Whether the benchmark is meant for a GPU: its SageMaker instance type has one."""
    family = benchmark.instance_type.split(".")[1] if benchmark.instance_type.count(".") >= 2 else ""
    return family.startswith(GPU_INSTANCE_FAMILIES)


def trial_gpus(benchmark: BenchmarkDefinition) -> int:
    """The GPUs this machine gives the benchmark's trials: all of them for a benchmark meant
    for a GPU, none for one whose instance type has no GPU, which therefore runs on the CPU
    here as it would on its SageMaker instance (its trials see no GPU)."""
    return count_gpus() if wants_gpu(benchmark) else 0


def worker_limit(
    benchmark: BenchmarkDefinition, num_gpus_per_trial: int, trials_per_gpu: int = 1
) -> tuple[int, str]:
    """The most trials to run at once here, and what sets it (for messages)."""
    cpus = cpu_count()
    gpus = trial_gpus(benchmark)
    if gpus:
        from hpobench.local.gpu_packing import GpuSlots

        by_gpu = GpuSlots(gpus, trials_per_gpu, num_gpus_per_trial).capacity
        if by_gpu < cpus:
            return by_gpu, (
                f"{gpus} GPU(s), {num_gpus_per_trial} per trial, "
                f"{trials_per_gpu} trial(s) per GPU (--trials-per-gpu)"
            )
    return cpus, f"{cpus} CPU core(s)"
