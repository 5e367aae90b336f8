"""One (method, seed) run on this machine: its Syne Tune tuner built (or restored from an
interrupted run), run until its budget, a stop request or its failed trials end it, and its end
recorded (`run_end`), whatever ends it. `launcher` runs each run of a plan through `run_one`."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from hpobench import __version__
from hpobench.errors import StoppedBySignal, last_line
from hpobench.experiment_setup import ExperimentSetup
from hpobench.local import resume, run_end
from hpobench.local.backends import gpu_metadata, make_backend, simulated
from hpobench.local.failures import FailureRule
from hpobench.local.progress import ProgressObserver, RunOutcome
from hpobench.local.result_objectives import MissingObjective, ResultObjectives, unreached_reference
from hpobench.local.stopping import TUNER_MAX_FAILURES, StopRequest, StopWhen, stopped_by
from hpobench.local.trial_costs import TrialCosts
from hpobench.local.workers import trial_devices
from hpobench.plan import ExperimentPlan, PlannedRun, scalarized
from hpobench.processes import current_process
from hpobench.results import layout
from hpobench.settings import LocalSettings

if TYPE_CHECKING:
    from hpobench.local.forkserver.warm_servers import WarmServers

RESULTS_SAVE_INTERVAL = 5.0


@dataclass(frozen=True)
class RunContext:
    """What every run of one launch shares."""

    plan: ExperimentPlan
    settings: LocalSettings
    observer: ProgressObserver
    stop: StopRequest
    command_line: Optional[list[str]] = None
    verbose: bool = False
    # Trial logs and checkpoints go here instead of the tuner folder (remote jobs keep them
    # out of the synced results).
    trial_logs_root: Optional[Path] = None
    # Fork servers kept warm from one run to the next (the fast back-end's).
    servers: Optional[WarmServers] = None


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


def run_one(context: RunContext, run: PlannedRun, point: Optional[resume.ResumePoint] = None) -> RunOutcome:
    """Run `run` (continue it from `point`, if given) and record how it ended."""
    import random

    import numpy as np
    from syne_tune import StoppingCriterion
    from syne_tune.results_callback import StoreResultsCallback

    from hpobench.local.callbacks import ProgressCallback, QuietTunerLogger, RunClock
    from hpobench.local.resumable_tuner import HpobenchTuner, restore, saved_best
    from hpobench.methods import MethodArguments, get_method

    plan, settings, stop = context.plan, context.settings, context.stop
    benchmark = plan.benchmark
    resumes: list[Any] = []
    if point is None:
        arguments = MethodArguments.for_benchmark(
            benchmark, run.random_seed, plan.default_first_trial, scalarized=scalarized(plan, run.method)
        )
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
    backend, poll_interval = make_backend(
        settings, benchmark, trial_devices(benchmark, settings.gpus), seed=run.random_seed, servers=context.servers
    )
    failures = FailureRule(settings.max_failed_fraction)
    # A back-end may bring its own results callback (the simulated one: Syne Tune's SimulatorCallback).
    results = getattr(backend, "results_callback", StoreResultsCallback)()
    clock = RunClock(settings.results_root / name, spent)
    progress = ProgressCallback(
        context.observer, benchmark.metric, benchmark.mode, plan.max_wallclock_time, spent, best
    )
    with _synetune_folder(settings.results_root):
        tuner = HpobenchTuner(
            trial_backend=backend,
            scheduler=scheduler,
            stop_criterion=StopWhen(
                StoppingCriterion(
                    max_wallclock_time=plan.max_wallclock_time, max_num_evaluations=plan.max_num_evaluations
                ),
                stop,
                failures,
            ),
            n_workers=backend.gpu_slots.concurrent_trials(plan.n_workers),
            sleep_time=poll_interval,
            results_update_interval=RESULTS_SAVE_INTERVAL,
            max_failures=TUNER_MAX_FAILURES,
            tuner_name=name,
            suffix_tuner_name=False,  # the name has its timestamp already
            callbacks=[results, progress, clock],
            output_logger=None if context.verbose else QuietTunerLogger(),
            trial_backend_path=(None if context.trial_logs_root is None else str(context.trial_logs_root / name)),
        )
    # Real trials' GPU-seconds and peak memories are measured here; a simulated run's table holds them.
    costs = None if simulated(settings) else TrialCosts(backend)
    tuner.result_objectives = ResultObjectives(benchmark, plan.scalarization, costs)
    # Added after construction: the Tuner warns about every key its scheduler also sets.
    tuner.metadata.update(run_metadata(plan, plan.setup, run, context.command_line))
    tuner.metadata["gpus"] = gpu_metadata(backend, plan.n_workers)
    tuner.metadata.update(getattr(backend, "record", {}))  # e.g. the table a simulated run replays
    if point is not None:
        tuner.metadata["hpobench_resumes"] = [*resumes, restore(tuner, point)]
        # The first session's record of how the run was started stays.
        for key in ("command_line", "st_tuner_creation_timestamp"):
            if key in point.metadata:
                tuner.metadata[key] = point.metadata[key]
    tuner_dir = Path(tuner.tuner_path)
    started = time.time() - spent  # the run's budget clock, for what its end records
    # Room to record the end on a disk that fills up meanwhile: beside the trials' folders
    # (a remote job's are not synced), on the disk they fill.
    spare = Path(backend.local_path)

    def finish(status: str, **entries: Any) -> None:
        """Whatever ends the run, its end is recorded with the tuner's own metadata and results,
        and the budget it used as its tuning status counts it (simulated seconds on a
        simulated back-end) once tuning started."""
        began = time.time() - tuner.tuning_status.wallclock_time if clock.tuner is not None else started
        run_end.finish(tuner_dir, status, began, metadata=tuner.metadata, results=results, spare=spare, **entries)

    try:
        run_end.reserve(spare)
    except OSError as error:  # full already: the run does not start, and leaves nothing behind
        run_end.abandon(spare)
        run_end.abandon(tuner_dir)
        message = f"{run.name} failed: {run_end.describe_error(error, settings.results_root)}"
        return RunOutcome(run, "failed", tuner_dir.parent, None, message)
    try:
        with _quiet_stdout(not context.verbose):
            try:
                tuner.run()
            finally:
                if costs is not None:
                    costs.close()
        stop.check()
    except MissingObjective as error:  # bad input: the results so far are kept, the run failed
        message = f"{run.name} failed: {error}"
        finish(layout.STATUS_FAILED, best=progress.best, error=message, **_trial_counts(tuner, backend))
        return RunOutcome(run, "failed", tuner_dir, progress.best, message, bad_input=True)
    except (KeyboardInterrupt, StoppedBySignal):
        finish(layout.STATUS_INTERRUPTED, best=progress.best, **_trial_counts(tuner, backend))
        raise
    except Exception as error:  # the tuner re-raises whatever stopped it
        if stop.signum is not None:  # e.g. trials killed by the same Ctrl-C
            finish(layout.STATUS_INTERRUPTED, best=progress.best, **_trial_counts(tuner, backend))
            raise stopped_by(stop.signum) from None
        message = _failure_message(run, tuner, run_end.describe_error(error, settings.results_root))
        finish(layout.STATUS_FAILED, best=progress.best, error=message, **_trial_counts(tuner, backend))
        return RunOutcome(run, "failed", tuner_dir, progress.best, message)
    counts = _trial_counts(tuner, backend)
    failed, trials = counts[layout.TRIALS_FAILED_KEY], counts[layout.TRIALS_STARTED_KEY]
    failures.observe_status(tuner.tuning_status)
    why = failures.final()
    if why is not None:
        message = _failure_message(run, tuner, why)
        finish(layout.STATUS_FAILED, best=progress.best, error=message, **counts)
        return RunOutcome(run, "failed", tuner_dir, progress.best, message, failed, trials)
    finish(layout.STATUS_COMPLETE, best=progress.best, **counts)
    problem = unreached_reference(benchmark, _frame(results), run.name)
    return RunOutcome(run, "complete", tuner_dir, progress.best, "", failed, trials, problem=problem or "")


def _frame(results: Any) -> Any:
    """The run's results as a frame (None if the callback holds none)."""
    try:
        return results.dataframe()
    except Exception:  # a callback that recorded nothing has no frame to give
        return None


def _trial_counts(tuner: Any, backend: Any) -> dict[str, Any]:
    """What metadata.json records of the run's trials: started, failed, retrained."""
    status = tuner.tuning_status
    counts: dict[str, Any] = {
        layout.TRIALS_STARTED_KEY: status.num_trials_started,
        layout.TRIALS_FAILED_KEY: status.num_trials_failed,
    }
    if backend.retrained:  # see local/replays.py
        counts["hpobench_retrained"] = {
            "trials": len(backend.retrained),
            "results_not_recorded_twice": sum(backend.retrained.values()),
            "why": "resumed trials whose script started over instead of loading its checkpoint",
        }
    return counts


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
