"""How much of the workers' time goes to training: stock `LocalBackend` vs hpobench's fast back-end.

    python benchmarks/local_backend_efficiency.py [--duration 60] [--n-workers 2] [--seed 0]
    python benchmarks/local_backend_efficiency.py --smoke   # seconds: until a trial-epoch, the code path
    python benchmarks/local_backend_efficiency.py --backends fast,fast+costs   # cost measurement's overhead

A kind ending in `+costs` runs hpobench's tuner measuring every trial's peak memory and
GPU-seconds as `run-local` does (local/trial_costs.py's sampler thread).

Runs ASHA on `mlp_digits` for `--duration` seconds with each back-end in turn
(same seed, same tuner settings as `hpobench run-local`), then prints, per
back-end and as fast/stock ratios:

- training share: the sum over trials of the time spent inside the epoch loop,
  divided by worker time (n_workers x the tuner's wall-clock run time). Time in
  the epoch loop is the `st_worker_time` of a trial's last report: Syne Tune's
  `Reporter` measures from its creation, which `mlp_digits` does right before
  its first epoch, to the report. Epochs cut short by a stop are not counted.
- start latency (median over trials): from the back-end being asked to start
  the trial (the scheduler's decision; timed in the back-end's `_schedule`) to
  the first line of the training script. The script runs from an instrumented
  copy whose first statement prints a time stamp, identical for both back-ends.
  For the stock back-end this line comes before the script's imports, so it
  also prints the time to the first epoch: from the decision to the creation
  of the `Reporter` (imports, data loading, model and optimizer set-up done).
- trial-epochs: epochs reported by all trials within the budget.
- trials started, and failed (any failure ends the script with an error after the
  figures: they do not measure training then); the tuner process's own CPU seconds.

Goals (issue 6): training share >= 60%, median start latency <= 0.3 s,
trial-epochs >= 3x stock. Figures are only meaningful on a quiet machine.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from smoke_option import parse_with_smoke

FIRST_LINE_TAG = "[hpobench-first-line]: "
BACKENDS = ("stock", "fast")
# Stopped by a count of trial-epochs, not by time, so that trials have trained on a slow
# machine too (the duration is a guard); a figure of so short a run means nothing.
SMOKE = {"duration": 300.0, "trial_epochs": 1, "n_workers": 1}


def instrumented_copy(script: Path, folder: Path) -> Path:
    """A copy of `script` whose first statement (after `from __future__` imports) prints the time,
    laid out under `folder` as the built-in scripts are: in a folder of its own, with the
    `trial_support.py` they import beside that folder (docs/extending.md)."""
    from hpobench.paths import TRIAL_SUPPORT

    source = script.read_text()
    tree = ast.parse(source)
    after = 0
    for node in tree.body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)
        if is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            after = node.end_lineno or after
        else:
            break
    lines = source.splitlines(keepends=True)
    stamp = f"import time as _hpobench_time; print(f'{FIRST_LINE_TAG}{{_hpobench_time.time()}}', flush=True)\n"
    copy = folder / script.parent.name / script.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text("".join(lines[:after]) + stamp + "".join(lines[after:]))
    support = script.parent.parent / TRIAL_SUPPORT
    if support.exists():
        shutil.copy2(support, folder / TRIAL_SUPPORT)
    return copy


def timed(backend_class: type) -> type:
    """The back-end class, recording when each trial was asked to start."""

    class Timed(backend_class):  # type: ignore[misc, valid-type]
        decided: dict[int, float]

        def _schedule(self, trial_id: int, config: dict[str, Any]) -> None:
            self.decided = getattr(self, "decided", {})
            self.decided[trial_id] = time.time()
            super()._schedule(trial_id, config)

    Timed.__name__ = backend_class.__name__
    return Timed


def run_backend(kind: str, script: Path, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """One ASHA run with back-end `kind`; returns its figures."""
    import random

    import numpy as np
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend import LocalBackend

    from hpobench.benchmarks import get_benchmark
    from hpobench.local import backends, one_run
    from hpobench.local.callbacks import QuietTunerLogger
    from hpobench.local.forkserver.backend import FastLocalBackend
    from hpobench.methods import MethodArguments, get_method

    benchmark = get_benchmark("mlp_digits")
    np.random.seed(args.seed)
    random.seed(args.seed)
    scheduler = get_method("ASHA").build(MethodArguments.for_benchmark(benchmark, args.seed))
    base, _, costs = kind.partition("+")
    backend_class = timed(FastLocalBackend if base == "fast" else LocalBackend)
    backend = backend_class(entry_point=str(script))
    if costs:
        # hpobench's tuner, measuring every trial's costs as `run-local` does (local/trial_costs.py);
        # it saves no tuner.dill, as the plain kinds' Tuner saves it every few seconds only.
        from hpobench.local.gpu_packing import GpuSlots
        from hpobench.local.result_objectives import ResultObjectives
        from hpobench.local.resumable_tuner import HpobenchTuner
        from hpobench.local.trial_costs import TrialCosts

        backend.gpu_slots = GpuSlots(0)  # no GPU given: Syne Tune's own assignment stays
        tuner_class: type = HpobenchTuner
        extra: dict[str, Any] = {"save_tuner": False}
    else:
        tuner_class, extra = Tuner, {}
    os.environ["SYNETUNE_FOLDER"] = str(root)
    tuner = tuner_class(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(
            max_wallclock_time=args.duration,
            # Syne Tune stops once *more than* this many results arrived.
            max_num_evaluations=None if args.trial_epochs is None else args.trial_epochs - 1,
        ),
        n_workers=args.n_workers,
        sleep_time=backends.FAST_POLL_INTERVAL if kind == "fast" else backends.POLL_INTERVAL,
        results_update_interval=one_run.RESULTS_SAVE_INTERVAL,
        max_failures=3,  # a broken set-up shows after a few trials
        tuner_name=f"efficiency-{kind}",
        output_logger=QuietTunerLogger(),
        trial_backend_path=str(root / kind),
        **extra,
    )
    sampler = TrialCosts(backend) if costs else None
    if sampler is not None:
        tuner.result_objectives = ResultObjectives(benchmark, None, sampler)
    started, cpu = time.time(), time.process_time()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the Tuner prints a summary
            tuner.run()
    finally:
        if sampler is not None:
            sampler.close()
    wall = time.time() - started
    return {
        **figures(root / kind, backend.decided, wall, args.n_workers),
        "trials failed": tuner.tuning_status.num_trials_failed,
        "tuner CPU (s)": time.process_time() - cpu,
        # The sampler's share of the tuner's CPU (its thread and the tuner's own samples).
        "cost sampling (s)": sampler.sampling_seconds if sampler is not None else float("nan"),
    }


def failure(trials_dir: Path) -> str:
    """The last line of the first failed trial's std.err (why it failed), or ''."""
    for stderr in sorted(trials_dir.glob("*/std.err"), key=lambda path: int(path.parent.name)):
        lines = [line for line in stderr.read_text(errors="replace").splitlines() if line.strip()]
        if any(line.startswith("Traceback") for line in lines):
            return lines[-1]
    return ""


