"""Records and text formats (csv, json, markdown) of `status` and `results`."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any, Optional

from hpobench.results.aggregate import HYPERVOLUME_RULE, INCUMBENT_RULE, BenchmarkSummary, hypervolume_text
from hpobench.results.load import STATES, Experiment
from hpobench.results.text import pipe_table

RESULTS_COLUMNS = [
    "benchmark",
    "metric",
    "mode",
    "method",
    "seeds",
    "excluded",
    "final_best_mean",
    "final_best_stderr",
    "final_best_median",
    "target",
    "target_reached",
    "time_to_target_median",
    "time_to_target_mean",
    "avg_rank",
    "final_rank",
    "trials_failed",
    "trials_started",
]
# Added where a benchmark is multi-objective (its metric is then the hypervolume).
MO_RESULTS_COLUMNS = ["front_size_mean", "front_size_stderr", "objectives", "reference_point", "normalization"]
STATUS_COLUMNS = [
    "benchmark",
    "method",
    "seed",
    "state",
    "trials_started",
    "trials_finished",
    "trials_failed",
    "best",
    "wallclock_used",
    "budget",
    "folder",
    "note",
]


def _number(value: Optional[float]) -> Optional[float]:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def results_columns(summaries: list[BenchmarkSummary]) -> list[str]:
    """The columns of `results`' records: the multi-objective ones only where a benchmark is."""
    return RESULTS_COLUMNS + (MO_RESULTS_COLUMNS if any(s.multi_objective for s in summaries) else [])


def results_rule(summaries: list[BenchmarkSummary]) -> str:
    """The incumbent rule, and how hypervolumes are measured where a benchmark is multi-objective."""
    return INCUMBENT_RULE + (f"\n\n{HYPERVOLUME_RULE}" if any(s.multi_objective for s in summaries) else "")


def _mo_fields(summary: BenchmarkSummary, front_mean: Optional[float], front_stderr: Optional[float]) -> dict[str, Any]:
    hv = summary.hypervolume
    if hv is None:
        return {}
    return {
        "front_size_mean": _number(front_mean),
        "front_size_stderr": _number(front_stderr),
        "objectives": ", ".join(o.describe() for o in summary.objectives),
        "reference_point": ", ".join(f"{v:g}" for v in hv.reference_point),
        "normalization": hv.normalization
        + ("" if hv.ideal_point is None else f" from ({', '.join(f'{v:g}' for v in hv.ideal_point)})"),
    }


def results_records(summaries: list[BenchmarkSummary]) -> list[dict[str, Any]]:
    """One flat record per (benchmark, method)."""
    records = []
    for summary in summaries:
        for item in summary.methods:
            records.append(
                {
                    "benchmark": summary.benchmark,
                    "metric": summary.metric,
                    "mode": summary.mode,
                    "method": item.method,
                    "seeds": len(item.seeds),
                    "excluded": "; ".join(item.excluded),
                    "final_best_mean": _number(item.final_best_mean),
                    "final_best_stderr": _number(item.final_best_stderr),
                    "final_best_median": _number(item.final_best_median),
                    "target": _number(summary.target),
                    "target_reached": item.target_reached if summary.target is not None else None,
                    "time_to_target_median": _number(item.time_to_target_median),
                    "time_to_target_mean": _number(item.time_to_target_mean),
                    "avg_rank": _number(item.average_rank),
                    "final_rank": _number(item.final_rank),
                    "trials_failed": item.trials_failed,
                    "trials_started": item.trials_started,
                    **_mo_fields(summary, item.front_size_mean, item.front_size_stderr),
                }
            )
    return records


