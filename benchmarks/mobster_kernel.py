"""MOBSTER's joint kernel: the sum it uses against the product of the same two Matérns.

hpobench's MOBSTER models (configuration, log resource) with a scaled Matérn on
the configuration plus a scaled Matérn on the resource, the configuration part
shared by every resource level as in Syne Tune's exp-decay-sum kernel. The
alternative measured here multiplies the two Matérns, which lets rankings change
with the resource. For each kernel, MOBSTER and MOBSTER-STOP run on
`gbt_breast_cancer` through hpobench's real local launcher (fast back-end, the
benchmark's 2 workers), the kernel swapped in this process, where the scheduler
and its GP live; printed: final best val log-loss (mean +- standard error over
seeds), configurations evaluated and boosting rounds trained per configuration.

    python benchmarks/mobster_kernel.py --seeds 10 --budget 25
    python benchmarks/mobster_kernel.py --smoke   # seconds: the swapped-in kernel's code path
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from smoke_option import parse_with_smoke

from hpobench.methods import gp_model

BENCHMARK = "gbt_breast_cancer"
METHODS = ("MOBSTER", "MOBSTER-STOP")
TAG = "mobster-kernel"
# The product alone: the sum is MOBSTER's own kernel, which every MOBSTER run uses.
SMOKE = {"seeds": 1, "budget": 2.0, "kernels": ["product"]}


def product_kernel(config_columns: list[int], resource_column: int) -> Any:
    """Matérn on the configuration times Matérn on the log resource (no output scale:
    the targets are standardized), hpobench's kernel before this comparison."""
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior

    config = get_covar_module_with_dim_scaled_prior(
        len(config_columns), use_rbf_kernel=False, active_dims=config_columns
    )
    return config * get_covar_module_with_dim_scaled_prior(1, use_rbf_kernel=False, active_dims=[resource_column])


KERNELS = {"sum": gp_model.joint_kernel, "product": product_kernel}


def run(root: Path, kernel: str, seeds: int, budget: float, master_seed: int) -> None:
    from hpobench.local.launcher import run_local
    from hpobench.settings import LocalSettings, load_settings

    gp_model.joint_kernel = KERNELS[kernel]
    settings = load_settings(
        LocalSettings,
        experiment_tag=TAG,
        benchmark=BENCHMARK,
        methods=METHODS,
        num_seeds=seeds,
        max_wallclock_time=budget,
        random_seed=master_seed,
        results_root=root / kernel,
    )
    run_local(settings)


def summarize(root: Path, kernel: str) -> None:
    from hpobench.results.aggregate import best_so_far
    from hpobench.results.load import load_experiment

    experiment = load_experiment(root / kernel, TAG)
    for method in METHODS:
        runs = [r for r in experiment.runs if r.method == method and r.frame is not None]
        finals = [float(best_so_far(r.frame.value, r.mode or "min")[-1]) for r in runs]
        configurations = sum(len(set(r.frame.trial_id.tolist())) for r in runs)
        rounds = sum(r.num_results for r in runs)
        # A run may hold no result (a budget shorter than a trial's start).
        mean = statistics.mean(finals) if finals else float("nan")
        stderr = statistics.stdev(finals) / len(finals) ** 0.5 if len(finals) > 1 else float("nan")
        per_configuration = rounds / configurations if configurations else float("nan")
        print(
            f"{kernel:<8} {method:<13} {len(finals):>5} {mean:>8.4f} +- {stderr:.4f} "
            f"{configurations:>14} {per_configuration:>18.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=float, default=25.0, help="wall-clock seconds per run")
    parser.add_argument("--master-seed", type=int, default=1)
    parser.add_argument("--kernels", nargs="+", choices=list(KERNELS), default=list(KERNELS))
    parser.add_argument("--results-root", type=Path, default=None, help="keep the runs here")
    args = parse_with_smoke(parser, SMOKE)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("syne_tune").setLevel(logging.ERROR)

    root = args.results_root or Path(tempfile.mkdtemp(prefix="hpobench-kernel-"))
    started = time.monotonic()
    for kernel in args.kernels:
        run(root, kernel, args.seeds, args.budget, args.master_seed)
    print(f"(runs took {time.monotonic() - started:.0f} s; results under {root})")
    print(f"\n{BENCHMARK}, val_log_loss (min), {args.budget:g} s per run, master seed {args.master_seed}")
    print(
        f"{'kernel':<8} {'method':<13} {'seeds':>5} {'final best (mean +- se)':>18} "
        f"{'configurations':>14} {'rounds per config':>18}"
    )
    for kernel in args.kernels:
        summarize(root, kernel)


if __name__ == "__main__":
    main()
