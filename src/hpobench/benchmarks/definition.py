"""What a benchmark is: the seed's RealBenchmarkDefinition, frozen and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from hpobench.benchmarks.space import ConfigEntry, is_domain
from hpobench.paths import training_scripts_root


class BenchmarkDefinition(BaseModel):
    """A real benchmark: a training script, its search space and its defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    # Path of the script relative to the training_scripts folder, e.g.
    # "mlp_digits/mlp_digits.py"; its folder holds the script's requirements.txt.
    script: str
    config_space: dict[str, ConfigEntry]
    metric: str
    mode: Literal["min", "max"]
    max_resource_attr: str
    resource_attr: str
    max_wallclock_time: PositiveFloat = Field(description="seconds")
    n_workers: PositiveInt
    max_num_evaluations: Optional[PositiveInt] = None
    instance_type: str
    framework: str
    estimator_kwargs: dict[str, Any] = Field(default_factory=dict)
    points_to_evaluate: Optional[list[dict[str, Any]]] = None
    hardware: str

    @model_validator(mode="after")
    def _consistent(self) -> BenchmarkDefinition:
        if self.max_resource_attr not in self.config_space:
            raise ValueError(
                f"config_space must contain max_resource_attr {self.max_resource_attr!r}"
            )
        if is_domain(self.config_space[self.max_resource_attr]):
            raise ValueError(f"{self.max_resource_attr!r} must be a fixed value, not searched")
        if Path(self.script).is_absolute() or ".." in Path(self.script).parts:
            raise ValueError("script must be a path inside training_scripts/")
        return self

    @property
    def script_path(self) -> Path:
        """Absolute path of the training script."""
        return training_scripts_root() / self.script

    @property
    def script_dir(self) -> Path:
        """The script's folder (uploaded with remote jobs, holds requirements.txt)."""
        return self.script_path.parent

    @property
    def max_resource(self) -> Any:
        """The maximum resource (e.g. number of epochs) a trial trains for."""
        return self.config_space[self.max_resource_attr]

    def fixed_entries(self) -> dict[str, Any]:
        """The config entries that are not searched (what `--set` may override)."""
        return {k: v for k, v in self.config_space.items() if not is_domain(v)}
