"""The trial back-end a run uses, and the GPUs it gives (or hides from) the trials."""

from __future__ import annotations

import logging
from typing import Any

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.local.workers import count_gpus, trial_gpus
from hpobench.settings import LocalSettings

logger = logging.getLogger(__name__)

# The stock Tuner polls every 5 s; an epoch of an embedded benchmark takes
# milliseconds, so stop decisions would arrive after trials had finished.
POLL_INTERVAL = 0.2
# The fast back-end reads only new log bytes, so polling often costs little.
FAST_POLL_INTERVAL = 0.05


def simulated(settings: LocalSettings) -> bool:
    """Whether trials are replayed from a table in simulated time (hpobench.tables): no
    process, no GPU, no input to prepare, no limit of this machine's cores."""
    return settings.backend == "simulated"


def check_backend(settings: LocalSettings, benchmark: BenchmarkDefinition, methods: list[str]) -> None:
    """Before the first run: what the back-end needs is there (a simulated run's table, fit
    for the benchmark and the methods)."""
    if simulated(settings):
        from hpobench.tables.simulated import check_simulation

        check_simulation(settings, benchmark, methods)


def make_backend(
    settings: LocalSettings, benchmark: BenchmarkDefinition, devices: list[str], seed: int = 0, servers: Any = None
) -> tuple[Any, float]:
    """The trial back-end `settings.backend` names, running the benchmark's script on the
    GPUs `devices` (as CUDA_VISIBLE_DEVICES names them; this process's other GPUs hidden
    from its trials), and its poll interval. `seed` (the run's effective seed) draws what a
    simulated back-end draws; the tuner of a simulated run never sleeps (poll interval 0),
    its back-end advances simulated time by the fast back-end's poll interval instead.
    `servers` (a `WarmServers`), if given, keeps the fast back-end's fork server warm for the
    launch's next run."""
    if simulated(settings):
        from hpobench.tables.simulated import simulated_backend

        return simulated_backend(settings, benchmark, seed, FAST_POLL_INTERVAL), 0.0
    from hpobench.local.forkserver.backend import FastLocalBackend
    from hpobench.local.forkserver.client import fork_server_supported
    from hpobench.local.stock import StockLocalBackend

    fast = settings.backend == "fast"
    if fast and not fork_server_supported():
        logger.warning("the fast back-end needs Linux (fork); using the stock back-end")
        fast = False
    kind = FastLocalBackend if fast else StockLocalBackend
    backend = kind(
        entry_point=str(benchmark.script_path),
        delete_checkpoints=settings.delete_checkpoints,
        num_gpus_per_trial=settings.num_gpus_per_trial,
        trials_per_gpu=settings.trials_per_gpu,
    )
    # Syne Tune would detect GPUs itself at the first trial, writing nvidia-smi's
    # output to ./std.out in the user's working directory.
    if fast:
        backend.servers = servers
    backend.prepare_gpus(devices)
    backend.hide_gpus = not devices and count_gpus() > 0
    backend.resource_attr = benchmark.resource_attr  # a resumed trial's repeats are dropped
    return backend, FAST_POLL_INTERVAL if fast else POLL_INTERVAL


def gpu_metadata(backend: Any, n_workers: int) -> dict[str, Any]:
    """The GPUs, how trials were packed on them and the scripts' precision rule."""
    from hpobench.local.gpu_packing import PRECISION_RULE, describe_gpus

    slots = backend.gpu_slots
    concurrent = slots.concurrent_trials(n_workers)
    if concurrent < n_workers:
        logger.warning(
            "%d workers, but %d GPU(s) x %d trial(s) per GPU hold %d trial(s) at once; "
            "pass --trials-per-gpu to run more side by side",
            n_workers,
            slots.num_gpus,
            slots.trials_per_gpu,
            concurrent,
        )
    named = describe_gpus() if slots.num_gpus else []
    return {
        "count": slots.num_gpus,
        "cuda_visible_devices": slots.devices,  # the GPUs given to trials, as CUDA names them
        "hidden_from_trials": count_gpus() if backend.hide_gpus else 0,
        # nvidia-smi's names of those GPUs (by index; UUIDs and MIG devices are not matched)
        "devices": [named[int(d)] for d in slots.devices if d.isdigit() and int(d) < len(named)],
        "trials_per_gpu": slots.trials_per_gpu,
        "concurrent_trials": concurrent,
        "precision_rule": PRECISION_RULE,
    }


def warn_if_gpus_unused(benchmark: BenchmarkDefinition) -> None:
    """A CPU benchmark's trials see none of this machine's GPUs (`workers.trial_gpus`)."""
    machine_gpus = count_gpus()
    if machine_gpus and not trial_gpus(benchmark):
        logger.warning(
            "%s is defined for %s, which has no GPU: its trials run on the CPU here too, "
            "without this machine's %d GPU(s) (give the benchmark a GPU instance type to use them)",
            benchmark.name,
            benchmark.instance_type,
            machine_gpus,
        )
