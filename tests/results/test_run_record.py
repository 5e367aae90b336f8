"""metadata.json read into one typed record: the three seeds named apart, wrong types noted."""

from __future__ import annotations

from hpobench.results.record import RunRecord


def test_the_three_seeds_are_named_apart():
    record = RunRecord.from_metadata(
        {
            "benchmark": "gbt_breast_cancer",
            "method": "ASHA",
            "seed": 2,
            "random_seed": 918273,
            "random_seed_master": 7,
            "metric": "val_loss",
            "mode": "min",
            "max_wallclock_time": 30,
            "hpobench_status": "complete",
            "hpobench_best": 0.11,
            "versions": {"hpobench": "0.1.0"},
        }
    )
    assert (record.seed_index, record.effective_seed, record.master_seed) == (2, 918273, 7)
    assert (record.benchmark, record.method, record.metric, record.mode) == (
        "gbt_breast_cancer",
        "ASHA",
        "val_loss",
        "min",
    )
    assert (record.budget, record.best, record.status) == (30.0, 0.11, "complete")
    assert record.problems == []


def test_wrong_types_are_problems_not_exceptions():
    record = RunRecord.from_metadata(
        {"seed": "two", "random_seed": True, "metric": 7, "mode": "up", "max_wallclock_time": "long", "versions": []}
    )
    assert record.seed_index is None and record.effective_seed is None and record.budget is None
    assert record.versions == {}
    assert record.problems == [
        "metadata.json: seed 'two' is not an integer",
        "metadata.json: random_seed True is not an integer",
        "metadata.json: metric 7 is not a column name",
        "metadata.json: mode 'up' is neither 'min' nor 'max'",
        "metadata.json names no metric",
    ]


def test_syne_tune_keys_stand_in_for_missing_ones():
    record = RunRecord.from_metadata({"metric_names": ["accuracy"], "metric_mode": ["max"]})
    assert (record.metric, record.mode) == ("accuracy", "max")
