"""What hpobench's own schedulers (BO, SuccessiveHalving) share on top of Syne Tune 0.16's
`TrialScheduler`: one metric, its mode, and the metadata the tuner records."""

from __future__ import annotations

import math
from typing import Any, Optional

from syne_tune.config_space import config_space_to_json_dict
from syne_tune.optimizer.scheduler import TrialScheduler
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


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (configurations go to JSON and argv)."""
    return value.item() if hasattr(value, "item") else value
