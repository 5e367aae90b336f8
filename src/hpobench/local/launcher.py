"""Run (method, seed) experiments on this machine with Syne Tune's local back-end.

Each (method, seed) is its own tuner, writing the results layout of
`hpobench.results.layout`. Completed runs are skipped on re-runs unless forced, SIGTERM
and Ctrl-C stop the current tuner cleanly (its trials are killed, its results
written). A run whose share of failed trials passes the limit is marked failed
and the sequence goes on; the launcher reports every failed run at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import RunError, UsageError
from hpobench.experiment_setup import ExperimentSetup
from hpobench.local import resume
from hpobench.local.backends import check_backend, simulated, warn_if_gpus_unused
from hpobench.local.forkserver import warm_servers
from hpobench.local.inputs import prepare_inputs
from hpobench.local.lock import experiment_lock, run_lock
from hpobench.local.one_run import RunContext, run_one
from hpobench.local.progress import ProgressObserver, RunOutcome
from hpobench.local.stopping import graceful_stop, stopped_by
from hpobench.local.workers import worker_limit
from hpobench.plan import (
    ExperimentPlan,
    PlannedRun,
    Selection,
    check_methods_build,
    experiment_tag,
    plan_experiment,
    select_runs,
)
from hpobench.results import layout
from hpobench.results.record import RunRecord
from hpobench.settings import LocalSettings
from hpobench.tag_records import RunsOnDisk

logger = logging.getLogger(__name__)

RESULTS_SAVE_INTERVAL = 5.0


def run_local(
    settings: LocalSettings,
    observer: Optional[ProgressObserver] = None,
    command_line: Optional[list[str]] = None,
    verbose: bool = False,
    trial_logs_root: Optional[Path] = None,
    lock_experiment: bool = True,
) -> list[RunOutcome]:
    """Run every (method, seed) of the experiment in sequence; returns their outcomes.

    `trial_logs_root`, if given, receives trial logs and checkpoints instead of
    the tuner folder (remote jobs keep them out of the synced results).
    `lock_experiment` False: hold each run's lock only, not the tag's (a Slurm cell
    runs beside the tag's other cells; its master seed is given).
    """
    observer = observer or ProgressObserver()
    check_writable(settings.results_root)
    tag = experiment_tag(settings)
    tag_lock = experiment_lock if lock_experiment else _no_lock
    with tag_lock(settings.results_root, tag):
        # Inside the lock, so no other launcher records another setup or master seed meanwhile.
        records = RunsOnDisk(settings.results_root, tag)
        plan = within_worker_limit(plan_experiment(settings, records), settings)
        if not simulated(settings):
            warn_if_gpus_unused(plan.benchmark)
        selection = select_runs(plan, records, settings.force)
        outcomes = _run_plan(plan, selection, settings, observer, command_line, verbose, trial_logs_root)
    observer.plan_finished(outcomes)
    if any(outcome.status == "failed" for outcome in outcomes):
        raise RunsFailed(outcomes)
    problems = [outcome.problem for outcome in outcomes if outcome.problem]
    if problems:
        raise RunsFailed(outcomes, "; ".join(problems), exit_code=2)
    return outcomes


def _run_plan(
    plan: ExperimentPlan,
    selection: Selection,
    settings: LocalSettings,
    observer: ProgressObserver,
    command_line: Optional[list[str]],
    verbose: bool,
    trial_logs_root: Optional[Path],
) -> list[RunOutcome]:
    """Each run of the plan in turn, skipping completed ones; stops on a signal."""
    setup = plan.setup
    outcomes: list[RunOutcome] = []
    # Refused now, not after hours of other runs: interrupted runs that cannot be resumed,
    # then every method that has a run to do, then the data.
    if selection.todo:
        _check_resumable(selection.todo, setup, settings)
        methods = list(dict.fromkeys(run.method for run in selection.todo))
        check_backend(settings, plan.benchmark, methods)
        check_methods_build(plan.benchmark, methods, scalarization=plan.scalarization)
        if not simulated(settings):  # a simulated run reads no data
            prepare_inputs(plan.benchmark)
    observer.plan_started(plan)
    try:
        with graceful_stop() as stop, warm_servers.for_launch() as servers:
            context = RunContext(plan, settings, observer, stop, command_line, verbose, trial_logs_root, servers)
            for index, run in enumerate(plan.runs):
                stop.check()
                folder = layout.run_dir(settings.results_root, plan.experiment_tag, run.name)
                if run not in selection.todo:
                    done = layout.completed_tuner_dir(folder) or folder
                    observer.run_skipped(run, done)
                    outcomes.append(RunOutcome(run, "skipped", done, RunRecord.from_metadata(_metadata(done)).best))
                    continue
                with run_lock(settings.results_root, plan.experiment_tag, run.name):
                    # Inside the lock: a `running` run found now has lost its launcher.
                    point = None if settings.force else resume.find(folder, run.name, setup)
                    observer.run_started(run, index, plan)
                    if point is not None:
                        observer.run_resumed(run, point.describe(plan.max_wallclock_time))
                    outcome = run_one(context, run, point)
                outcomes.append(outcome)
                observer.run_finished(outcome)
    except KeyboardInterrupt:  # a second Ctrl-C
        raise stopped_by(signal.SIGINT) from None
    return outcomes


def _metadata(tuner_dir: Optional[Path]) -> dict[str, Any]:
    return (layout.read_metadata(tuner_dir) if tuner_dir is not None else None) or {}


def _check_resumable(runs: tuple[PlannedRun, ...], setup: ExperimentSetup, settings: LocalSettings) -> None:
    """A UsageError now if an interrupted run among `runs` cannot be resumed (see `resume.find`)."""
    if settings.force:
        return
    for run in runs:
        point = resume.find(layout.run_dir(settings.results_root, setup.experiment_tag, run.name), run.name, setup)
        if point is not None:
            resume.load(point, run.name)  # loaded again, in its run's lock, when it runs


def within_worker_limit(plan: ExperimentPlan, settings: LocalSettings) -> ExperimentPlan:
    """The plan with no more workers than this machine holds (see `local.workers`).

    Asking for more with --n-workers is an error; a benchmark's default that is
    too large for this machine is lowered, with a warning.
    """
    if simulated(settings):  # simulated workers are not this machine's cores
        return plan
    if settings.max_workers is not None:
        limit, why = settings.max_workers, "--max-workers"
    else:
        limit, why = worker_limit(plan.benchmark, settings.num_gpus_per_trial, settings.trials_per_gpu, settings.gpus)
    if plan.n_workers <= limit:
        return plan
    if settings.n_workers is not None:
        raise UsageError(
            f"--n-workers {plan.n_workers} is more than this machine runs at once ({limit}: {why}); "
            f"pass --n-workers {limit} or less, or state a higher limit with --max-workers"
        )
    logger.warning(
        "%s runs %d workers by default; this machine runs %d at once (%s): using %d "
        "(state a higher limit with --max-workers)",
        plan.benchmark.name,
        plan.n_workers,
        limit,
        why,
        limit,
    )
    return dataclasses.replace(plan, n_workers=limit)


class RunsFailed(RunError):
    """Some runs of the experiment failed (the others ran); `outcomes` has them all."""

    def __init__(self, outcomes: list[RunOutcome], message: str = "", exit_code: Optional[int] = None):
        self.outcomes = outcomes
        failed = [o for o in outcomes if o.status == "failed"]
        if message:
            pass
        elif len(failed) == 1:
            message = failed[0].message
        else:
            details = "; ".join(o.message for o in failed)
            message = f"{len(failed)} of {len(outcomes)} runs failed: {details}"
        super().__init__(message)
        # Bad input (a script that never reports an objective, a reference point no result is
        # inside) exits 2, as other bad input does; a run that failed otherwise 1.
        if exit_code is not None:
            self.exit_code = exit_code
        elif failed and all(o.bad_input for o in failed):
            self.exit_code = 2


def check_writable(results_root: Path) -> None:
    """Fail early, with the fix, if results cannot be written under `results_root`."""
    try:
        results_root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=results_root, prefix=".hpobench-write-test") as probe:
            probe.write(b"x" * 1024)  # creating a file works on a full disk; writing does not
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        raise UsageError(
            f"Results root {results_root} is not writable ({error.strerror or error}); "
            "pass --results-root or set HPOBENCH_RESULTS_ROOT to a writable folder"
        ) from None


@contextlib.contextmanager
def _no_lock(results_root: Path, experiment_tag: str) -> Iterator[None]:
    yield
