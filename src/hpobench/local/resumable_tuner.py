"""The tuner a run uses, saved so that it can be resumed, and the resuming itself.

This module imports Syne Tune at the top; import it only where a tuner runs.

`HpobenchTuner` is Syne Tune's Tuner with four changes: `tuner.dill` is written
atomically (a kill during a save leaves the previous one), also within a second
of a trial start or resume (Syne Tune saves only when results arrive, so a kill
could lose trials it had started; the simulated back-end, whose trials leave no
process behind, asks for every 5 s), by Python's C pickler where it can
(`local/snapshot.py`: dill's pure-Python pickler took half a second per save of a
simulated run), and a resumed run's interrupted trials are started again before
any new one.

`restore` continues an interrupted run in a fresh tuner of the same name (the
same folder) and a fresh back-end: the saved scheduler and searcher (BO and
MOBSTER keep their data, ASHA its rungs), tuning status, results and trial
table carry over; the clock continues at the budget already spent. Saved state
is at most a few seconds old; what happened after it is recovered:

- trials it knew as running are started again: a script that checkpoints loads
  its checkpoint, one that does not starts over and the levels it reports again
  are dropped (`replays`);
- what they reported after the save is read again from their std.out and handed
  to the scheduler first, with the time it was reported at (`replays`);
- trials started after the save are unknown to the restored scheduler: their
  folders move to `.superseded/N/` and their ids are used again, so no id is
  listed for two configurations.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Optional

from syne_tune import Tuner
from syne_tune.backend.trial_status import Status
from syne_tune.report import retrieve
from syne_tune.results_callback import StoreResultsCallback

from hpobench.local import snapshot
from hpobench.local.result_objectives import ResultObjectives
from hpobench.local.resume import ResumePoint, resume_record
from hpobench.local.stopping import TUNER_MAX_FAILURES

# A started trial is in tuner.dill within this many seconds, or within SAVE_COST_FACTOR
# times what the last save took (a large tuner takes long to pickle: at most a tenth
# of the tuner's time goes to saving it).
SAVE_AFTER_START = 1.0
SAVE_COST_FACTOR = snapshot.WRITE_COST_FACTOR
SUPERSEDED = ".superseded"


class HpobenchTuner(Tuner):
    """Syne Tune's Tuner, saved atomically and soon after trial starts; resumes first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.restart: list[int] = []  # a resumed run's interrupted trials, started first
        # Adds the measured costs (and a scalarization) to every result before the scheduler
        # and the results see it (local/result_objectives.py); set by the launcher.
        self.result_objectives: Optional[ResultObjectives] = None
        self._started_since_save = False
        self._saved_at = 0.0
        self._save_took = 0.0
        self._pickled_by = "pickle"  # local/snapshot.py

    def __getstate__(self) -> dict[str, Any]:
        # Syne Tune's printer and saver are lambdas over the tuner, made again by `run()`:
        # without them the C pickler can write tuner.dill (local/snapshot.py).
        return {**self.__dict__, "status_printer": None, "tuner_saver": None}

    def _sleep(self) -> None:
        if self.sleep_time > 0:  # a simulated run's tuner never sleeps (its back-end's clock advances)
            time.sleep(self.sleep_time)
        for callback in self.callbacks:
            callback.on_tuning_sleep(self.sleep_time)

    def _update_running_trials(self, trial_status_dict: Any, new_results: Any) -> Any:
        # The one place every result passes before the scheduler, the callbacks (results.csv)
        # and the tuning status see it, whatever the back-end.
        if self.result_objectives is not None:
            self.result_objectives.track(trial_status_dict, self.last_seen_result_per_trial)
            for trial_id, result in new_results:
                self.result_objectives.add(trial_id, result)
        return super()._update_running_trials(trial_status_dict, new_results)

    def _stop_condition(self) -> bool:
        # Syne Tune's own limit of failed trials is out of reach (stopping.TUNER_MAX_FAILURES;
        # local/failures.py decides instead): not counting them saves a pass over every trial
        # at each loop.
        if self.max_failures >= TUNER_MAX_FAILURES:
            return bool(self.stop_criterion(self.tuning_status))
        return bool(super()._stop_condition())

    def _schedule_new_task(self) -> Any:
        self._started_since_save = True
        if not self.restart:
            return super()._schedule_new_task()
        trial = self.trial_backend.resume_trial(trial_id=self.restart.pop(0))
        for callback in self.callbacks:
            callback.on_resume_trial(trial)
        return trial

    def _schedule_new_tasks(self, running_trials_ids: set[int]) -> None:
        super()._schedule_new_tasks(running_trials_ids)
        # A back-end may allow longer (the simulated one: its trials are events in tuner.dill, no
        # process outlives a kill, so a later save loses only simulation work to redo).
        after_start = getattr(self.trial_backend, "save_after_start", SAVE_AFTER_START)
        wait = max(after_start, SAVE_COST_FACTOR * self._save_took)
        if self._started_since_save and self.save_tuner and time.monotonic() - self._saved_at >= wait:
            self.save()

    def save(self, folder: Optional[str] = None) -> None:
        target = Path(folder) if folder is not None else self.tuner_path
        target.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        self._started_since_save, self._saved_at = False, began
        partial = target / "tuner.dill.tmp"
        with open(partial, "wb") as f:
            # A tuner that only dill could pickle (e.g. Syne Tune's own TuningStatus, whose
            # defaultdict has a lambda) goes straight to dill from then on.
            self._pickled_by = snapshot.dump(self, f, self._pickled_by)
        os.replace(partial, target / "tuner.dill")
        self._save_took = time.monotonic() - began
        self.trial_backend.on_tuner_save()


