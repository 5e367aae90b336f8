"""Syne Tune's simulator back-end on a table, with what hpobench's launcher asks of a back-end.

This module imports Syne Tune at the top; import it only where a tuner runs.

`SimulatedBackend` is Syne Tune's `UserBlackboxBackend` (a `SimulatorBackend`: trials
return the table's results at once, placed on a simulated timeline) with five changes:

- its clock (`SimulatedClock`) counts only what the table says trials take, never the real
  time the tuner and the scheduler spend between calls, so a run is a function of its seeds;
  it continues where it stood when a run is resumed;
- the table's seed of each trial is drawn from its own generator, seeded with the run's
  effective seed (Syne Tune draws from numpy's global one);
- without a surrogate, each configuration a method suggests is replaced by the nearest
  configuration of the table (`TableProjection`), so that every method, whatever its
  library, evaluates only rows of the table;
- a trial resumed from a pause pays its start-up time again (the table's `startup_time`),
  as a real resumed trial does;
- pickled without its table (`tuner.dill` names the table; it is read again on resume).

`SimulatedResults` is Syne Tune's `SimulatorCallback` (the tuner's results callback, which
advances simulated time when the tuner would sleep), and makes the tuning status read the
simulated clock, so that hpobench's budget, clock file and progress count simulated seconds.

Speed (issue 28, point 7: 10^4 results a second): a simulated run reports thousands of
results a second, so what Syne Tune does per result, per trial or per save weighs here as
it never does on a real trial. Without changing what a run decides or records (the same
results rows, tests/tables/test_simulated_state.py): the table's rows are converted to
Python numbers once per process (`TableProjection.results`), Syne Tune's debug messages are
not formatted, the tuning status adds its statistics without the ABC isinstance check
(`SimulatedTuningStatus.update`) and leaves its table of every trial out of a summary
nobody reads, the results file is written again only when due (`local/snapshot.Throttle`)
and zipped at zlib's fastest level,
and every part of the tuner pickles with the C pickler (no lambdas, blobs of the bulky
state), saved every SAVE_INTERVAL seconds.
"""

from __future__ import annotations

import logging
import math
import numbers
import pickle
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any, Optional

import numpy as np
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.backend.simulator_backend.time_keeper import SimulatedTimeKeeper
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.constants import ST_WORKER_COST, ST_WORKER_TIME
from syne_tune.tuning_status import MetricsStatistics, TuningStatus

from hpobench.local.callbacks import QuietTunerLogger
from hpobench.local.gpu_packing import GpuSlots
from hpobench.local.snapshot import WRITE_COST_FACTOR, Throttle
from hpobench.tables.format import STARTUP_TIME

# The blackbox and what is derived from it: read again from the table, never pickled.
_NOT_PICKLED = ("_blackbox", "_projection")
# Seconds of wall-clock between saves of a simulated run's tuner.dill (Syne Tune's
# results_update_interval); it is saved at its first trial and at its end too.
SAVE_INTERVAL = 5.0
# Exact types that are numbers.Number, told apart without the ABC's (slower) isinstance.
_NUMBER_TYPES = (float, int, bool)


class SimulatedClock(SimulatedTimeKeeper):
    """Simulated seconds: advanced by the table's times and the tuner's simulated sleeps only."""

    def start_of_time(self) -> None:
        resumed_at = self._current_time  # a resumed run: time goes on from where the saved state stood
        super().start_of_time()
        if resumed_at is not None:
            self.advance_to(resumed_at)

    def real_time_since_last_recent_exit(self) -> float:
        # Syne Tune charges the real time spent outside the back-end (the scheduler's
        # suggestions) to the simulated clock; that would make a run depend on the machine.
        return 0.0


