"""What repeats exactly when a run is repeated with the same seed.

Runs each method twice with the same master seed on `gbt_breast_cancer`
(deterministic training) through `hpobench run-local`, with 1 and with 2
workers, stopping on a count of results, and compares the two runs:

- configurations: for each trial id both runs started, is it the same configuration?
- decisions: for each trial both ran to its end, the same (round, decision) sequence?
- events: how many of the (trial id, round, decision) results, in order, agree
  before the first difference (of how many both runs have).

    python benchmarks/reproducibility.py --evaluations 80
    python benchmarks/reproducibility.py --smoke   # seconds: ASHA, 2 workers, the code path
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from smoke_option import parse_with_smoke

BENCHMARK = "gbt_breast_cancer"
ROUNDS = 9  # short trials (rungs 1 and 3), so a run holds many of them
SMOKE = {"evaluations": 4, "methods": ["ASHA"], "workers": [2]}


def run(root: Path, tag: str, method: str, workers: int, evaluations: int, seed: int) -> pd.DataFrame:
    """One `hpobench run-local` in a fresh process; its results dataframe."""
    from syne_tune.experiments import load_experiment

    from hpobench.results import layout

    command = [
        sys.executable,
        *"-m hpobench run-local --benchmark".split(),
        BENCHMARK,
        "--method",
        method,
        "--experiment-tag",
        tag,
        "--results-root",
        str(root),
        "--n-workers",
        str(workers),
        "--max-num-evaluations",
        str(evaluations),
        *"--max-wallclock-time 300 --random-seed".split(),
        str(seed),
        "--set",
        f"boosting_rounds={ROUNDS}",
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    (tuner_dir,) = layout.tuner_dirs(root / tag / layout.run_name(method, 0))
    frame = load_experiment(str(tuner_dir.relative_to(root)), local_path=str(root)).results
    return frame.sort_values(["st_tuner_time", "trial_id", "round"], kind="stable")


def compare(a: pd.DataFrame, b: pd.DataFrame) -> tuple[str, str, str]:
    """Configurations equal / trials in both; trials with the same (round, decision)
    sequence / trials both saw to the end; events equal before the first difference / in both."""
    searched = [c for c in a.columns if c.startswith("config_") and c != "config_boosting_rounds"]
    first_a = a.groupby("trial_id")[searched].first()
    first_b = b.groupby("trial_id")[searched].first()
    common = first_a.index.intersection(first_b.index)
    same = sum(first_a.loc[t].equals(first_b.loc[t]) for t in common)
    events_a = list(zip(a["trial_id"], a["round"], a["st_decision"], strict=True))
    events_b = list(zip(b["trial_id"], b["round"], b["st_decision"], strict=True))
    length = min(len(events_a), len(events_b))
    prefix = next((i for i in range(length) if events_a[i] != events_b[i]), length)
    # The stop cuts the last running trials at different points: compare the others.
    ended = [t for t in common if t < min(a["trial_id"].max(), b["trial_id"].max()) - 1]
    same_course = sum(
        list(zip(a[a.trial_id == t]["round"], a[a.trial_id == t]["st_decision"], strict=True))
        == list(zip(b[b.trial_id == t]["round"], b[b.trial_id == t]["st_decision"], strict=True))
        for t in ended
    )
    return f"{same}/{len(common)}", f"{same_course}/{len(ended)}", f"{prefix}/{length}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaluations", type=int, default=80, help="results per run")
    parser.add_argument("--methods", nargs="+", default=["RS", "ASHA", "BO", "MOBSTER"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parse_with_smoke(parser, SMOKE)

    root = Path(tempfile.mkdtemp(prefix="hpobench-repro-"))
    print(f"{BENCHMARK}, {args.evaluations} results per run, master seed {args.seed}; runs under {root}")
    print(
        f"{'method':<10} {'workers':>7} {'same config per trial id':>25} "
        f"{'same decisions per trial':>25} {'same event sequence':>20}"
    )
    for workers in args.workers:
        for method in args.methods:
            frames = [
                run(root, f"repro-{method.lower()}-{workers}-{i}", method, workers, args.evaluations, args.seed)
                for i in (1, 2)
            ]
            configs, courses, events = compare(*frames)
            print(f"{method:<10} {workers:>7} {configs:>25} {courses:>25} {events:>20}", flush=True)


if __name__ == "__main__":
    main()