def figures(trials_dir: Path, decided: dict[int, float], wall: float, n_workers: int) -> dict[str, Any]:
    """Training share, start latencies and trial-epochs from the trials' std.out files."""
    to_first_line, to_training, training, epochs = [], [], 0.0, 0
    for trial_id, decision in decided.items():
        stdout = trials_dir / str(trial_id) / "std.out"
        lines = stdout.read_text(errors="replace").splitlines() if stdout.exists() else []
        first = [float(x.split(FIRST_LINE_TAG, 1)[1]) for x in lines if FIRST_LINE_TAG in x]
        if first:
            to_first_line.append(first[0] - decision)
        reports = [json.loads(x.split("[tune-metric]: ", 1)[1]) for x in lines if "[tune-metric]: " in x]
        epochs += len(reports)
        if reports:
            training += float(reports[-1]["st_worker_time"])
            # The Reporter was created right before the first epoch.
            ready = reports[0]["st_worker_timestamp"] - reports[0]["st_worker_time"]
            to_training.append(ready - decision)
    return {
        "training share": training / (n_workers * wall),
        "start latency, median (s)": _median(to_first_line),
        "start to 1st epoch, median (s)": _median(to_training),
        "trial-epochs": epochs,
        "trials started": len(decided),
        "training time (s)": training,
        "wall-clock (s)": wall,
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(results: dict[str, dict[str, Any]]) -> None:
    """Print the figures of each back-end side by side, the ratios of the second to the first
    (fast/stock by default; fast+costs/fast measures the cost measurement), and the goals."""
    names = list(next(iter(results.values())))
    kinds = list(results)
    both = all(kind in results for kind in BACKENDS)
    pair = (kinds[0], kinds[1]) if len(kinds) == 2 else None
    ratio_name = f"{pair[1]}/{pair[0]}" if pair else ""
    header = f"{'':28}" + "".join(f"{kind:>12}" for kind in results) + (" " + f"{ratio_name:>11}" if pair else "")
    print(header)
    for name in names:
        row = f"{name:28}"
        for kind in results:
            row += _cell(name, results[kind][name])
        if pair:
            first, second = results[pair[0]][name], results[pair[1]][name]
            comparable = first and not (math.isnan(first) or math.isnan(second))
            row += f"{second / first:>11.2f}x" if comparable else f"{'-':>12}"
        print(row)
    if "fast" in results:
        fast = results["fast"]
        print()
        print(f"goal training share >= 60%: {'met' if fast['training share'] >= 0.6 else 'NOT met'}")
        latency_ok = fast["start latency, median (s)"] <= 0.3
        print(f"goal median start latency <= 0.3 s: {'met' if latency_ok else 'NOT met'}")
        if both:
            ratio = fast["trial-epochs"] / max(1, results["stock"]["trial-epochs"])
            print(f"goal trial-epochs >= 3x stock: {'met' if ratio >= 3 else 'NOT met'} ({ratio:.1f}x)")


def _cell(name: str, value: Any) -> str:
    if name == "training share":
        return f"{value:>12.1%}"
    return f"{value:>12.3f}" if isinstance(value, float) else f"{value:>12}"


def main() -> None:
    """Run each back-end in turn on the same seed and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="tuning seconds per back-end (default: 60)")
    parser.add_argument(
        "--trial-epochs",
        type=int,
        help="stop each back-end once this many epochs were reported (default: at --duration)",
    )
    parser.add_argument("--n-workers", type=int, default=2, help="trials in parallel (default: 2)")
    parser.add_argument("--seed", type=int, default=0, help="scheduler and numpy seed (default: 0)")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated, in order (default: stock,fast)"
    )
    args = parse_with_smoke(parser, SMOKE)
    from hpobench.benchmarks import get_benchmark

    root = Path(tempfile.mkdtemp(prefix="hpobench-efficiency-"))
    try:
        script = instrumented_copy(get_benchmark("mlp_digits").script_path, root)
        results = {}
        for kind in args.backends.split(","):
            until = "" if args.trial_epochs is None else f" or {args.trial_epochs} trial-epochs"
            print(f"ASHA on mlp_digits, {kind} back-end, {args.duration:g} s{until} ...", flush=True)
            results[kind] = run_backend(kind, script, args, root)
        print()
        report(results)
        failed = [kind for kind in results if results[kind]["trials failed"]]
        if failed:
            sys.exit(f"Error: trials failed with the {' and '.join(failed)} back-end: {failure(root / failed[0])}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
