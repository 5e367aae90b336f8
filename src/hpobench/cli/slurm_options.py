"""Options of `launch-remote --engine slurm` and `tabulate --engine slurm`; each also reads HPOBENCH_<NAME> and
hpobench.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

SlurmResultsRoot = Annotated[
    Optional[Path],
    typer.Option(
        help="Slurm: where cells write results, on a file system the compute nodes share. "
        "(env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)",
        show_default=False,
    ),
]
SlurmPartition = Annotated[
    Optional[str], typer.Option(help="Slurm: partition of every job (sbatch --partition). Default: the cluster's.")
]
SlurmAccount = Annotated[Optional[str], typer.Option(help="Slurm: account charged (sbatch --account).")]
SlurmQos = Annotated[Optional[str], typer.Option(help="Slurm: quality of service (sbatch --qos).")]
SlurmGpus = Annotated[
    Optional[int],
    typer.Option(
        help="Slurm: GPUs per cell, asked for as --gres=gpu:G (give --slurm-option gpus=... or "
        "gres=... instead where the cluster wants that). Default: the GPUs of the benchmark's "
        "instance type (0 for a CPU benchmark).",
        show_default=False,
    ),
]
SlurmCpus = Annotated[
    Optional[int],
    typer.Option(help="Slurm: CPUs per cell (--cpus-per-task). Default: the benchmark's workers.", show_default=False),
]
SlurmMem = Annotated[
    Optional[str],
    typer.Option(help="Slurm: memory per cell, e.g. 16G (--mem). Default: the cluster's.", show_default=False),
]
SlurmTimeLimit = Annotated[
    Optional[str],
    typer.Option(
        help="Slurm: time limit per cell in Slurm's format (90, 2:00:00, 1-12:00:00). Default: the "
        "tuning budget plus 10 minutes for set-up, in whole minutes (tabulate, whose cells have no "
        "budget: the partition's default).",
        show_default=False,
    ),
]
SlurmMaxParallel = Annotated[
    Optional[int],
    typer.Option(
        help="Slurm: at most this many cells run at once (the array's %K). Default: no limit.", show_default=False
    ),
]
SlurmOptions = Annotated[
    Optional[list[str]],
    typer.Option(
        "--slurm-option",
        metavar="KEY[=VALUE]",
        help="Slurm: any other sbatch option, e.g. --slurm-option constraint=a100 or "
        "--slurm-option exclusive. Repeatable.",
    ),
]
SlurmBackend = Annotated[
    Optional[str],
    typer.Option(
        help="Slurm: trial back-end of each cell, as run-local's --backend. (default: fast)", show_default=False
    ),
]
