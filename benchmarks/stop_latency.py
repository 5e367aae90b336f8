"""How long `run-local` takes to exit after SIGTERM, by number of workers.

For each worker count, a real `hpobench run-local` on gbt_breast_cancer (no
torch, no download) runs until every worker's trial has reported, then gets
SIGTERM; printed: seconds from the signal to the process's exit, and its exit
code (143 expected). Worker counts above the machine's cap pass --max-workers.

    .venv/bin/python benchmarks/stop_latency.py [--workers 2 32]
    .venv/bin/python benchmarks/stop_latency.py --smoke   # one worker
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smoke_option import parse_with_smoke

SMOKE = {"workers": [1]}


def seconds_to_stop(workers: int, root: Path) -> tuple[float, int]:
    tag = f"stop-{workers}"
    command = [
        sys.executable,
        *"-m hpobench run-local --benchmark gbt_breast_cancer --method RS --n-workers".split(),
        str(workers),
        "--max-workers",
        str(workers),
        *"--set boosting_rounds=50 --max-wallclock-time 300 --experiment-tag".split(),
        tag,
        "--results-root",
        str(root),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        reported = [p for p in root.glob(f"{tag}/RS-0/*/*/std.out") if "[tune-metric]" in p.read_text()]
        if len(reported) >= workers:
            break
        time.sleep(0.5)
    else:
        process.kill()
        raise SystemExit(f"{workers} workers: trials did not all report within 240 s")
    start = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=300)
    return time.monotonic() - start, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 32])
    args = parse_with_smoke(parser, SMOKE)
    print(f"{'workers':>8} {'SIGTERM to exit (s)':>20} {'exit code':>10}")
    with tempfile.TemporaryDirectory() as root:
        for workers in args.workers:
            seconds, code = seconds_to_stop(workers, Path(root))
            print(f"{workers:>8} {seconds:>20.1f} {code:>10}")


if __name__ == "__main__":
    main()
