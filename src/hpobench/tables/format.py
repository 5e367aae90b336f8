"""A table of real runs on disk: Syne Tune's blackbox-repository format plus hpobench's manifest.

A table folder is what `syne_tune.blackbox_repository.blackbox_tabular.serialize` writes
(`configspace.json`, `fidelityspace.json`, `hyperparameters.parquet`,
`objectives_evaluations.npy`, `fidelities_values.npy`, `metadata.json`), so Syne Tune's own
`deserialize` reads it, with one task named after the benchmark; beside it,
`hpobench-manifest.json` says what the table stands for (the benchmark and the hash of its
definition, the design, the machine, the versions), so a simulation or a fidelity report can
tell a table that matches its real runs from one that does not.

Objectives, in the table's objective axis: the benchmark's metrics as the script reported
them, then `ELAPSED_TIME` (seconds from the scheduler's decision to start the trial to the
report of that level: start-up included, cumulative, as Syne Tune's simulator charges it) and
`STARTUP_TIME` (the trial's start-up alone, the same at every level of one trial).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import UsageError

MANIFEST_FILE = "hpobench-manifest.json"
MANIFEST_FORMAT = 1
ELAPSED_TIME = "elapsed_time"
STARTUP_TIME = "startup_time"
# The files Syne Tune's serialize writes; all must be there for a table to be read.
SYNE_TUNE_FILES = (
    "configspace.json",
    "fidelityspace.json",
    "hyperparameters.parquet",
    "objectives_evaluations.npy",
    "fidelities_values.npy",
    "metadata.json",
)


# Where `hpobench tabulate` writes a benchmark's table by default, under the results root,
# and where a simulated run looks for it.
TABLES_FOLDER = "tables"


def default_table_path(results_root: Path, benchmark_name: str) -> Path:
    """Where `hpobench tabulate --benchmark NAME` writes its table."""
    return results_root / TABLES_FOLDER / benchmark_name


class TableError(UsageError):
    """A table that is missing, damaged or does not fit the benchmark it is used for."""


@dataclass(frozen=True)
class TableManifest:
    """What a table stands for. Written by `hpobench tabulate`; a table converted by Syne
    Tune's own scripts has none (`read_table` then returns `manifest=None`)."""

    benchmark: str
    definition_hash: str  # `definition_hash(benchmark)` when tabulated
    metric: str
    mode: str
    resource_attr: str
    max_resource_attr: str
    design: str  # "sobol" or "random"
    design_seed: int
    configs: int
    seeds: int
    fidelities: list[int]
    versions: dict[str, Optional[str]]  # hpobench, syne_tune, torch, python
    hardware: dict[str, Any]  # cpu model, gpu names, cpu count
    precision: Optional[str]  # the scripts' precision rule on GPUs; None on CPU
    experiment_tag: str = ""  # the tag whose runs were tabulated
    created: str = ""  # ISO time the table was written
    format: int = MANIFEST_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> TableManifest:
        known = set(cls.__dataclass_fields__)  # a missing required field raises TypeError
        return cls(**{k: v for k, v in values.items() if k in known})

    def sha256(self) -> str:
        """The hash a simulated run records to name the table it replayed."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class LoadedTable:
    """A table read from disk: Syne Tune's blackbox (one task) and hpobench's manifest."""

    path: Path
    blackbox: Any  # syne_tune.blackbox_repository.blackbox_tabular.BlackboxTabular
    manifest: Optional[TableManifest]

    @property
    def manifest_sha256(self) -> Optional[str]:
        return None if self.manifest is None else self.manifest.sha256()


def definition_hash(benchmark: Any) -> str:
    """Hash of what a benchmark's results depend on: its definition (space, metric, budget
    fields) and its training script's bytes. A table is valid for the runs whose benchmark
    has the same hash."""
    digest = hashlib.sha256()
    definition = benchmark.model_dump(mode="json")
    digest.update(json.dumps(definition, sort_keys=True).encode())
    try:
        digest.update(Path(benchmark.script_path).read_bytes())
    except OSError:  # a plugin's script may be elsewhere; the definition still counts
        pass
    return digest.hexdigest()


def write_table(path: Path, blackbox: Any, manifest: TableManifest) -> None:
    """Write `blackbox` (a BlackboxTabular) with Syne Tune's serialize, task named after the
    benchmark, and the manifest beside it. The folder is written whole or not at all: files
    go to a sibling folder first, which then replaces `path`."""
    import shutil

    from syne_tune.blackbox_repository.blackbox_tabular import serialize

    path = Path(path)
    check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    serialize({manifest.benchmark: blackbox}, str(staging), metadata={"hpobench_manifest_file": MANIFEST_FILE})
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True))
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        staging.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(path)


def check_replaceable(path: Path) -> None:
    """A TableError unless `path` is free for a table: absent, an empty folder, or a table
    (the folder is replaced whole, so anything else in it would be lost)."""
    path = Path(path).expanduser()
    if not path.exists() or (path / MANIFEST_FILE).is_file():
        return
    if path.is_dir() and not any(path.iterdir()):
        return
    raise TableError(
        f"{path} is not a table and not empty; a table replaces its folder whole: pass a new or empty folder"
    )


def read_table(path: Path, task: Optional[str] = None) -> LoadedTable:
    """Read a table folder; one `TableError` line if it is missing or damaged. `task` picks
    one of several tasks (a Syne Tune blackbox such as fcnet has one per data set); a table
    of hpobench has one, named after its benchmark."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise TableError(f"No table at {path}; write one with `hpobench tabulate --benchmark NAME`")
    absent = [name for name in SYNE_TUNE_FILES if not (path / name).is_file()]
    if absent:
        raise TableError(
            f"Table {path} is incomplete (no {', '.join(absent)}); write it again with `hpobench tabulate`"
        )
    manifest = read_manifest(path)
    try:
        from syne_tune.blackbox_repository.blackbox_tabular import deserialize

        tasks = deserialize(str(path))
    except Exception as error:  # pyarrow/fastparquet/numpy errors of every kind
        raise TableError(f"Table {path} is damaged ({type(error).__name__}: {error}); write it again") from None
    if task is None:
        if len(tasks) != 1:
            raise TableError(f"Table {path} has tasks {sorted(tasks)}; name one as NAME/TASK")
        task = next(iter(tasks))
    if task not in tasks:
        raise TableError(f"Table {path} has no task '{task}' (it has {', '.join(sorted(tasks))})")
    return LoadedTable(path, tasks[task], manifest)


def read_manifest(path: Path) -> Optional[TableManifest]:
    """The manifest of the table at `path`, read without the table; None if it has none (or
    there is no table), a TableError if it is damaged."""
    file = path / MANIFEST_FILE
    if not file.exists():
        return None
    try:
        return TableManifest.from_json(json.loads(file.read_text()))
    except (ValueError, TypeError) as error:
        raise TableError(f"Table {path} has a damaged {MANIFEST_FILE} ({error}); write it again") from None
