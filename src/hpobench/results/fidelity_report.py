"""`hpobench fidelity`'s outputs: its numbers as JSON, its tables, one offline page.

As with `report`, one dictionary (`fidelity_data`) holds every number the page shows, and the
page, tables.md, tables.tex and `--json` are all made from it; the page, the figure files and
their drawing are `report`'s own (`report.html_page`, `report.draw_and_save`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

import numpy as np

from hpobench.results.aggregate import ranks
from hpobench.results.fidelity import DEFINITIONS, Fidelity, Side, tau_values
from hpobench.results.report import Table, html_page, json_band, json_number, markdown_page
from hpobench.results.text import FIGURE_FORMATS, format_number, latex_tables

NOTES_HEADING = "What this comparison cannot take for granted"
FIGURE = "fidelity"


def _side(side: Side) -> dict[str, Any]:
    return {
        "tag": side.tag,
        "benchmark": side.benchmark,
        "metric": side.metric,
        "mode": side.mode,
        "methods": {m: [r.seed for r in runs] for m, runs in side.runs.items()},
        "left_out": [{"method": r.method, "seed": r.seed, "state": r.state, "why": why} for r, why in side.left_out],
    }


def _final_ranks(values: list[Optional[float]], mode: str) -> list[Optional[float]]:
    """1 = best final value; a method without one ranks last."""
    if not values:
        return []
    finals = np.array([np.nan if v is None else v for v in values], dtype=float)
    return [float(r) for r in ranks(finals, mode)]


def fidelity_data(result: Fidelity, results_root: Path) -> dict[str, Any]:
    """Every number of the comparison, JSON-ready (NaN and infinity as null)."""
    mode = result.real.mode
    real_ranks = _final_ranks([m.real_final for m in result.methods], mode)
    simulated_ranks = _final_ranks([m.simulated_final for m in result.methods], mode)
    interval = result.tau_interval
    return {
        "results_root": str(results_root),
        "real": _side(result.real),
        "simulated": _side(result.simulated),
        "budget": result.budget,
        "verdict": result.verdict,
        "tau": json_number(result.tau),
        "tau_interval": None if interval is None else [interval[0], interval[1]],
        "tau_note": result.tau_note,
        "tau_possible_values": tau_values(len(result.methods)),
        "methods": [
            {
                "method": item.method,
                "real_seeds": item.real_seeds,
                "simulated_seeds": item.simulated_seeds,
                "real_final": json_number(item.real_final),
                "simulated_final": json_number(item.simulated_final),
                "real_rank": real_rank,
                "simulated_rank": simulated_rank,
                "inside_band": item.band.inside,
                "share_inside": json_number(item.band.share_inside),
                "first_exit": json_number(item.band.first_exit),
                "judged_points": item.band.judged,
                "judged_coverage": json_number(item.band.coverage),
                "why_not_judged": item.band.why_not_judged,
            }
            for item, real_rank, simulated_rank in zip(result.methods, real_ranks, simulated_ranks, strict=True)
        ],
        "only_real": result.only_real,
        "only_simulated": result.only_simulated,
        "flags": [asdict(f) for f in result.flags],
        "checks": [asdict(c) for c in result.checks],
        "curves": {
            "time": [float(t) for t in result.grid],
            "methods": {
                m.method: {"real": json_band(m.real), "simulated": json_band(m.simulated)} for m in result.methods
            },
        },
        "definitions": dict(DEFINITIONS),
    }


def _yes_no(value: Optional[bool]) -> str:
    return {True: "yes", False: "no", None: "not judged"}[value]


def tables(data: dict[str, Any]) -> list[Table]:
    """(title, columns, rows) of every table the page shows."""
    real, simulated = data["real"], data["simulated"]
    better = "higher" if real["mode"] == "max" else "lower"
    rows = [
        [
            m["method"],
            str(len(m["real_seeds"])),
            str(len(m["simulated_seeds"])),
            format_number(m["real_final"]),
            format_number(m["simulated_final"]),
            format_number(m["real_rank"], 3),
            format_number(m["simulated_rank"], 3),
            _yes_no(m["inside_band"]) if m["inside_band"] is not None else f"not judged: {m['why_not_judged']}",
            "-" if m["share_inside"] is None else f"{m['share_inside']:.0%}",
            "-" if m["first_exit"] is None else f"{m['first_exit']:.4g} s",
        ]
        for m in data["methods"]
    ]
    out: list[Table] = [
        (
            f"{real['benchmark']}: final mean best {real['metric']} ({better} is better) at the budget "
            f"{format_number(data['budget'])} s, real ({real['tag']}) against simulated ({simulated['tag']})",
            [
                "method",
                "real seeds",
                "simulated seeds",
                "real final",
                "simulated final",
                "real rank",
                "simulated rank",
                "simulated mean inside real band",
                "share of judged grid inside",
                "first out",
            ],
            rows,
        )
    ]
    interval = data["tau_interval"]
    interval_text = "-" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"
    possible = ", ".join(f"{v:.3g}" for v in data["tau_possible_values"]) or "-"
    out.append(
        (
            "Kendall's tau between real and simulated final ranks",
            ["methods", "tau", "95% bootstrap interval", "values tau can take", "note"],
            [
                [
                    str(len(data["methods"])),
                    format_number(data["tau"], 3),
                    interval_text,
                    possible,
                    data["tau_note"] or "-",
                ]
            ],
        )
    )
    if data["checks"]:
        out.append(
            (
                "Each table's manifest against the real runs' metadata.json",
                ["table", "item", "in the table", "in the real runs", "outcome", "how"],
                [
                    [c["table"], c["item"], c["table_value"], c["real_value"], c["outcome"], c["why"] or "-"]
                    for c in data["checks"]
                ],
            )
        )
    left = [(side, r) for side in ("real", "simulated") for r in data[side]["left_out"]]
    if left:
        out.append(
            (
                "Runs left out",
                ["side", "method", "seed", "state", "why"],
                [[side, r["method"], str(r["seed"]), r["state"], r["why"]] for side, r in left],
            )
        )
    return out


def _title(data: dict[str, Any]) -> str:
    return f"Fidelity of {data['simulated']['tag']} to {data['real']['tag']} on {data['real']['benchmark']}"


def write_fidelity(result: Fidelity, results_root: Path, folder: Path) -> dict[str, Any]:
    """Write index.html, the figure (PNG, SVG, PDF), tables.md, tables.tex and fidelity.json."""
    from hpobench.results import report_figures
    from hpobench.results.report import draw_and_save

    folder.mkdir(parents=True, exist_ok=True)
    data = fidelity_data(result, results_root)
    draw_and_save({FIGURE: (len(result.methods), lambda: report_figures.fidelity_figure(result))}, folder)
    data["figures"] = [f"{FIGURE}.{kind}" for kind in FIGURE_FORMATS]
    notes = [f["message"] for f in data["flags"]]
    definitions = list(data["definitions"].values())
    table_list = tables(data)
    (folder / "tables.md").write_text(
        markdown_page(_title(data), NOTES_HEADING, notes, table_list, definitions, f"**Verdict.** {data['verdict']}")
    )
    (folder / "tables.tex").write_text(latex_tables(f"hpobench fidelity: {_title(data)}", table_list))
    (folder / "fidelity.json").write_text(json.dumps(data, indent=1))
    caption = "Per method: real and simulated mean best-so-far with their bootstrap bands"
    page = html_page(
        _title(data),
        NOTES_HEADING,
        notes,
        [(folder / f"{FIGURE}.svg", caption)],
        table_list,
        definitions,
        f"Verdict: {data['verdict']}",
    )
    (folder / "index.html").write_text(page)
    return data
