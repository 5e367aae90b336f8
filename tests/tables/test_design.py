"""The tabulation's design: seeded, reproducible, mapped through each domain; its scheduler."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from hpobench.benchmarks import get_benchmark
from hpobench.benchmarks.space import Choice, LogRandInt, LogUniform, RandInt, Uniform
from hpobench.errors import UsageError
from hpobench.tables.design import make_design

SPACE = {
    "epochs": 7,
    "optimizer": "adam",
    "lr": LogUniform(lower=1e-4, upper=1.0),
    "dropout": Uniform(lower=0.0, upper=0.5),
    "layers": RandInt(lower=1, upper=6),
    "width": LogRandInt(lower=1, upper=64),
    "activation": Choice(categories=("relu", "tanh", "gelu")),
}


def test_the_same_seed_gives_the_same_design_and_another_seed_another():
    first = make_design(SPACE, 16, "sobol", 3)
    assert make_design(SPACE, 16, "sobol", 3).configs == first.configs
    assert make_design(SPACE, 16, "sobol", 3).sha256() == first.sha256()
    assert make_design(SPACE, 16, "sobol", 4).configs != first.configs
    assert make_design(SPACE, 16, "random", 3).configs != first.configs
    assert make_design(SPACE, 16, "random", 3).configs == make_design(SPACE, 16, "random", 3).configs
    assert len(first.configs) == 16


def test_sobol_is_scipys_scrambled_sequence_mapped_linearly_on_a_uniform_entry():
    from scipy.stats import qmc

    space = {"x": Uniform(lower=2.0, upper=4.0), "fixed": 1}
    design = make_design(space, 8, "sobol", 11)
    expected = 2.0 + 2.0 * qmc.Sobol(d=1, scramble=True, seed=11).random(8)[:, 0]
    assert np.allclose([c["x"] for c in design.configs], expected)
    assert all(c["fixed"] == 1 for c in design.configs)


def test_every_domain_is_covered_on_its_own_scale():
    configs = make_design(SPACE, 256, "sobol", 0).configs
    assert {c["epochs"] for c in configs} == {7} and {c["optimizer"] for c in configs} == {"adam"}

    lrs = [c["lr"] for c in configs]
    assert all(1e-4 <= lr <= 1.0 for lr in lrs)
    # On a log scale half the points fall below the geometric middle (1e-2); on a linear one, 1%.
    assert abs(sum(lr < 1e-2 for lr in lrs) / len(lrs) - 0.5) < 0.05

    layers = Counter(c["layers"] for c in configs)
    assert set(layers) == set(range(1, 7)) and all(isinstance(v, int) for v in layers)
    assert max(layers.values()) - min(layers.values()) <= 4  # equal bins, the ends included

    widths = [c["width"] for c in configs]
    assert all(isinstance(w, int) and 1 <= w <= 64 for w in widths)
    assert abs(sum(w < 8 for w in widths) / len(widths) - math.log(8) / math.log(65)) < 0.06

    assert set(Counter(c["activation"] for c in configs)) == {"relu", "tanh", "gelu"}
    assert all(0.0 <= c["dropout"] <= 0.5 for c in configs)


def test_repeats_are_dropped_and_a_small_space_says_how_many_it_holds():
    space = {"kind": Choice(categories=("a", "b", "c")), "size": RandInt(lower=1, upper=2)}
    design = make_design(space, 10, "sobol", 0)
    assert len(design.configs) == 6  # 3 x 2, each once
    assert len({tuple(sorted(c.items())) for c in design.configs}) == 6
    assert "only 6 distinct configurations" in design.note


def test_a_sobol_design_notes_a_size_that_is_not_a_power_of_two():
    assert "power of two" in make_design(SPACE, 12, "sobol", 0).note
    assert make_design(SPACE, 16, "sobol", 0).note == ""
    assert make_design(SPACE, 12, "random", 0).note == ""


def test_a_benchmarks_design_is_inside_its_space():
    benchmark = get_benchmark("gbt_breast_cancer")
    for config in make_design(benchmark.config_space, 32, "sobol", 0).configs:
        assert config["boosting_rounds"] == 50
        assert 0.01 <= config["learning_rate"] <= 0.5
        assert 1 <= config["min_samples_leaf"] <= 32


@pytest.mark.parametrize(("configs", "kind", "words"), [(0, "sobol", "--configs 0"), (4, "lhs", "Unknown design")])
def test_bad_requests_are_refused(configs, kind, words):
    with pytest.raises(UsageError, match=words):
        make_design(SPACE, configs, kind, 0)


def test_the_scheduler_hands_out_its_todo_in_order_then_nothing():
    from syne_tune.backend.trial_status import Trial

    from hpobench.tables.scheduler import FixedDesignScheduler

    design = make_design(SPACE, 4, "random", 0)
    scheduler = FixedDesignScheduler({}, "loss", "min", list(design.configs), todo=[2, 0], description={})
    handed = []
    for trial_id in range(2):
        suggestion = scheduler.suggest()
        handed.append(suggestion.config)
        scheduler.on_trial_add(Trial(trial_id, suggestion.config, None))
    assert handed == [design.configs[2], design.configs[0]]
    assert scheduler.suggest() is None
    assert [scheduler.trials[t][0] for t in (0, 1)] == [2, 0]
    assert scheduler.trials[0][1] <= scheduler.trials[1][1]  # decision times, in order
