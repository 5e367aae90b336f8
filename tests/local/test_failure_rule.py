"""The failure rule (`hpobench.local.failures`): unit cases, and its error over many
simulated asynchronous ASHA runs (`tests/failure_runs.py`)."""

from __future__ import annotations

import math

import pytest
from failure_runs import simulate_run, stops

from hpobench.local.failures import EVIDENT_FAILURES, FailureRule, FailureThresholds, log_mixture_ratio

RUNS = 10_000  # simulated runs of 300 trials each (fewer where every run is long)


@pytest.mark.parametrize("crash", [0.35, 0.6])
def test_no_false_stop_at_the_default_in_10000_simulated_asha_runs(crash):
    """Issue 30: crash-prone spaces are studies. Configurations crash at an epoch drawn over
    their training; ASHA pauses most healthy trials, so the first trials to end are crashed
    ones, which stopped 3 of 3 real runs under the old rule."""
    assert not any(stops(None, crash, RUNS))


def test_a_script_that_always_fails_stops_within_3_trials():
    one_worker = stops(None, 1.0, 1000, crash_at="start", workers=1)
    assert {(s.started, s.failed) for s in one_worker if s} == {(3, 3)}
    assert all(one_worker)
    four_workers = stops(None, 1.0, RUNS, crash_at="start")
    assert all(s is not None and s.trial < EVIDENT_FAILURES for s in four_workers)  # at the third of the first 3


@pytest.mark.parametrize("crash", [0.35, 0.6])
def test_configurations_that_crash_before_reporting_stop_at_most_crash_cubed_of_runs(crash):
    """The default's known limit (docs/running-locally.md): when crashing configurations fail
    before their first report (out of memory at the first step), the first 3 trials all fail
    first with probability crash**3, and a run cannot tell that from a script that cannot run."""
    stopped = sum(s is not None for s in stops(None, crash, RUNS, crash_at="start"))
    bound = crash**3
    assert 0 < stopped / RUNS <= bound + 3 * math.sqrt(bound * (1 - bound) / RUNS)


@pytest.mark.parametrize("share", [0.3, 0.5])
def test_a_limit_at_the_true_failure_share_stops_at_most_5_percent_of_runs_over_300_trials(share):
    """Looking after every event does not inflate the limit's error: with failures exactly at
    the limit's share (the hardest case), its own stops stay within alpha = 5%."""
    runs = 1000
    by_limit = sum(s is not None and s.cause == "limit" for s in stops(share, share, runs, crash_at="start"))
    assert by_limit / runs <= 0.05


def test_a_limit_stops_a_run_whose_trials_mostly_fail_within_its_first_40_trials():
    found = stops(0.5, 0.9, 1000, crash_at="start")
    assert all(s is not None and s.started <= 40 for s in found)


def test_a_run_ended_when_its_rule_settled_has_the_verdict_of_the_whole_run():
    for crash, at in ((0.6, "anywhere"), (0.6, "start"), (1.0, "anywhere")):
        for seed in range(150):
            quick = simulate_run(FailureRule(), crash, seed, crash_at=at)
            whole = simulate_run(FailureRule(), crash, seed, crash_at=at, until_settled=False)
            assert quick == whole, (crash, at, seed)


def test_paused_trials_count_as_healthy_and_trials_are_judged_in_the_order_they_started():
    rule = FailureRule(0.5)
    for trial in range(1, 16):  # crashes that ended before trial 0 reported anything
        rule.observe(trial, failed=True)
    assert not rule.should_stop()  # trial 0 is still running: nothing is judged yet
    rule.observe(0, reported=True)  # then it pauses at its first rung
    assert rule.should_stop() and rule.cause == "limit"
    assert rule.stopped is not None and rule.stopped.startswith("15 of the first 16 trials failed")


def test_a_trial_that_fails_after_reporting_counts_as_failed():
    rule = FailureRule(0.5)
    for trial in range(7):
        rule.observe(trial, reported=True)
    rule.observe(7, failed=True)
    assert not rule.should_stop()
    for trial in range(7):  # each diverged after its first rung
        rule.observe(trial, failed=True)
    assert rule.should_stop()


def test_the_default_stops_only_a_script_whose_first_trials_fail_before_any_report():
    rule = FailureRule()
    rule.observe(0, failed=True)
    rule.observe(1, failed=True)
    rule.observe(3, reported=True)
    rule.observe(2, failed=True)
    assert not rule.should_stop() and rule.settled and rule.final() is None
    rule = FailureRule()
    for trial in range(3):
        rule.observe(trial, failed=True)
    assert rule.should_stop() and rule.cause == "evident"
    assert rule.final() is not None and "--max-failed-fraction 1" in rule.final()


def test_at_its_end_a_run_with_failures_and_no_result_failed_unless_the_limit_is_1():
    rule = FailureRule()
    rule.observe(0, failed=True)
    assert not rule.should_stop()
    assert rule.final() is not None and rule.final().startswith("all 1 failed trials ended before any")
    never = FailureRule(1.0)
    for trial in range(20):
        never.observe(trial, failed=True)
    assert not never.should_stop() and never.final() is None and never.settled


def test_thresholds_are_the_fewest_failures_whose_mixture_ratio_reaches_20():
    thresholds = FailureThresholds(0.5)
    for judged in (1, 3, 7, 10, 50, 300):
        fewest = thresholds.fewest(judged)
        if fewest <= judged:
            assert log_mixture_ratio(fewest, judged, 0.5) >= math.log(20)
        assert log_mixture_ratio(fewest - 1, judged, 0.5) < math.log(20)
    assert [thresholds.fewest(n) for n in (3, 7, 10, 20)] == [4, 7, 10, 16]  # 4 > 3: never within 3


def test_the_mixture_ratio_is_the_integral_it_stands_for():
    from scipy.integrate import quad

    for failed, judged, share in ((3, 5, 0.5), (10, 40, 0.2), (0, 4, 0.7)):
        healthy = judged - failed

        def ratio(p: float, f: int = failed, h: int = healthy, s: float = share) -> float:
            return (p / s) ** f * ((1 - p) / (1 - s)) ** h / (1 - s)

        integral, _ = quad(ratio, share, 1)
        assert math.isclose(math.exp(log_mixture_ratio(failed, judged, share)), integral, rel_tol=1e-7)