def results_json(summaries: list[BenchmarkSummary]) -> str:
    """The summary records plus each benchmark's curves on its time grid."""
    benchmarks = []
    for summary in summaries:
        benchmarks.append(
            {
                "benchmark": summary.benchmark,
                "metric": summary.metric,
                "mode": summary.mode,
                "target": _number(summary.target),
                "target_source": summary.target_source,
                "rank_seeds": summary.rank_seeds,
                "objectives": [o.model_dump() for o in summary.objectives] or None,
                "hypervolume": None if summary.hypervolume is None else summary.hypervolume.model_dump(mode="json"),
                "time": [float(t) for t in summary.grid],
                "methods": {
                    item.method: {
                        "seeds": item.seeds,
                        "excluded": item.excluded,
                        "mean": _curve(item.mean),
                        "stderr": _curve(item.stderr),
                        "rank": _curve(summary.ranks.get(item.method)),
                    }
                    for item in summary.methods
                },
            }
        )
    payload = {"rule": results_rule(summaries), "summary": results_records(summaries), "benchmarks": benchmarks}
    return json.dumps(payload, indent=2)


def _curve(values: Any) -> Optional[list[Optional[float]]]:
    return None if values is None else [_number(float(v)) for v in values]


def status_records(experiment: Experiment) -> list[dict[str, Any]]:
    """One record per expected run."""
    return [
        {
            "benchmark": run.benchmark,
            "method": run.method,
            "seed": run.seed,
            "state": run.state,
            "trials_started": run.trials_started,
            "trials_finished": run.trials_finished,
            "trials_failed": run.record.trials_failed,
            "best": _number(run.best),
            "wallclock_used": _number(run.wallclock_used),
            "budget": _number(run.budget),
            "folder": str(run.path) if run.path else None,
            "note": "; ".join(run.problems),
        }
        for run in experiment.runs
    ]


def state_counts(states: Iterable[str]) -> dict[str, int]:
    """How many runs are in each state, in STATES order (then others), zero counts left out."""
    counts = Counter(states)
    ordered = {state: counts.pop(state) for state in STATES if state in counts}
    return {**ordered, **counts}


def to_csv(records: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if record.get(k) is None else record[k] for k in columns})
    return buffer.getvalue()


def to_markdown(records: list[dict[str, Any]], columns: list[str]) -> str:
    """A GitHub pipe table of `records`' `columns`."""
    return "\n".join(pipe_table(columns, [[record.get(c) for c in columns] for record in records])) + "\n"


def render_status(records: list[dict[str, Any]], counts: dict[str, int], output_format: str) -> str:
    """`status` as csv, json or markdown."""
    columns = STATUS_COLUMNS + (["job", "job_state"] if any("job_state" in r for r in records) else [])
    columns += ["log"] if any("log" in r for r in records) else []
    if output_format == "json":
        return json.dumps({"runs": records, "counts": counts}, indent=2)
    if output_format == "csv":
        return to_csv(records, columns)
    return to_markdown(records, columns) + "\n" + counts_line(records, counts) + "\n"


def counts_line(records: list[dict[str, Any]], counts: dict[str, int]) -> str:
    """'12 runs: 5 complete, 2 missing'."""
    return f"{len(records)} runs: " + ", ".join(f"{n} {state}" for state, n in counts.items())


def render_results(summaries: list[BenchmarkSummary], output_format: str) -> str:
    """`results` as csv, json or markdown (one table per benchmark, then the rule)."""
    if output_format == "json":
        return results_json(summaries)
    records = results_records(summaries)
    if output_format == "csv":
        return to_csv(records, results_columns(summaries))
    parts = []
    for summary in summaries:
        rows = [r for r in records if r["benchmark"] == summary.benchmark]
        # The hypervolume's definition is stated once above the table, not in every row.
        columns = RESULTS_COLUMNS + (MO_RESULTS_COLUMNS[:2] if summary.multi_objective else [])
        measured = f"Measured: {hypervolume_text(summary)}\n\n" if summary.multi_objective else ""
        parts.append(
            f"### {summary.benchmark}: {summary.metric} ({summary.mode})\n\n{measured}"
            f"Target: {target_text(summary)}\n\n" + to_markdown(rows, columns)
        )
    return "\n".join(parts) + f"\n{results_rule(summaries)}\n"


def target_text(summary: BenchmarkSummary) -> str:
    """'0.97 (RS mean final best); ranks over seeds [0, 1]'."""
    if summary.target is None:
        return f"none ({summary.target_source})"
    ranked = f"; ranks over seeds {summary.rank_seeds}" if summary.rank_seeds else ""
    return f"{summary.target:.4g} ({summary.target_source}){ranked}"
