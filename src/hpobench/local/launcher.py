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
import functools
import io
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from hpobench import __version__
from hpobench.errors import RunError, StoppedBySignal, UsageError, last_line
from hpobench.experiment_setup import ExperimentSetup
from hpobench.local import resume, run_end
from hpobench.local.backends import gpu_metadata, make_backend, warn_if_gpus_unused
from hpobench.local.inputs import prepare_inputs
from hpobench.local.lock import experiment_lock, run_lock
from hpobench.local.progress import ProgressObserver, RunOutcome
from hpobench.local.stopping import TUNER_MAX_FAILURES, FailureLimit, StopRequest, StopWhen, graceful_stop, stopped_by
from hpobench.local.workers import trial_devices, worker_limit
from hpobench.plan import ExperimentPlan, PlannedRun, plan_experiment
from hpobench.processes import current_process
from hpobench.results import layout
from hpobench.settings import LocalSettings

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
    plan = _within_worker_limit(plan_experiment(settings), settings)
    warn_if_gpus_unused(plan.benchmark)
    tag_lock = experiment_lock if lock_experiment else _no_lock
    with tag_lock(settings.results_root, plan.experiment_tag):
        # Inside the lock, so no other launcher records another master seed meanwhile.
        recorded = layout.recorded_master_seed(settings.results_root, plan.experiment_tag)
        if recorded is not None and settings.random_seed is None:
            # The seed changes the runs, not the workers: limited (and warned about) once.
            plan = dataclasses.replace(plan_experiment(settings, recorded), n_workers=plan.n_workers)
        elif recorded is not None and settings.random_seed != recorded:
            # Seeds of one experiment drawn from two master seeds are not one experiment.
            raise UsageError(
                f"Experiment {plan.experiment_tag!r} already uses master random seed {recorded}, "
                f"not {settings.random_seed}; leave out --random-seed, or use another --experiment-tag"
            )
        outcomes = _run_plan(plan, settings, observer, command_line, verbose, trial_logs_root)
    observer.plan_finished(outcomes)
    if any(outcome.status == "failed" for outcome in outcomes):
        raise RunsFailed(outcomes)
    return outcomes


def _run_plan(
    plan: ExperimentPlan,
    settings: LocalSettings,
    observer: ProgressObserver,
    command_line: Optional[list[str]],
    verbose: bool,
    trial_logs_root: Optional[Path],
) -> list[RunOutcome]:
    """Each run of the plan in turn, skipping completed ones; stops on a signal."""
    observer.plan_started(plan)
    setup = ExperimentSetup.of(plan, settings.trials_per_gpu, settings.backend)
    outcomes: list[RunOutcome] = []
    prepared = False
    _check_resumable(plan, setup, settings)  # refuse now, not after hours of other runs
    try:
        with graceful_stop() as stop:
            for index, run in enumerate(plan.runs):
                stop.check()
                folder = layout.run_dir(settings.results_root, plan.experiment_tag, run.name)
                done = layout.completed_tuner_dir(folder)
                if done is not None and not settings.force:
                    setup.check_reuse(layout.read_metadata(done) or {}, run.name)
                    observer.run_skipped(run, done)
                    best = (layout.read_metadata(done) or {}).get("hpobench_best")
                    outcomes.append(RunOutcome(run, "skipped", done, best))
                    continue
                if not prepared:  # once, and only when something runs
                    prepare_inputs(plan.benchmark)
                    prepared = True
                with run_lock(settings.results_root, plan.experiment_tag, run.name):
                    # Inside the lock: a `running` run found now has lost its launcher.
                    point = None if settings.force else resume.find(folder, run.name, setup)
                    observer.run_started(run, index, plan)
                    if point is not None:
                        observer.run_resumed(run, point.describe(plan.max_wallclock_time))
                    outcome = _run_one(
                        plan, setup, run, settings, observer, command_line, verbose, trial_logs_root, stop, point
                    )
                outcomes.append(outcome)
                observer.run_finished(outcome)
    except KeyboardInterrupt:  # a second Ctrl-C
        raise stopped_by(signal.SIGINT) from None
    return outcomes


def _check_resumable(plan: ExperimentPlan, setup: ExperimentSetup, settings: LocalSettings) -> None:
    """A UsageError now if an interrupted run of the plan cannot be resumed (see `resume.find`)."""
    if settings.force:
        return
    for run in plan.runs:
        folder = layout.run_dir(settings.results_root, plan.experiment_tag, run.name)
        if layout.completed_tuner_dir(folder) is None:
            point = resume.find(folder, run.name, setup)
            if point is not None:
                resume.load(point, run.name)  # loaded again, in its run's lock, when it runs


def _within_worker_limit(plan: ExperimentPlan, settings: LocalSettings) -> ExperimentPlan:
    """The plan with no more workers than this machine holds (see `local.workers`).

    Asking for more with --n-workers is an error; a benchmark's default that is
    too large for this machine is lowered, with a warning.
    """
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

    def __init__(self, outcomes: list[RunOutcome]):
        self.outcomes = outcomes
        failed = [o for o in outcomes if o.status == "failed"]
        if len(failed) == 1:
            message = failed[0].message
        else:
            details = "; ".join(o.message for o in failed)
            message = f"{len(failed)} of {len(outcomes)} runs failed: {details}"
        super().__init__(message)


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