class TableProjection:
    """The nearest row of a table to a configuration, on the unit cube of its space
    (`methods.gp_encoding`: log scale for log domains, one-hot choices)."""

    def __init__(self, rows: list[dict[str, Any]], config_space: dict[str, Any]) -> None:
        from hpobench.methods.gp_encoding import SpaceEncoding

        self.names = [name for name in config_space if name in rows[0]]
        self.encoding = SpaceEncoding({name: config_space[name] for name in self.names})
        self.rows = rows
        self.points = np.stack([self.encoding.encode(row) for row in rows])

    def index(self, config: dict[str, Any]) -> Optional[int]:
        """The row of the table `config` is (None if it is none)."""
        if not hasattr(self, "_rows_by_values"):
            self._rows_by_values = {tuple(row[name] for name in self.names): i for i, row in enumerate(self.rows)}
        return self._rows_by_values.get(tuple(config.get(name) for name in self.names))

    def results(self, blackbox: Any, index: int, seed: int, resource: str) -> list[tuple[Any, dict[str, Any]]]:
        """(level, result) of every level of `blackbox`'s row `index` and `seed` (the table this
        projection was made of), as Python numbers: made once per process, as the projection
        is (a row is replayed by many trials, in every run of a study; converting it cost more
        than ASHA's decision on it)."""
        made = self.__dict__.setdefault("_results", {})
        rows = made.get((index, seed))
        if rows is None:
            keys = [*blackbox.objectives_names, resource]  # a result's keys, in Syne Tune's order
            values = blackbox.objectives_evaluations[index, seed].tolist()  # levels x objectives
            rows = [
                (level, dict(zip(keys, (*row, level), strict=True)))
                for level, row in zip(blackbox.fidelity_values.tolist(), values, strict=True)
            ]
            made[(index, seed)] = rows
        return rows

    def nearest(self, config: dict[str, Any]) -> dict[str, Any]:
        """`config` with its searched values replaced by those of the nearest table row."""
        point = self.encoding.encode(config)
        index = int(np.argmin(((self.points - point) ** 2).sum(axis=1)))
        return {**config, **{name: self.rows[index][name] for name in self.names}}


class SimulatedBackend(UserBlackboxBackend):
    """Syne Tune's simulator back-end on one table (see the module docstring)."""

    def __init__(
        self,
        blackbox: Any,
        reload: Callable[[], tuple[Any, Optional[TableProjection]]],
        projection: Optional[TableProjection],
        elapsed_time_attr: str,
        max_resource_attr: str,
        resource_attr: str,
        seed: int,
        poll_interval: float,
    ) -> None:
        super().__init__(
            blackbox=blackbox,
            elapsed_time_attr=elapsed_time_attr,
            max_resource_attr=max_resource_attr,
            tuner_sleep_time=poll_interval,
        )
        self._time_keeper = SimulatedClock()
        self._reload = reload  # a picklable callable that reads the table (and fits its surrogate) again
        self._projection = projection
        self._draws = np.random.RandomState(seed % 2**32)
        # What hpobench's launcher asks of every back-end (local/one_run.py, local/backends.py).
        self.gpu_slots = GpuSlots(0)
        self.hide_gpus = False
        self.retrained: dict[int, int] = {}
        self.resource_attr = resource_attr
        # tuner.dill is saved this often while trials start (HpobenchTuner), not every second:
        # a killed simulated run leaves no trial process behind, and resumes from its last save.
        self.save_after_start = SAVE_INTERVAL

    @staticmethod
    def _debug_message(event_name: str, time: float, trial_id: int, pushed: bool = False, **kwargs: Any) -> None:
        # Syne Tune formats a message for every simulated event and its logger drops it (the
        # back-end sets it to INFO): a third of a simulated run's own time, for nothing.
        pass

    @property
    def blackbox(self) -> Any:
        if self.__dict__.get("_blackbox") is None:
            self._blackbox, self._projection = self._reload()
        return self.__dict__["_blackbox"]

    def prepare_gpus(self, devices: list[str]) -> None:
        """Simulated trials use no GPU."""

    def start_trial(self, config: dict[str, Any], checkpoint_trial_id: Optional[int] = None) -> Any:
        self._seed_for_trial[self.new_trial_id()] = int(self._draws.randint(0, self._num_seeds()))
        return super().start_trial(config=self._on_table(config), checkpoint_trial_id=checkpoint_trial_id)

    def resume_trial(self, trial_id: int, new_config: Optional[dict[str, Any]] = None) -> Any:
        return super().resume_trial(trial_id, None if new_config is None else self._on_table(new_config))

    def _on_table(self, config: dict[str, Any]) -> dict[str, Any]:
        _ = self.blackbox  # read again after a resume
        return config if self._projection is None else self._projection.nearest(config)

    def _num_seeds(self) -> int:
        return int(getattr(self.blackbox, "num_seeds", 1) or 1)

    def config_objectives(self, config: dict[str, Any], seed: int) -> list[dict]:
        """Syne Tune's `metrics_for_configuration`, with the row found by a dict look-up instead
        of pandas' index (a millisecond a trial) on a table without a surrogate."""
        projection = self._projection
        index = None if projection is None else projection.index(config)
        if projection is None or index is None:
            return super().config_objectives(config, seed)
        highest = config.get(self._max_resource_attr, float("inf"))
        results = projection.results(self.blackbox, index, seed, self.time_attr)
        # Copies: the caller shifts elapsed times in place, and results are kept.
        return [row.copy() for level, row in results if level <= highest]

    def _run_job_and_collect_results(self, trial_id: int, config: Optional[dict] = None) -> tuple[str, list[dict]]:
        status, results = super()._run_job_and_collect_results(trial_id, config)
        # The table's numpy scalars (float32) as Python numbers, as a script's report sends them
        # (`config_objectives`' rows of the table are Python numbers already: one look suffices).
        if results and any(isinstance(v, np.generic) for v in results[0].values()):
            results = [{k: v.item() if isinstance(v, np.generic) else v for k, v in r.items()} for r in results]
        resumed = trial_id in self._resource_paused_for_trial
        if resumed and results and STARTUP_TIME in results[0]:
            # The parent subtracts the time to the paused level, start-up included; a real
            # resumed trial starts its process again.
            startup = float(results[0][STARTUP_TIME])
            for result in results:
                result[self.elapsed_time_attr] += startup
        return status, results

    def results_callback(self) -> SimulatedResults:
        """The tuner's results callback for this back-end (Syne Tune's SimulatorCallback)."""
        return SimulatedResults()

    def adopt(self, saved: SimulatedBackend) -> None:
        """Continue the simulation of `saved` (an interrupted run's back-end, from tuner.dill):
        its trials, events, clock and seed draws; this back-end's table."""
        state = {k: v for k, v in saved.__dict__.items() if k not in (*_NOT_PICKLED, "_reload")}
        state.pop("local_path", None)  # set by this run's tuner
        state.pop("_tuner_name", None)
        self.__dict__.update(state)

    def __getstate__(self) -> dict[str, Any]:
        state = {k: (None if k in _NOT_PICKLED else v) for k, v in self.__dict__.items()}
        # Every trial's results (Syne Tune keeps them in `_trial_dict`) as one blob of the C
        # pickler: dill's pure-Python one would take seconds for 10^4 results.
        state["_trial_dict"] = pickle.dumps(self._trial_dict, protocol=pickle.HIGHEST_PROTOCOL)
        # Syne Tune's defaultdict(lambda: 0), which only dill pickles: as a plain dict.
        state["_last_metric_seen_index"] = dict(self._last_metric_seen_index)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(
            {
                **state,
                "_trial_dict": pickle.loads(state["_trial_dict"]),
                "_last_metric_seen_index": defaultdict(int, state["_last_metric_seen_index"]),
            }
        )


