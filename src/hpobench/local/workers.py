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
from collections.abc import Sequence
from typing import Optional

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.errors import UsageError

# SageMaker instance families with NVIDIA GPUs: g4dn, g5, p3, p4d, p5, ...
GPU_INSTANCE_FAMILIES = ("g", "p")


def cpu_count() -> int:
    """CPU cores this process may run on (its affinity, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@functools.lru_cache(maxsize=1)
def listed_gpus() -> int:
    """GPUs that `nvidia-smi --list-gpus` lists; 0 without NVIDIA's tools or GPUs.

    Asks nvidia-smi rather than torch so this process never initializes CUDA.
    """
    listed = nvidia_smi("--list-gpus") or ""
    return sum(1 for line in listed.splitlines() if line.startswith("GPU "))


def nvidia_smi(*arguments: str) -> Optional[str]:
    """What `nvidia-smi ARGUMENTS` prints; None without NVIDIA's tools, or when it fails.
    (hpobench's process asks nvidia-smi, never torch, so that it never initializes CUDA.)"""
    try:
        done = subprocess.run(["nvidia-smi", *arguments], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def visible_gpus() -> list[str]:
    """The GPUs this process may give its trials, as CUDA_VISIBLE_DEVICES names them.

    A CUDA_VISIBLE_DEVICES set before hpobench starts is respected: Slurm sets it to a
    job's GPUs (and nvidia-smi may still list the whole node's), and a user may set it.
    Like CUDA, the list ends at its first invalid entry ('-1', 'NoDevFiles'); empty means
    no GPU. Unset: every GPU nvidia-smi lists, 0, 1, ...
    """
    if listed_gpus() == 0:
        return []
    preset = os.environ.get("CUDA_VISIBLE_DEVICES")
    if preset is None:
        return [str(gpu) for gpu in range(listed_gpus())]
    devices: list[str] = []
    for entry in (part.strip() for part in preset.split(",")):
        if not entry or entry == "-1" or entry.lower() == "nodevfiles":
            break
        devices.append(entry)
    return devices


def count_gpus() -> int:
    """How many GPUs this process may use (`visible_gpus`)."""
    return len(visible_gpus())


def wants_gpu(benchmark: BenchmarkDefinition) -> bool:
    """Whether the benchmark is meant for a GPU: its SageMaker instance type has one."""
    family = benchmark.instance_type.split(".")[1] if benchmark.instance_type.count(".") >= 2 else ""
    return family.startswith(GPU_INSTANCE_FAMILIES)


def trial_devices(benchmark: BenchmarkDefinition, chosen: Optional[Sequence[str]] = None) -> list[str]:
    """The GPUs this machine gives the benchmark's trials: `chosen` (--gpus) or every visible
    one for a benchmark meant for a GPU; none for one whose instance type has no GPU, which
    therefore runs on the CPU here as it would on its SageMaker instance (its trials see no GPU)."""
    if not wants_gpu(benchmark):
        return []
    visible = visible_gpus()
    if chosen is None:
        return visible
    unknown = [gpu for gpu in chosen if gpu not in visible]
    if unknown:
        where = (
            f"CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']}"
            if "CUDA_VISIBLE_DEVICES" in os.environ
            else "nvidia-smi"
        )
        raise UsageError(
            f"--gpus {','.join(chosen)}: GPU {unknown[0]} is not one this process may use "
            f"({', '.join(visible) or 'none'}, from {where}); choose among those"
        )
    return list(chosen)


def trial_gpus(benchmark: BenchmarkDefinition, chosen: Optional[Sequence[str]] = None) -> int:
    """How many GPUs the benchmark's trials get here (`trial_devices`)."""
    return len(trial_devices(benchmark, chosen))


def worker_limit(
    benchmark: BenchmarkDefinition,
    num_gpus_per_trial: int,
    trials_per_gpu: int = 1,
    chosen: Optional[Sequence[str]] = None,
) -> tuple[int, str]:
    """The most trials to run at once here, and what sets it (for messages)."""
    cpus = cpu_count()
    gpus = trial_gpus(benchmark, chosen)
    if gpus:
        from hpobench.local.gpu_packing import GpuSlots

        by_gpu = GpuSlots(gpus, trials_per_gpu, num_gpus_per_trial).capacity
        if by_gpu is not None and by_gpu < cpus:
            return by_gpu, (
                f"{gpus} GPU(s), {num_gpus_per_trial} per trial, {trials_per_gpu} trial(s) per GPU (--trials-per-gpu)"
            )
    return cpus, f"{cpus} CPU core(s)"
