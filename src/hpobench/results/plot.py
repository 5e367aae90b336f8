"""Anytime-performance and learning-curve figures (matplotlib, headless Agg)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hpobench.errors import UsageError
from hpobench.results.aggregate import BenchmarkSummary
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


def anytime_figure(summaries: list[BenchmarkSummary], log_time: bool = False, log_metric: bool = False) -> Any:
    """One panel per benchmark: mean best-so-far per method against time, stderr band."""
    plt = pyplot()
    panels = len(summaries)
    columns = min(panels, 2)
    rows = math.ceil(panels / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.4 * columns, 4.4 * rows), squeeze=False)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)
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
    for trial_id in trial_ids:
        mine = frame.trial_id == trial_id
        order = np.argsort(frame.resource[mine], kind="stable")
        (line,) = ax.plot(frame.resource[mine][order], frame.value[mine][order], marker=".", linewidth=1)
        line.set_gid(f"trial-{trial_id}")
        line.set_label(f"trial {trial_id}")
    ax.set_title(f"{run.benchmark}: {run.method} seed {run.seed}, {len(trial_ids)} trials")
    ax.set_xlabel(run.resource_attr or "resource")
    better = "higher" if run.mode == "max" else "lower"
    ax.set_ylabel(f"{run.metric} ({run.mode}: {better} is better)")
    if log_metric:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if len(ax.get_lines()) <= 12:  # beyond that a legend hides the curves
        ax.legend(fontsize="small")
    figure.tight_layout()
    return figure


def save(figure: Any, path: Path) -> None:
    """Write `figure` in the format named by `path`'s extension."""
    kind = check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format=kind)
    pyplot().close(figure)
