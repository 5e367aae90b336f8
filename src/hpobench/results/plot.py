"""Anytime-performance, learning-curve and Pareto-front figures (matplotlib, headless Agg)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hpobench.errors import UsageError
from hpobench.results.aggregate import BenchmarkSummary, included
from hpobench.results.load import RunResults
from hpobench.results.text import FIGURE_FORMATS

FORMATS = {f".{kind}": kind for kind in FIGURE_FORMATS}


def check_output(path: Path) -> str:
    """The file format named by `path`'s extension; UsageError for others."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UsageError(f"Cannot write a plot to {path.name!r}: use a file name ending in .png, .svg or .pdf")
    return kind


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


def panel_grid(panels: int, panel_height: float) -> tuple[Any, Any]:
    """A figure of `panels` panels, two a row; the grid's spare panel hidden. Its axes as a 2-D array."""

    plt = pyplot()
    columns = min(panels, 2)
    rows = math.ceil(panels / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.4 * columns, panel_height * rows), squeeze=False)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)
    return figure, axes


def anytime_figure(summaries: list[BenchmarkSummary], log_time: bool = False, log_metric: bool = False) -> Any:
    """One panel per benchmark: mean best-so-far per method against time, stderr band."""
    panels = len(summaries)
    figure, axes = panel_grid(panels, 4.4)
    for ax, summary in zip(axes.flat, summaries, strict=False):
        for item in summary.methods:
            if item.mean is None:
                continue
            # Best-so-far is a step function: hold each value until the next grid time.
            (line,) = ax.plot(
                summary.grid,
                item.mean,
                drawstyle="steps-post",
                label=f"{item.method} ({len(item.seeds)} seed{'s' if len(item.seeds) != 1 else ''})",
            )
            line.set_gid(item.method)
            if item.stderr is not None and np.isfinite(item.stderr).any():
                ax.fill_between(
                    summary.grid,
                    item.mean - item.stderr,
                    item.mean + item.stderr,
                    color=line.get_color(),
                    alpha=0.2,
                    linewidth=0,
                    step="post",
                )
        counts = sorted({len(item.seeds) for item in summary.methods if item.seeds})
        seeds_text = "/".join(str(c) for c in counts) or "0"
        ax.set_title(f"{summary.benchmark}: mean of {seeds_text} seed(s) per method")
        ax.set_xlabel("wall-clock time (s)" + (", log scale" if log_time else ""))
        better = "higher" if summary.mode == "max" else "lower"
        if summary.hypervolume is not None:
            normalized = "normalized, " if summary.hypervolume.normalization == "bounds" else ""
            ax.set_ylabel(f"hypervolume so far ({normalized}higher is better)")
        else:
            ax.set_ylabel(f"best {summary.metric} so far ({summary.mode}: {better} is better)")
        if log_time:
            ax.set_xscale("log")
        if log_metric:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if ax.get_lines():
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no results to plot", ha="center", va="center", transform=ax.transAxes)
    figure.tight_layout()
    return figure


def learning_curves_figure(run: RunResults, log_metric: bool = False) -> Any:
    """Every trial of one run: metric against resource, one line per trial."""
    frame = run.frame
    if frame is None or frame.resource is None:
        raise UsageError(
            f"Run {run.name} has no learning curves to plot (no results with a resource); see `hpobench status`"
        )
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6.4, 4.4))
    trial_ids = np.unique(frame.trial_id)
    # A multi-objective run's value is its hypervolume so far: a trial's curve is its first objective.
    values, metric, mode = frame.value, run.metric, run.mode
    if run.multi_objective and frame.objectives is not None:
        values, metric, mode = frame.objectives[:, 0], run.objectives[0].metric, run.objectives[0].mode
    for trial_id in trial_ids:
        mine = frame.trial_id == trial_id
        order = np.argsort(frame.resource[mine], kind="stable")
        (line,) = ax.plot(frame.resource[mine][order], values[mine][order], marker=".", linewidth=1)
        line.set_gid(f"trial-{trial_id}")
        line.set_label(f"trial {trial_id}")
    ax.set_title(f"{run.benchmark}: {run.method} seed {run.seed}, {len(trial_ids)} trials")
    ax.set_xlabel(run.resource_attr or "resource")
    better = "higher" if mode == "max" else "lower"
    ax.set_ylabel(f"{metric} ({mode}: {better} is better)")
    if log_metric:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if len(ax.get_lines()) <= 12:  # beyond that a legend hides the curves
        ax.legend(fontsize="small")
    figure.tight_layout()
    return figure


