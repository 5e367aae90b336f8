"""What a SageMaker job runs: one (method, seed) with the local launcher.

SageMaker's driver passes the job's hyperparameters as `--key value` arguments
(and exports them, JSON-decoded, as `SM_HPS`). The run's results go to the
checkpoint folder, which SageMaker syncs to
`s3://{bucket}/syne-tune/{experiment_tag}/{method}-{seed}/`; trial logs and
checkpoints go to a folder that is not synced. After the run, the tails of
failed trials' `std.err` and the fork server's log are copied next to the
results (`{tuner}/trial-logs/`), so `sync` brings them home.
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
# Kept logs, below each tuner folder of the synced run folder.
TRIAL_LOGS = "trial-logs"
LOG_TAIL_BYTES = 32 * 1024  # per file: enough for a traceback, bounded for S3
MAX_KEPT_TRIALS = 20


def job_environment() -> dict[str, str]:
    """The environment every job gets (CreateTrainingJob's Environment)."""
    return {"PYTHONUNBUFFERED": "1", CHECKPOINT_DIR_ENV: DEFAULT_CHECKPOINT_DIR, TRIALS_DIR_ENV: DEFAULT_TRIALS_DIR}


def parse_hyperparameters(argv: list[str], sm_hps: Optional[str] = None) -> dict[str, str]:
    """Hyperparameters from `--key value` arguments, completed by SM_HPS (JSON)."""
    from hpobench.experiment_setup import JOB_OPTIONAL, JOB_REQUIRED

    parser = argparse.ArgumentParser(prog="hpobench-job", add_help=False)
    for key in JOB_REQUIRED + JOB_OPTIONAL:
        parser.add_argument(f"--{key}")
    known, _ = parser.parse_known_args(argv)  # tolerate keys added by SageMaker itself
    values = {k: v for k, v in vars(known).items() if v is not None}
    if sm_hps:
        for key, value in json.loads(sm_hps).items():
            if key in JOB_REQUIRED + JOB_OPTIONAL and key not in values:
                values[key] = value if isinstance(value, str) else json.dumps(value)
    missing = [k for k in JOB_REQUIRED if k not in values]
    if missing:
        raise SystemExit(f"hpobench job: missing hyperparameters: {', '.join(missing)}")
    return values


def settings_from(hyperparameters: dict[str, str], results_root: Path, restarted: bool = False) -> Any:
    """The LocalSettings of exactly one (method, seed), as `run-local` would build them.

    `restarted`: SageMaker started this same job again, after a spot interruption
    (`resume.started_by_this_job`); a new job of the run (`launch-remote --force`) starts afresh."""
    import hpobench
    from hpobench.experiment_setup import settings_from_job_values
    from hpobench.remote.sagemaker.user_code import archive_path

    # The archive's top holds hpobench/ and a file-defined benchmark's folder.
    archive_root = Path(hpobench.__file__).resolve().parent.parent
    return settings_from_job_values(
        hyperparameters,
        results_root,
        benchmark=archive_path(hyperparameters["benchmark"], archive_root),
        # A job exists to run its (method, seed): results of an earlier job, restored from
        # S3 into the checkpoint folder, must not make it skip. A restarted job continues
        # its own run instead (or ends at once if that completed).
        force=not restarted,
    )


def run_job(argv: list[str]) -> int:
    """Run the job's (method, seed); returns the process exit code."""
    import logging

    import hpobench
    from hpobench.errors import HpobenchError
    from hpobench.local import resume
    from hpobench.local.launcher import run_local
    from hpobench.results import layout

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
        settings = settings_from(hyperparameters, results_root, resume.started_by_this_job(checkpoint_dir))
        outcomes = run_local(settings, command_line=["hpobench-job", *argv], trial_logs_root=trials_dir)
    except HpobenchError as error:
        print(f"Error: {error}", file=sys.stderr)
        return error.exit_code
    finally:
        try:
            keep_trial_logs(checkpoint_dir, trials_dir)
        except OSError as error:  # never hide the run's own outcome
            print(f"hpobench job: trial logs not kept: {error}", file=sys.stderr, flush=True)
    for outcome in outcomes:
        print(f"{outcome.run.name}: {outcome.status}, best {outcome.best}, results in {outcome.path}")
    return 0


def keep_trial_logs(checkpoint_dir: Path, trials_dir: Path) -> None:
    """Copy the tails of failed trials' std.err and of the fork server's log into each
    tuner folder's `trial-logs/`, which SageMaker syncs (unlike `trials_dir`)."""
    from hpobench.results import layout

    for tuner_dir in layout.tuner_dirs(checkpoint_dir):
        # The launcher writes trial logs to {trials_dir}/.../{tuner folder name}/.
        logs = next((p for p in trials_dir.glob(f"**/{tuner_dir.name}") if p.is_dir()), None)
        if logs is None:
            continue
        kept = tuner_dir / TRIAL_LOGS
        for server_log in logs.glob("*.log"):
            _copy_tail(server_log, kept / server_log.name)
        for trial_id in sorted(_failed_trials(tuner_dir, logs), key=int)[:MAX_KEPT_TRIALS]:
            _copy_tail(logs / trial_id / "std.err", kept / trial_id / "std.err")
        # The failure message names the log in the container; point it at the kept copy.
        error = (layout.read_metadata(tuner_dir) or {}).get("hpobench_error")
        if isinstance(error, str) and str(logs) in error:
            layout.update_metadata(tuner_dir, hpobench_error=error.replace(str(logs), TRIAL_LOGS))


def _failed_trials(tuner_dir: Path, logs: Path) -> list[str]:
    """Trial ids Syne Tune recorded as failed (every trial with a std.err if unknown)."""
    try:
        from syne_tune import Tuner
        from syne_tune.backend.trial_status import Status

        status = Tuner.load(str(tuner_dir)).tuning_status.last_trial_status_seen
        return [str(t) for t, s in status.items() if s == Status.failed]
    except Exception as error:  # a tuner that died early may have left no tuner.dill
        print(f"hpobench job: trial states unknown ({error}); keeping every std.err", flush=True)
        return [p.parent.name for p in logs.glob("*/std.err") if p.parent.name.isdigit()]


def _copy_tail(source: Path, target: Path) -> None:
    if not source.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as handle:
        handle.seek(max(source.stat().st_size - LOG_TAIL_BYTES, 0))
        target.write_bytes(handle.read())


def main() -> None:
    """Console entry of the job's script."""
    sys.exit(run_job(sys.argv[1:]))


if __name__ == "__main__":
    main()
