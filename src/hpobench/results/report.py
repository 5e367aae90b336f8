"""`hpobench report`: a study's numbers as JSON, Markdown, LaTeX and one offline HTML page.

One dictionary (`report_data`) holds every number the page shows; the tables,
the page and `--format json` are all made from it, so they cannot disagree.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any, Optional

from hpobench.results.aggregate import hypervolume_text
from hpobench.results.statistics import ALPHA, Band, StudyStatistics
from hpobench.results.study import Study
from hpobench.results.text import FIGURE_FORMATS, Table, failed_trials_text, format_number, latex_tables, pipe_table

NOTES_HEADING = "What this study cannot conclude"


def json_number(value: Any) -> Optional[float]:
    """A number for JSON: NaN, infinity and None as None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(values: Any) -> list[Optional[float]]:
    return [json_number(v) for v in values]


def json_band(band: Band) -> dict[str, Any]:
    """A band's center, low and high for JSON (undefined points as None)."""
    return {"center": _numbers(band.center), "low": _numbers(band.low), "high": _numbers(band.high)}


def _last(values: Any) -> Optional[float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return finite[-1] if finite else None


def report_data(study: Study, stats: StudyStatistics) -> dict[str, Any]:
    """Every number of the report, JSON-ready (NaN and infinity as null)."""
    data: dict[str, Any] = {
        "tags": study.tags,
        "results_root": str(study.root),
        "warnings": stats.warnings,
        "definitions": stats.definitions,
        "benchmarks": [],
        "cross": None,
        "left_out": [
            {
                "benchmark": run.benchmark,
                "method": run.method,
                "seed": run.seed,
                "state": run.state,
                "why": why,
                "problems": run.problems,
            }
            for run, why in study.left_out
        ],
    }
    for result in stats.benchmarks:
        summary = result.summary
        data["benchmarks"].append(
            {
                "benchmark": result.benchmark,
                "tags": study.tag_of.get(result.benchmark, ""),
                "metric": summary.metric,
                "mode": summary.mode,
                "budget": json_number(result.budget),
                "target": json_number(summary.target),
                "target_source": summary.target_source,
                "best": json_number(result.best),
                "best_source": result.best_source,
                "anchor": json_number(result.anchor),
                "anchor_source": result.anchor_source,
                "speedup_note": result.speedup_note,
                "baseline": summary.baseline,
                # Multi-objective: what the hypervolume measures (else no objectives, no hypervolume).
                "objectives": [o.model_dump() for o in summary.objectives] if summary.multi_objective else None,
                "hypervolume": None if summary.hypervolume is None else summary.hypervolume.model_dump(mode="json"),
                "measured": hypervolume_text(summary),
                "methods": [
                    {
                        "method": item.method,
                        "seeds": item.seeds,
                        "excluded": item.excluded,
                        "final_best_mean": json_number(item.final_best_mean),
                        "final_best_stderr": json_number(item.final_best_stderr),
                        "final_best_median": json_number(item.final_best_median),
                        "target_reached": item.target_reached,
                        "time_to_target_median": json_number(item.time_to_target_median),
                        "avg_rank": json_number(item.average_rank),
                        "final_rank": json_number(item.final_rank),
                        "trials_failed": item.trials_failed,
                        "trials_started": item.trials_started,
                        "front_size_mean": json_number(item.front_size_mean),
                        "front_size_stderr": json_number(item.front_size_stderr),
                        "speedup_over_rs": json_number(result.speedup.get(item.method)),
                        # False: its mean curve never reaches RS's final mean; None: no speed-up measured
                        "speedup_reached": None
                        if item.method not in result.speedup
                        else result.speedup[item.method] is not None,
                    }
                    for item in summary.methods
                ],
                "anytime": {
                    "time": _numbers(result.anytime_grid),
                    "methods": {m: json_band(b) for m, b in result.anytime.items()},
                },
            }
        )
    cross = stats.cross
    if cross is not None:
        test = cross.test
        data["cross"] = {
            "methods": cross.methods,
            "left_out_methods": study.missing_methods(),
            "blocks": [{"benchmark": b, "seed": s} for b, s in cross.blocks],
            "normalized_time": _numbers(cross.grid),
            "mean": {m: json_band(b) for m, b in cross.mean.items()},
            "iqm": {m: json_band(b) for m, b in cross.iqm.items()},
            "rank_over_time": {m: _numbers(c) for m, c in cross.rank_over_time.items()},
            "final": {
                m: {
                    "mean_regret": _last(_numbers(cross.mean[m].center)),
                    "mean_regret_ci": [_last(_numbers(cross.mean[m].low)), _last(_numbers(cross.mean[m].high))],
                    "iqm_regret": _last(_numbers(cross.iqm[m].center)),
                    "iqm_regret_ci": [_last(_numbers(cross.iqm[m].low)), _last(_numbers(cross.iqm[m].high))],
                    "mean_rank": json_number(cross.final_rank.get(m)),
                }
                for m in cross.methods
            },
            "test": None
            if test is None
            else {
                "name": test.name,
                "statistic": json_number(test.statistic),
                "p_value": json_number(test.p_value),
                "blocks": test.blocks,
                "alpha": ALPHA,
                "significant": test.significant,
                "pairwise_test": test.pairwise_name,
                "pairwise_p": {m: {n: json_number(p) for n, p in row.items()} for m, row in test.pairwise_p.items()},
            },
            "ecdf": {m: {"regret": _numbers(x), "fraction": _numbers(p)} for m, (x, p) in cross.ecdf.items()},
        }
    return data


# ----------------------------------------------------------------------------- tables


def _pm(mean: Optional[float], stderr: Optional[float]) -> str:
    return format_number(mean) + ("" if stderr is None else f" ± {format_number(stderr, 2)}")


def _ci(value: Optional[float], interval: list[Optional[float]]) -> str:
    low, high = interval
    return format_number(value, 3) + ("" if low is None else f" [{format_number(low, 3)}, {format_number(high, 3)}]")


def tables(data: dict[str, Any]) -> list[Table]:
    """(title, columns, rows) of every table the report shows."""
    out = []
    for bench in data["benchmarks"]:
        rows = []
        for item in bench["methods"]:
            reached = item["speedup_reached"]
            speed_text = {True: format_number(item["speedup_over_rs"], 3) + "x", False: "never"}.get(reached, "-")
            seeds = len(item["seeds"])
            time_text = "-" if item["time_to_target_median"] is None else f"{item['time_to_target_median']:.1f} s"
            rows.append(
                [
                    item["method"],
                    str(seeds),
                    _pm(item["final_best_mean"], item["final_best_stderr"]),
                    format_number(item["final_best_median"]),
                    f"{item['target_reached']}/{seeds}",
                    time_text,
                    format_number(item["avg_rank"], 3),
                    format_number(item["final_rank"], 3),
                    speed_text,
                    failed_trials_text(item["trials_failed"], item["trials_started"]),
                ]
            )
            if bench["hypervolume"] is not None:  # the Pareto front's size, after the median
                rows[-1].insert(4, _pm(item["front_size_mean"], item["front_size_stderr"]))
        better = "higher" if bench["mode"] == "max" else "lower"
        target = "no target" if bench["target"] is None else f"target {bench['target']:.6g} ({bench['target_source']})"
        what = bench["measured"] or f"best {bench['metric']}"  # a multi-objective benchmark's hypervolume
        title = (
            f"{bench['benchmark']}: final {what} ({better} is better), "
            f"tag {bench['tags']}; {target}; {bench['speedup_note']}"
        )
        out.append(
            (
                title,
                ["method", "seeds", "final best mean ± s.e.", "median"]
                + (["Pareto front size mean ± s.e."] if bench["hypervolume"] is not None else [])
                + ["reached target", "median time to target", "avg rank", "final rank"]
                + [f"speed-up over {bench['baseline']}", "failed trials"],
                rows,
            )
        )
    cross = data["cross"]
    if cross is not None:
        rows = [
            [
                m,
                _ci(f["mean_regret"], f["mean_regret_ci"]),
                _ci(f["iqm_regret"], f["iqm_regret_ci"]),
                format_number(f["mean_rank"], 3),
            ]
            for m, f in cross["final"].items()
        ]
        out.append(
            (
                f"Across {len(data['benchmarks'])} benchmark(s), {len(cross['blocks'])} (benchmark, seed) "
                "blocks: final normalized regret (95% CI) and final rank",
                ["method", "mean", "IQM", "mean rank"],
                rows,
            )
        )
        test = cross["test"]
        if test is not None:
            methods = cross["methods"]
            rows = [[m] + [format_number(test["pairwise_p"][m][n], 3) for n in methods] for m in methods]
            out.append(
                (f"{test['pairwise_test']} p-values between methods ({_test_line(test)})", ["method", *methods], rows)
            )
    if data["left_out"]:
        rows = [
            [r["benchmark"], r["method"], str(r["seed"]), r["state"], "; ".join(r["problems"]) or r["why"]]
            for r in data["left_out"]
        ]
        out.append(("Runs left out of the statistics", ["benchmark", "method", "seed", "state", "why"], rows))
    return out


def _test_line(test: dict[str, Any]) -> str:
    p = "n/a" if test["p_value"] is None else f"{test['p_value']:.3g}"
    verdict = "significant" if test["significant"] else "not significant"
    return (
        f"{test['name']}: statistic {format_number(test['statistic'], 4)}, p = {p} over {test['blocks']} blocks, "
        f"{verdict} at alpha {test['alpha']}"
    )


def markdown(data: dict[str, Any]) -> str:
    return markdown_page(
        f"Study report: {', '.join(data['tags'])}",
        NOTES_HEADING,
        data["warnings"],
        tables(data),
        list(data["definitions"].values()),
    )


def markdown_page(
    title: str, notes_heading: str, notes: list[str], table_list: list[Table], definitions: list[str], intro: str = ""
) -> str:
    """A Markdown document: title, an intro line, the notes, the tables, the definitions."""
    lines = [f"# {title}", ""] + ([intro, ""] if intro else [])
    if notes:
        lines += [f"## {notes_heading}", ""] + [f"- {w}" for w in notes] + [""]
    for table_title, columns, rows in table_list:
        lines += [f"## {table_title}", "", *pipe_table(columns, rows), ""]
    lines += ["## Definitions", ""] + [f"- {text}" for text in definitions]
    return "\n".join(lines) + "\n"


def latex(data: dict[str, Any]) -> str:
    """The tables as LaTeX (booktabs), one table environment each."""
    return latex_tables(f"hpobench report: {', '.join(data['tags'])}", tables(data))


# ----------------------------------------------------------------------------- page


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1300px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.warnings { background: #fff4e5; border: 2px solid #e69500; padding: 0.5em 1em; }
.intro { font-size: 1.15em; font-weight: 600; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
"""


def page(data: dict[str, Any], figures: dict[str, Path]) -> str:
    """One self-contained HTML page: the figures inlined as SVG, nothing fetched."""
    captions = {
        "anytime": "Anytime performance per benchmark",
        "aggregates": "Normalized regret across benchmarks",
        "ranks": "Average rank over time",
        "critical_difference": "Final ranks and their test",
        "ecdf": "Distribution of final normalized regret",
        "fronts": "Median attainment surface per method (multi-objective benchmarks)",
    }
    return html_page(
        f"hpobench report: {', '.join(data['tags'])}",
        NOTES_HEADING,
        data["warnings"],
        [(path, captions.get(name, name)) for name, path in figures.items()],
        tables(data),
        list(data["definitions"].values()),
    )


def html_page(
    title: str,
    notes_heading: str,
    notes: list[str],
    figures: list[tuple[Path, str]],
    table_list: list[Table],
    definitions: list[str],
    intro: str = "",
) -> str:
    """One self-contained HTML page: an intro paragraph, the notes in a box, the figures
    (SVG files, inlined with their captions), the tables and the definitions; nothing fetched."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    if intro:
        body.append(f'<p class="intro">{html.escape(intro)}</p>')
    if notes:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in notes)
        body.append(f'<div class="warnings"><h2>{html.escape(notes_heading)}</h2><ul>{items}</ul></div>')
    for svg_path, caption in figures:
        svg = re.sub(r"^<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", "", svg_path.read_text())
        body.append(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>")
    for table_title, columns, rows in table_list:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        body.append(f"<h2>{html.escape(table_title)}</h2><table><tr>{head}</tr>{cells}</table>")
    items = "".join(f"<li>{html.escape(text)}</li>" for text in definitions)
    body.append(f"<h2>Definitions</h2><ul>{items}</ul>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(study: Study, stats: StudyStatistics, folder: Path) -> dict[str, Any]:
    """Write index.html, the figures (PNG, SVG, PDF), tables.md and tables.tex into `folder`."""
    from hpobench.results import report_figures

    folder.mkdir(parents=True, exist_ok=True)
    data = report_data(study, stats)
    cross = stats.cross
    # name -> (panels, how to draw it); a figure's cost grows with its panels.
    figures: dict[str, tuple[int, Any]] = {
        "anytime": (len(stats.benchmarks), lambda: report_figures.anytime_figure(stats, study.methods))
    }
    multi = [r.summary for r in stats.benchmarks if r.summary.multi_objective]
    if multi:
        from hpobench.results.plot import fronts_figure

        figures["fronts"] = (len(multi), lambda: fronts_figure(study.runs, multi, study.include_incomplete))
    if cross is not None:
        figures["aggregates"] = (2, lambda: report_figures.aggregates_figure(cross, len(stats.benchmarks)))
        if cross.blocks:
            figures["ranks"] = (1, lambda: report_figures.rank_figure(cross))
            figures["ecdf"] = (1, lambda: report_figures.ecdf_figure(cross))
        if cross.test is not None:
            figures["critical_difference"] = (1, lambda: report_figures.critical_difference_figure(cross))
    draw_and_save(figures, folder)
    svgs = {name: folder / f"{name}.svg" for name in figures}
    data["figures"] = [f"{name}.{kind}" for name in figures for kind in FIGURE_FORMATS]
    (folder / "tables.md").write_text(markdown(data))
    (folder / "tables.tex").write_text(latex(data))
    (folder / "report.json").write_text(json.dumps(data, indent=1))
    (folder / "index.html").write_text(page(data, svgs))
    return data


def draw_and_save(figures: dict[str, tuple[int, Any]], folder: Path) -> None:
    """Draw every figure and write it as PNG, SVG and PDF.

    Drawing is most of a report's time, so where the system can fork the figures are split
    in two halves by panel count and a child process draws and writes one half while this
    one does the other (the child starts as a copy of this process, statistics included)."""
    import os

    from hpobench.results.plot import pyplot

    def draw(names: list[str]) -> None:
        for name in names:
            figure = figures[name][1]()
            for kind in FIGURE_FORMATS:
                figure.savefig(folder / f"{name}.{kind}", format=kind, dpi=110)
            pyplot().close(figure)

    halves: tuple[list[str], list[str]] = ([], [])
    for name in sorted(figures, key=lambda n: -figures[n][0]):
        min(halves, key=lambda half: sum(figures[n][0] for n in half)).append(name)
    if not hasattr(os, "fork") or not halves[1]:
        draw(list(figures))
        return
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        try:
            draw(halves[1])
        except BaseException:
            os._exit(1)
        os._exit(0)
    try:
        draw(halves[0])
    finally:
        _, status = os.waitpid(child, 0)
    if status != 0:
        draw(halves[1])  # the child failed: again here, where its error is reported
