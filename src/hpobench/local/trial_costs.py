"""The costs hpobench measures for every trial of a real run, without the script's help
(docs/multi-objective.md): `hpobench_peak_host_memory`, `hpobench_peak_gpu_memory` and
`hpobench_gpu_seconds`, added to each result by `ResultObjectives` beside
`hpobench_train_time`.

A background thread samples, every `SAMPLE_INTERVAL` seconds, the resident memory (RSS) of
each running trial's process tree (the trial's process and every descendant, e.g. data
loader workers) and, for a trial holding GPUs, the GPU memory its processes use (NVML
through `pynvml` where importable, else `nvidia-smi`, every `GPU_INTERVAL` seconds). The
tuner's thread tells it which process each trial runs in (`track`, once a loop), so the
trial processes are untouched: both back-ends, any script.

Why RSS: it counts every page a process has in memory, those it shares included, so it does
not depend on how many trials run beside it (a proportional share, PSS, would, and costs a read
of smaps). A fork-server trial's RSS counts the server's data (copied page tables at the fork)
and the library pages it touches; a stock trial's also counts pages only its own imports
touched, so the back-ends differ by those (docs/multi-objective.md), not by what a configuration
allocates. A tree sums its members' RSS: pages its processes share with each other (a forked
worker's) count once per process, an over-estimate on the safe side.

A result's peak is the highest sample taken up to the moment the script reported it (its
`st_worker_timestamp`), over every process the trial ran in: a paused and resumed trial
continues from its earlier peak (also across a resumed run, from its last result), unlike
its training time, which Syne Tune counts from the resume. Where no sample precedes a report
(a trial that reports within its first tenth of a second), the first sample after it stands
in; a trial that ended before any sample has no peak (the column is empty for it).
"""

from __future__ import annotations

import bisect
import subprocess
import threading
import time
from typing import Any, Optional

from hpobench.local.forkserver.process_tree import children_map, descendants

HOST_MEMORY = "hpobench_peak_host_memory"
GPU_MEMORY = "hpobench_peak_gpu_memory"
GPU_SECONDS = "hpobench_gpu_seconds"
TRAIN_TIME = "hpobench_train_time"
REPORTED_AT = "st_worker_timestamp"  # Syne Tune's Reporter adds it to every report
# Short enough to catch a level of a second; a sample of a few processes costs about 1 ms.
SAMPLE_INTERVAL = 0.1
# The sampler never takes more than 1/COST_FACTOR of a core (a machine with many processes
# makes a pass over /proc slower): it waits COST_FACTOR times what its last sample took.
COST_FACTOR = 20
# nvidia-smi takes tens of milliseconds; a trial's GPU memory is its caching allocator's,
# which grows and seldom shrinks, so a slower pace misses little.
GPU_INTERVAL = 1.0


def trial_pid(backend: Any, trial_id: int) -> Optional[int]:
    """The process the trial runs in now: a stock trial's Popen, a fork-server child (known
    once the server said it forked), or None (not started, or a restored trial long gone)."""
    process = backend.trial_subprocess.get(trial_id)
    client = getattr(process, "client", None)
    if client is not None:
        return client.pids.get(process.run)
    pid = getattr(process, "pid", None)
    return pid if isinstance(pid, int) else None


