"""The costs hpobench measures for every real trial without the script's help (issue 32):
peak host memory, peak GPU memory and GPU-seconds in every result, on both back-ends, and
usable as objectives of a multi-objective benchmark."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from syne_tune.backend.trial_status import Status

from hpobench.benchmarks.objectives import COST_OBJECTIVES
from hpobench.local import trial_costs
from hpobench.local.gpu_packing import GpuSlots
from hpobench.local.trial_costs import TrialCosts
from hpobench.results import layout

# Held from level 2 on: far above what the script's interpreter holds before (about 60 MB).
ALLOCATED = 200 * 2**20

SCRIPT = f"""\
import argparse
import time

from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
args, _ = parser.parse_known_args()

report = Reporter()
held = []
for epoch in range(1, args.epochs + 1):
    if epoch == 2:  # right after level 1's report: a peak read when the tuner sees it would hold it
        held.append(b"\\x01" * {ALLOCATED})  # written, so resident
    time.sleep(1.0)  # several samples at each level, even when a loaded machine stretches the sampler's wait
    report(epoch=epoch, loss=(args.x - 0.3) ** 2 + 1 / epoch)
"""

SINGLE = """\
name = "allocates"
script = "train.py"
metric = "loss"
mode = "min"
resource_attr = "epoch"
max_resource_attr = "epochs"
max_wallclock_time = 60
n_workers = 1
instance_type = "ml.c5.xlarge"

[config_space]
epochs = 3
x = { kind = "uniform", lower = -1.0, upper = 1.0 }
"""

# The script's loss and the peak host memory hpobench measures, both minimized.
MULTI = (
    SINGLE.replace('metric = "loss"\nmode = "min"\n', "")
    + """
[[objectives]]
metric = "loss"
mode = "min"

[[objectives]]
metric = "hpobench_peak_host_memory"
mode = "min"

[hypervolume]
reference_point = [10.0, 1e10]
"""
)


def _write(folder: Path, definition: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(SCRIPT)
    path = folder / "allocates.toml"
    path.write_text(definition)
    return path


def _results(invoke, definition: Path, root: Path, backend: str, method: str) -> pd.DataFrame:
    result = invoke(
        "run-local",
        "--benchmark",
        str(definition),
        "--results-root",
        str(root),
        "--experiment-tag",
        "costs",
        "--method",
        method,
        "--backend",
        backend,
        "--max-num-evaluations",
        "3",
        "--random-seed",
        "1",
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(root / "costs" / f"{method}-0")
    return pd.read_csv(tuner_dir / layout.RESULTS_FILE)


@pytest.mark.parametrize(
    "backend,definition,method",
    [("fast", MULTI, "MO-RS"), ("stock", SINGLE, "RS")],
    ids=["fast-multi-objective", "stock-single-objective"],
)
def test_every_result_carries_the_measured_costs_and_the_peak_grows_with_an_allocation(
    invoke, tmp_path, backend, definition, method
):
    results = _results(invoke, _write(tmp_path / "bench", definition), tmp_path / "results", backend, method)
    assert set(COST_OBJECTIVES) <= set(results.columns)
    trial = results[results["trial_id"] == results["trial_id"].iloc[0]].set_index("epoch")
    host = trial["hpobench_peak_host_memory"]
    assert list(trial.index) == [1, 2, 3] and host.notna().all()
    # The interpreter with Syne Tune (and, forked, the server's pages) before; the block after.
    assert 0 < host[1] < ALLOCATED, host.tolist()
    assert host[2] >= host[1] + 0.9 * ALLOCATED and host[3] >= host[2], host.tolist()
    # No GPU here: none held, none used.
    assert (trial["hpobench_gpu_seconds"] == 0).all() and (trial["hpobench_peak_gpu_memory"] == 0).all()
    assert (trial["hpobench_train_time"] > 0).all()


def test_the_sampler_is_saved_with_the_tuner_without_its_measurements():
    """tuner.dill pickles the run's ResultObjectives while the sampler thread runs."""
    costs = TrialCosts(backend=None)
    restored = pickle.loads(pickle.dumps(costs))
    assert isinstance(restored, TrialCosts) and restored.backend is None and restored._thread is None


class _Backend:
    """What TrialCosts reads of a back-end: its trials' processes and their GPUs."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.trial_subprocess = {0: process}
        self.gpu_slots = GpuSlots(0)
        self.gpu_slots.assign(0)


def _allocating_process() -> subprocess.Popen:
    """A process that says 'ready', allocates the block when told, says 'held', then waits."""
    allocate = (
        "import sys; print('ready', flush=True); sys.stdin.readline(); "
        f"block = b'\\x01' * {ALLOCATED}; print('held', flush=True); sys.stdin.readline()"
    )
    return subprocess.Popen([sys.executable, "-c", allocate], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_a_result_gets_the_peak_up_to_its_report_not_up_to_when_the_tuner_reads_it():
    """A report read after the process allocated more still gets the peak of its own time.
    The process allocates when told and says when it holds the block; samples are taken by
    hand at each step (the sampler thread may add more), so no step depends on timing."""
    process = _allocating_process()
    costs = TrialCosts(_Backend(process))
    try:
        assert process.stdout.readline().strip() == "ready"
        costs.track({0: (None, Status.in_progress)}, {})
        costs.sample()  # before the block
        before = time.time()  # a report made now, read only once the block is held
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "held"
        costs.sample()  # the block held
        early, late = {"hpobench_train_time": 2.0, "st_worker_timestamp": before}, {"st_worker_timestamp": time.time()}
        costs.add(0, early)
        costs.add(0, late)
    finally:
        process.stdin.close()
        process.wait()
        costs.close()
    assert early["hpobench_peak_host_memory"] < ALLOCATED <= late["hpobench_peak_host_memory"]
    assert early["hpobench_gpu_seconds"] == 0.0 and early["hpobench_peak_gpu_memory"] == 0


def test_a_sample_whose_reading_follows_a_report_never_counts_toward_it(monkeypatch):
    """A sample's pass over /proc can take milliseconds: one that began before a report but read
    the trial's memory after it (the script already allocating for its next level) belongs to
    the next report. Here the report is made, and the block allocated, while the pass looks up
    the process tree, between the sample's start and its reading."""
    process = _allocating_process()
    reported: list[float] = []
    look_up_tree = trial_costs.children_map

    def report_and_allocate_during_the_pass():
        if not reported:  # once, in whichever sample comes first after the switch below
            reported.append(time.time())
            process.stdin.write("go\n")
            process.stdin.flush()
            assert process.stdout.readline().strip() == "held"
        return look_up_tree()

    costs = TrialCosts(_Backend(process))
    try:
        assert process.stdout.readline().strip() == "ready"
        costs.track({0: (None, Status.in_progress)}, {})  # its first sample: before the block
        monkeypatch.setattr(trial_costs, "children_map", report_and_allocate_during_the_pass)
        costs.sample()  # began before the report; reads the block
        result = {"hpobench_train_time": 1.0, "st_worker_timestamp": reported[0]}
        costs.add(0, result)
    finally:
        process.stdin.close()
        process.wait()
        costs.close()
    assert result["hpobench_peak_host_memory"] < ALLOCATED
