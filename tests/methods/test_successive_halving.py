"""hpobench's ASHA scheduler, driven through Syne Tune's scheduler interface as the tuner does."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from hpobench.benchmarks import get_benchmark
from hpobench.methods import MethodArguments, get_method
from hpobench.methods.successive_halving import SuccessiveHalving, rung_levels
from hpobench.methods.suggesters import RandomSuggester


class RecordingSuggester(RandomSuggester):
    """Random configurations; remembers what it was told and the pending lists it saw."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.observed: list[tuple[int, dict, float, int]] = []
        self.pending_seen: list[list] = []

    def observe(self, trial_id, config, value, resource=None) -> None:
        super().observe(trial_id, config, value, resource)
        self.observed.append((trial_id, dict(config), value, resource))

    def suggest(self, pending):
        self.pending_seen.append(list(pending))
        return super().suggest(pending)


def _arguments(mode: str = "min") -> MethodArguments:
    args = MethodArguments.for_benchmark(get_benchmark("gbt_breast_cancer"), random_seed=5)
    return MethodArguments(**{**args.__dict__, "mode": mode, "objectives": ((args.metric, mode),)})


def _scheduler(kind: str = "promotion", mode: str = "min", seed: int = 5) -> SuccessiveHalving:
    args = _arguments(mode)
    return SuccessiveHalving(
        args.config_space,
        args.metric,
        args.mode,
        args.resource_attr,
        args.max_resource,
        RecordingSuggester(args.config_space, mode, random_seed=seed),
        kind=kind,
        max_resource_attr=args.max_resource_attr,
        random_seed=seed,
    )


class Driver:
    """Plays the tuner: starts trials from suggestions and reports results for them."""

    def __init__(self, scheduler: SuccessiveHalving) -> None:
        self.scheduler = scheduler
        self.trials: dict = {}

    def next(self):
        """The scheduler's suggestion applied: (trial, started_new)."""
        from syne_tune.backend.trial_status import Trial

        suggestion = self.scheduler.suggest()
        if suggestion.spawn_new_trial_id:
            trial = Trial(len(self.trials), suggestion.config, datetime.now())
            self.trials[trial.trial_id] = trial
            self.scheduler.on_trial_add(trial)
            return trial, True
        trial = self.trials[suggestion.checkpoint_trial_id]
        trial.config = suggestion.config  # as the back-end does on resume
        return trial, False

    def report(self, trial, resource: int, value) -> str:
        result = {"round": resource, "val_log_loss": value}
        decision = self.scheduler.on_trial_result(trial, result)
        if decision in ("PAUSE", "STOP"):
            self.scheduler.on_trial_remove(trial)  # the tuner does this after both
        return decision


def test_rung_levels_grow_by_the_reduction_factor_below_the_max_resource():
    assert rung_levels(50) == [1, 3, 9, 27]
    assert rung_levels(27) == [1, 3, 9]
    assert rung_levels(81, grace_period=3) == [3, 9, 27]
    assert rung_levels(1) == []


def test_registry_asha_is_promotion_type_and_asha_stop_stopping_type():
    asha = get_method("ASHA").build(_arguments())
    stop = get_method("ASHA-STOP").build(_arguments())
    assert (asha.kind, stop.kind) == ("promotion", "stopping")
    assert asha.rung_levels == [1, 3, 9, 27] == stop.rung_levels
    assert (get_method("ASHA").decisions, get_method("ASHA-STOP").decisions) == ("promotion", "stopping")


def test_trials_pause_at_rungs_and_the_best_paused_trial_is_resumed_to_the_next_rung():
    driver = Driver(_scheduler())
    first, new = driver.next()
    second, _ = driver.next()
    assert new and first.config["boosting_rounds"] == 1  # told to stop at the first rung
    assert driver.report(first, 1, 0.5) == "PAUSE"
    assert driver.report(second, 1, 0.3) == "PAUSE"
    resumed, new = driver.next()
    assert not new and resumed is second  # the better one, from its checkpoint
    assert resumed.config["boosting_rounds"] == 3  # now runs to the next rung
    third, new = driver.next()  # the worse one is not in the top third: a new configuration
    assert new and third.trial_id == 2
    assert driver.report(second, 2, 0.25) == "CONTINUE"
    assert driver.report(second, 3, 0.2) == "PAUSE"


