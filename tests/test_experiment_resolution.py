"""One resolution of an experiment for every engine (issue 31, point 1): the options plus what
the tag holds (`tag_records`) give the plan, its master seed, the same-setup check and the
runs to start."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hpobench.errors import UsageError
from hpobench.experiment_setup import comparable_from_job_values
from hpobench.plan import experiment_tag, plan_experiment, select_runs
from hpobench.settings import LocalSettings
from hpobench.tag_records import ACTIVE, COMPLETE, RecordedSetup


class Records:
    """TagRecords held in memory."""

    def __init__(self, recorded: list[RecordedSetup], states: dict[tuple[str, int], str]):
        self._recorded, self._states = recorded, states

    def recorded(self) -> list[RecordedSetup]:
        return self._recorded

    def states(self, cells: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
        return {cell: self._states.get(cell, "") for cell in cells}


def settings(**options) -> LocalSettings:
    return LocalSettings(benchmark="gbt_breast_cancer", methods=("RS", "ASHA"), num_seeds=2, **options)


def test_the_tag_is_named_without_planning():
    assert experiment_tag(settings()) == "gbt-breast-cancer"
    assert experiment_tag(settings(experiment_tag="mine")) == "mine"


def test_the_master_seed_is_the_tags_and_another_random_seed_is_refused():
    recorded = Records([RecordedSetup("Slurm job 7", {"random_seed_master": 11}, binding=False)], {})
    assert plan_experiment(settings(), recorded).master_random_seed == 11
    assert plan_experiment(settings(random_seed=11), recorded).master_random_seed == 11
    with pytest.raises(UsageError, match="already uses master random seed 11, not 12"):
        plan_experiment(settings(random_seed=12), recorded)


def test_a_tag_is_one_setup_whatever_the_method_that_recorded_it():
    plan = plan_experiment(settings(random_seed=3))
    other = {**plan.setup.comparable(), "max_wallclock_time": 1.0}
    records = Records([RecordedSetup("BO-4 (complete)", other)], {})
    with pytest.raises(UsageError, match=r"already has BO-4 \(complete\) with max_wallclock_time=1.0, not"):
        select_runs(plan, records)
    assert len(select_runs(plan, records, force=True).todo) == 4
    unbinding = Records([RecordedSetup("BO-4 (failed)", other, binding=False)], {})
    assert len(select_runs(plan, unbinding).todo) == 4


def test_complete_runs_are_skipped_unless_forced_and_active_ones_never_start_twice():
    plan = plan_experiment(settings(random_seed=3))
    records = Records(
        [RecordedSetup("RS-0 (complete)", plan.setup.comparable())], {("RS", 0): COMPLETE, ("RS", 1): ACTIVE}
    )
    assert [run.name for run in select_runs(plan, records).todo] == ["ASHA-0", "ASHA-1"]
    assert [run.name for run in select_runs(plan, records, force=True).todo] == ["RS-0", "ASHA-0", "ASHA-1"]


def test_force_with_a_new_setup_is_refused_while_runs_of_the_old_one_still_run():
    plan = plan_experiment(settings(random_seed=3))
    old = {**plan.setup.comparable(), "n_workers": 9}
    records = Records([RecordedSetup("Slurm job 7", old)], {("RS", 1): ACTIVE})
    with pytest.raises(UsageError, match=r"^RS-1 of the earlier setup of experiment 'gbt-breast-cancer' still run"):
        select_runs(plan, records, force=True)


def test_a_jobs_arguments_compare_as_the_setup_they_were_made_from():
    setup = plan_experiment(settings(random_seed=3, overrides={"boosting_rounds": "20"}, trials_per_gpu=2)).setup
    recorded = comparable_from_job_values(setup.job_values("RS", 0))
    assert setup.conflict(recorded) is None
    assert recorded["random_seed_master"] == 3 and recorded["overrides"] == {"boosting_rounds": "20"}
    assert setup.conflict({**recorded, "trials_per_gpu": 1}) == ("trials_per_gpu", 1, 2)
