"""How long `hpobench report` takes on a study of paper size (goal: under 10 s).

Writes a made-up study in the exact on-disk format runs write (tests/synthetic_study.py):
5 benchmarks x 8 methods x 20 seeds, 200 trials of 5 epochs per run (800 runs, 800,000
result rows), then times, each in a fresh process:

- the baseline: pandas reading every run's results.csv.zip (what any analysis starts with);
- `hpobench report` over the five tags, writing the HTML page, 5 figures in 3 formats and
  the tables; and the same with `--format json` and no folder (the statistics alone).

    PYTHONPATH=src python benchmarks/report_speed.py [--seeds 20] [--trials 200]
    PYTHONPATH=src python benchmarks/report_speed.py --smoke   # seconds: a tiny study, the code path
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smoke_option import parse_with_smoke  # beside this script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the study writer the tests use

METHODS = {
    "RS": 0.0,
    "BO": -0.6,
    "ASHA": -0.4,
    "MOBSTER": -0.8,
    "OPTUNA-TPE": -0.5,
    "SMAC": -0.5,
    "DEHB": -0.3,
    "NEVERGRAD-ONEPLUSONE": -0.2,
}
SMOKE = {"benchmarks": 2, "seeds": 2, "trials": 3, "epochs": 2}
PANDAS = """
import sys, pandas as pd
from pathlib import Path
rows = sum(len(pd.read_csv(p)) for p in sorted(Path(sys.argv[1]).rglob("results.csv.zip")))
print(rows)
"""


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=5)
    args = parse_with_smoke(parser, SMOKE)
    from synthetic_study import write_study

    with tempfile.TemporaryDirectory(prefix="hpobench-report-speed-") as folder:
        root = Path(folder)
        tags = {f"bench{b}": f"study{b}" for b in range(args.benchmarks)}
        start = time.perf_counter()
        write_study(root, tags, METHODS, args.seeds, args.trials, args.epochs)
        written = time.perf_counter() - start
        runs = args.benchmarks * len(METHODS) * args.seeds
        print(
            f"{args.benchmarks} benchmarks x {len(METHODS)} methods x {args.seeds} seeds = {runs} runs, "
            f"{args.trials} trials x {args.epochs} epochs each ({runs * args.trials * args.epochs:,} result "
            f"rows); written in {written:.1f} s"
        )
        base = [sys.executable, "-m", "hpobench", "report", "--results-root", str(root)]
        base += [a for t in tags.values() for a in ("--experiment-tag", t)]
        pandas_s, rows = timed([sys.executable, "-c", PANDAS, str(root)])
        json_s, _ = timed([*base, "--format", "json"])
        html_s, _ = timed([*base, "-o", str(root / "report")])
        print(f"pandas reading every results file (baseline): {pandas_s:6.2f} s ({int(rows):,} rows)")
        print(f"hpobench report --format json (no files)     : {json_s:6.2f} s ({json_s / pandas_s:.2f}x baseline)")
        print(
            f"hpobench report -o DIR (page, figures, tables): {html_s:6.2f} s ({html_s / pandas_s:.2f}x baseline)"
            f"  goal < 10 s: {'met' if html_s < 10 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
