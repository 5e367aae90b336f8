"""What a job on a shared file system runs: one (method, seed) cell with run-local's launcher.

    python -m hpobench.remote.cell_job --results-root R --experiment_tag T --benchmark B \\
        --method M --seed S --random_seed 123 --n_workers 4 --max_wallclock_time 600 [...]

The arguments are the experiment setup's job arguments (`ExperimentSetup.job_values`,
the same keys a SageMaker job gets as hyperparameters). Results go straight to
R/T/M-S/ as with run-local; the cell holds its run's lock, not the tag's, so the
tag's other cells run beside it. A cell whose run already completed does nothing
(a requeued task, a duplicate submission) unless `--force`; an interrupted run
(a time limit, a preemption, a requeue) is resumed where it stopped.

A tabulation's cell (`hpobench tabulate --engine slurm`) also gets its design's arguments
(`--design sobol --configs 64 --design_seed 0 --design_sha256 ...`): it draws the design again
and evaluates what its seed lacks (`tables.tabulate_slurm.run_cell`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_arguments(argv: list[str]) -> tuple[dict[str, str], Path, bool]:
    """The job values, the results root and whether to re-run a complete cell."""
    from hpobench.experiment_setup import JOB_OPTIONAL, JOB_REQUIRED
    from hpobench.tables.tabulate_slurm import CELL_KEYS

    parser = argparse.ArgumentParser(prog="python -m hpobench.remote.cell_job")
    parser.add_argument("--results-root", type=Path, required=True)
    parser.add_argument("--force", action="store_true")
    for key in JOB_REQUIRED:
        parser.add_argument(f"--{key}", required=True)
    for key in (*JOB_OPTIONAL, *CELL_KEYS):
        parser.add_argument(f"--{key}")
    known = vars(parser.parse_args(argv))
    results_root, force = known.pop("results_root"), known.pop("force")
    return {k: v for k, v in known.items() if v is not None}, results_root, force


def run_cell(argv: list[str]) -> int:
    """Run the cell; the process exit code (0: complete or already complete)."""
    import logging

    import hpobench
    from hpobench.errors import HpobenchError
    from hpobench.experiment_setup import settings_from_job_values
    from hpobench.local import resume
    from hpobench.local.launcher import run_local
    from hpobench.results import layout

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    values, results_root, force = parse_arguments(argv)
    print(f"hpobench {hpobench.__version__} from {Path(hpobench.__file__).parent}", flush=True)
    command_line = [sys.executable, "-m", "hpobench.remote.cell_job", *argv]
    try:
        if "design" in values:
            from hpobench.tables.tabulate_slurm import run_cell as run_tabulation_cell

            run_tabulation_cell(values, results_root, command_line)
            return 0
        # A requeued task of a forced launch continues the run it started, not a third one.
        run = layout.run_name(values["method"], int(values["seed"]))
        force = force and not resume.started_by_this_job(layout.run_dir(results_root, values["experiment_tag"], run))
        settings = settings_from_job_values(values, results_root, force=force or None)
        outcomes = run_local(settings, command_line=command_line, lock_experiment=False)
    except HpobenchError as error:
        print(f"Error: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    for outcome in outcomes:
        print(f"{outcome.run.name}: {outcome.status}, best {outcome.best}, results in {outcome.path}", flush=True)
    return 0


def main() -> None:
    sys.exit(run_cell(sys.argv[1:]))


if __name__ == "__main__":
    main()