class TrialCosts:
    """Samples the trials' memory on a thread; adds the measured costs to their results."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        self._sampling = threading.Lock()
        self._roots: dict[int, int] = {}  # running trial -> its process id
        self._started: dict[int, int] = {}  # trial -> the last process it was tracked in
        self._peaks: dict[int, tuple[int, int]] = {}  # trial -> (host, GPU) peaks so far
        # trial -> samples (time, host peak, GPU peak) since its last result, in time order
        self._samples: dict[int, list[tuple[float, int, int]]] = {}
        self._gpu_used: dict[int, int] = {}  # pid -> GPU bytes, at the last GPU sample
        self._gpu_sampled_at = 0.0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.sampling_seconds = 0.0  # spent sampling, all told (benchmarks/local_backend_efficiency.py)

    def gpus(self, trial_id: int) -> int:
        """How many GPUs the trial holds (last given; 0 without any)."""
        slots = getattr(self.backend, "gpu_slots", None)
        return 0 if slots is None else slots.held.get(trial_id, 0)

    def track(self, running: dict[int, Any], last_results: dict[int, dict[str, Any]]) -> None:
        """The tuner's thread, each loop: sample the processes of `running` trials (trial id ->
        (trial, status), as the tuner has them) from now on. A trial new to this tuner starts
        from the peaks of its last result (`last_results`: a resumed run's)."""
        from syne_tune.backend.trial_status import Status

        new = []
        for trial_id, (_, status) in running.items():
            if status != Status.in_progress:
                continue
            pid = trial_pid(self.backend, trial_id)
            if pid is not None and self._started.get(trial_id) != pid:
                new.append((trial_id, pid))
        if not new:
            return
        with self._lock:
            for trial_id, pid in new:
                self._roots[trial_id] = self._started[trial_id] = pid
                if trial_id not in self._peaks:
                    last = last_results.get(trial_id, {})
                    self._peaks[trial_id] = (int(last.get(HOST_MEMORY) or 0), int(last.get(GPU_MEMORY) or 0))
        self.sample()  # at once: a short trial may be gone before the thread's next round
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hpobench-trial-costs", daemon=True)
            self._thread.start()

    def add(self, trial_id: int, result: dict[str, Any]) -> None:
        """Put the trial's GPU-seconds and peak memories up to this result into it."""
        gpus = self.gpus(trial_id)
        train_time = result.get(TRAIN_TIME)
        if isinstance(train_time, (int, float)):
            result[GPU_SECONDS] = float(train_time) * gpus
        with self._lock:
            unsampled = not self._samples.get(trial_id) and trial_id in self._roots
        if unsampled:
            self.sample()
        reported = result.get(REPORTED_AT)
        with self._lock:
            samples = self._samples.get(trial_id)
            if not samples:
                return  # ended before any sample: no peak to tell
            after = len(samples)
            if isinstance(reported, (int, float)):
                after = bisect.bisect_right(samples, reported, key=lambda sample: sample[0])
            # The last sample up to the report; the first after it if none.
            index = max(after - 1, 0)
            _, host, gpu = samples[index]
            del samples[:index]  # later reports are later: the samples before are done with
        result[HOST_MEMORY] = host
        result[GPU_MEMORY] = gpu if gpus else 0

    def sample(self) -> None:
        """One sample of every tracked trial's process tree; trials whose process ended are
        no longer tracked."""
        with self._sampling:  # one at a time (the thread's, or the tuner's): samples stay in time order
            began = time.perf_counter()
            try:
                self._sample()
            finally:
                self.sampling_seconds += time.perf_counter() - began

    def _sample(self) -> None:
        with self._lock:
            roots = dict(self._roots)
        if not roots:
            return
        now = time.time()
        children = children_map()
        gpu_used = self._gpu_memory(now, [t for t in roots if self.gpus(t)])
        measured: dict[int, Optional[tuple[int, int]]] = {}
        for trial_id, root in roots.items():
            tree = [root, *descendants(root, children)] if children else _psutil_tree(root)
            host = sum(_rss(pid) for pid in tree)
            # No memory: the process ended (its tree is no longer found below it).
            measured[trial_id] = (host, sum(gpu_used.get(pid, 0) for pid in tree)) if host else None
        # Stamped when every reading is done, not when the pass began: the pass over /proc can take
        # milliseconds on a busy machine, and a reading taken after a report (the script already
        # allocating for its next level) must never count toward that report's peak.
        taken = time.time()
        with self._lock:
            for trial_id, sizes in measured.items():
                if sizes is None:
                    if self._roots.get(trial_id) == roots[trial_id]:
                        del self._roots[trial_id]
                    continue
                peak_host, peak_gpu = self._peaks.get(trial_id, (0, 0))
                peaks = (max(peak_host, sizes[0]), max(peak_gpu, sizes[1]))
                self._peaks[trial_id] = peaks
                self._samples.setdefault(trial_id, []).append((taken, *peaks))

    def close(self) -> None:
        """Stop sampling (the run ended)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        wait = SAMPLE_INTERVAL
        while not self._stop.wait(wait):
            began = time.perf_counter()
            try:
                self.sample()
            except Exception:  # a measurement must never end a run; the next round tries again
                pass
            wait = max(SAMPLE_INTERVAL, COST_FACTOR * (time.perf_counter() - began))

    def _gpu_memory(self, now: float, holding: list[int]) -> dict[int, int]:
        """GPU bytes per process, sampled at most every GPU_INTERVAL (the last sample between)."""
        if holding and now - self._gpu_sampled_at >= GPU_INTERVAL:
            self._gpu_sampled_at = now
            self._gpu_used = gpu_memory_by_pid()
        return self._gpu_used if holding else {}

    def __getstate__(self) -> dict[str, Any]:
        # Pickled with the tuner (tuner.dill): a measurement in progress is not saved; a resumed
        # run measures anew, from its results' peaks.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(None)  # type: ignore[misc]


def _rss(pid: int) -> int:
    """The process's resident memory in bytes; 0 once it has ended."""
    import psutil

    try:
        return int(psutil.Process(pid).memory_info().rss)
    except (psutil.Error, OSError):
        return 0


def _psutil_tree(root: int) -> list[int]:
    """`root` and its descendants where there is no /proc to read in one pass (macOS)."""
    import psutil

    try:
        return [root, *(p.pid for p in psutil.Process(root).children(recursive=True))]
    except psutil.Error:
        return [root]


def gpu_memory_by_pid() -> dict[int, int]:
    """GPU memory in bytes that each process uses, over every GPU: NVML where `pynvml` (the
    nvidia-ml-py package) is importable, else nvidia-smi; empty without either. Processes are
    named as this machine's process table names them (a container that does not share the
    host's may see none: then a trial's GPU memory reads 0)."""
    try:
        import pynvml
    except ImportError:
        return _nvidia_smi_memory()
    used: dict[int, int] = {}
    try:
        pynvml.nvmlInit()
        try:
            for index in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                for process in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    if process.usedGpuMemory:  # None where the driver does not tell
                        used[process.pid] = used.get(process.pid, 0) + int(process.usedGpuMemory)
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        return _nvidia_smi_memory()
    return used


def _nvidia_smi_memory() -> dict[int, int]:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    used: dict[int, int] = {}
    for line in done.stdout.splitlines() if done.returncode == 0 else []:
        pid, _, mib = line.partition(",")
        try:
            used[int(pid)] = used.get(int(pid), 0) + int(float(mib)) * 2**20  # MiB
        except ValueError:
            continue  # "[N/A]" where the driver does not tell
    return used
