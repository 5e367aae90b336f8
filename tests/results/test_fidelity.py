"""`hpobench fidelity`: real against simulated runs, on studies whose answer is known.

Real and simulated runs are written in the exact on-disk format of runs
(tests/synthetic_study.py), simulated ones with the table record a simulated run writes under
`layout.SIMULATED_KEY`; the statistics need no real trials. A simulation equal to the real runs
(each simulated seed replays a real seed's curve) must agree; one whose methods' curves are
swapped must not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
from synthetic_study import write_level_run

from hpobench.benchmarks import get_benchmark
from hpobench.local.gpu_packing import PRECISION_RULE
from hpobench.results import layout
from hpobench.results.fidelity import band_check, compare, load_sides, tau_values
from hpobench.results.statistics import Band
from hpobench.tables.format import TableManifest, definition_hash

REAL, SIMULATED = "digits-real", "digits-sim"
BENCHMARK = "mlp_digits"  # registered: the real runs' definition hash can be computed
# Well apart against the spread: every bootstrap resample ranks them alike.
SHIFTS = {"RS": 0.0, "BO": -1.0, "ASHA": -2.0}
VERSIONS = {"hpobench": "0.1.0", "syne_tune": "0.16.0", "torch": "2.5.1", "python": "3.12.3"}
CPU_GPUS = {"count": 0, "cuda_visible_devices": [], "devices": [], "precision_rule": PRECISION_RULE}


def _manifest(**changes: Any) -> dict[str, Any]:
    values = {
        "benchmark": BENCHMARK,
        "definition_hash": definition_hash(get_benchmark(BENCHMARK)),
        "metric": "loss",
        "mode": "min",
        "resource_attr": "epoch",
        "max_resource_attr": "epochs",
        "design": "sobol",
        "design_seed": 0,
        "configs": 200,
        "seeds": 3,
        "fidelities": [1, 2, 3],
        "versions": dict(VERSIONS),
        "hardware": {"cpu_model": "Some CPU", "cpu_count": 2, "gpu_names": []},
        "precision": None,
    }
    values.update(changes)
    return TableManifest.from_json(values).to_json()


def _record(manifest: Optional[dict[str, Any]], source: str = "hpobench", surrogate: Optional[str] = None) -> Any:
    sha = None if manifest is None else TableManifest.from_json(manifest).sha256()
    return {"table": "/tables/mlp_digits", "manifest_sha256": sha, "manifest": manifest, "surrogate": surrogate}


def write_pair(
    root: Path,
    real_seeds: int = 5,
    simulated_seeds: int = 20,
    curves_of: Optional[dict[str, str]] = None,
    shifts: Optional[dict[str, float]] = None,
    real_metadata: Optional[dict[str, Any]] = None,
    simulated_record: Any = "default",
) -> None:
    """Real runs of every method, and simulated runs whose seed s replays real seed s mod
    `real_seeds` of method `curves_of[method]` (the same method by default)."""
    shifts = shifts or SHIFTS
    curves_of = curves_of or {}
    rng = np.random.default_rng(0)
    levels = {(m, s): shift + 0.3 * rng.standard_normal(12) for m, shift in shifts.items() for s in range(real_seeds)}
    metadata = {
        "versions": VERSIONS,
        "gpus": CPU_GPUS,
        "benchmark_definition": get_benchmark(BENCHMARK).model_dump(mode="json"),
        "n_workers": 4,
    }
    metadata.update(real_metadata or {})
    for (method, seed), values in levels.items():
        layout.update_metadata(write_level_run(root, REAL, BENCHMARK, method, seed, values), **metadata)
    record = _record(_manifest()) if simulated_record == "default" else simulated_record
    for method in shifts:
        for seed in range(simulated_seeds):
            values = levels[(curves_of.get(method, method), seed % real_seeds)]
            tuner_dir = write_level_run(root, SIMULATED, BENCHMARK, method, seed, values)
            extra = {"n_workers": 4} if record is None else {"n_workers": 4, layout.SIMULATED_KEY: record}
            layout.update_metadata(tuner_dir, **extra)


def _compare(root: Path, seed: int = 0) -> Any:
    return compare(*load_sides(root, REAL, SIMULATED), seed=seed)


def test_a_simulation_equal_to_the_real_runs_agrees(tmp_path):
    write_pair(tmp_path)
    result = _compare(tmp_path)
    assert result.method_names == ["RS", "BO", "ASHA"]
    assert result.tau == 1.0
    assert result.tau_interval == (1.0, 1.0)
    for item in result.methods:
        assert len(item.real_seeds) == 5 and len(item.simulated_seeds) == 20
        assert item.band.inside is True and item.band.share_inside == 1.0 and item.band.first_exit is None
        assert item.real_final == pytest.approx(item.simulated_final)
    assert result.flags == []
    outcomes = {c.item: c.outcome for c in result.checks}
    assert outcomes.pop("CPU") == "not checked"  # real runs do not record their CPU: never a match
    assert set(outcomes.values()) == {"match"}, result.checks
    assert {"definition hash", "torch version", "GPUs", "precision"} <= set(outcomes)
    assert result.verdict.startswith("The simulation agrees with the real runs on these numbers")
    assert "1.00" in result.verdict and "3 of 3 simulated mean curves stay inside" in result.verdict
    assert "tau can only be -1, -1/3, 1/3, 1" in result.verdict  # 3 methods: say how few values
    assert "faithful" not in result.verdict


def test_a_simulation_with_the_best_and_worst_methods_swapped_does_not(tmp_path):
    write_pair(tmp_path, curves_of={"RS": "ASHA", "ASHA": "RS"})
    result = _compare(tmp_path)
    assert result.tau == -1.0
    assert result.tau_interval is not None and result.tau_interval[1] < 0
    inside = {m.method: m.band.inside for m in result.methods}
    assert inside == {"RS": False, "BO": True, "ASHA": False}
    rs = next(m for m in result.methods if m.method == "RS")
    assert rs.band.share_inside < 0.5 and rs.band.first_exit == pytest.approx(result.grid[np.isfinite(rs.real.low)][0])
    assert result.verdict.startswith("The simulation does not agree with the real runs")
    assert "reverses the ranks" in result.verdict and "1 of 3 simulated mean curves" in result.verdict


def test_a_tau_interval_that_contains_zero_is_never_called_agreement(tmp_path):
    # Methods equal in distribution: the copy ranks them as the real runs happen to, but
    # resampled seeds reorder them; the curves are equal, so they stay inside the bands.
    write_pair(tmp_path, shifts={"RS": 0.0, "BO": 0.0, "ASHA": 0.0, "MOBSTER": 0.0})
    result = _compare(tmp_path)
    low, high = result.tau_interval
    assert low <= 0 < high
    assert all(m.band.inside for m in result.methods)
    assert result.verdict.startswith("These numbers do not show that the simulation agrees")
    assert "contains 0" in result.verdict and "agrees with the real runs on" not in result.verdict


def test_a_table_made_elsewhere_is_flagged_item_by_item(tmp_path):
    other = _manifest(
        definition_hash="0" * 64,
        versions={**VERSIONS, "torch": "2.0.0"},
        hardware={"cpu_model": "Other CPU", "cpu_count": 64, "gpu_names": ["NVIDIA H100 80GB HBM3"]},
        precision=PRECISION_RULE,
    )
    write_pair(tmp_path, simulated_record=_record(other, surrogate="knn"))
    result = _compare(tmp_path)
    outcomes = {c.item: c.outcome for c in result.checks}
    assert outcomes["definition hash"] == outcomes["torch version"] == outcomes["GPUs"] == "differs"
    assert outcomes["precision"] == "differs" and outcomes["hpobench version"] == "match"
    table = [f.message for f in result.flags if f.kind == "table"]
    assert len(table) == 1 and "does not match the real runs' setup" in table[0]
    assert "torch version (table 2.0.0, real 2.5.1)" in table[0] and "NVIDIA H100" in table[0]
    assert any(f.kind == "surrogate" and "knn" in f.message for f in result.flags)
    # The curves are the real ones: the numbers agree, the setups do not, and the verdict says both.
    assert result.verdict.startswith("The simulation's numbers agree with the real runs', but the flags above")


def test_what_the_real_runs_do_not_record_is_not_checked_not_matched(tmp_path):
    write_pair(tmp_path, real_metadata={"versions": {}, "gpus": None, "benchmark_definition": None})
    result = _compare(tmp_path)
    outcomes = {c.item: c.outcome for c in result.checks}
    assert set(outcomes.values()) == {"match", "not checked"}
    for item in ("definition hash", "torch version", "GPUs", "precision", "CPU"):
        assert outcomes[item] == "not checked", item
    assert outcomes["benchmark"] == "match"


def test_a_table_without_manifest_and_runs_of_the_wrong_kind_are_flagged(tmp_path):
    write_pair(tmp_path, simulated_record=_record(None, source="syne-tune"))
    real_copy = write_level_run(tmp_path, REAL, BENCHMARK, "RS", 5, np.zeros(12))
    layout.update_metadata(real_copy, **{layout.SIMULATED_KEY: _record(_manifest())})
    not_simulated = write_level_run(tmp_path, SIMULATED, BENCHMARK, "RS", 20, np.zeros(12))
    only_real = write_level_run(tmp_path, REAL, BENCHMARK, "DEHB", 0, np.zeros(12))
    assert not_simulated.exists() and only_real.exists()
    kinds = {f.kind: f.message for f in _compare(tmp_path).flags}
    assert "has no hpobench manifest" in kinds["table"] and "cannot be checked" in kinds["table"]
    assert "RS-5" in kinds["real-simulated"] and "RS-20" in kinds["simulated-real"]
    assert "DEHB only in --real digits-real" in kinds["methods"]
    assert "Fewer than 20 simulated seeds for DEHB" not in kinds.get("seeds", "")  # one side only: not compared


def test_other_benchmarks_and_metrics_between_the_tags_are_flagged(tmp_path):
    rng = np.random.default_rng(0)
    for method in ("RS", "BO"):
        for seed in range(2):
            write_level_run(tmp_path, REAL, BENCHMARK, method, seed, rng.normal(size=6))
            sim = write_level_run(tmp_path, SIMULATED, "gbt_breast_cancer", method, seed, rng.normal(size=6))
            layout.update_metadata(sim, mode="max", **{layout.SIMULATED_KEY: _record(_manifest())})
    kinds = {f.kind: f.message for f in _compare(tmp_path).flags}
    assert "ran gbt_breast_cancer" in kinds["benchmark"]
    assert "loss (min)" in kinds["metric"] and "loss (max)" in kinds["metric"]


def test_too_few_seeds_are_said(tmp_path):
    write_pair(tmp_path, real_seeds=3, simulated_seeds=4)
    result = _compare(tmp_path)
    seeds = [f.message for f in result.flags if f.kind == "seeds"]
    assert len(seeds) == 2
    assert seeds[0].startswith("Fewer than 5 real seeds for RS (3), BO (3), ASHA (3)")
    assert seeds[1].startswith("Fewer than 20 simulated seeds for RS (4)")
    assert "with 3 real seed(s) for some method (fewer than 5) the bands are wide" in result.verdict


def test_band_check_and_tau_values_have_known_answers():
    grid = np.arange(6.0)
    real = Band(np.zeros(6), np.array([np.nan, -1, -1, -1, -1, -1]), np.array([np.nan, 1, 1, 1, 1, 1]))
    check = band_check(grid, real, np.array([5.0, 0.0, 0.5, 2.0, 0.0, np.nan]))
    assert (check.inside, check.judged, check.share_inside, check.first_exit) == (False, 4, 0.75, 3.0)
    assert check.coverage == 0.8
    assert band_check(grid, real, np.array([9.0, 1.0, -1.0, 0, 0, 0])).inside is True  # edges and t=0 not judged
    late = band_check(grid, real, np.array([np.nan, np.nan, 0.0, 0, 0, 0]))  # judged at 4 of 5 times only
    assert (late.inside, late.coverage, late.share_inside) == (None, 0.8, 1.0) and "80%" in late.why_not_judged
    assert band_check(grid, real, np.array([np.nan, np.nan, np.nan, np.nan, np.nan, 0])).inside is None
    assert band_check(grid, Band(*(np.full(6, np.nan) for _ in range(3))), np.zeros(6)).inside is None
    assert tau_values(3) == pytest.approx([-1, -1 / 3, 1 / 3, 1])
    assert len(tau_values(6)) == 16 and tau_values(1) == []


# ----------------------------------------------------------------------------- the command


def _args(root: Path, *extra: str) -> list[str]:
    return ["fidelity", "--real", REAL, "--simulated", SIMULATED, "--results-root", str(root), *extra]


def test_the_command_writes_the_page_and_prints_the_numbers(tmp_path, invoke):
    write_pair(tmp_path, curves_of={"RS": "ASHA", "ASHA": "RS"})
    out = tmp_path / "page"
    result = invoke(*_args(tmp_path), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"verdict", "tau", "tau_interval", "methods", "flags", "checks", "curves"} <= set(data)
    assert data["tau"] == -1.0 and data["tau_interval"][1] < 0
    assert {m["method"]: m["inside_band"] for m in data["methods"]} == {"RS": False, "BO": True, "ASHA": False}
    ranks = {m["method"]: (m["real_rank"], m["simulated_rank"]) for m in data["methods"]}
    assert ranks == {"RS": (3.0, 1.0), "BO": (2.0, 2.0), "ASHA": (1.0, 3.0)}
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "tables.md", "tables.tex", "fidelity.json", "fidelity.svg", "fidelity.png"} <= names
    page = (out / "index.html").read_text()
    assert data["verdict"].split(":")[0] in page and "<script" not in page and 'src="http' not in page
    svg = (out / "fidelity.svg").read_text()
    for gid in ("RS real", "RS simulated", "ASHA simulated", "RS first exit"):
        assert f'id="{gid}"' in svg, gid
    assert "BO first exit" not in svg  # inside its band: no exit line
    assert json.loads((out / "fidelity.json").read_text())["verdict"] == data["verdict"]
    assert "Each table's manifest against the real runs" in (out / "tables.md").read_text()

    plain = invoke(*_args(tmp_path), "-o", str(tmp_path / "again"))
    assert plain.exit_code == 0, plain.output
    assert plain.output.startswith("The simulation does not agree") and "Wrote" in plain.output


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown tag", "--simulated 'nope': no experiment folder"),
        ("no runs", "--simulated 'digits-sim' has no complete run with results"),
        ("no method in common", "have no method in common"),
        ("bad tag", "Invalid --real"),
        ("no output", "Name the folder to write the page into with --output/-o"),
        ("benchmark", "has no complete run of benchmark 'other'"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(tmp_path, invoke, case, expected):
    rng = np.random.default_rng(0)
    write_level_run(tmp_path, REAL, BENCHMARK, "RS", 0, rng.normal(size=4))
    if case == "no runs":
        write_level_run(tmp_path, SIMULATED, BENCHMARK, "RS", 0, rng.normal(size=4), status=layout.STATUS_FAILED)
    elif case != "unknown tag":
        write_level_run(tmp_path, SIMULATED, BENCHMARK, "BO" if case == "no method in common" else "RS", 0, np.ones(4))
    args = {
        "unknown tag": ["fidelity", "--real", REAL, "--simulated", "nope", "--results-root", str(tmp_path), "--json"],
        "bad tag": ["fidelity", "--real", "Bad_Tag", "--simulated", SIMULATED, "--json"],
        "no output": _args(tmp_path),
        "benchmark": [*_args(tmp_path), "--benchmark", "other", "--json"],
    }.get(case, [*_args(tmp_path), "--json"])
    out = tmp_path / "page"
    result = invoke(*args, "-o", str(out)) if case == "no runs" else invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.output
    assert "Traceback" not in result.output and not out.exists()


def test_its_help_imports_no_heavy_library():
    code = (
        "import sys; from typer.testing import CliRunner; from hpobench.cli import app; "
        "shown = CliRunner().invoke(app, ['fidelity', '--help']); "
        "assert shown.exit_code == 0 and '--simulated' in shown.output, shown.output; "
        "print([m for m in ('torch', 'syne_tune', 'matplotlib', 'pandas', 'scipy') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_a_tag_with_several_benchmarks_needs_benchmark(tmp_path, invoke):
    write_pair(tmp_path, real_seeds=2, simulated_seeds=2)
    write_level_run(tmp_path, REAL, "gbt_breast_cancer", "RS", 7, np.zeros(6))
    several = invoke(*_args(tmp_path), "--json")
    assert several.exit_code == 2, several.output
    assert "holds benchmarks gbt_breast_cancer, mlp_digits; name one with --benchmark" in several.output
    chosen = invoke(*_args(tmp_path), "--json", "--benchmark", BENCHMARK)
    assert chosen.exit_code == 0, chosen.output
    data = json.loads(chosen.output)
    assert data["real"]["benchmark"] == data["simulated"]["benchmark"] == BENCHMARK
    assert [m["method"] for m in data["methods"]] == ["RS", "BO", "ASHA"]
