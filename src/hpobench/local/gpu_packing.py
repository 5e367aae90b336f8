"""Which GPUs each trial sees: CUDA_VISIBLE_DEVICES packing K trials per GPU.

Syne Tune 0.16's LocalBackend gives each new trial a free GPU, or, when none
is free, the GPU assigned least often so far (not the least loaded one now);
with a single GPU it sets nothing and every trial shares it. hpobench instead
keeps at most `trials_per_gpu` trials on each GPU, always placing a new trial
on the GPUs running the fewest trials, and runs at most
GPUs x trials_per_gpu / gpus_per_trial trials at once, so `--trials-per-gpu 4`
on one big GPU runs 4 trials side by side and the default (1) never lets two
trials fight over one GPU. Without GPUs nothing changes. A benchmark whose instance
type has no GPU gets none here either (`hide_gpus`: CUDA_VISIBLE_DEVICES is empty),
so it runs, and is measured, as on that instance.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

logger = logging.getLogger(__name__)

# What every GPU training script does (`choose_precision` in each); recorded in metadata.
PRECISION_RULE = (
    "bf16 autocast on GPUs with compute capability >= 8.0, fp16 autocast with a gradient "
    "scaler below 8.0 (lstm_wikitext2: on every GPU), fp32 on CPU; evaluation in fp32 "
    "without TF32 (distilbert_imdb: fp16 on every GPU)"
)


class GpuSlots:
    """GPUs given to running trials, at most `trials_per_gpu` trials on each GPU.

    GPUs are numbered 0..num_gpus-1 here; `devices` names each as CUDA_VISIBLE_DEVICES
    takes it (default: its number), e.g. the GPUs a Slurm job was given, or those
    chosen with --gpus. A new trial goes to the least loaded GPUs, then to those
    given out least often so far (as Syne Tune's LocalBackend breaks ties), then the
    lowest number. `assigned` and `times_assigned` are the back-end's `trial_gpu`
    and `gpu_times_assigned`, as Syne Tune names them.
    """

    def __init__(
        self, num_gpus: int, trials_per_gpu: int = 1, gpus_per_trial: int = 1, devices: Optional[list[str]] = None
    ) -> None:
        if trials_per_gpu < 1 or gpus_per_trial < 1:
            raise ValueError("trials_per_gpu and gpus_per_trial must be at least 1")
        self.num_gpus = num_gpus
        self.devices = list(devices) if devices is not None else [str(gpu) for gpu in range(num_gpus)]
        if len(self.devices) != num_gpus:
            raise ValueError(f"{num_gpus} GPUs but {len(self.devices)} device names")
        self.trials_per_gpu = trials_per_gpu
        self.gpus_per_trial = min(gpus_per_trial, num_gpus) if num_gpus else gpus_per_trial
        self.assigned: dict[int, list[int]] = {}
        self.times_assigned = [0] * num_gpus
        # GPUs each trial was last given, kept after it ends: its results, read after the
        # back-end released its GPUs, count GPU-seconds with it (local/trial_costs.py).
        self.held: dict[int, int] = {}

    @property
    def capacity(self) -> Optional[int]:
        """How many trials fit at once; None without GPUs (no limit)."""
        if self.num_gpus == 0:
            return None
        return max(1, self.num_gpus * self.trials_per_gpu // self.gpus_per_trial)

    def load(self) -> list[int]:
        """Running trials per GPU."""
        counts = [0] * self.num_gpus
        for gpus in self.assigned.values():
            for gpu in gpus:
                counts[gpu] += 1
        return counts

    def assign(self, trial_id: int) -> list[int]:
        """The GPUs for a new trial: the least loaded, then the least often given out."""
        if self.num_gpus == 0:
            self.held[trial_id] = 0
            return []
        load = self.load()
        order = sorted(range(self.num_gpus), key=lambda gpu: (load[gpu], self.times_assigned[gpu], gpu))
        chosen = order[: self.gpus_per_trial]
        if any(load[gpu] >= self.trials_per_gpu for gpu in chosen):
            # Only when more trials run than `capacity` (e.g. a stopped trial not yet reaped).
            logger.warning("GPU %s already runs %d trials", chosen, max(load[g] for g in chosen))
        for gpu in chosen:
            self.times_assigned[gpu] += 1
        self.assigned[trial_id] = chosen
        self.held[trial_id] = len(chosen)
        return chosen

    def cuda_visible_devices(self, gpus: list[int]) -> str:
        """CUDA_VISIBLE_DEVICES for a trial given `gpus`."""
        return ",".join(self.devices[gpu] for gpu in gpus)

    def release(self, trial_id: int) -> None:
        """The trial finished: its GPUs take new trials again."""
        self.assigned.pop(trial_id, None)

    def concurrent_trials(self, n_workers: int) -> int:
        """`n_workers`, limited to what the GPUs hold."""
        capacity = self.capacity
        return n_workers if capacity is None else min(n_workers, capacity)


class PackedGpus:
    """Mixin for a LocalBackend: GPU assignment by `GpuSlots` instead of Syne Tune's rotation.

    Takes LocalBackend's constructor arguments (`gpus_to_use`, `rotate_gpus`, ...) with their
    meaning, plus `trials_per_gpu`. Overrides the back-end's private `_prepare_for_schedule`,
    `_allocate_gpu` and `_deallocate_gpu` (tests/local/test_gpu_packing.py checks that they still
    exist) and keeps Syne Tune's `trial_gpu` and `gpu_times_assigned` up to date.
    """

    # Set by LocalBackend's constructor.
    num_gpus_per_trial: int
    gpus_to_use: Optional[list[int]]

    def __init__(self, *args: Any, trials_per_gpu: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trials_per_gpu = trials_per_gpu
        self.gpu_slots: Optional[GpuSlots] = None
        self.hide_gpus = False  # trials given no GPU see none (a CPU benchmark on a GPU machine)

    def prepare_gpus(self, devices: list[str]) -> None:
        """Trials get GPUs among `devices`, named as CUDA_VISIBLE_DEVICES takes them."""
        self.gpu_slots = GpuSlots(len(devices), self.trials_per_gpu, self.num_gpus_per_trial, devices)
        self.num_gpus = len(devices)
        self.trial_gpu = self.gpu_slots.assigned
        self.gpu_times_assigned = self.gpu_slots.times_assigned
        self.rotate_gpus = False  # Syne Tune's own rotation stays off

    def _prepare_for_schedule(self, num_gpus: Optional[int] = None) -> None:
        """As LocalBackend's: `num_gpus` GPUs 0..num_gpus-1 (default: those this process may
        use, see `workers.visible_gpus`), of which `gpus_to_use` picks some; with
        `rotate_gpus` False, trials get no CUDA_VISIBLE_DEVICES at all."""
        if self.gpu_slots is not None:
            return
        if not self.rotate_gpus:
            self.prepare_gpus([])
            return
        from hpobench.local.workers import visible_gpus

        devices = [str(gpu) for gpu in range(num_gpus)] if num_gpus is not None else visible_gpus()
        if self.gpus_to_use is not None:
            chosen = [str(gpu) for gpu in self.gpus_to_use]
            if len(set(chosen)) != len(chosen) or not set(chosen) <= set(devices):
                raise ValueError(f"gpus_to_use = {self.gpus_to_use} must be distinct GPUs among {devices}")
            devices = chosen
        self.prepare_gpus(devices)

    def _allocate_gpu(self, trial_id: int, env: dict[str, Any]) -> None:
        assert self.gpu_slots is not None  # trial_args.prepare_trial prepared the schedule
        gpus = self.gpu_slots.assign(trial_id)
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = self.gpu_slots.cuda_visible_devices(gpus)
            logger.info("trial %d runs on GPU %s", trial_id, env["CUDA_VISIBLE_DEVICES"])
        elif self.hide_gpus:
            env["CUDA_VISIBLE_DEVICES"] = ""

    def _deallocate_gpu(self, trial_id: int) -> None:
        if self.gpu_slots is not None:
            self.gpu_slots.release(trial_id)


def describe_gpus() -> list[dict[str, str]]:
    """Name and compute capability of each GPU nvidia-smi lists (never initializes CUDA)."""
    from hpobench.local.workers import nvidia_smi

    listed = nvidia_smi("--query-gpu=name,compute_cap", "--format=csv,noheader") or ""
    gpus = []
    for line in listed.splitlines():
        name, _, capability = line.rpartition(",")
        if name.strip():
            gpus.append({"name": name.strip(), "compute_capability": capability.strip()})
    return gpus
