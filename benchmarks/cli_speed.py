"""How fast the CLI answers: `hpobench --help` and `hpobench list benchmarks`.

Each command runs REPEATS times in a fresh process; the median wall-clock time
is printed beside `python -c pass` measured in the same run (the interpreter's
own start-up, which no CLI can beat). Goals: --help <= 0.3 s, list <= 0.8 s.

    .venv/bin/python benchmarks/cli_speed.py [--repeats 9]
    .venv/bin/python benchmarks/cli_speed.py --smoke   # one run of each
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from smoke_option import parse_with_smoke

GOALS = {"hpobench --help": 0.3, "hpobench list benchmarks": 0.8}
SMOKE = {"repeats": 1}


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parse_with_smoke(parser, SMOKE)
    script = Path(sys.executable).parent / "hpobench"
    hpobench = [str(script)] if script.exists() else [sys.executable, "-m", "hpobench"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "hpobench --help": [*hpobench, "--help"],
        "hpobench list benchmarks": [*hpobench, "list", "benchmarks"],
    }
    median_seconds(commands["hpobench --help"], 1)  # warm the file cache
    baseline = None
    print(f"{'command':28} {'median s':>9} {'x python':>9} {'goal s':>7}  ok")
    for name, command in commands.items():
        seconds = median_seconds(command, args.repeats)
        baseline = baseline or seconds
        goal = GOALS.get(name)
        ok = "" if goal is None else ("yes" if seconds <= goal else "NO")
        goal_text = f"{goal:.1f}" if goal else "-"
        print(f"{name:28} {seconds:9.3f} {seconds / baseline:9.1f} {goal_text:>7}  {ok}")


if __name__ == "__main__":
    main()
