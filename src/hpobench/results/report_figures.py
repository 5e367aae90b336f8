"""The figures of `hpobench report`, each with the labels that say what it shows.

Every figure names its statistic and its interval in its title or axis labels,
and every line carries the method's name as its gid (the tests read figures by
their labels, never by pixels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hpobench.results.plot import panel_grid, pyplot
from hpobench.results.statistics import CONFIDENCE, CrossResult, StudyStatistics


def _colors(methods: list[str]) -> dict[str, Any]:
    plt = pyplot()
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {m: cycle[i % len(cycle)] for i, m in enumerate(methods)}


def _curve(ax: Any, x: Any, band: Any, label: str, color: Any, step: bool = True) -> None:
    (line,) = ax.plot(x, band.center, drawstyle="steps-post" if step else "default", label=label, color=color)
    line.set_gid(label)
    if np.isfinite(band.low).any():
        ax.fill_between(x, band.low, band.high, color=color, alpha=0.2, linewidth=0, step="post" if step else None)


def anytime_figure(stats: StudyStatistics, methods: list[str]) -> Any:
    """Per benchmark: mean best-so-far over seeds against time, bootstrap band."""
    colors = _colors(methods)
    panels = len(stats.benchmarks)
    figure, axes = panel_grid(panels, 4.2)
    for ax, result in zip(axes.flat, stats.benchmarks, strict=False):
        seeds = {item.method: len(item.seeds) for item in result.summary.methods}
        for method, band in result.anytime.items():
            _curve(ax, result.anytime_grid, band, method, colors[method])
            ax.get_lines()[-1].set_label(f"{method} ({seeds.get(method, 0)} seeds)")
        summary = result.summary
        better = "higher" if summary.mode == "max" else "lower"
        ax.set_title(f"{result.benchmark}: mean, {CONFIDENCE:.0%} bootstrap CI")
        ax.set_xlabel("wall-clock time (s)")
        ax.set_ylabel(f"best {summary.metric} so far ({better} is better)")
        ax.grid(True, alpha=0.3)
        if ax.get_lines():
            # Curves fall (min) or rise (max) from the left: that corner stays free. A fixed
            # place, because matplotlib's "best" search over every vertex dominates the save time.
            ax.legend(fontsize="small", loc="upper right" if summary.mode == "min" else "lower right")
    figure.tight_layout()
    return figure


def aggregates_figure(cross: CrossResult, benchmarks: int) -> Any:
    """Mean and IQM of normalized regret over normalized time, stratified-bootstrap bands."""
    plt = pyplot()
    colors = _colors(cross.methods)
    figure, axes = plt.subplots(1, 2, figsize=(12.8, 4.2))
    for ax, name, bands in ((axes[0], "mean", cross.mean), (axes[1], "IQM", cross.iqm)):
        for method in cross.methods:
            _curve(ax, cross.grid, bands[method], method, colors[method])
        ax.set_title(
            f"{name} over {benchmarks} benchmark(s) x seeds, {CONFIDENCE:.0%} stratified bootstrap CI\n"
            "(0 = best seen, 1 = RS's median first result)",
            fontsize="medium",
        )
        ax.set_xlabel("time / budget")
        ax.set_ylabel(f"{name} normalized regret")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper right")
    figure.tight_layout()
    return figure


def _per_method_figure(cross: CrossResult, draw: Any, title: str, xlabel: str, ylabel: str, legend: str) -> Any:
    """One panel, one line per compared method drawn by `draw(ax, method, color)`."""
    plt = pyplot()
    colors = _colors(cross.methods)
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    for method in cross.methods:
        (line,) = draw(ax, method, colors[method])
        line.set_gid(method)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc=legend)
    return figure, ax


def rank_figure(cross: CrossResult) -> Any:
    figure, ax = _per_method_figure(
        cross,
        lambda ax, method, color: ax.plot(cross.grid, cross.rank_over_time[method], label=method, color=color),
        f"average rank over {len(cross.blocks)} (benchmark, seed) blocks",
        "time / budget",
        "average rank (1 = best)",
        "best",  # few points: "best" is cheap here
    )
    ax.set_ylim(0.9, len(cross.methods) + 0.1)
    figure.tight_layout()
    return figure


def critical_difference_figure(cross: CrossResult) -> Any:
    """Final average ranks; methods joined by a bar do not differ significantly (the test named)."""
    import pandas as pd
    import scikit_posthocs

    plt = pyplot()
    test = cross.test
    assert test is not None, "drawn only when a rank test ran"
    figure, ax = plt.subplots(figsize=(6.4, 0.9 + 0.35 * len(cross.methods)))
    ranks = pd.Series(cross.final_rank)
    matrix = pd.DataFrame(test.pairwise_p).loc[cross.methods, cross.methods]
    scikit_posthocs.critical_difference_diagram(
        ranks,
        matrix,
        ax=ax,
        label_fmt_left="{label} ({rank:.2f})  ",
        label_fmt_right="  ({rank:.2f}) {label}",
        color_palette=_colors(cross.methods),
    )
    p = "n/a" if test.p_value is None else f"{test.p_value:.3g}"
    ax.set_title(
        f"final ranks: {test.name} p = {p} over {test.blocks} blocks; bars: {test.pairwise_name} p >= 0.05",
        fontsize="small",
    )
    figure.tight_layout()
    return figure


def ecdf_figure(cross: CrossResult) -> Any:
    figure, _ = _per_method_figure(
        cross,
        lambda ax, method, color: ax.step(*cross.ecdf[method], where="post", label=method, color=color),
        f"ECDF of final normalized regret over {len(cross.blocks)} runs per method",
        "final normalized regret (0 = best seen)",
        "fraction of (benchmark, seed) runs at or below",
        "lower right",
    )
    figure.tight_layout()
    return figure


def fidelity_figure(result: Any) -> Any:
    """Per method, one panel: the real and the simulated mean best-so-far with their bootstrap
    bands (a `fidelity.Fidelity`); a dotted line where the simulated mean first leaves the band."""
    real_color, simulated_color = _colors(["real", "simulated"]).values()
    panels = len(result.methods)
    figure, axes = panel_grid(panels, 4.2)
    better = "higher" if result.real.mode == "max" else "lower"
    for ax, item in zip(axes.flat, result.methods, strict=False):
        _curve(ax, result.grid, item.real, f"{item.method} real", real_color)
        ax.get_lines()[-1].set_label(f"real, {result.real.tag} ({len(item.real_seeds)} seeds)")
        _curve(ax, result.grid, item.simulated, f"{item.method} simulated", simulated_color)
        ax.get_lines()[-1].set_label(f"simulated, {result.simulated.tag} ({len(item.simulated_seeds)} seeds)")
        if item.band.first_exit is not None:
            exit_line = ax.axvline(item.band.first_exit, color=simulated_color, linestyle=":", linewidth=1)
            exit_line.set_gid(f"{item.method} first exit")
        inside = {True: "inside", False: "leaves", None: "not judged"}[item.band.inside]
        ax.set_title(f"{item.method}: mean, {CONFIDENCE:.0%} bootstrap CI; simulated {inside} the real band")
        ax.set_xlabel("time (s): wall-clock for real runs, simulated for simulated runs")
        ax.set_ylabel(f"best {result.real.metric} so far ({better} is better)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper right" if result.real.mode == "min" else "lower right")
    figure.tight_layout()
    return figure