class SimulatedTuningStatus(TuningStatus):
    """The tuning status whose wall-clock time is the simulated clock's: what the budget
    (StoppingCriterion's max_wallclock_time), the clock file and the progress display read."""

    clock: SimulatedTimeKeeper
    # Whether str() lists every trial, as Syne Tune's summary at the end of a run prints it:
    # not when the tuner's console output is dropped (set by SimulatedResults.on_tuning_start).
    summary_rows = True

    @property
    def wallclock_time(self) -> float:
        return float(self.clock.time())

    def __str__(self) -> str:
        if self.summary_rows:
            return str(super().__str__())
        # The same counts, without the table of every trial (pandas' to_string of thousands of
        # rows), which the tuner would print into hpobench's discarded stdout.
        rows: OrderedDict[int, dict] = self.__dict__["trial_rows"]
        self.__dict__["trial_rows"] = OrderedDict()
        try:
            return str(super().__str__())
        finally:
            self.__dict__["trial_rows"] = rows

    def update(self, trial_status_dict: dict[int, tuple[Any, str]], new_results: list[tuple[int, dict]]) -> None:
        """Syne Tune's `TuningStatus.update`, statement for statement, with its statistics added
        by `_add_metrics` (the same values; a simulated run adds thousands of results a second)."""
        self.last_trial_status_seen.update({k: v[1] for k, v in trial_status_dict.items()})
        overall, per_trial = self.overall_metric_statistics, self.trial_metric_statistics
        for trial_id, new_result in new_results:
            _add_metrics(overall, new_result)
            _add_metrics(per_trial[trial_id], new_result)
        for trial_id, (trial, status) in trial_status_dict.items():
            statistics = per_trial[trial_id]
            row = {"trial_id": trial_id, "status": status, "iter": statistics.count}
            row.update(trial.config)
            row.update(statistics.last_metrics)
            if ST_WORKER_TIME in statistics.max_metrics:
                row["worker-time"] = statistics.max_metrics[ST_WORKER_TIME]
            if ST_WORKER_COST in statistics.max_metrics:
                row["worker-cost"] = statistics.max_metrics[ST_WORKER_COST]
            self.trial_rows[trial_id] = row

    def __getstate__(self) -> dict[str, Any]:
        # Per-trial statistics, as one blob of the C pickler (see SimulatedResults); the clock
        # apart, so that it stays the back-end's own.
        state = {k: v for k, v in self.__dict__.items() if k != "clock"}
        # A defaultdict whose factory is a lambda, which the C pickler refuses: as a plain dict.
        state["trial_metric_statistics"] = dict(self.__dict__["trial_metric_statistics"])
        return {"clock": self.__dict__.get("clock"), "blob": pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(pickle.loads(state["blob"]))
        self.__dict__["trial_metric_statistics"] = defaultdict(
            MetricsStatistics, self.__dict__["trial_metric_statistics"]
        )
        if state.get("clock") is not None:
            self.clock = state["clock"]


def _add_metrics(statistics: MetricsStatistics, metrics: dict[str, Any]) -> None:
    """`MetricsStatistics.add`: the same minimum, maximum, sum, count and warning; a value's
    type is checked against float and int before the ABC numbers.Number (the same answer)."""
    is_numeric, lows, highs, sums = (
        statistics.is_numeric,
        statistics.min_metrics,
        statistics.max_metrics,
        statistics.sum_metrics,
    )
    for name, value in metrics.items():
        numeric = type(value) in _NUMBER_TYPES or isinstance(value, numbers.Number)
        known = is_numeric.get(name)
        if known is not None and known != numeric:
            logging.warning(f"Numeric and non-numeric values reported for metric {name}.")
        if known is None or known:
            is_numeric[name] = numeric
            if numeric:
                lows[name] = min(lows.get(name, np.inf), value)
                highs[name] = max(highs.get(name, -np.inf), value)
                sums[name] = sums.get(name, 0) + value
    statistics.metric_names = list(lows.keys())
    statistics.last_metrics = metrics
    statistics.count += 1


class SimulatedResults(SimulatorCallback):
    """Syne Tune's SimulatorCallback (results stored with their simulated time; the tuner's
    sleeps advance the simulated clock) whose tuner reads simulated wall-clock time."""

    def _modify_stop_criterion(self, tuner: Any) -> None:
        # Syne Tune rewrites a plain StoppingCriterion to read the results' simulated time;
        # hpobench's StopWhen reads the tuning status, which reads the simulated clock here.
        self._backup_stop_criterion = tuner.stop_criterion

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into tuner.dill every few seconds: the results rows as one blob of the C
        # pickler, which dill's pure-Python one would walk dict by dict (seconds for 10^4 rows).
        # The results file's saver is made again by on_tuning_start.
        return {
            **self.__dict__,
            "results": pickle.dumps(self.results, protocol=pickle.HIGHEST_PROTOCOL),
            "save_results_at_frequency": None,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({**state, "results": pickle.loads(state["results"])})

    def on_tuning_sleep(self, sleep_time: float) -> None:
        """The tuner sleeps only while every worker is busy (or while it waits for its last
        trials): nothing happens before the back-end's next event, and the polls in between
        would find nothing. Time goes straight to the first poll at or after that event (never
        past the first poll beyond the budget), as Syne Tune's fixed steps would, without
        looping through them."""
        step = self._tuner_sleep_time
        now = self._time_keeper.time()
        heap = self._tuner.trial_backend._simulator_state.event_heap
        polls = max(1, math.ceil((heap[0][0] - now) / step)) if heap else 1
        budget = getattr(getattr(self._tuner.stop_criterion, "criterion", None), "max_wallclock_time", None)
        if budget is not None and now <= budget:
            polls = min(polls, math.floor((budget - now) / step) + 1)
        self._time_keeper.advance(polls * step)

    def store_results(self) -> None:
        """Syne Tune's results file, the same CSV in it; its zip at zlib's fastest level: a
        simulated run's file holds 10^5 rows, and deflating them at the default level took
        a third of writing it (the archive is a few percent larger)."""
        if self.csv_file is None:
            return
        compression: Any = {"method": "zip", "compresslevel": 1} if self.csv_file.endswith(".zip") else "infer"
        self.dataframe().to_csv(self.csv_file, index=False, compression=compression)

    def _store_when_due(self) -> None:
        if self._store_throttle.due():
            self._store_throttle.run(self.store_results)

    def on_tuning_start(self, tuner: Any) -> None:
        super().on_tuning_start(tuner)
        # Syne Tune writes the whole results file again every results_update_interval seconds
        # (and asks the clock twice per result): a 10^5-row file takes a second to write, so
        # a long simulated run spent most of its time writing it. It is written as often
        # while it is small, then at most a tenth of the run's time; on_tuning_end writes it
        # whole, as before (a resume reads the rows from tuner.dill, not from this file).
        self._store_throttle = Throttle(tuner.results_update_interval, WRITE_COST_FACTOR)
        self.save_results_at_frequency = self._store_when_due
        status = tuner.tuning_status
        if not isinstance(status, SimulatedTuningStatus):
            simulated = SimulatedTuningStatus.__new__(SimulatedTuningStatus)
            simulated.__dict__.update(status.__dict__)
            status = tuner.tuning_status = simulated
        status.clock = tuner.trial_backend.time_keeper
        status.summary_rows = not isinstance(tuner.output_logger, QuietTunerLogger)