class EndedTrial:
    """A restored trial's process, long gone: what the back-end asks of it (`poll`)."""

    def __init__(self, returncode: int):
        self.returncode = returncode
        self.pid = None
        self.client = None  # as a fork-server trial's: nothing to kill

    def poll(self) -> int:
        return self.returncode

    def kill(self) -> None:
        pass


def restore(tuner: HpobenchTuner, point: ResumePoint) -> dict[str, Any]:
    """Put the saved state of `point` into `tuner` (built with the saved scheduler, not yet
    run); returns what metadata.json records of this resume."""
    saved = point.snapshot
    old, new = saved.trial_backend, tuner.trial_backend
    known = list(old.trial_ids)
    adopt = getattr(new, "adopt", None)
    if adopt is not None:
        # A back-end whose whole state is in tuner.dill (the simulated one: its trials are
        # events on its own clock) continues it as saved; nothing ran after the save.
        adopt(old)
        _carry_over(tuner, saved)
        return resume_record(point, [], [], len(known))
    seen = dict(saved.tuning_status.last_trial_status_seen)
    running = [t for t in known if seen.get(t) in (Status.in_progress, Status.stopping)]
    for trial_id in running:
        _kill_leftover(old.trial_subprocess.get(trial_id), new.entry_point)
    superseded = _set_aside_unknown_trials(Path(new.local_path), len(known))

    new.trial_ids = known
    new._trial_dict = old._trial_dict
    new.reached = dict(getattr(old, "reached", {}))
    new.retrained = dict(getattr(old, "retrained", {}))
    for trial_id in known:
        folder = new.trial_path(trial_id)
        folder.mkdir(parents=True, exist_ok=True)  # a spot restart brings no trial folders back
        for log in ("std.out", "std.err"):
            (folder / log).touch()
        status = seen.get(trial_id, Status.completed)
        # A line cut by the kill must not swallow the next one (a paused trial that was
        # resumed after the save was running too).
        _end_last_line(folder / "std.out")
        if trial_id in running:
            _clear_markers(folder)  # a stop or pause after the save is decided again
            new._trial_dict[trial_id].status = Status.paused  # so that the back-end resumes it
        else:
            # Markers lost with the trial folders (spot) are put back; the process is gone.
            marker = {Status.paused: "pause", Status.stopped: "stop"}.get(status)
            if marker:
                (folder / marker).touch()
        # Until it is started again (if ever: the budget may be spent), its process has ended.
        new.trial_subprocess[trial_id] = EndedTrial(1 if status == Status.failed else 0)
        # Reports read before the save are not handed over again; those after it are.
        logged = len(retrieve((folder / "std.out").read_text(errors="replace").splitlines()))
        new._last_metric_seen_index[trial_id] = min(old._last_metric_seen_index[trial_id], logged)
    new.replay_clock = (time.time(), point.spent, point.clock_at)

    _carry_over(tuner, saved)
    tuner.restart = running
    return resume_record(point, running, superseded, len(known))


def _carry_over(tuner: HpobenchTuner, saved: Any) -> None:
    """The saved tuner's status, last results, stopped trials and results rows."""
    tuner.tuning_status = saved.tuning_status
    tuner.last_seen_result_per_trial = saved.last_seen_result_per_trial
    tuner.trials_scheduler_stopped = saved.trials_scheduler_stopped
    _results_callback(tuner).results = list(_results_callback(saved).results)


def saved_best(point: ResumePoint) -> Optional[float]:
    """The best metric the interrupted run had seen (its progress callback's)."""
    for callback in point.snapshot.callbacks:
        best = getattr(callback, "best", None)
        if isinstance(best, (int, float)):
            return float(best)
    return None


def _results_callback(tuner: Any) -> StoreResultsCallback:
    return next(c for c in tuner.callbacks if isinstance(c, StoreResultsCallback))


def _set_aside_unknown_trials(trials_folder: Path, known: int) -> list[int]:
    """Move the folders of trials with ids from `known` on to `.superseded/N/`; their ids."""
    unknown = sorted(
        int(p.name) for p in trials_folder.glob("*") if p.is_dir() and p.name.isdigit() and int(p.name) >= known
    )
    if not unknown:
        return []
    attic = trials_folder / SUPERSEDED
    number = len(list(attic.glob("*"))) + 1 if attic.is_dir() else 1
    target = attic / str(number)
    target.mkdir(parents=True)
    for trial_id in unknown:
        shutil.move(str(trials_folder / str(trial_id)), str(target / str(trial_id)))
    return unknown


def _kill_leftover(process: Any, entry_point: str) -> None:
    """End a trial of the interrupted run that outlived its launcher (the stock back-end's
    trials are not children of a server that takes them along), so that it does not write
    beside the trial started again. Only a process still running `entry_point` is killed:
    its PID may have been reused."""
    import psutil

    pid = getattr(process, "pid", None)
    if not isinstance(pid, int):
        return  # a fork-server trial: it died with its server
    try:
        leftover = psutil.Process(pid)
        if entry_point in leftover.cmdline():
            leftover.kill()
            leftover.wait(timeout=10)
    except (psutil.Error, psutil.TimeoutExpired):
        pass


def _clear_markers(folder: Path) -> None:
    for name in ("stop", "pause", "end"):
        (folder / name).unlink(missing_ok=True)


def _end_last_line(log: Path) -> None:
    with open(log, "rb+") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            handle.write(b"\n")
