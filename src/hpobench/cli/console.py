"""Rich rendering for the CLI: tables and the run-local progress display."""

from __future__ import annotations

import time
from typing import Any, Optional

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from hpobench.local.progress import ProgressObserver, RunOutcome, TuningSnapshot
from hpobench.plan import ExperimentPlan, PlannedRun
from hpobench.results.text import failed_trials_text, format_number, format_seconds

LOG_INTERVAL = 10.0  # seconds between plain progress lines without a terminal


def format_metric(value: Optional[float]) -> str:
    return format_number(value)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A table whose first column (the name) is never cut; the others fold on narrow terminals."""
    cells = [[str(cell) for cell in row] for row in rows]
    result = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        if index == 0:
            widest = max([len(column), *(len(row[0]) for row in cells)])
            result.add_column(column, no_wrap=True, min_width=widest)
        else:
            result.add_column(column, overflow="fold")
    for row in cells:
        result.add_row(*row)
    return result


def _run_line(run: PlannedRun, plan: ExperimentPlan) -> str:
    return f"{plan.experiment_tag}: {plan.benchmark.name} {run.name} (random seed {run.random_seed})"


class LogProgress(ProgressObserver):
    """Plain log lines, for output that is not a terminal (CI, files, pipes)."""

    def __init__(self, console: Console):
        self.console = console
        self.plan: Optional[ExperimentPlan] = None
        self.last_line = 0.0

    def _say(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.console.print(f"[{stamp}] {message}", markup=False, highlight=False, soft_wrap=True)

    def plan_started(self, plan: ExperimentPlan) -> None:
        self.plan = plan
        self._say(
            f"Experiment {plan.experiment_tag}: {len(plan.runs)} run(s) of {plan.benchmark.name}, "
            f"{plan.n_workers} worker(s), {format_seconds(plan.max_wallclock_time)} each, "
            f"master random seed {plan.master_random_seed}"
        )

    def run_skipped(self, run: PlannedRun, path: Any) -> None:
        self._say(f"{run.name}: already complete in {path}; skipped (--force re-runs it)")

    def run_started(self, run: PlannedRun, index: int, plan: ExperimentPlan) -> None:
        self.last_line = time.monotonic()
        self._say(f"[{index + 1}/{len(plan.runs)}] started {_run_line(run, plan)}")

    def run_resumed(self, run: PlannedRun, how: str) -> None:
        self._say(f"  {run.name}: {how} (--force starts it afresh)")

    def tuning_update(self, snapshot: TuningSnapshot) -> None:
        if time.monotonic() - self.last_line < LOG_INTERVAL:
            return
        self.last_line = time.monotonic()
        self._say(
            f"  trials started {snapshot.trials_started}, finished {snapshot.trials_finished}, "
            f"best {format_metric(snapshot.best)}, "
            f"{format_seconds(snapshot.elapsed)} of {format_seconds(snapshot.budget)}"
        )

    def stop(self) -> None:
        """Release the display (nothing to do for plain lines)."""

    def run_finished(self, outcome: RunOutcome) -> None:
        detail = f"best {format_metric(outcome.best)}; results in {outcome.path}"
        if outcome.trials_failed:
            detail += f"; {outcome.trials_failed} of {outcome.trials_started} trials failed"
        if outcome.status == "failed":  # its reason closes the command, once
            detail = f"results in {outcome.path}; the reason follows at the end"
            if outcome.trials_failed:
                detail = f"{outcome.trials_failed} of {outcome.trials_started} trials failed; {detail}"
        self._say(f"{outcome.run.name}: {outcome.status}; {detail}")


class RichProgress(LogProgress):
    """A live display on a terminal: experiments done of total, and the current run."""

    def __init__(self, console: Console):
        super().__init__(console)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.overall: Optional[TaskID] = None
        self.current: Optional[TaskID] = None

    def _overall(self) -> TaskID:
        assert self.overall is not None, "plan_started adds the overall task first"
        return self.overall

    def plan_started(self, plan: ExperimentPlan) -> None:
        super().plan_started(plan)
        self.progress.start()
        self.overall = self.progress.add_task("experiments", total=len(plan.runs), detail="")

    def run_skipped(self, run: PlannedRun, path: Any) -> None:
        super().run_skipped(run, path)
        self.progress.advance(self._overall())

    def run_started(self, run: PlannedRun, index: int, plan: ExperimentPlan) -> None:
        if self.current is not None:
            self.progress.remove_task(self.current)
        self.current = self.progress.add_task(run.name, total=plan.max_wallclock_time, detail="starting trials")

    def run_resumed(self, run: PlannedRun, how: str) -> None:
        self.progress.console.print(f"{run.name}: {how} (--force starts it afresh)", markup=False, highlight=False)

    def tuning_update(self, snapshot: TuningSnapshot) -> None:
        if self.current is None:  # no run started yet
            return
        self.progress.update(
            self.current,
            completed=min(snapshot.elapsed, snapshot.budget),
            detail=(
                f"trials {snapshot.trials_finished}/{snapshot.trials_started} finished/started, "
                f"best {format_metric(snapshot.best)}, "
                f"{format_seconds(snapshot.elapsed)} of {format_seconds(snapshot.budget)}"
            ),
        )

    def run_finished(self, outcome: RunOutcome) -> None:
        super().run_finished(outcome)
        self.progress.advance(self._overall())

    def plan_finished(self, outcomes: list[RunOutcome]) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()


class TabulationProgress(ProgressObserver):
    """Plain lines for `hpobench tabulate`: a run's trials as they finish (its budget is no
    limit: the run ends with its design)."""

    def __init__(self, console: Console):
        self.console = console
        self.last_line = 0.0

    def _say(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.console.print(f"[{stamp}] {message}", markup=False, highlight=False, soft_wrap=True)

    def run_resumed(self, run: PlannedRun, how: str) -> None:
        self._say(f"  {run.name}: continuing the interrupted run ({how.split(',')[-1].strip()})")

    def tuning_update(self, snapshot: TuningSnapshot) -> None:
        if time.monotonic() - self.last_line < LOG_INTERVAL:
            return
        self.last_line = time.monotonic()
        self._say(
            f"  trials finished {snapshot.trials_finished} of {snapshot.trials_started} started, "
            f"{format_seconds(snapshot.elapsed)}"
        )


def progress_for(console: Console) -> LogProgress:
    """A live display on a terminal, plain log lines otherwise."""
    return RichProgress(console) if console.is_terminal else LogProgress(console)


def outcomes_table(outcomes: list[RunOutcome], metric: str, mode: str) -> Table:
    rows = [
        [
            o.run.name,
            o.status,
            f"{o.trials_failed}/{o.trials_started}" if o.trials_started else "-",
            format_metric(o.best),
            str(o.path or "-"),
        ]
        for o in outcomes
    ]
    columns = ["run", "status", "trials failed", "best", "results"]
    return table(f"Runs ({metric}, {mode})", columns, rows)


def status_table(records: list[dict[str, Any]], root: Any, title: str) -> Table:
    """`hpobench status`: one row per expected run; folders relative to the results root."""
    remote = any("job_state" in r for r in records)
    slurm = any("log" in r for r in records)  # a Slurm task's log: its id and log path too
    columns = [
        "benchmark",
        "method",
        "seed",
        "state",
        "trials started/finished/failed",
        "best",
        "wall-clock used/budget",
        "folder",
        "note",
    ]
    if remote:
        columns[4:4] = ["job", "job state"] if slurm else ["job state"]
    if slurm:
        columns.insert(-1, "log")
    rows = []
    for r in records:
        used = "-" if r["wallclock_used"] is None else format_seconds(r["wallclock_used"])
        budget = "-" if r["budget"] is None else format_seconds(r["budget"])
        folder = r["folder"] or "-"
        if folder != "-" and folder.startswith(str(root)):
            folder = folder[len(str(root)) :].lstrip("/")
        row = [
            r["benchmark"],
            r["method"],
            r["seed"],
            r["state"],
            f"{r['trials_started']}/{r['trials_finished']}/{'-' if r['trials_failed'] is None else r['trials_failed']}",
            format_metric(r["best"]),
            f"{used}/{budget}",
            folder,
            r["note"] or "",
        ]
        if remote:
            row[4:4] = [r.get("job") or "-", r.get("job_state") or "-"] if slurm else [r.get("job_state") or "-"]
        if slurm:
            log = r.get("log") or "-"
            row.insert(-1, log[len(str(root)) :].lstrip("/") if log.startswith(str(root)) else log)
        rows.append(row)
    result = table(title, columns, rows)
    for column in result.columns[-3 if slurm else -2 :]:
        column.overflow = "fold"  # a folder path cut short is useless
    return result


def results_table(records: list[dict[str, Any]], title: str, multi_objective: bool = False) -> Table:
    """`hpobench results`: one row per method of one benchmark (a multi-objective one's final
    hypervolume, with its Pareto front's size)."""

    def seconds(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.1f}s"

    rows = []
    for r in records:
        stderr = "" if r["final_best_stderr"] is None else f" ± {r['final_best_stderr']:.2g}"
        reached = "-" if r["target_reached"] is None else f"{r['target_reached']}/{r['seeds']}"
        rows.append(
            [
                r["method"],
                r["seeds"],
                format_metric(r["final_best_mean"]) + stderr,
                format_metric(r["final_best_median"]),
                reached,
                seconds(r["time_to_target_median"]),
                format_metric(r["avg_rank"]),
                format_metric(r["final_rank"]),
                failed_trials_text(r["trials_failed"], r["trials_started"]),
                r["excluded"] or "",
            ]
        )
        if multi_objective:
            front = "" if r["front_size_stderr"] is None else f" ± {r['front_size_stderr']:.2g}"
            rows[-1].insert(4, format_metric(r["front_size_mean"]) + front)
    columns = [
        "method",
        "seeds",
        "final hypervolume mean ± stderr" if multi_objective else "final best mean ± stderr",
        "median",
        "reached target",
        "median time to target",
        "avg rank",
        "final rank",
        "failed trials",
        "excluded",
    ]
    if multi_objective:
        columns.insert(4, "Pareto front size mean ± stderr")
    return table(title, columns, rows)
