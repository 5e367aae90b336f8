"""`hpobench tabulate --engine slurm`: the tabulation's seeds as one Slurm job array.

Seed k is still the run `TABULATE-k` of the tag; each is one cell of launch-remote's Slurm
machinery (`remote.slurm`): the tag's lock while submitting, its records of submissions, one
array over the cells that need a run (never submitted, or ended without a complete run:
failed, timed out, cancelled, preempted), none submitted twice while queued or running, logs
under RESULTS_ROOT/TAG/slurm/logs/. Each array task runs the shared in-job entry
(`remote.cell_job`), which hands a tabulation's cell to `run_cell` here.

The design reaches a cell as arguments, never as a file: its kind, size, seed and hash
(`cell_arguments`). The cell draws the design again (it is seeded) and refuses to run if its
hash differs (another numpy/scipy on the node, a search space edited since), then evaluates
what its seed lacks as a local tabulation does (`tabulate.run_seed`, at most PASSES tries). A
cell has no budget: it ends when its design is done. Without --time-limit, sbatch gets no
--time and the partition's default limit applies; a cell stopped by it (or requeued, or
preempted) is interrupted like any run-local run and continues where it stopped when the
command is run again.

The table is written by the command run again once no cell is pending or running: it then
finds every cell complete, submits nothing, and collects the runs into the table, as a local
tabulation does at its end.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import UsageError, first_line
from hpobench.settings import TableSettings, TableSlurmSettings
from hpobench.tables.collect import DESIGN_HASH_KEY, METHOD
from hpobench.tables.tabulate import PASSES, SETUP_FIX, Tabulation

COMMAND = "tabulate --engine slurm"
# A tabulation cell's arguments besides the setup's job values (remote/cell_job.py takes them).
CELL_KEYS = ("design", "configs", "design_seed", DESIGN_HASH_KEY, "max_failed_fraction")


@dataclass(frozen=True)
class SlurmTabulation:
    """What `tabulate --engine slurm` did with each seed's cell, and the table if it wrote one."""

    experiment_tag: str
    benchmark: str
    tag_dir: Path
    outcomes: list[Any]  # remote.slurm.submit.CellOutcome, one per seed
    table: Optional[Tabulation]  # written: every cell was complete

    @property
    def submitted(self) -> list[Any]:
        return [o for o in self.outcomes if o.action == "submitted"]

    def to_json(self) -> dict[str, Any]:
        cells = [
            {
                "seed": o.run.seed,
                "state": o.before.state,
                "action": "resubmitted" if o.action == "submitted" and o.before.state == "failed" else o.action,
                "job": o.job,
            }
            for o in self.outcomes
        ]
        written = self.table.to_json() if self.table is not None else {"table": None}
        return {
            "engine": "slurm",
            "benchmark": self.benchmark,
            "experiment_tag": self.experiment_tag,
            **written,
            "cells": cells,
        }


def cell_arguments(settings: TableSettings, design: Any) -> tuple[tuple[str, str], ...]:
    """The design (and the failed share) as every cell's arguments, under CELL_KEYS."""
    arguments = [
        ("design", design.kind),
        ("configs", str(design.requested)),
        ("design_seed", str(design.seed)),
        (DESIGN_HASH_KEY, design.sha256()),
    ]
    if settings.max_failed_fraction is not None:
        arguments.append(("max_failed_fraction", repr(settings.max_failed_fraction)))
    return tuple(arguments)


