"""How far a simulated study agrees with the real one (issue 28, point 6).

One benchmark, end to end, with hpobench's own commands:

1. `hpobench tabulate`: a Sobol design of CONFIGS configurations, every resource level, SEEDS
   seeds, real trials on this machine;
2. `hpobench run-local`: real runs of METHODS, REAL_SEEDS seeds each, at the benchmark's budget;
3. `hpobench run-local --backend simulated --table ...`: the same methods on the table,
   SIM_SEEDS seeds each, same workers and budget (simulated seconds);
4. `hpobench fidelity`: Kendall's tau of the methods' real and simulated final ranks with its
   bootstrap interval, each method's simulated mean curve against the real 95% band, the
   verdict.

Every step is resumable (each has its own experiment tag; a re-run skips what is complete), so
an interrupted measurement continues where it stopped. The figures are printed and the
fidelity page is written under RESULTS_ROOT/fidelity-BENCHMARK.

    python benchmarks/simulation_fidelity.py --benchmark gbt_breast_cancer \
        --configs 256 --seeds 3 --real-seeds 5 --sim-seeds 20 --results-root ~/hpobench-fidelity
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_option import parse_with_smoke

METHODS = ["RS", "BO", "ASHA", "MOBSTER", "DEHB", "OPTUNA-TPE"]


def hpobench(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run an hpobench command as a user would; its output is shown if it fails."""
    command = [sys.executable, "-m", "hpobench", *arguments]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command[2:])}")
    return done


def timed(label: str, *arguments: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = hpobench(*arguments)
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s wall-clock", flush=True)
    return done, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", default="gbt_breast_cancer")
    parser.add_argument("--configs", type=int, default=256, help="configurations in the table's design")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per configuration in the table")
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--real-seeds", type=int, default=5)
    parser.add_argument("--sim-seeds", type=int, default=20)
    parser.add_argument("--max-wallclock-time", type=float, default=None, help="default: the benchmark's")
    parser.add_argument(
        "--max-num-evaluations", type=int, default=None, help="also stop each run after this many results"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="fixed entries, as run-local")
    parser.add_argument("--results-root", type=Path, default=None, help="default: ~/hpobench-fidelity")
    smoke = {
        "configs": 8,
        "seeds": 1,
        "methods": ["RS", "ASHA"],
        "real_seeds": 1,
        "sim_seeds": 2,
        # Runs end by results, the time only a cap: a loaded machine once ended a 6 s real run
        # before its first result.
        "max_wallclock_time": 60.0,
        "max_num_evaluations": 12,
        "set": ["boosting_rounds=6"],
    }
    args = parse_with_smoke(parser, smoke)
    if args.results_root is None:  # the smoke form keeps nothing
        args.results_root = Path(tempfile.mkdtemp()) if args.smoke else Path.home() / "hpobench-fidelity"
    root = args.results_root.expanduser().resolve()
    tag = args.benchmark.replace("_", "-")
    shared = ["--benchmark", args.benchmark, "--results-root", str(root)]
    fixed = [option for entry in args.set for option in ("--set", entry)]
    budget = [] if args.max_wallclock_time is None else ["--max-wallclock-time", str(args.max_wallclock_time)]
    if args.max_num_evaluations is not None:
        budget += ["--max-num-evaluations", str(args.max_num_evaluations)]
    methods = [option for method in args.methods for option in ("--method", method)]

    print(f"# {args.benchmark}: table {args.configs} x {args.seeds} seeds; methods {', '.join(args.methods)}")
    done, _ = timed(
        "tabulate",
        "tabulate",
        *shared,
        *fixed,
        "--configs",
        str(args.configs),
        "--seeds",
        str(args.seeds),
        "--design",
        "sobol",
        "--experiment-tag",
        f"{tag}-table",
        "--json",
    )
    table = json.loads(done.stdout)["table"]
    print(f"table: {table}")
    timed(
        f"real runs ({args.real_seeds} seeds each)",
        "run-local",
        *shared,
        *fixed,
        *budget,
        *methods,
        "--num-seeds",
        str(args.real_seeds),
        "--experiment-tag",
        f"{tag}-real",
    )
    timed(
        f"simulated runs ({args.sim_seeds} seeds each)",
        "run-local",
        *shared,
        *fixed,
        *budget,
        *methods,
        "--num-seeds",
        str(args.sim_seeds),
        "--backend",
        "simulated",
        "--table",
        table,
        "--experiment-tag",
        f"{tag}-sim",
    )
    output = root / f"fidelity-{tag}"
    done, _ = timed(
        "fidelity",
        "fidelity",
        "--real",
        f"{tag}-real",
        "--simulated",
        f"{tag}-sim",
        "--results-root",
        str(root),
        "--output",
        str(output),
        "--json",
    )
    print_figures(json.loads(done.stdout))
    print(f"page: {output / 'index.html'}")


def print_figures(report: dict[str, Any]) -> None:
    """The figures issue 28 asks for: tau with its interval, each method's band verdict, the
    flags and the verdict sentence."""
    interval = report["tau_interval"]
    shown = "-" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"
    tau = "-" if report["tau"] is None else f"{report['tau']:.2f}"
    print(f"Kendall's tau, real vs simulated final ranks: {tau}, 95% bootstrap interval {shown}")
    print(f"{'method':<12} {'real seeds':>10} {'sim seeds':>9} {'real final':>11} {'sim final':>11} inside band")
    for m in report["methods"]:
        inside = {True: "yes", False: "no", None: "not judged"}[m["inside_band"]]
        if m["inside_band"] is False:
            inside += f" (inside at {m['share_inside']:.0%}, first out at {m['first_exit']:.4g} s)"
        real = "-" if m["real_final"] is None else f"{m['real_final']:.4f}"
        simulated = "-" if m["simulated_final"] is None else f"{m['simulated_final']:.4f}"
        print(
            f"{m['method']:<12} {len(m['real_seeds']):>10} {len(m['simulated_seeds']):>9} {real:>11} {simulated:>11} "
            f"{inside}"
        )
    for flag in report["flags"]:
        print(f"flag ({flag['kind']}): {flag['message']}")
    print(f"verdict: {report['verdict']}")


if __name__ == "__main__":
    main()
