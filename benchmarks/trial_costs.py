"""Whether hpobench sees what a real trial costs: its peak memory and GPU-seconds (issue 32).

    python benchmarks/trial_costs.py [--device cuda|cpu] [--allocate-mib 1024] [--backend fast|stock]
    python benchmarks/trial_costs.py --smoke   # seconds: the CPU path, a small block

Runs `hpobench run-local` on a benchmark written here: one trial of 3 levels whose script
allocates a block of `--allocate-mib` MiB right after its first report, on the GPU
(`--device cuda`, default where nvidia-smi lists one: the benchmark then has a GPU instance type,
so the trial holds a GPU, and the script opens CUDA before level 1) or in host memory. Prints,
per level, what the results recorded (`hpobench_peak_host_memory`, `hpobench_peak_gpu_memory`,
`hpobench_gpu_seconds`, `hpobench_train_time`) and the goals: the peak of that device grows by at
least 90% of the block from level 1 to level 2, and GPU-seconds are training time times the GPUs
held (1 on a GPU, else 0). `benchmarks/gpu_check.sh` runs it on a GPU machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from smoke_option import parse_with_smoke

SMOKE = {"allocate_mib": 64, "device": "cpu"}
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """\
import argparse
import time

from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
args, _ = parser.parse_known_args()
DEVICE, SIZE = {device!r}, {size}
if DEVICE == "cuda":
    import torch

    torch.zeros(1, device="cuda")  # the CUDA context, before level 1
report = Reporter()
held = []
for epoch in range(1, args.epochs + 1):
    if epoch == 2:
        if DEVICE == "cuda":
            held.append(torch.ones(SIZE // 4, dtype=torch.float32, device="cuda"))
            torch.cuda.synchronize()
        else:
            held.append(b"\\x01" * SIZE)
    time.sleep(1.5)  # a GPU is sampled every second
    report(epoch=epoch, loss=1.0 / epoch)
"""

DEFINITION = """\
name = "allocates"
script = "train.py"
metric = "loss"
mode = "min"
resource_attr = "epoch"
max_resource_attr = "epochs"
max_wallclock_time = 120
n_workers = 1
instance_type = "{instance_type}"

[config_space]
epochs = 3
x = {{ kind = "uniform", lower = 0.0, upper = 1.0 }}
"""

COLUMNS = ("hpobench_peak_host_memory", "hpobench_peak_gpu_memory", "hpobench_gpu_seconds", "hpobench_train_time")


def has_gpu() -> bool:
    try:
        listed = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return listed.returncode == 0 and "GPU " in listed.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), help="where the block goes (default: cuda if any)")
    parser.add_argument("--allocate-mib", type=int, default=1024, help="the block's size in MiB (default: 1024)")
    parser.add_argument("--backend", choices=("fast", "stock"), default="fast", help="trial back-end (default: fast)")
    args = parse_with_smoke(parser, SMOKE)
    import pandas as pd

    device = args.device or ("cuda" if has_gpu() else "cpu")
    size = args.allocate_mib * 2**20
    folder = Path(tempfile.mkdtemp(prefix="hpobench-trial-costs-"))
    try:
        (folder / "bench").mkdir()
        (folder / "bench" / "train.py").write_text(SCRIPT.format(device=device, size=size))
        instance_type = "ml.g4dn.xlarge" if device == "cuda" else "ml.c5.xlarge"
        definition = folder / "bench" / "allocates.toml"
        definition.write_text(DEFINITION.format(instance_type=instance_type))
        command = [
            sys.executable,
            "-c",
            "from hpobench.cli import main; main()",
            "run-local",
            "--benchmark",
            str(definition),
            "--method",
            "RS",
            "--backend",
            args.backend,
            "--max-num-evaluations",
            "3",
            "--results-root",
            str(folder / "results"),
            "--experiment-tag",
            "costs",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            sys.exit(f"Error: hpobench run-local failed: {(done.stderr or done.stdout).strip()[-2000:]}")
        (results_file,) = (folder / "results" / "costs").glob("RS-0/*/results.csv.zip")
        results = pd.read_csv(results_file)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    trial = results[results["trial_id"] == results["trial_id"].iloc[0]].set_index("epoch")
    print(f"device: {device}, block {args.allocate_mib} MiB after level 1, {args.backend} back-end")
    print(f"{'level':>5} {'host MiB':>10} {'GPU MiB':>10} {'GPU-s':>8} {'train s':>8}")
    for level, row in trial.iterrows():
        host, gpu = row["hpobench_peak_host_memory"] / 2**20, row["hpobench_peak_gpu_memory"] / 2**20
        print(f"{level:>5} {host:>10.1f} {gpu:>10.1f} {row['hpobench_gpu_seconds']:>8.3f} {row[COLUMNS[3]]:>8.3f}")
    peak = trial["hpobench_peak_gpu_memory" if device == "cuda" else "hpobench_peak_host_memory"]
    grown = (peak[2] - peak[1]) / size
    verdict = "met" if grown >= 0.9 else "NOT met"
    print(f"goal {device} peak grows by >= 90% of the block at level 2: {verdict} ({grown:.0%})")
    gpus = 1 if device == "cuda" else 0
    exact = ((trial["hpobench_gpu_seconds"] - gpus * trial["hpobench_train_time"]).abs() < 1e-9).all()
    print(f"goal GPU-seconds = {gpus} x training time: {'met' if exact else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
