"""What a SageMaker job runs: one (method, seed) with the local launcher.

SageMaker's driver passes the job's hyperparameters as `--key value` arguments
(and exports them, JSON-decoded, as `SM_HPS`). The run's results go to the
checkpoint folder, which SageMaker syncs to
`s3://{bucket}/syne-tune/{experiment_tag}/{method}-{seed}/`; trial logs and
checkpoints go to a folder that is not synced.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

# Where SageMaker syncs checkpoints from; tests point these elsewhere.
CHECKPOINT_DIR_ENV = "HPOBENCH_JOB_CHECKPOINT_DIR"
TRIALS_DIR_ENV = "HPOBENCH_JOB_TRIALS_DIR"
DEFAULT_CHECKPOINT_DIR = "/opt/ml/checkpoints"
DEFAULT_TRIALS_DIR = "/opt/ml/trials"

# The hyperparameters a job carries; `remote/submit.py` writes them.
REQUIRED = ("experiment_tag", "benchmark", "method", "seed", "random_seed", "n_workers",
            "max_wallclock_time")  # fmt: skip
OPTIONAL = ("max_num_evaluations", "overrides", "hpobench_version")


def parse_hyperparameters(argv: list[str], sm_hps: Optional[str] = None) -> dict[str, str]:
    """Hyperparameters from `--key value` arguments, completed by SM_HPS (JSON)."""
    parser = argparse.ArgumentParser(prog="hpobench-job", add_help=False)
    for key in REQUIRED + OPTIONAL:
        parser.add_argument(f"--{key}")
    known, _ = parser.parse_known_args(argv)  # tolerate keys added by SageMaker itself
    values = {k: v for k, v in vars(known).items() if v is not None}
    if sm_hps:
        for key, value in json.loads(sm_hps).items():
            if key in REQUIRED + OPTIONAL and key not in values:
                values[key] = value if isinstance(value, str) else json.dumps(value)
    missing = [k for k in REQUIRED if k not in values]
    if missing:
        raise SystemExit(f"hpobench job: missing hyperparameters: {', '.join(missing)}")
    return values


def settings_from(hyperparameters: dict[str, str], results_root: Path) -> Any:
    """The LocalSettings of exactly one (method, seed), as `run-local` would build them."""
    from hpobench.settings import LocalSettings, load_settings

    overrides = json.loads(hyperparameters.get("overrides") or "{}")
    evaluations = hyperparameters.get("max_num_evaluations")
    return load_settings(
        LocalSettings,
        experiment_tag=hyperparameters["experiment_tag"],
        benchmark=hyperparameters["benchmark"],
        methods=(hyperparameters["method"],),
        start_seed=int(hyperparameters["seed"]),
        num_seeds=1,
        random_seed=int(hyperparameters["random_seed"]),
        n_workers=int(hyperparameters["n_workers"]),
        max_wallclock_time=float(hyperparameters["max_wallclock_time"]),
        max_num_evaluations=int(evaluations) if evaluations else None,
        overrides={k: str(v) for k, v in overrides.items()},
        results_root=results_root,
        # A job exists to run its (method, seed): results of an earlier attempt,
        # restored from S3 into the checkpoint folder, must not make it skip.
        force=True,
    )


def run_job(argv: list[str]) -> int:
    """Run the job's (method, seed); returns the process exit code."""
    import logging

    from hpobench import layout
    from hpobench.errors import HpobenchError
    from hpobench.local.launcher import run_local

    import hpobench

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    hyperparameters = parse_hyperparameters(argv, os.environ.get("SM_HPS"))
    print(f"hpobench {hpobench.__version__} from {Path(hpobench.__file__).parent}", flush=True)
    checkpoint_dir = Path(os.environ.get(CHECKPOINT_DIR_ENV, DEFAULT_CHECKPOINT_DIR))
    trials_dir = Path(os.environ.get(TRIALS_DIR_ENV, DEFAULT_TRIALS_DIR))
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    trials_dir.mkdir(parents=True, exist_ok=True)
    run_name = layout.run_name(hyperparameters["method"], int(hyperparameters["seed"]))
    # The checkpoint folder *is* the run folder {tag}/{method}-{seed}, because that is
    # what SageMaker syncs to s3://.../syne-tune/{tag}/{method}-{seed}/. The local
    # launcher wants a results root above it, so one is made here with a link.
    results_root = Path(tempfile.mkdtemp(prefix="hpobench-results-"))
    run_link = layout.run_dir(results_root, hyperparameters["experiment_tag"], run_name)
    run_link.parent.mkdir(parents=True)
    run_link.symlink_to(checkpoint_dir.resolve(), target_is_directory=True)
    try:
        settings = settings_from(hyperparameters, results_root)
        outcomes = run_local(
            settings, command_line=["hpobench-job", *argv], trial_logs_root=trials_dir
        )
    except HpobenchError as error:
        print(f"Error: {error}", file=sys.stderr)
        return error.exit_code
    for outcome in outcomes:
        print(
            f"{outcome.run.name}: {outcome.status}, best {outcome.best}, results in {outcome.path}"
        )
    return 0


def main() -> None:
    """Console entry of the job's script."""
    sys.exit(run_job(sys.argv[1:]))


if __name__ == "__main__":
    main()