def run_metadata(
    plan: ExperimentPlan, setup: ExperimentSetup, run: PlannedRun, command_line: Optional[list[str]]
) -> dict[str, Any]:
    """What metadata.json records so the run can be reproduced."""
    import syne_tune

    benchmark = plan.benchmark
    return {
        **setup.comparable(),
        "experiment_tag": plan.experiment_tag,
        "method": run.method,
        "seed": run.seed,
        "random_seed": run.random_seed,
        "metric": benchmark.metric,
        "mode": benchmark.mode,
        "resource_attr": benchmark.resource_attr,
        "max_resource_attr": benchmark.max_resource_attr,
        "search_space": benchmark.model_dump(mode="json")["config_space"],
        # What every method evaluated first (searched entries): the default configuration, the
        # benchmark's points_to_evaluate, or none (see default_first_trial).
        "points_to_evaluate": _first_points(plan),
        "benchmark_source": benchmark.origin.describe(),
        "benchmark_definition": benchmark.model_dump(mode="json"),
        **_definition_file(benchmark),
        "instance_type": benchmark.instance_type,
        "stopping_criterion": {
            "max_wallclock_time": plan.max_wallclock_time,
            "max_num_evaluations": plan.max_num_evaluations,
        },
        "versions": {
            "hpobench": __version__,
            "syne_tune": getattr(syne_tune, "__version__", "unknown"),
            "torch": _torch_version(),
            "python": sys.version.split()[0],
        },
        "command_line": command_line if command_line is not None else list(sys.argv),
        "reproduce_command": setup.reproduce_command(run.method, run.seed),
        layout.STATUS_KEY: layout.STATUS_RUNNING,
        # Lets `status` tell a run in progress from one whose launcher was killed.
        layout.PROCESS_KEY: current_process(),
    }


def _first_points(plan: ExperimentPlan) -> list[dict[str, Any]]:
    from hpobench.methods import MethodArguments

    return MethodArguments.for_benchmark(plan.benchmark, 0, plan.default_first_trial).points_to_evaluate or []


def _definition_file(benchmark: Any) -> dict[str, Any]:
    """A definition file's path and text, so what ran is known after the file changes."""
    origin = benchmark.origin
    if origin.kind != "file":
        return {}
    return {"benchmark_file": {"path": origin.location, "content": origin.content}}


def _torch_version() -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return None