def test_promotion_prefers_the_highest_rung_and_never_promotes_twice():
    driver = Driver(_scheduler())
    trials = [driver.next()[0] for _ in range(4)]
    for trial, value in zip(trials, [0.4, 0.3, 0.2, 0.1], strict=True):
        driver.report(trial, 1, value)
    best, _ = driver.next()
    assert best is trials[3]
    driver.report(best, 2, 0.09)
    assert driver.report(best, 3, 0.08) == "PAUSE"
    second, _ = driver.next()  # alone at rung 3 there is no cutoff yet: rung 1's next best
    assert second is trials[2] and second.config["boosting_rounds"] == 3
    newcomer, new = driver.next()  # nobody else in rung 1's top third: a new configuration
    assert new
    driver.report(newcomer, 1, 0.05)  # promotable at rung 1...
    driver.report(second, 2, 0.17)
    driver.report(second, 3, 0.15)  # ...but with 2 values rung 3 has a cutoff, and comes first
    first_up, _ = driver.next()
    assert first_up is trials[3] and first_up.config["boosting_rounds"] == 9
    assert driver.next()[0] is newcomer
    assert driver.next()[1]  # every promotable trial was promoted once: new configurations
    assert driver.scheduler.num_promotions == 4


def test_stopping_type_stops_trials_outside_the_top_fraction_and_runs_the_rest_to_the_end():
    driver = Driver(_scheduler(kind="stopping"))
    good, _ = driver.next()
    bad, _ = driver.next()
    assert good.config["boosting_rounds"] == 50  # never told to stop early
    assert driver.report(good, 1, 0.2) == "CONTINUE"
    assert driver.report(bad, 1, 0.6) == "STOP"
    for resource in range(2, 51):
        assert driver.report(good, resource, 0.1) == "CONTINUE"


def test_the_last_rungs_quantile_is_its_level_over_the_max_resource():
    """Syne Tune's rung systems: quantile r_j / r_{j+1}, the max resource after the last rung."""
    from hpobench.methods.successive_halving import _RungEntry

    scheduler = _scheduler(kind="stopping")
    assert scheduler.rung_levels == [1, 3, 9, 27] and scheduler.max_resource == 50
    rung = {trial_id: _RungEntry(float(trial_id)) for trial_id in range(1, 6)}
    # Quantiles of 1..5: 1/3 -> 2.33 at rung 9; 27/50 = 0.54 -> 3.16 at rung 27.
    assert not scheduler._in_top_fraction(rung, 9, 3.0)
    assert scheduler._in_top_fraction(rung, 27, 3.0)
    assert not scheduler._in_top_fraction(rung, 27, 3.5)


def test_maximize_mode_promotes_the_highest_value():
    driver = Driver(_scheduler(mode="max"))
    low, _ = driver.next()
    high, _ = driver.next()
    driver.report(low, 1, 0.6)
    driver.report(high, 1, 0.9)
    assert driver.next()[0] is high


def test_the_suggester_sees_rung_level_results_with_their_own_config_and_the_pending_trials():
    scheduler = _scheduler()
    driver = Driver(scheduler)
    first, _ = driver.next()
    second, _ = driver.next()
    driver.report(second, 1, 0.3)  # out of order
    driver.report(first, 1, 0.5)
    suggester = scheduler.suggester
    configs = {t.trial_id: scheduler._configs[t.trial_id] for t in (first, second)}
    assert [(o[0], o[2], o[3]) for o in suggester.observed] == [(1, 0.3, 1), (0, 0.5, 1)]
    assert all(o[1] == configs[o[0]] for o in suggester.observed)
    assert all(c["boosting_rounds"] == 50 for c in configs.values())  # the searched config, not the stop
    promoted, _ = driver.next()
    driver.report(promoted, 2, 0.28)  # not a rung level: not observed
    assert len(suggester.observed) == 2
    driver.next()  # a new trial while `promoted` runs to round 3
    assert suggester.pending_seen[-1] == [(configs[promoted.trial_id], 3)]


def test_missing_or_nan_metrics_are_never_promoted_nor_observed():
    driver = Driver(_scheduler())
    a, _ = driver.next()
    b, _ = driver.next()
    assert driver.report(a, 1, math.nan) == "PAUSE"
    assert driver.scheduler.on_trial_result(b, {"round": 1}) == "PAUSE"  # no metric at all
    assert driver.scheduler.suggester.observed == []
    assert driver.next()[1]  # nothing promotable: a new trial
    c, _ = driver.next()
    assert driver.scheduler.on_trial_result(c, {"val_log_loss": 0.1}) == "CONTINUE"  # no resource


