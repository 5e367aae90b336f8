"""The experiment setup: one typed record of what makes runs of a (method, seed) comparable.

Every place that carries an experiment's setup reads this record: `run-local`
records it in each run's metadata.json and refuses to reuse a completed run of
another setup; each engine's job arguments are built from it (`job_values`) and
read back into run-local's settings in the job (`settings_from_job_values`);
`reproduce_command` prints it as a run-local command line.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from hpobench import __version__

if TYPE_CHECKING:
    from hpobench.plan import ExperimentPlan
    from hpobench.settings import LocalSettings

# The arguments of a job that runs one (method, seed): SageMaker hyperparameters and the
# Slurm cell's command line. Optional ones are left out at their default.
JOB_REQUIRED = ("experiment_tag", "benchmark", "method", "seed", "random_seed", "n_workers", "max_wallclock_time")
JOB_OPTIONAL = (
    "max_num_evaluations",
    "overrides",
    "hpobench_version",
    "benchmark_sha256",
    "trials_per_gpu",
    "backend",
    "default_first_trial",
    "scalarization",
)
DEFAULT_TRIALS_PER_GPU = 1
# How a launcher's refusal of a tag recorded with another setup ends (`describe_conflict`).
FORCE_FIX = "use another --experiment-tag, or --force to run it again with the new setup"
DEFAULT_BACKEND = "fast"


@dataclass(frozen=True)
class ExperimentSetup:
    """An experiment as planned: benchmark, methods, seeds, master seed, workers, budget,
    overrides, trials per GPU, trial back-end and whether methods start from the default
    configuration."""

    experiment_tag: str
    benchmark: str  # what --benchmark takes: a registered name or a definition file's path
    benchmark_name: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    master_random_seed: int
    n_workers: int
    max_wallclock_time: float
    max_num_evaluations: Optional[int] = None
    overrides: dict[str, Any] = field(default_factory=dict)  # typed, as the config space has them
    trials_per_gpu: int = DEFAULT_TRIALS_PER_GPU
    backend: str = DEFAULT_BACKEND
    benchmark_sha256: Optional[str] = None  # a definition file's hash: an edit changes the setup
    # Each method's first trial is the default configuration (the seed's default), unless the
    # benchmark's points_to_evaluate come first; False: methods start from their own designs.
    default_first_trial: bool = True
    # A simulated run's table (its path, its manifest's hash: None for a table without one)
    # and surrogate (None: only the table's configurations are evaluated).
    table: Optional[str] = None
    table_sha256: Optional[str] = None
    surrogate: Optional[str] = None
    # How single-objective methods tune a multi-objective benchmark (--scalarization); one tag
    # holds one (None: the methods tune the benchmark's objectives themselves).
    scalarization: Optional[str] = None

    @classmethod
    def of(cls, plan: ExperimentPlan) -> ExperimentSetup:
        """The setup of a resolved plan (every default filled in)."""
        return cls(
            experiment_tag=plan.experiment_tag,
            benchmark=plan.benchmark.reference,
            benchmark_name=plan.benchmark.name,
            methods=tuple(plan.methods),
            seeds=tuple(dict.fromkeys(run.seed for run in plan.runs)),
            master_random_seed=plan.master_random_seed,
            n_workers=plan.n_workers,
            max_wallclock_time=plan.max_wallclock_time,
            max_num_evaluations=plan.max_num_evaluations,
            overrides=dict(plan.overrides),
            trials_per_gpu=plan.trials_per_gpu,
            backend=plan.backend,
            benchmark_sha256=plan.benchmark.origin.sha256,
            default_first_trial=plan.default_first_trial,
            table=plan.table,
            table_sha256=plan.table_sha256,
            surrogate=plan.surrogate,
            scalarization=plan.scalarization,
        )

    def comparable(self) -> dict[str, Any]:
        """What two runs of one (method, seed) must share to be one experiment, under the
        keys metadata.json records them with."""
        setup = {
            "benchmark": self.benchmark_name,
            "n_workers": self.n_workers,
            "max_wallclock_time": self.max_wallclock_time,
            "max_num_evaluations": self.max_num_evaluations,
            "overrides": self.overrides,
            "random_seed_master": self.master_random_seed,
            "trials_per_gpu": self.trials_per_gpu,
            # Not "backend": Syne Tune's Tuner records its back-end's class name under that key.
            "trial_backend": self.backend,
            "default_first_trial": self.default_first_trial,
            "scalarization": self.scalarization,
        }
        if self.benchmark_sha256:
            setup["benchmark_sha256"] = self.benchmark_sha256
        if self.backend == "simulated":  # one tag never mixes tables or surrogates
            setup["table_sha256"] = self.table_sha256
            setup["surrogate"] = self.surrogate
        return setup

    def conflict(self, recorded: Mapping[str, Any]) -> Optional[tuple[str, Any, Any]]:
        """The first setting that differs from a recorded setup: (key, recorded, now).

        Keys the record lacks (written by an older hpobench) are not compared; overrides are
        compared as text (a job's arguments carry them so)."""
        for key, value in self.comparable().items():
            if key not in recorded:
                continue
            before = recorded[key]
            if key == "overrides" and isinstance(before, dict):
                if {k: str(v) for k, v in before.items()} != {k: str(v) for k, v in value.items()}:
                    return key, before, value
            elif before != value:
                return key, before, value
        return None

    def describe_conflict(self, where: str, conflict: tuple[str, Any, Any], fix: str = FORCE_FIX) -> str:
        """Why a tag that recorded `where` with another setup refuses this one, in one line;
        `fix` ends it (a command without --force names its own)."""
        key, before, now = conflict
        if key == "benchmark_sha256":
            return (
                f"Experiment {self.experiment_tag!r} already has {where} with another version of "
                f"{self.benchmark} (sha256 {str(before)[:12]}, now {str(now)[:12]}; the old text is in "
                f"its metadata.json); {fix}"
            )
        return f"Experiment {self.experiment_tag!r} already has {where} with {key}={before!r}, not {now!r}; {fix}"

    def run_local_arguments(self, method: str, seed: int) -> list[str]:
        """run-local's arguments that repeat exactly this (method, seed)."""
        arguments = [
            "--experiment-tag",
            self.experiment_tag,
            "--benchmark",
            self.benchmark,
            "--method",
            method,
            "--start-seed",
            str(seed),
            *"--num-seeds 1 --n-workers".split(),
            str(self.n_workers),
            "--max-wallclock-time",
            f"{self.max_wallclock_time:g}",
        ]
        if self.max_num_evaluations is not None:
            arguments += ["--max-num-evaluations", str(self.max_num_evaluations)]
        arguments += ["--random-seed", str(self.master_random_seed)]
        arguments += ["--trials-per-gpu", str(self.trials_per_gpu), "--backend", self.backend]
        # Named either way: the benchmark's own default may be either.
        arguments.append("--default-first-trial" if self.default_first_trial else "--no-default-first-trial")
        if self.table is not None and not self.benchmark.startswith("blackbox:"):
            arguments += ["--table", self.table]
        if self.surrogate is not None:
            arguments += ["--surrogate", self.surrogate]
        if self.scalarization is not None:
            arguments += ["--scalarization", self.scalarization]
        for key, value in self.overrides.items():
            arguments += ["--set", f"{key}={value}"]
        return arguments

    def reproduce_command(self, method: str, seed: int) -> str:
        """The run-local command line that repeats exactly this (method, seed)."""
        return shlex.join(["hpobench", "run-local", *self.run_local_arguments(method, seed)])

    def job_values(self, method: str, seed: int, benchmark: Optional[str] = None) -> dict[str, str]:
        """The arguments of a job running this (method, seed), as strings; options at their
        default are left out. `benchmark` replaces the reference (e.g. a path in an archive)."""
        values = {
            "experiment_tag": self.experiment_tag,
            "benchmark": benchmark or self.benchmark,
            "method": method,
            "seed": str(seed),
            "random_seed": str(self.master_random_seed),
            "n_workers": str(self.n_workers),
            "max_wallclock_time": json.dumps(self.max_wallclock_time),
            "hpobench_version": __version__,
        }
        if self.benchmark_sha256:
            values["benchmark_sha256"] = self.benchmark_sha256
        if self.max_num_evaluations is not None:
            values["max_num_evaluations"] = str(self.max_num_evaluations)
        if self.trials_per_gpu != DEFAULT_TRIALS_PER_GPU:
            values["trials_per_gpu"] = str(self.trials_per_gpu)
        if self.backend != DEFAULT_BACKEND:
            values["backend"] = self.backend
        if self.scalarization is not None:
            values["scalarization"] = self.scalarization
        if self.overrides:
            values["overrides"] = json.dumps({k: str(v) for k, v in self.overrides.items()})
        # Sent either way: the benchmark's own default may be either, and a job launched by an
        # hpobench without the default first trial sent no value.
        values["default_first_trial"] = json.dumps(self.default_first_trial)
        return values


def comparable_from_job_values(values: Mapping[str, str]) -> dict[str, Any]:
    """A job's arguments as the setup it records, under `ExperimentSetup.comparable()`'s keys:
    optional arguments a job leaves out are at their defaults; the benchmark's name only when
    the job names a registered one (a file's path in an archive is not its name; its hash is
    compared instead)."""
    from hpobench.benchmarks import benchmark_names

    recorded: dict[str, Any] = {}
    try:
        if "benchmark" in values and values["benchmark"] in benchmark_names():
            recorded["benchmark"] = values["benchmark"]
        if "n_workers" in values:
            recorded["n_workers"] = int(values["n_workers"])
        if "max_wallclock_time" in values:
            recorded["max_wallclock_time"] = float(json.loads(values["max_wallclock_time"]))
        evaluations = values.get("max_num_evaluations")
        recorded["max_num_evaluations"] = int(evaluations) if evaluations else None
        recorded["overrides"] = json.loads(values.get("overrides") or "{}")
        if "random_seed" in values:
            recorded["random_seed_master"] = int(values["random_seed"])
        recorded["trials_per_gpu"] = int(values.get("trials_per_gpu") or DEFAULT_TRIALS_PER_GPU)
        recorded["trial_backend"] = values.get("backend") or DEFAULT_BACKEND
        recorded["scalarization"] = values.get("scalarization") or None
        first = _flag(values.get("default_first_trial"))
        if first is not None:  # older jobs did not send it: not compared, as older metadata
            recorded["default_first_trial"] = first
    except ValueError:  # not hpobench's job arguments: nothing to compare
        return {}
    if values.get("benchmark_sha256"):
        recorded["benchmark_sha256"] = values["benchmark_sha256"]
    return recorded


def settings_from_job_values(
    values: dict[str, str], results_root: Path, benchmark: Optional[str] = None, **extra: Any
) -> LocalSettings:
    """run-local's settings for the one (method, seed) a job's arguments name.

    `benchmark` replaces the job's benchmark reference (e.g. resolved in an archive);
    `extra` adds settings that are not part of the setup (e.g. force)."""
    from hpobench.settings import LocalSettings, load_settings

    missing = [key for key in JOB_REQUIRED if key not in values]
    if missing:
        raise ValueError(f"missing job arguments: {', '.join(missing)}")
    overrides = json.loads(values.get("overrides") or "{}")
    evaluations = values.get("max_num_evaluations")
    settings: LocalSettings = load_settings(
        LocalSettings,
        experiment_tag=values["experiment_tag"],
        benchmark=benchmark or values["benchmark"],
        methods=(values["method"],),
        start_seed=int(values["seed"]),
        num_seeds=1,
        random_seed=int(values["random_seed"]),
        n_workers=int(values["n_workers"]),
        max_wallclock_time=float(values["max_wallclock_time"]),
        max_num_evaluations=int(evaluations) if evaluations else None,
        trials_per_gpu=int(values.get("trials_per_gpu") or DEFAULT_TRIALS_PER_GPU),
        backend=values.get("backend") or DEFAULT_BACKEND,
        default_first_trial=_flag(values.get("default_first_trial")),
        scalarization=values.get("scalarization") or None,
        overrides={k: str(v) for k, v in overrides.items()},
        results_root=results_root,
        **extra,
    )
    return settings


def _flag(text: Optional[str]) -> Optional[bool]:
    """A job's true/false value; absent: None (the benchmark's own default)."""
    if text is None:
        return None
    if text not in ("true", "false"):
        raise ValueError(f"job argument default_first_trial must be true or false, not {text!r}")
    return text == "true"
