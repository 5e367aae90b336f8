"""Offline planning of a Slurm launch: the cells, the resources of each job, the sbatch script.

One array task per (method, seed) cell. Each task runs the shared in-job entry
(`hpobench.remote.cell_job`), which runs run-local's launcher for its one cell
and writes results straight into RESULTS_ROOT/TAG/METHOD-SEED/ on the shared
file system. Nothing here calls Slurm, so `--dry-run` works anywhere.
"""

from __future__ import annotations

import hashlib
import math
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import UsageError
from hpobench.experiment_setup import ExperimentSetup
from hpobench.plan import ExperimentPlan, PlannedRun

# Time a cell needs besides its tuning budget: starting Python and the launcher, the
# benchmark's data (already on the shared file system), writing results. A queue wait
# does not count (the limit starts with the job). `--time-limit` overrides.
SETUP_MARGIN = 10 * 60
# What the shortest cell needs on top of its budget: start-up and writing results.
MIN_SETUP = 60
# Below Slurm's default MaxArraySize (1001: indices 0-1000); longer launches use several arrays.
MAX_ARRAY_TASKS = 1000
# Where a tag's Slurm files live: RESULTS_ROOT/TAG/slurm/ (not a METHOD-SEED folder).
SLURM_FOLDER = "slurm"
LOGS_FOLDER = "logs"
# Each task's stdout and stderr: RESULTS_ROOT/TAG/slurm/logs/JOBID_TASKID.out (%A_%a),
# appended to when Slurm requeues the task.
LOG_PATTERN = "%A_%a.out"
# Options hpobench writes itself; --slurm-option may not set them.
MANAGED_OPTIONS = frozenset({"array", "job-name", "output", "error", "open-mode", "parsable"})
# Options with a flag of their own.
OPTION_FLAGS = {
    "cpus-per-task": "--cpus-per-job",
    "time": "--time-limit",
    "mem": "--mem",
    "partition": "--partition",
    "account": "--account",
    "qos": "--qos",
}
# GPUs of the SageMaker instance types the benchmarks name (a Slurm job asks for as many).
INSTANCE_GPUS = {
    **{
        f"ml.{family}.{size}": 1
        for family in ("g4dn", "g5", "g6", "g6e")
        for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")
    },
    **{f"ml.{family}.{size}": 4 for family in ("g4dn", "g5", "g6", "g6e") for size in ("12xlarge", "24xlarge")},
    **{f"ml.{family}.48xlarge": 8 for family in ("g5", "g6", "g6e")},
    "ml.g4dn.metal": 8,
    "ml.p2.xlarge": 1,
    "ml.p2.8xlarge": 8,
    "ml.p2.16xlarge": 16,
    "ml.p3.2xlarge": 1,
    "ml.p3.8xlarge": 4,
    "ml.p3.16xlarge": 8,
    "ml.p3dn.24xlarge": 8,
    "ml.p4d.24xlarge": 8,
    "ml.p4de.24xlarge": 8,
    "ml.p5.48xlarge": 8,
    "ml.p5e.48xlarge": 8,
    "ml.p5en.48xlarge": 8,
}
_TIME = re.compile(r"^(?:(?P<days>\d+)-)?(?P<rest>\d+(?::\d+){0,2})$")


@dataclass(frozen=True)
class Resources:
    """What each cell's job asks Slurm for."""

    cpus: int
    gpus: int
    time_limit: Optional[str]  # Slurm's format, e.g. 0-00:11:00; None: the partition's default
    time_limit_seconds: Optional[int]  # None: UNLIMITED or the partition's default
    mem: Optional[str] = None
    partition: Optional[str] = None
    account: Optional[str] = None
    qos: Optional[str] = None
    extra: tuple[tuple[str, str], ...] = ()  # --slurm-option KEY=VALUE, in order

    def directives(self) -> list[str]:
        """`--key=value` options, as #SBATCH lines carry them."""
        options = [f"--cpus-per-task={self.cpus}"]
        if self.time_limit is not None:
            options.append(f"--time={self.time_limit}")
        extra_keys = {key for key, _ in self.extra}
        if self.gpus and not extra_keys & {"gres", "gpus", "gpus-per-node", "gpus-per-task"}:
            options.append(f"--gres=gpu:{self.gpus}")
        for key, value in (
            ("mem", self.mem),
            ("partition", self.partition),
            ("account", self.account),
            ("qos", self.qos),
        ):
            if value is not None:
                options.append(f"--{key}={value}")
        options += [f"--{key}={value}" if value else f"--{key}" for key, value in self.extra]
        return options


