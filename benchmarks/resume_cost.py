"""What an interruption costs ASHA on gbt_breast_cancer, with resume and without (goal: with
resume, at most a checkpoint interval plus a few seconds; gbt checkpoints every boosting round).

Each repetition runs, as real `hpobench run-local` processes with the same seeds:

- reference: the run, never interrupted;
- resume: the run killed with SIGKILL once it has used half its budget (read from its
  clock file), then the same command again, which continues it;
- restart: the same interruption, then the command with `--force`, which starts the
  run afresh in a new folder (what a re-run did before resuming existed, and what Syne
  Tune's own local tuner does).

Per variant: the wall-clock time of its processes summed, and the trial-epochs (boosting
rounds reported) of its final run. Lost time is the summed wall-clock minus the
reference's; of it, "clock" is the budget the interrupted run had used but its resume did
not count (at most the clock file's interval), and "work" the budget spent on what was
discarded (superseded trials, restarted epochs), estimated from the trial-epochs the
final run is short of the reference.

    PYTHONPATH=src python benchmarks/resume_cost.py [--budget 40] [--repeat 2]
    PYTHONPATH=src python benchmarks/resume_cost.py --smoke   # seconds: the code path, not the cost
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from smoke_option import parse_with_smoke

from hpobench.results import layout

SMOKE = {"budget": 2.0, "repeat": 1}


def command(root: Path, tag: str, budget: float, *extra: str) -> list[str]:
    return [
        sys.executable,
        *"-m hpobench run-local --benchmark gbt_breast_cancer --method ASHA --n-workers 2 --max-wallclock-time".split(),
        f"{budget:g}",
        *"--random-seed 11 --results-root".split(),
        str(root),
        "--experiment-tag",
        tag,
        *extra,
    ]


def run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_and_kill_at_half(args: list[str], run_dir: Path, budget: float, offset: float) -> tuple[float, float]:
    """Wall-clock seconds until the kill, and the budget the run had used when killed.

    The kill comes `offset` seconds after the clock file first shows half the budget: a
    kill just after the file was written would hide what the file's interval loses."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        clock = next((layout.read_clock(d) for d in layout.tuner_dirs(run_dir)), None)
        if clock is not None and clock[0] >= budget / 2:
            time.sleep(offset)
            process.send_signal(signal.SIGKILL)
            spent = clock[0] + (time.time() - clock[1])  # the clock ran on since it was written
            process.wait()
            return time.perf_counter() - start, spent
        time.sleep(0.02)
    raise SystemExit("the run ended before half its budget")


def trial_epochs(tuner_dir: Path) -> int:
    try:
        return len(pd.read_csv(tuner_dir / layout.RESULTS_FILE))
    except pd.errors.EmptyDataError:  # no trial reported within the budget (a short one)
        return 0


def one_repetition(root: Path, index: int, budget: float, offset: float) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    reference_wall = run(command(root, f"ref-{index}", budget))
    (reference_dir,) = layout.tuner_dirs(root / f"ref-{index}" / "ASHA-0")
    reference_epochs = trial_epochs(reference_dir)
    figures["reference"] = {"wall": reference_wall, "epochs": reference_epochs}
    for variant, extra in (("resume", ()), ("restart", ("--force",))):
        tag = f"{variant}-{index}"
        run_dir = root / tag / "ASHA-0"
        first_wall, spent_at_kill = run_and_kill_at_half(command(root, tag, budget), run_dir, budget, offset)
        second_wall = run(command(root, tag, budget, *extra))
        final = layout.tuner_dirs(run_dir)[-1]
        metadata = layout.read_metadata(final) or {}
        counted = (metadata.get("hpobench_resumes") or [{}])[0].get("budget_spent_before", 0.0)
        epochs = trial_epochs(final)
        figures[variant] = {
            "wall": first_wall + second_wall,
            "lost": first_wall + second_wall - reference_wall,
            "clock_lost": spent_at_kill - counted,
            "work_lost": max(0.0, (reference_epochs - epochs) / reference_epochs * budget)
            if reference_epochs
            else float("nan"),
            "epochs": epochs,
            "spent_at_kill": spent_at_kill,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=40.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parse_with_smoke(parser, SMOKE)
    with tempfile.TemporaryDirectory(prefix="resume-cost-") as folder:
        # Kill moments spread over the clock file's 1 s interval.
        offsets = [(i + 0.5) / args.repeat for i in range(args.repeat)]
        repetitions = [one_repetition(Path(folder), i, args.budget, offsets[i]) for i in range(args.repeat)]
    print(
        f"ASHA on gbt_breast_cancer, 2 workers, {args.budget:g} s budget, killed (SIGKILL) at half of it "
        f"plus {', '.join(f'{o:.2f}' for o in offsets)} s; {args.repeat} repetition(s), medians"
    )

    def median(variant: str, key: str) -> float:
        return statistics.median(r[variant][key] for r in repetitions)

    print(f"  reference  wall {median('reference', 'wall'):6.1f} s  trial-epochs {median('reference', 'epochs'):6.0f}")
    for variant in ("resume", "restart"):
        print(
            f"  {variant:<9}  wall {median(variant, 'wall'):6.1f} s  trial-epochs {median(variant, 'epochs'):6.0f}  "
            f"lost {median(variant, 'lost'):5.1f} s (clock {median(variant, 'clock_lost'):4.1f} s, "
            f"work {median(variant, 'work_lost'):4.1f} s)  "
            f"budget used at the kill {median(variant, 'spent_at_kill'):4.1f} s"
        )
    ratio = median("restart", "lost") / max(median("resume", "lost"), 1e-9)
    print(f"  an interruption costs {ratio:.1f}x less time with resume than with a fresh start")
    print(json.dumps(repetitions))


if __name__ == "__main__":
    main()