def fronts_path(path: Path) -> Path:
    """Where `plot` writes the fronts of a multi-objective study drawn to `path`: NAME-fronts.EXT."""
    return path.with_name(f"{path.stem}-fronts{path.suffix}")


def fronts_figure(runs: list[RunResults], summaries: list[BenchmarkSummary], include_incomplete: bool = False) -> Any:
    """One panel per multi-objective benchmark: each method's median attainment surface over its
    seeds (moocore's), each seed's final front as points, and the reference point."""
    from hpobench.results.hypervolume import ObjectiveSpace, median_attainment

    plt = pyplot()
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    multi = [s for s in summaries if s.hypervolume is not None]
    panels = len(multi)
    figure, axes = panel_grid(panels, 4.8)
    for ax, summary in zip(axes.flat, multi, strict=False):
        objectives, hypervolume = summary.objectives, summary.hypervolume
        ax.set_title(f"{summary.benchmark}: median attainment surface per method")
        if len(objectives) != 2:
            ax.text(0.5, 0.5, f"fronts are drawn for 2 objectives, not {len(objectives)}", ha="center", va="center")
            continue
        space = ObjectiveSpace.of(objectives, hypervolume)  # type: ignore[arg-type]
        reference = np.asarray(hypervolume.reference_point)  # type: ignore[union-attr]
        for k, item in enumerate(summary.methods):
            color = cycle[k % len(cycle)]
            fronts = [
                r.frame.objectives[r.frame.front]
                for r in runs
                if r.benchmark == summary.benchmark
                and r.method == item.method
                and included(r, include_incomplete)[0]
                and r.frame is not None
                and r.frame.front is not None
            ]
            if not fronts:
                continue
            points = np.vstack(fronts)
            ax.scatter(points[:, 0], points[:, 1], s=10, alpha=0.35, color=color, linewidths=0)
            surface = median_attainment(fronts, space)
            seeds = f"{len(fronts)} seed{'s' if len(fronts) != 1 else ''}"
            if not len(surface):
                ax.plot([], [], color=color, label=f"{item.method} ({seeds}): none within the reference point")
                continue
            # The surface is a staircase: each point holds until the next one along the first
            # objective, from the reference point's second value to its first.
            steps = space.restore(_staircase(space.transform(surface), np.asarray(space.reference)))
            (line,) = ax.plot(steps[:, 0], steps[:, 1], color=color, label=f"{item.method} (median of {seeds})")
            line.set_gid(item.method)
        ax.scatter([reference[0]], [reference[1]], marker="x", color="black", label="reference point", zorder=3)
        for axis, objective in zip(("x", "y"), objectives, strict=True):
            better = "higher" if objective.mode == "max" else "lower"
            getattr(ax, f"set_{axis}label")(f"{objective.metric} ({objective.mode}: {better} is better)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _staircase(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The boundary of what `points` (minimized, two objectives, sorted by the first) dominate
    within the reference point: from (x1, ref_y) up to each point and across to the next."""
    vertices = [(points[0, 0], reference[1])]
    for i, (x, y) in enumerate(points.tolist()):
        vertices.append((x, y))
        vertices.append((points[i + 1, 0] if i + 1 < len(points) else reference[0], y))
    return np.asarray(vertices)


def save(figure: Any, path: Path) -> None:
    """Write `figure` in the format named by `path`'s extension."""
    kind = check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=kind)
    pyplot().close(figure)