@dataclass(frozen=True)
class SlurmPlan:
    """An experiment resolved into Slurm array tasks, one per (method, seed)."""

    experiment: ExperimentPlan
    results_root: Path
    resources: Resources
    max_parallel: Optional[int]
    python: str  # the interpreter every task runs: this venv's, on the shared file system
    # Arguments every cell's entry gets besides the setup's (a tabulation's design), and the
    # command the script says it comes from.
    cell_arguments: tuple[tuple[str, str], ...] = ()
    command: str = "launch-remote --engine slurm"

    @property
    def setup(self) -> ExperimentSetup:
        return self.experiment.setup

    @property
    def tag_dir(self) -> Path:
        return self.results_root / self.experiment.experiment_tag

    @property
    def slurm_dir(self) -> Path:
        return self.tag_dir / SLURM_FOLDER

    @property
    def job_name(self) -> str:
        return job_name(self.experiment.experiment_tag, self.results_root)

    def log_pattern(self) -> Path:
        return self.slurm_dir / LOGS_FOLDER / LOG_PATTERN

    def script(self, cells: list[PlannedRun], force: bool = False) -> str:
        """The sbatch script of one array over `cells` (task i runs cells[i])."""
        array = f"0-{len(cells) - 1}" + (f"%{self.max_parallel}" if self.max_parallel else "")
        lines = [
            "#!/bin/bash",
            f"# hpobench {self.command}: experiment {self.experiment.experiment_tag}, "
            f"{len(cells)} cell(s) of {self.experiment.benchmark.name}.",
            "# Each array task runs one (method, seed) with run-local's launcher; results go to",
            f"# {self.tag_dir}/METHOD-SEED/ on the shared file system.",
            f"#SBATCH --job-name={self.job_name}",
            f"#SBATCH --array={array}",
            f"#SBATCH --output={self.log_pattern()}",
            "#SBATCH --open-mode=append",
            # Preempted or failed nodes: Slurm may start the task again; its run resumes where it stopped.
            "#SBATCH --requeue",
            *[f"#SBATCH {option}" for option in self.resources.directives()],
            "set -euo pipefail",
            'case "$SLURM_ARRAY_TASK_ID" in',
            *[f"  {i}) cell=(--method {shlex.quote(c.method)} --seed {c.seed}) ;;" for i, c in enumerate(cells)],
            '  *) echo "hpobench: no cell for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
            "esac",
            'echo "hpobench: task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname) runs ${cell[*]}"',
            "export PYTHONUNBUFFERED=1",
            "exec " + " ".join(self.entry_command(force)) + ' "${cell[@]}"',
            "",
        ]
        return "\n".join(lines)

    def entry_command(self, force: bool = False) -> list[str]:
        """The in-job entry and the setup's arguments, shell-quoted (the cell comes after)."""
        values = self.setup.job_values("", 0)
        values.pop("method"), values.pop("seed")
        arguments = [self.python, "-m", "hpobench.remote.cell_job", "--results-root", str(self.results_root)]
        for key, value in [*values.items(), *self.cell_arguments]:
            arguments += [f"--{key}", value]
        if force:
            arguments.append("--force")
        return [shlex.quote(a) for a in arguments]


def plan_slurm(
    settings: Any,
    experiment: ExperimentPlan,
    budgeted: bool = True,
    cell_arguments: tuple[tuple[str, str], ...] = (),
    command: str = "launch-remote --engine slurm",
) -> SlurmPlan:
    """The Slurm plan of `experiment` under `settings` (SlurmSettings, TableSlurmSettings);
    UsageError on bad input. `budgeted` False: the cells end when their work is done, not at
    a budget (a tabulation), so no time limit is derived from one."""
    check_results_root(settings.results_root)
    benchmark = experiment.benchmark
    gpus = settings.gpus_per_job if settings.gpus_per_job is not None else instance_gpus(benchmark.instance_type)
    time_limit, seconds = job_time_limit(experiment.max_wallclock_time if budgeted else None, settings.time_limit)
    extra = tuple(_extra_options(settings.slurm_options))
    resources = Resources(
        cpus=settings.cpus_per_job or experiment.n_workers,
        gpus=gpus,
        time_limit=time_limit,
        time_limit_seconds=seconds,
        mem=settings.mem,
        partition=settings.partition,
        account=settings.account,
        qos=settings.qos,
        extra=extra,
    )
    return SlurmPlan(
        experiment, settings.results_root, resources, settings.max_parallel, sys.executable, cell_arguments, command
    )