def _run_one(
    plan: ExperimentPlan,
    setup: ExperimentSetup,
    run: PlannedRun,
    settings: LocalSettings,
    observer: ProgressObserver,
    command_line: Optional[list[str]],
    verbose: bool,
    trial_logs_root: Optional[Path],
    stop: StopRequest,
    point: Optional[resume.ResumePoint] = None,
) -> RunOutcome:
    import random

    import numpy as np
    from syne_tune import StoppingCriterion
    from syne_tune.results_callback import StoreResultsCallback

    from hpobench.local.callbacks import ProgressCallback, QuietTunerLogger, RunClock
    from hpobench.local.resumable_tuner import HpobenchTuner, restore, saved_best
    from hpobench.methods import MethodArguments, get_method

    benchmark = plan.benchmark
    resumes: list[Any] = []
    if point is None:
        arguments = MethodArguments.for_benchmark(benchmark, run.random_seed, plan.default_first_trial)
        scheduler = get_method(run.method).build(arguments)
        name = layout.tuner_name(plan.experiment_tag, benchmark.name, run.method, run.seed)
        spent, best = 0.0, None
    else:  # the saved scheduler, with its searcher's data and random state
        scheduler = resume.load(point, run.name).snapshot.scheduler
        name, spent, best = point.tuner_name, point.spent, saved_best(point)
        resumes = list(point.metadata.get("hpobench_resumes") or [])
    # Samplers draw from numpy's global generator, not only from their own seed; a resumed
    # run draws on from another seed than the one it started with.
    np.random.seed(run.random_seed + len(resumes))
    random.seed(run.random_seed + len(resumes))
    backend, poll_interval = make_backend(settings, benchmark, trial_devices(benchmark, settings.gpus))
    limit = FailureLimit(settings.max_failed_fraction)
    with _synetune_folder(settings.results_root):
        tuner = HpobenchTuner(
            trial_backend=backend,
            scheduler=scheduler,
            stop_criterion=StopWhen(
                StoppingCriterion(
                    max_wallclock_time=plan.max_wallclock_time, max_num_evaluations=plan.max_num_evaluations
                ),
                stop,
                limit,
            ),
            n_workers=backend.gpu_slots.concurrent_trials(plan.n_workers),
            sleep_time=poll_interval,
            results_update_interval=RESULTS_SAVE_INTERVAL,
            max_failures=TUNER_MAX_FAILURES,
            tuner_name=name,
            suffix_tuner_name=False,  # the name has its timestamp already
            callbacks=[
                StoreResultsCallback(),
                ProgressCallback(observer, benchmark.metric, benchmark.mode, plan.max_wallclock_time, spent, best),
                RunClock(settings.results_root / name, spent),
            ],
            output_logger=None if verbose else QuietTunerLogger(),
            trial_backend_path=(None if trial_logs_root is None else str(trial_logs_root / name)),
        )
    # Added after construction: the Tuner warns about every key its scheduler also sets.
    tuner.metadata.update(run_metadata(plan, setup, run, command_line))
    tuner.metadata["gpus"] = gpu_metadata(backend, plan.n_workers)
    if point is not None:
        tuner.metadata["hpobench_resumes"] = [*resumes, restore(tuner, point)]
        # The first session's record of how the run was started stays.
        for key in ("command_line", "st_tuner_creation_timestamp"):
            if key in point.metadata:
                tuner.metadata[key] = point.metadata[key]
    tuner_dir = Path(tuner.tuner_path)
    results, progress = tuner.callbacks[0], tuner.callbacks[1]
    started = time.time() - spent  # the run's budget clock, for what its end records
    # Room to record the end on a disk that fills up meanwhile: beside the trials' folders
    # (a remote job's are not synced), on the disk they fill.
    spare = Path(backend.local_path)
    # Whatever ends the run, its end is recorded with the tuner's own metadata and results.
    finish = functools.partial(
        run_end.finish, tuner_dir, started=started, metadata=tuner.metadata, results=results, spare=spare
    )
    try:
        run_end.reserve(spare)
    except OSError as error:  # full already: the run does not start, and leaves nothing behind
        run_end.abandon(spare)
        run_end.abandon(tuner_dir)
        message = f"{run.name} failed: {run_end.describe_error(error, settings.results_root)}"
        return RunOutcome(run, "failed", tuner_dir.parent, None, message)
    try:
        with _quiet_stdout(not verbose):
            tuner.run()
        stop.check()
    except (KeyboardInterrupt, StoppedBySignal):
        finish(layout.STATUS_INTERRUPTED, best=progress.best)
        raise
    except Exception as error:  # the tuner re-raises whatever stopped it
        if stop.signum is not None:  # e.g. trials killed by the same Ctrl-C
            finish(layout.STATUS_INTERRUPTED, best=progress.best)
            raise stopped_by(stop.signum) from None
        message = _failure_message(run, tuner, run_end.describe_error(error, settings.results_root))
        finish(layout.STATUS_FAILED, best=progress.best, error=message)
        return RunOutcome(run, "failed", tuner_dir, progress.best, message)
    failed, trials = tuner.tuning_status.num_trials_failed, tuner.tuning_status.num_trials_started
    counts: dict[str, Any] = {"hpobench_trials_started": trials, "hpobench_trials_failed": failed}
    if backend.retrained:  # see local/replays.py
        counts["hpobench_retrained"] = {
            "trials": len(backend.retrained),
            "results_not_recorded_twice": sum(backend.retrained.values()),
            "why": "resumed trials whose script started over instead of loading its checkpoint",
        }
    finished = tuner.tuning_status.num_trials_finished
    if limit.exceeded(failed, finished, final=True):
        message = _failure_message(run, tuner, limit.describe(failed, finished))
        finish(layout.STATUS_FAILED, best=progress.best, error=message, **counts)
        return RunOutcome(run, "failed", tuner_dir, progress.best, message, failed, trials)
    finish(layout.STATUS_COMPLETE, best=progress.best, **counts)
    return RunOutcome(run, "complete", tuner_dir, progress.best, "", failed, trials)


def _failure_message(run: PlannedRun, tuner: Any, why: str) -> str:
    """One line: which run failed, the failed trial's last error line, where its log is, why."""
    from syne_tune.backend.trial_status import Status

    logs = Path(tuner.trial_backend.local_path)
    status = tuner.tuning_status
    failed = [t for t, s in status.last_trial_status_seen.items() if s == Status.failed]
    candidates = [logs / str(t) / "std.err" for t in failed]
    for stderr in reversed(candidates):
        last = _last_line(stderr)
        if last:
            return f"{run.name} failed: trial {stderr.parent.name}: {last} (log: {stderr}); {why}"
    return f"{run.name} failed: {why}"


def _last_line(path: Path) -> str:
    try:
        return last_line(path.read_text(errors="replace"))
    except OSError:
        return ""


@contextlib.contextmanager
def _no_lock(results_root: Path, experiment_tag: str) -> Iterator[None]:
    yield


@contextlib.contextmanager
def _synetune_folder(results_root: Path) -> Iterator[None]:
    """Syne Tune reads its results root from SYNETUNE_FOLDER when a Tuner is built."""
    previous = os.environ.get("SYNETUNE_FOLDER")
    os.environ["SYNETUNE_FOLDER"] = str(results_root)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SYNETUNE_FOLDER", None)
        else:
            os.environ["SYNETUNE_FOLDER"] = previous


@contextlib.contextmanager
def _quiet_stdout(quiet: bool) -> Iterator[None]:
    """The Tuner prints a summary with print(); keep it off hpobench's own display."""
    if not quiet:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield
