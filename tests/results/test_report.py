"""`hpobench report`: statistics with a known answer, honest warnings, every output written.

Synthetic studies are written in the exact on-disk format of runs (tests/synthetic_study.py);
one real study runs the embedded benchmarks. Figures are read by their labels, and the
page is opened in headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from synthetic_study import write_level_run, write_study

from hpobench.results import layout
from hpobench.results.statistics import analyse
from hpobench.results.study import load_study

TAGS = {"bench_a": "study-a", "bench_b": "study-b"}


def _args(root: Path, *tags: str) -> list[str]:
    return ["report", *(a for t in tags for a in ("--experiment-tag", t)), "--results-root", str(root)]


def test_a_method_dominating_every_benchmark_ranks_first_and_is_significant(tmp_path):
    write_study(tmp_path, TAGS, {"RS": 0.0, "GOOD": -1.0, "TWIN": 0.0}, seeds=20)
    stats = analyse(load_study(tmp_path, list(TAGS.values())))
    cross = stats.cross
    assert min(cross.final_rank, key=cross.final_rank.get) == "GOOD"
    test = cross.test
    assert test.name == "Friedman test" and test.blocks == 40 and test.significant
    assert test.pairwise_p["GOOD"]["RS"] < 0.05 and test.pairwise_p["GOOD"]["TWIN"] < 0.05
    assert test.pairwise_p["RS"]["TWIN"] > 0.05  # equal in distribution: no difference found
    final_iqm = {m: band.center[-1] for m, band in cross.iqm.items()}
    assert final_iqm["GOOD"] < min(final_iqm["RS"], final_iqm["TWIN"])
    assert cross.iqm["GOOD"].high[-1] < cross.iqm["RS"].low[-1]  # intervals apart
    for result in stats.benchmarks:
        assert result.speedup["RS"] == 1.0 and result.speedup["GOOD"] > 1.0
    assert stats.warnings == []


def test_two_equal_methods_are_not_declared_different(tmp_path):
    write_study(tmp_path, TAGS, {"RS": 0.0, "TWIN": 0.0}, seeds=20, seed=3)
    cross = analyse(load_study(tmp_path, list(TAGS.values()))).cross
    assert cross.test.name == "Wilcoxon signed-rank test" and cross.test.blocks == 40
    assert not cross.test.significant and cross.test.p_value > 0.05


def test_every_output_is_written_and_json_holds_what_the_page_shows(tmp_path, invoke):
    write_study(tmp_path, TAGS, {"RS": 0.0, "GOOD": -1.0, "TWIN": 0.0}, seeds=5, trials=8)
    out = tmp_path / "report"
    result = invoke(*_args(tmp_path, *TAGS.values()), "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    names = {p.name for p in out.iterdir()}
    for figure in ("anytime", "aggregates", "ranks", "critical_difference", "ecdf"):
        assert {f"{figure}.png", f"{figure}.svg", f"{figure}.pdf"} <= names
    assert {"index.html", "tables.md", "tables.tex"} <= names
    page = (out / "index.html").read_text()
    assert "<svg" in page and "<img" not in page and "<script" not in page and "<link" not in page
    assert 'src="http' not in page and 'href="http' not in page  # nothing fetched: opens offline
    markdown = (out / "tables.md").read_text()
    latex = (out / "tables.tex").read_text()
    final = data["cross"]["final"]["GOOD"]
    iqm = f"{final['iqm_regret']:.3g} [{final['iqm_regret_ci'][0]:.3g}, {final['iqm_regret_ci'][1]:.3g}]"
    assert iqm in markdown and iqm in latex and iqm in page
    assert data["cross"]["test"]["name"] in page and "Nemenyi" in markdown
    assert r"\begin{tabular}" in latex and r"\_" not in "".join(data["tags"])
    assert data["benchmarks"][0]["anchor_source"] == "RS's median value at its first result"
    assert len(data["cross"]["blocks"]) == 10


def test_what_it_cannot_conclude_is_stated_and_bad_runs_are_listed_not_used(tmp_path, invoke):
    write_study(tmp_path, {"bench_a": "thin"}, {"RS": 0.0, "GOOD": -1.0}, seeds=3, trials=6)
    write_study(tmp_path, {"bench_b": "other"}, {"RS": 0.0}, seeds=3, trials=6)  # GOOD never ran here
    rng = np.random.default_rng(1)
    write_level_run(tmp_path, "thin", "bench_a", "GOOD", 3, rng.normal(size=6), status=layout.STATUS_FAILED)
    broken = write_level_run(tmp_path, "thin", "bench_a", "RS", 3, rng.normal(size=6))
    (broken / layout.RESULTS_FILE).write_bytes(b"not a zip")
    no_metadata = write_level_run(tmp_path, "thin", "bench_a", "RS", 4, rng.normal(size=6))
    (no_metadata / layout.METADATA_FILE).unlink()
    out = tmp_path / "report"
    result = invoke(*_args(tmp_path, "thin", "other"), "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    warnings = " ".join(data["warnings"])
    assert "Fewer than 5 seeds in 3 cell(s)" in warnings
    assert "GOOD has no run in the statistics on bench_b" in warnings
    left = {(r["method"], r["seed"]): r for r in data["left_out"]}
    assert left[("GOOD", 3)]["state"] == "failed"
    assert any("unreadable" in p for p in left[("RS", 3)]["problems"])
    assert left[("RS", 4)]["state"] == "no metadata"
    assert ("GOOD", 4) in left and left[("GOOD", 4)]["state"] == "missing"
    assert data["cross"] is None  # only RS ran on both benchmarks: nothing to compare across
    bench_a = next(b for b in data["benchmarks"] if b["benchmark"] == "bench_a")
    assert {m["method"]: len(m["seeds"]) for m in bench_a["methods"]} == {"RS": 3, "GOOD": 3}
    page = (out / "index.html").read_text()
    assert 'class="warnings"' in page and "GOOD has no run in the statistics on bench_b" in page

    included = invoke(*_args(tmp_path, "thin", "other"), "--format", "json", "--include-incomplete")
    assert included.exit_code == 0, included.output
    assert (
        "--include-incomplete: 1 run(s) that did not complete are in the statistics with the results they "
        "reached: GOOD-3 on bench_a (failed)." in json.loads(included.output)["warnings"]
    )

    one = invoke(*_args(tmp_path, "thin"), "-o", str(tmp_path / "one"))
    assert one.exit_code == 0, one.output
    assert "Only 1 benchmark" in one.output and "Warning: " in one.output


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, invoke):
    write_study(tmp_path, TAGS, {"RS": 0.0, "GOOD": -1.0}, seeds=2, trials=4)
    write_study(tmp_path, {"bench_a": "again"}, {"RS": 0.0}, seeds=1, trials=4)
    out = tmp_path / "report"
    cases = {
        ("--reference", "bench_a"): "--reference 'bench_a' is not BENCHMARK=VALUE",
        ("--reference", "nope=1"): "--reference names benchmark 'nope', which is not in the study",
        ("--format", "pdf"): "Invalid --format 'pdf': choose one of html, json",
    }
    for extra, message in cases.items():
        result = invoke(*_args(tmp_path, *TAGS.values()), "-o", str(out), *extra)
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    twice = invoke(*_args(tmp_path, "study-a", "again"), "-o", str(out))
    assert twice.exit_code == 2 and "RS-0 on bench_a is in experiment tags 'study-a' and 'again'" in twice.output
    missing = invoke(*_args(tmp_path, "study-a", "nope"), "-o", str(out))
    assert missing.exit_code == 2 and "No results for experiment tag 'nope'" in missing.output
    no_output = invoke(*_args(tmp_path, "study-a"))
    assert no_output.exit_code == 2 and "--output/-o" in no_output.output
    assert not out.exists()


def test_figures_say_what_they_show(tmp_path):
    from hpobench.results import report_figures

    write_study(tmp_path, TAGS, {"RS": 0.0, "GOOD": -1.0, "TWIN": 0.0}, seeds=5, trials=8)
    study = load_study(tmp_path, list(TAGS.values()))
    stats = analyse(study, {"bench_a": -5.0})
    assert stats.benchmarks[0].best == -5.0 and stats.benchmarks[0].best_source == "--reference"
    anytime = report_figures.anytime_figure(stats, study.methods)
    titles = [ax.get_title() for ax in anytime.axes if ax.get_visible()]
    assert titles == ["bench_a: mean, 95% bootstrap CI", "bench_b: mean, 95% bootstrap CI"]
    assert anytime.axes[0].get_ylabel() == "best loss so far (lower is better)"
    assert {line.get_gid() for line in anytime.axes[0].get_lines()} == {"RS", "GOOD", "TWIN"}
    aggregates = report_figures.aggregates_figure(stats.cross, 2)
    assert [ax.get_ylabel() for ax in aggregates.axes] == ["mean normalized regret", "IQM normalized regret"]
    assert "stratified bootstrap CI" in aggregates.axes[1].get_title()
    cd = report_figures.critical_difference_figure(stats.cross)
    assert "Friedman test p = " in cd.axes[0].get_title() and "Nemenyi" in cd.axes[0].get_title()
    ecdf = report_figures.ecdf_figure(stats.cross)
    assert ecdf.axes[0].get_xlabel().startswith("final normalized regret")


def test_the_page_renders_in_a_headless_browser(tmp_path, invoke):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("needs chromium (apt-get install chromium)")
    write_study(tmp_path, TAGS, {"RS": 0.0, "GOOD": -1.0}, seeds=5, trials=6)
    out = tmp_path / "report"
    assert invoke(*_args(tmp_path, *TAGS.values()), "-o", str(out)).exit_code == 0
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            browser,
            *"--headless --no-sandbox --disable-gpu".split(),
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            (out / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels[..., :3].std() > 0.05  # not a blank page: figures and tables drawn


def test_a_real_study_on_the_embedded_benchmarks(invoke, results_root):
    # Budgets in evaluations, not seconds: every run has results however loaded the machine
    # (a 4 s budget once ended a gbt run before its first result); the time is only a cap.
    for benchmark, tag, size in (
        ("gbt_breast_cancer", "real-gbt", "boosting_rounds=9"),
        ("mlp_digits", "real-digits", "epochs=3"),
    ):
        ran = invoke(
            "run-local",
            "--benchmark",
            benchmark,
            *"--method RS --method ASHA --num-seeds 3 --n-workers 1 --max-num-evaluations 6".split(),
            *"--max-wallclock-time 120".split(),
            "--set",
            size,
            "--experiment-tag",
            tag,
        )
        assert ran.exit_code == 0, ran.output
    out = results_root / "report"
    result = invoke(
        "report", "--experiment-tag", "real-gbt", "--experiment-tag", "real-digits", "-o", str(out), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    modes = {b["benchmark"]: b["mode"] for b in data["benchmarks"]}
    assert modes == {"gbt_breast_cancer": "min", "mlp_digits": "max"}
    assert data["left_out"] == []  # every run complete, with results
    cross = data["cross"]
    assert cross["methods"] == ["RS", "ASHA"] and len(cross["blocks"]) == 6
    assert cross["test"]["name"] == "Wilcoxon signed-rank test"
    for method in ("RS", "ASHA"):
        regret = cross["final"][method]["mean_regret"]
        assert regret is not None and regret >= 0  # 0 is the best seen, in either mode
    assert any("Fewer than 5 seeds" in w for w in data["warnings"])
    assert (out / "index.html").exists()


def test_the_interquartile_mean_is_scipys_trim_mean():
    from scipy.stats import trim_mean

    from hpobench.results.statistics import interquartile_mean

    rng = np.random.default_rng(5)
    for runs in (2, 5, 7, 20, 101):
        a, b = rng.normal(size=(3, runs)), rng.exponential(size=(3, runs + 3))
        expected = trim_mean(np.concatenate([a, b], axis=-1), 0.25, axis=-1)
        np.testing.assert_allclose(interquartile_mean(a, b, axis=-1), expected)


def test_methods_that_share_no_seed_are_not_ranked(tmp_path, invoke):
    rng = np.random.default_rng(2)
    for benchmark, tag in TAGS.items():
        for method, seeds in (("RS", (0, 1)), ("GOOD", (2, 3))):
            for seed in seeds:
                write_level_run(tmp_path, tag, benchmark, method, seed, rng.normal(size=5), rng=rng)
    out = tmp_path / "report"
    result = invoke(*_args(tmp_path, *TAGS.values()), "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["cross"]["blocks"] == [] and data["cross"]["test"] is None
    assert any("Only 0 (benchmark, seed) block(s)" in w for w in data["warnings"])
    assert not (out / "critical_difference.png").exists() and (out / "aggregates.png").exists()