def job_name(experiment_tag: str, results_root: Path) -> str:
    """`hpobench-{tag}-{hash of the results root}`: one name per experiment, what squeue
    filters on (two results roots may use one tag)."""
    digest = hashlib.sha256(str(results_root.resolve()).encode()).hexdigest()[:6]
    return f"hpobench-{experiment_tag}-{digest}"


def instance_gpus(instance_type: str) -> int:
    """GPUs of a SageMaker instance type: what a benchmark meant for it gets on Slurm."""
    from hpobench.local.workers import GPU_INSTANCE_FAMILIES

    family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
    if not family.startswith(GPU_INSTANCE_FAMILIES):
        return 0
    if instance_type not in INSTANCE_GPUS:
        raise UsageError(f"hpobench does not know how many GPUs {instance_type} has; pass --gpus-per-job")
    return INSTANCE_GPUS[instance_type]


def job_time_limit(budget: Optional[float], given: Optional[str]) -> tuple[Optional[str], Optional[int]]:
    """Slurm's --time: the budget plus SETUP_MARGIN in whole minutes, or the given limit
    (Slurm's formats; UsageError if it cannot be read); neither (no budget): None, the
    partition's default."""
    if given is not None:
        return given, parse_time(given)
    if budget is None:
        return None, None
    minutes = math.ceil((math.ceil(budget) + SETUP_MARGIN) / 60)
    return format_time(minutes * 60), minutes * 60


def format_time(seconds: int) -> str:
    """Slurm's D-HH:MM:SS."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"


def parse_time(text: str) -> Optional[int]:
    """Seconds of a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS);
    None for UNLIMITED/INFINITE; a UsageError for anything else."""
    if text.strip().upper() in ("UNLIMITED", "INFINITE"):
        return None
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"Invalid --time-limit {text!r}: use Slurm's formats, e.g. 90 (minutes), 2:00:00 or 1-12:00:00"
        )
    parts = [int(p) for p in match["rest"].split(":")]
    if match["days"] is not None:  # D-HH, D-HH:MM, D-HH:MM:SS
        parts += [0] * (3 - len(parts))
        hours, minutes, seconds = parts
        return int(match["days"]) * 86400 + hours * 3600 + minutes * 60 + seconds
    if len(parts) == 1:  # minutes
        return parts[0] * 60
    if len(parts) == 2:  # MM:SS
        return parts[0] * 60 + parts[1]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def check_results_root(results_root: Path) -> None:
    """Refuse what Slurm's --output or the array script cannot carry."""
    text = str(results_root)
    if any(c.isspace() for c in text) or "%" in text or "\\" in text:
        raise UsageError(
            f"Results root {text!r} has a space, '%' or '\\', which Slurm's --output file names "
            "cannot carry; pass a --results-root without them"
        )


def _extra_options(options: dict[str, str]) -> list[tuple[str, str]]:
    extra = []
    for key, value in options.items():
        name = key.strip().lstrip("-")
        if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
            raise UsageError(f"Invalid --slurm-option {key!r}: expected an sbatch option name like constraint=a100")
        if name in MANAGED_OPTIONS:
            raise UsageError(
                f"--slurm-option {name} is set by hpobench itself (one array task per cell, logs "
                "under the results root); leave it out"
            )
        if name in OPTION_FLAGS:
            raise UsageError(f"--slurm-option {name} has a flag of its own: use {OPTION_FLAGS[name]}")
        if any(c in value for c in "\n\r"):
            raise UsageError(f"Invalid --slurm-option {name}: the value spans several lines")
        extra.append((name, value))
    return extra
