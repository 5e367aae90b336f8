"""What hpobench's schedulers share on top of Syne Tune 0.16's `TrialScheduler`: one metric,
its mode and the metadata the tuner records (`SingleMetricScheduler`, under BO,
SuccessiveHalving and the others); and the pairing of asks with trials that every method
from another library needs (`AskTellScheduler`)."""

from __future__ import annotations

import math
from typing import Any, Optional

from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import config_space_to_json_dict
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialScheduler, TrialSuggestion
from syne_tune.util import dump_json_with_numpy


class SingleMetricScheduler(TrialScheduler):
    """A scheduler that optimizes one metric in `mode` ("min" or "max") over `config_space`."""

    def __init__(self, config_space: dict[str, Any], metric: str, mode: str, random_seed: Optional[int]) -> None:
        super().__init__(random_seed=random_seed)
        self.config_space = config_space
        self.metric = metric
        self.mode = mode

    def metric_names(self) -> list[str]:
        return [self.metric]

    def metric_mode(self) -> str:
        return self.mode

    def scheduler_name(self) -> str:
        """The name tuner metadata records."""
        return type(self).__name__

    def scheduler_kwargs(self) -> dict[str, Any]:
        """The settings tuner metadata records (JSON-friendly)."""
        return {}

    def _value(self, result: dict[str, Any]) -> float:
        """The result's metric, sign-adjusted so lower is better; inf if missing or nan."""
        value = result.get(self.metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
            return math.inf
        return float(value) if self.mode == "min" else -float(value)

    def metadata(self) -> dict[str, Any]:
        """What tuner metadata.json records about this scheduler (JSON-friendly)."""
        return {
            "scheduler_name": self.scheduler_name(),
            "scheduler_kwargs": self.scheduler_kwargs(),
            "config_space": dump_json_with_numpy(config_space_to_json_dict(self.config_space)),
            "metric_names": self.metric_names(),
            "metric_mode": self.metric_mode(),
        }


class AskTellScheduler(SingleMetricScheduler):
    """A library's optimizer driven through ask-and-tell. Each ask is paired with the trial
    the tuner adds for it, and what ends that trial is told to that same ask, whatever order
    trials finish in (the tuner calls `on_trial_add` right after `suggest`).

    A subclass asks (`_ask`: the library's handle and the configuration to run) and tells:
    a value (`_tell_value`: the metric as reported, a finite number), a failure
    (`_tell_failed`: the trial errored, or its last result has no usable value) and a stop
    (`_tell_stopped`: the tuner ended the trial before it completed). Trials run on; a
    subclass that decides early (DEHB) overrides the event methods it needs.
    """

    def __init__(self, config_space: dict[str, Any], metric: str, mode: str, random_seed: Optional[int]) -> None:
        super().__init__(config_space, metric, mode, random_seed)
        self._asked: Any = None  # asked in suggest, given its trial id in on_trial_add
        self._running: dict[int, Any] = {}  # hpobench trial id -> the library's handle

    def _ask(self) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    def _tell_value(self, handle: Any, value: float) -> None:
        raise NotImplementedError

    def _tell_failed(self, handle: Any) -> None:
        raise NotImplementedError

    def _tell_stopped(self, handle: Any) -> None:
        raise NotImplementedError

    def suggest(self) -> Optional[TrialSuggestion]:
        self._asked, config = self._ask()
        return TrialSuggestion.start_suggestion(config)

    def on_trial_add(self, trial: Trial) -> None:
        if self._asked is not None:
            self._running[trial.trial_id] = self._asked
            self._asked = None

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> str:
        return SchedulerDecision.CONTINUE

    def on_trial_complete(self, trial: Trial, result: dict[str, Any]) -> None:
        handle = self._running.pop(trial.trial_id, None)
        if handle is None:
            return
        value = self._told(result)
        if value is not None:
            self._tell_value(handle, value)
        else:  # a result without a usable value teaches nothing
            self._tell_failed(handle)

    def _told(self, result: dict[str, Any]) -> Any:
        """What a completed trial's last result tells the library (its metric, a finite
        number), or None when it has no usable value; a multi-objective subclass tells a list."""
        value = result.get(self.metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return None

    def on_trial_error(self, trial: Trial) -> None:
        handle = self._running.pop(trial.trial_id, None)
        if handle is not None:
            self._tell_failed(handle)

    def on_trial_remove(self, trial: Trial) -> None:
        handle = self._running.pop(trial.trial_id, None)
        if handle is not None:
            self._tell_stopped(handle)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (configurations go to JSON and argv)."""
    return value.item() if hasattr(value, "item") else value
