"""Study throughput with K trials per GPU: trial-epochs per minute of `run-local` for K = 1, 2, 4.

Each K runs one real `hpobench run-local` study of resnet_cifar10 (random
search, the same master seed, so trial i gets the same configuration for every
K) with K workers and `--trials-per-gpu K` on one GPU for a fixed budget, then
counts the epochs all its trials finished within the budget. The data are
generated CIFAR-shaped images written in CIFAR-10's official format (speed does
not depend on them; no network needed).

    python benchmarks/gpu_packing.py                                   # one GPU: 3 x 120 s
    python benchmarks/gpu_packing.py --images 200 --budget 40 --ks 1 2 # CPU, reduced form
    python benchmarks/gpu_packing.py --smoke                           # seconds: one K, the code path

Without a GPU, K only sets the number of workers (nothing is packed): the
reduced form checks the pipeline, not the packing.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from accuracy_parity import synthetic_cifar
from smoke_option import parse_with_smoke

ROOT = Path(__file__).resolve().parents[1]
SMOKE = {"ks": [1], "budget": 4.0, "images": 10, "epochs": 1}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4], help="trials per GPU to compare")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of tuning per K")
    parser.add_argument("--images", type=int, default=50_000, help="CIFAR-10 training-set size to generate")
    parser.add_argument("--epochs", type=int, default=27, help="max epochs per trial (the benchmark's)")
    parser.add_argument("--backend", default="fast", choices=("fast", "stock"))
    args = parse_with_smoke(parser, SMOKE)
    return args


def write_cifar10(root: Path, n: int) -> Path:
    """Generated images as cifar-10-batches-py/data_batch_1..5 (python pickles)."""
    images, labels = synthetic_cifar(n, seed=0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(n), 5), start=1):
        batch = {"data": images[part].reshape(len(part), -1), "labels": labels[part].tolist()}
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return root


def last_error(stderr: Path) -> str:
    """The last line of a trial's std.err that names an error, or ''."""
    lines = stderr.read_text(errors="replace").splitlines() if stderr.exists() else []
    errors = [line.strip() for line in lines if "Error" in line or "error:" in line]
    return errors[-1][:160] if errors else ""


def trial_lines(experiment: Path, frame: pd.DataFrame) -> list[str]:
    """Per trial: epochs reported within the run, its first report's time, its last error."""
    lines = []
    for folder in sorted((p for p in experiment.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)):
        rows = frame[frame["trial_id"] == int(folder.name)] if len(frame) else frame
        first = f"first epoch at {rows['st_tuner_time'].min():.1f} s" if len(rows) else "no epoch"
        error = last_error(folder / "std.err")
        lines.append(f"  trial {folder.name}: {len(rows)} epochs, {first}" + (f"; {error}" if error else ""))
    return lines


def study(k: int, args: argparse.Namespace, data: Path, results: Path) -> tuple[float, int, int, list[str]]:
    """Trial-epochs per minute within the budget, trials started, the run's wall seconds, and
    one line per trial (so that a K that finishes little says why)."""
    tag = f"packing-k{k}"
    command = [
        sys.executable,
        *"-m hpobench run-local --benchmark resnet_cifar10 --method RS --experiment-tag".split(),
        tag,
        *"--random-seed 0 --n-workers".split(),
        str(k),
        "--trials-per-gpu",
        str(k),
        "--backend",
        args.backend,
        "--max-wallclock-time",
        str(args.budget),
        "--set",
        f"epochs={args.epochs}",
        "--set",
        f"dataset_path={data}",
    ]
    env = {
        **os.environ,
        "HPOBENCH_RESULTS_ROOT": str(results),
        "HPOBENCH_OFFLINE": "1",
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    (csv,) = results.glob(f"{tag}/RS-0/*/results.csv.zip")
    try:
        frame = pd.read_csv(csv)
    except pd.errors.EmptyDataError:  # no trial finished an epoch within the budget
        frame = pd.DataFrame(columns=["trial_id", "st_tuner_time"])
    within = frame[frame["st_tuner_time"] <= args.budget]
    lines = trial_lines(csv.parent, within)
    return len(within) / (args.budget / 60), within["trial_id"].nunique(), int(wall), lines


def main() -> None:
    args = parse_args()
    import torch
    from train_throughput import describe  # imports torch; after argument parsing

    print(f"device: {describe(torch.device('cuda' if torch.cuda.is_available() else 'cpu'))}")
    print(
        f"resnet_cifar10, random search, {args.images} generated images, budget {args.budget:g} s per K, "
        f"{args.backend} back-end"
    )
    with tempfile.TemporaryDirectory() as scratch:
        data = write_cifar10(Path(scratch) / "data", args.images)
        rates = {}
        for k in args.ks:
            rate, trials, wall, lines = study(k, args, data, Path(scratch) / "results")
            rates[k] = rate
            first = rates[args.ks[0]]
            relative = f"{rate / first:.2f}x K={args.ks[0]}" if first else f"K={args.ks[0]} finished no epoch"
            print(f"K={k}: {rate:.1f} trial-epochs/min ({relative}); {trials} trials reported; run took {wall} s")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