def tabulate_slurm(settings: TableSlurmSettings, say: Callable[[str], None] = print) -> SlurmTabulation:
    """Submit the cells that need a run as one array; write the table once every cell is complete."""
    from hpobench.local.inputs import prepare_inputs
    from hpobench.local.lock import experiment_lock
    from hpobench.methods.registry import internal_method
    from hpobench.plan import check_methods_build, plan_experiment, select_runs
    from hpobench.remote.slurm.cells import SlurmRecords
    from hpobench.remote.slurm.plan import job_name, plan_slurm
    from hpobench.remote.slurm.submit import check_cluster, require_commands, submit_cells
    from hpobench.tables.tabulate import check_same_design, fixed_design, resolve, run_settings, scan, write_tabulation
    from hpobench.tag_records import ACTIVE

    require_commands(instead="--engine local")
    target = resolve(settings, say)
    root, tag, design = settings.results_root, target.tag, target.design
    with experiment_lock(root, tag):
        records = SlurmRecords(root, tag, job_name(tag, root), ask_slurm=True)
        check_same_design(settings, tag, design, list(_submitted_designs(records.submissions)))
        options = run_settings(settings, tag, settings.seeds, 0, None, False)
        with internal_method(fixed_design(design, [])):
            experiment = plan_experiment(options, records)
            plan = plan_slurm(
                settings, experiment, budgeted=False, cell_arguments=cell_arguments(settings, design), command=COMMAND
            )
            check_cluster(plan, settings.partition)
            selection = select_runs(experiment, records, conflict_fix=SETUP_FIX)
            if selection.todo:  # the cells run this venv: checked here, before any is submitted
                check_methods_build(experiment.benchmark, [METHOD])
                prepare_inputs(experiment.benchmark)
        outcomes = submit_cells(plan, records, list(selection.todo), force=False)
        busy = [o for o in outcomes if o.action == "submitted" or selection.state(o.run) == ACTIVE]
        table = None
        if not busy:
            table = write_tabulation(settings, target, scan(settings, target), experiment.n_workers)
    return SlurmTabulation(tag, target.benchmark.name, root / tag, outcomes, table)


def _submitted_designs(submissions: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The design each earlier submission's cells run, as `tabulate.design_record` has it."""
    for submission in submissions:
        given = submission.arguments
        if "design" not in given:
            continue
        try:
            record = {"design": given["design"], "design_seed": int(given["design_seed"])}
            record.update(configs=int(given["configs"]), **{DESIGN_HASH_KEY: given[DESIGN_HASH_KEY]})
        except (KeyError, ValueError):  # not written by this hpobench: nothing to compare
            continue
        yield f"Slurm job {submission.job_id}", record


def run_cell(values: dict[str, str], results_root: Path, command_line: list[str]) -> None:
    """What a tabulation's array task runs: the design drawn again from its arguments, then the
    configurations its seed lacks, as a local tabulation evaluates them (HpobenchError on failure)."""
    from hpobench.benchmarks import get_benchmark
    from hpobench.experiment_setup import settings_from_job_values
    from hpobench.plan import with_overrides
    from hpobench.settings import load_settings
    from hpobench.tables.design import make_design
    from hpobench.tables.tabulate import Target, run_seed, scan

    run = settings_from_job_values(values, results_root)  # the setup's values, as launch-remote's cells read them
    tag, seed = values["experiment_tag"], run.start_seed
    try:
        configs, design_seed = int(values["configs"]), int(values["design_seed"])
        failed = values.get("max_failed_fraction")
        max_failed_fraction = float(failed) if failed is not None else None
    except (KeyError, ValueError) as error:
        raise UsageError(
            f"Invalid tabulation cell arguments ({first_line(error)}); submit the cells with `hpobench tabulate`"
        ) from None
    settings: TableSettings = load_settings(
        TableSettings,
        benchmark=run.benchmark,
        configs=configs,
        seeds=seed + 1,
        design=values["design"],
        design_seed=design_seed,
        experiment_tag=tag,
        results_root=results_root,
        backend=run.backend,
        n_workers=run.n_workers,
        max_failed_fraction=max_failed_fraction,
        overrides=run.overrides,
    )
    benchmark, _ = with_overrides(get_benchmark(str(settings.benchmark)), settings.overrides)
    design = make_design(benchmark.config_space, settings.configs, settings.design, settings.design_seed)
    if design.sha256() != values.get(DESIGN_HASH_KEY):
        raise UsageError(
            f"The design drawn in this job (sha256 {design.sha256()[:12]}) is not the one submitted "
            f"(sha256 {str(values.get(DESIGN_HASH_KEY))[:12]}): the nodes' numpy/scipy or the benchmark's search "
            "space differ from the login node's; run the cells in the environment `hpobench tabulate` ran in"
        )
    target = Target(benchmark, tag, design, Path())  # a cell writes no table
    master_seed = int(values["random_seed"])

    def say(line: str) -> None:
        print(line, flush=True)

    for _ in range(PASSES):
        todo = scan(settings, target, only=seed).missing(seed)
        if not todo:
            break
        run_seed(settings, tag, design, seed, todo, master_seed, say, None, command_line)
    left = scan(settings, target, only=seed).missing(seed)
    done = len(design.configs) - len(left)
    say(
        f"{METHOD}-{seed}: complete, {done} of {len(design.configs)} configurations evaluated"
        + (f"; missing (their trials failed): {', '.join(map(str, left))}" if left else "")
    )
    sys.stdout.flush()