def test_a_resumed_trial_that_starts_over_is_not_decided_on_twice():
    scheduler = _scheduler()
    driver = Driver(scheduler)
    a, _ = driver.next()
    b, _ = driver.next()
    driver.report(a, 1, 0.1)
    driver.report(b, 1, 0.2)
    resumed, _ = driver.next()

    def rung() -> dict:
        return {t: (e.value, e.promoted) for t, e in scheduler._rungs[1].items()}

    before = rung()
    assert driver.report(resumed, 1, 0.9) == "CONTINUE"  # the level it was paused at, again
    assert rung() == before


def test_same_seed_same_configurations_another_seed_others():
    def configs(seed: int) -> list[dict]:
        driver = Driver(_scheduler(seed=seed))
        return [driver.next()[0].config for _ in range(5)]

    assert configs(5) == configs(5)
    # A scheduler that ignored its seed would repeat these too (the default configuration
    # comes first whatever the seed).
    assert configs(5)[1:] != configs(6)[1:]


def _objective(config: dict, resource: int) -> float:
    """A made-up log-loss: best near learning_rate 0.1, improving with rounds."""
    return abs(math.log10(config["learning_rate"]) + 1.0) + 1.0 / resource


@pytest.mark.parametrize("method", ["MOBSTER", "MOBSTER-STOP"])
def test_mobster_fits_its_joint_gp_on_configuration_resource_pairs_from_several_rungs(method):
    import random

    scheduler = get_method(method).build(_arguments())
    assert scheduler.kind == ("promotion" if method == "MOBSTER" else "stopping")
    driver = Driver(scheduler)
    order = random.Random(0)
    running: list = []
    progress: dict[int, int] = {}
    for _ in range(24):  # two workers; whichever finishes first reports (random order)
        while len(running) < 2:
            trial, _ = driver.next()
            running.append(trial)
        trial = running.pop(order.randrange(len(running)))
        while True:
            progress[trial.trial_id] = progress.get(trial.trial_id, 0) + 1
            resource = progress[trial.trial_id]
            decision = driver.report(trial, resource, _objective(scheduler._configs[trial.trial_id], resource))
            if decision != "CONTINUE" or resource >= min(scheduler.max_resource, trial.config["boosting_rounds"]):
                break
    fit = scheduler.suggester.last_fit
    assert scheduler.suggester.counts.model >= 1 and fit is not None
    assert len(set(fit.resources)) >= 2 and set(fit.resources) <= {1, 3, 9, 27, 50}
    for trial_id, config, resource, value in zip(fit.trial_ids, fit.configs, fit.resources, fit.values, strict=True):
        own = scheduler._configs[trial_id]
        assert all(config[k] == own[k] for k in config)  # each value with its own trial's configuration
        assert value == pytest.approx(_objective(own, resource))


def test_a_rungs_quantile_is_numpys_to_the_bit():
    """The rung keeps its values sorted (a decision costs no pass over the rung); its quantile
    must be what np.quantile of all its values gave, worst finite + 1 for the non-finite."""
    import math
    import random

    import numpy as np

    from hpobench.methods.successive_halving import _RungValues

    generator = random.Random(0)
    for _ in range(2000):
        values = [
            generator.choice([generator.random(), generator.randint(0, 3), math.inf])
            for _ in range(generator.randint(2, 30))
        ]
        if all(math.isinf(v) for v in values):
            values[0] = 0.5
        rung = _RungValues()
        for value in values:
            rung.add(value)
        worst = max(v for v in values if math.isfinite(v)) + 1.0
        for q in (1 / 3, 0.54, 0.5, 1 / 9, 27 / 50, generator.random()):
            expected = float(np.quantile([v if math.isfinite(v) else worst for v in values], q))
            assert rung.quantile(q) == expected, (values, q)
    replaced = _RungValues()
    for value in (0.3, 0.1, math.inf):
        replaced.add(value)
    replaced.add(0.2, replaced=0.3)  # a trial's value at this rung reported again
    assert replaced.finite == [0.1, 0.2] and replaced.nonfinite == 1
