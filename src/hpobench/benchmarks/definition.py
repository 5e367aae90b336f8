"""What a benchmark is: the seed's RealBenchmarkDefinition, frozen and validated.

Built-in benchmarks, definition files and plugins share this one model; they
differ only in their `BenchmarkOrigin`: where the definition came from and the
folder its `script` is relative to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, PrivateAttr, model_validator

from hpobench.benchmarks.objectives import Hypervolume, Objective, check_objectives
from hpobench.benchmarks.space import ConfigEntry, is_domain
from hpobench.paths import training_scripts_root

# Benchmark names end up in folder names, S3 keys and job tags.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# "blackbox": a table that Syne Tune's conversion scripts wrote (hpobench.tables.blackboxes).
OriginKind = Literal["built-in", "file", "plugin", "blackbox"]


@dataclass(frozen=True)
class BenchmarkOrigin:
    """Where a definition comes from, and the folder its `script` is relative to."""

    kind: OriginKind
    script_root: Path
    location: str = ""  # the definition file's path, the plugin's entry point, or blackbox:NAME/TASK
    content: str = ""  # the definition file's text, as read (files only)

    @property
    def sha256(self) -> str:
        """Hash of the definition file's text (empty for built-ins and plugins)."""
        return hashlib.sha256(self.content.encode()).hexdigest() if self.content else ""

    def describe(self) -> str:
        """`built-in`, `file PATH` or `plugin DIST VERSION (module:attr)`."""
        return self.kind if not self.location else f"{self.kind} {self.location}"


def _built_in() -> BenchmarkOrigin:
    return BenchmarkOrigin("built-in", training_scripts_root())


class BenchmarkDefinition(BaseModel):
    """A real benchmark: a training script, its search space and its defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="lower-case letters, digits, '_', '-'")
    description: str = ""
    # Path of the script relative to the definition's folder (for built-ins, the
    # training_scripts folder, e.g. "mlp_digits/mlp_digits.py"); the script's own
    # folder holds its requirements.txt and is what a SageMaker job receives.
    script: str
    config_space: dict[str, ConfigEntry]
    # The objective single-objective views (and methods) use: a multi-objective definition
    # may leave metric and mode out, they are then its first objective's.
    metric: str
    mode: Literal["min", "max"]
    # What the benchmark optimizes: derived from metric and mode when not given; several
    # make it multi-objective, and then `hypervolume` (its fixed reference point) is required.
    objectives: tuple[Objective, ...] = ()
    hypervolume: Optional[Hypervolume] = None
    max_resource_attr: str
    resource_attr: str
    max_wallclock_time: PositiveFloat = Field(description="seconds")
    n_workers: PositiveInt
    max_num_evaluations: Optional[PositiveInt] = None
    instance_type: str
    framework: str = "PyTorch"
    estimator_kwargs: dict[str, Any] = Field(default_factory=dict)
    points_to_evaluate: Optional[list[dict[str, Any]]] = None
    # Without points_to_evaluate, each method's first trial is the default configuration (the
    # middle of each range), as in the seed; false: methods start from their own designs.
    # `--default-first-trial/--no-default-first-trial` overrides it for one experiment.
    default_first_trial: bool = True
    hardware: str = ""
    # Whether the script saves its state in --st_checkpoint_dir and continues from it when
    # started again: promotion-type methods (ASHA, MOBSTER) pause and resume trials, and are
    # refused for a script that declares it does not (`check-benchmark` tests it).
    checkpoints: bool = True
    # Whether the script, run with HPOBENCH_PREPARE_ONLY=1, finds (or downloads) its data and
    # model and exits: the launcher does that once before a study's first trial, so missing
    # data is one error line instead of a failed trial each (local/inputs.py).
    prepares_inputs: bool = False

    _origin: BenchmarkOrigin = PrivateAttr(default_factory=_built_in)

    @model_validator(mode="before")
    @classmethod
    def _metric_or_objectives(cls, data: Any) -> Any:
        """Fill `objectives` from metric and mode, or metric and mode from the first objective."""
        if not isinstance(data, dict):
            return data
        objectives = data.get("objectives")
        if objectives is None:
            if "metric" in data and "mode" in data:
                return {**data, "objectives": ({"metric": data["metric"], "mode": data["mode"]},)}
            return data  # the model reports what is missing
        if isinstance(objectives, (list, tuple)) and objectives:
            first = objectives[0].model_dump() if isinstance(objectives[0], Objective) else objectives[0]
            if isinstance(first, dict):
                # The definition's own metric and mode win; `_consistent` checks they agree.
                return {**{k: first[k] for k in ("metric", "mode") if k in first}, **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> BenchmarkDefinition:
        check_objectives(self.objectives, self.hypervolume)
        first = self.objectives[0]
        if (self.metric, self.mode) != (first.metric, first.mode):
            raise ValueError(
                f"metric and mode ({self.metric}, {self.mode}) must be the first objective's "
                f"({first.metric}, {first.mode}); remove metric and mode, the objectives name them"
            )
        if self.max_resource_attr not in self.config_space:
            raise ValueError(f"config_space must contain max_resource_attr {self.max_resource_attr!r}")
        max_resource = self.config_space[self.max_resource_attr]
        if is_domain(max_resource):
            raise ValueError(f"{self.max_resource_attr!r} must be a fixed value, not searched")
        if isinstance(max_resource, bool) or not isinstance(max_resource, int) or max_resource < 1:
            raise ValueError(
                f"config_space.{self.max_resource_attr} (max_resource_attr) must be a positive "
                f"integer, not {max_resource!r}"
            )
        if Path(self.script).is_absolute() or ".." in Path(self.script).parts:
            raise ValueError(f"script {self.script!r} must be a relative path inside the definition's folder")
        return self

    @property
    def multi_objective(self) -> bool:
        """Whether the benchmark optimizes several objectives at once."""
        return len(self.objectives) > 1

    @property
    def origin(self) -> BenchmarkOrigin:
        """Where this definition comes from (built-in, file or plugin)."""
        return self._origin

    def with_origin(self, origin: BenchmarkOrigin) -> BenchmarkDefinition:
        """A copy whose script is looked up, and whose source is recorded, per `origin`."""
        copy = self.model_copy()
        copy._origin = origin
        return copy

    def located(self, folder: Path) -> BenchmarkDefinition:
        """A copy whose `script` is relative to `folder` (for plugins: their package folder)."""
        return self.with_origin(replace(self._origin, script_root=Path(folder).resolve()))

    @property
    def reference(self) -> str:
        """What `--benchmark` takes to run this benchmark: its name, its file's path, or
        blackbox:NAME/TASK."""
        return self._origin.location if self._origin.kind in ("file", "blackbox") else self.name

    @property
    def script_path(self) -> Path:
        """Absolute path of the training script."""
        return self._origin.script_root / self.script

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
