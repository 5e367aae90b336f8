"""GPSuggester: what it fits on, how it treats pending evaluations, resources and every domain kind."""

from __future__ import annotations

import gc
import math
import warnings

import numpy as np
import pytest
from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform

from hpobench.methods.gp import GPSuggester
from hpobench.methods.gp_encoding import SpaceEncoding

BRANIN_SPACE = {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0), "epochs": 9}


def branin(config: dict) -> float:
    x1, x2 = config["x1"], config["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def random_configs(n: int, seed: int = 0) -> list[dict]:
    generator = np.random.default_rng(seed)
    return [{"x1": float(generator.uniform(-5, 10)), "x2": float(generator.uniform(0, 15))} for _ in range(n)]


def test_every_domain_kind_round_trips_and_fixed_entries_are_filled() -> None:
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "momentum": uniform(0.0, 0.99),
        "layers": randint(1, 4),
        "width": lograndint(8, 512),
        "activation": choice(["relu", "tanh", "elu"]),
        "batch": choice([32, 64]),
        "only": choice(["a"]),
        "epochs": 20,
    }
    encoding = SpaceEncoding(space)
    assert encoding.dimension == 4 + 3 + 2  # one per number, one-hot per choice, none for fixed
    samples = [encoding.decode(point) for point in encoding.sample(np.random.default_rng(1), 200)]
    for config in samples:
        assert encoding.decode(encoding.encode(config)) == config
        assert config["epochs"] == 20 and config["only"] == "a"
        assert 1e-4 <= config["lr"] <= 1e-1 and isinstance(config["layers"], int)
    # Every integer and category is reachable; a log-integer spreads over its decades.
    assert {c["layers"] for c in samples} == {1, 2, 3, 4}
    assert {c["activation"] for c in samples} == {"relu", "tanh", "elu"}
    assert min(c["width"] for c in samples) < 32 and max(c["width"] for c in samples) > 128
    # Values that went through a command line come back as strings.
    assert encoding.key({**samples[0], "batch": str(samples[0]["batch"])}) == encoding.key(samples[0])


def test_points_to_evaluate_then_initial_random_then_the_model() -> None:
    suggester = GPSuggester(BRANIN_SPACE, "min", 0, points_to_evaluate=[{"x1": 1.0}])
    for trial_id in range(6):
        config = suggester.suggest()
        assert config["epochs"] == 9
        suggester.observe(trial_id, config, branin(config))
    assert suggester.counts.sources == ["given", "random", "random", "model", "model", "model"]
    assert suggester.last_fit is not None
    assert suggester.last_fit.configs[0] == {"x1": 1.0, "x2": 7.5}  # missing entries: the middle


def test_the_model_takes_over_once_the_initial_points_are_taken_and_one_result_is_in() -> None:
    """The seed's rule (`_should_pick_random_config` at 145f8020): random while fewer than 3
    configurations are taken (running ones count) or no result is in; one result is enough."""
    suggester = GPSuggester(BRANIN_SPACE, "min", 0)
    running = [suggester.suggest() for _ in range(3)]
    suggester.suggest(pending=[(c, None) for c in running])  # 3 taken, nothing observed yet
    assert suggester.counts.sources == ["random"] * 4
    suggester.observe(0, running[0], branin(running[0]))
    suggester.suggest(pending=[(c, None) for c in running[1:]])
    assert suggester.counts.sources[-1] == "model" and suggester.last_fit.trial_ids == [0]


@pytest.mark.parametrize("order", ["reverse", "random"])
def test_results_arriving_out_of_order_are_fitted_with_their_own_configuration(order: str) -> None:
    suggester = GPSuggester(BRANIN_SPACE, "min", 3)
    running = {trial_id: suggester.suggest() for trial_id in range(8)}  # 8 busy workers
    finishing = sorted(running, reverse=True) if order == "reverse" else list(np.random.default_rng(5).permutation(8))
    for trial_id in finishing:
        suggester.observe(int(trial_id), running[trial_id], branin(running[trial_id]))
    suggester.suggest()
    fit = suggester.last_fit
    assert sorted(fit.trial_ids) == list(range(8))
    for trial_id, config, value in zip(fit.trial_ids, fit.configs, fit.values, strict=True):
        assert config == {k: running[trial_id][k] for k in ("x1", "x2")}
        assert value == branin(config)


def test_noise_is_learned_on_noisy_data_without_warnings() -> None:
    generator = np.random.default_rng(0)
    suggester = GPSuggester(BRANIN_SPACE, "min", 0)
    # What earlier tests left for the garbage collector (an unclosed pipe, a Popen) warns
    # when collected: collect it now, so that only this fit's warnings are recorded.
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for trial_id, config in enumerate(random_configs(30)):
            suggester.observe(trial_id, config, branin(config) + generator.normal(0.0, 20.0))
        suggester.suggest()
    assert [str(w.message) for w in caught] == []
    assert suggester.last_fit.noise > 0.05  # standardized units; the floor is 1e-4


def test_a_pending_evaluation_at_the_incumbent_changes_the_suggestion() -> None:
    def fitted() -> GPSuggester:
        suggester = GPSuggester(BRANIN_SPACE, "min", 0)
        for trial_id, config in enumerate(random_configs(12, seed=2)):
            suggester.observe(trial_id, config, branin(config))
        return suggester

    import torch

    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    alone = fitted().suggest()
    assert fitted().suggest() == alone  # same observations, same seed: same suggestion
    # Torch's global generator and thread count are the caller's: left as they were.
    assert torch.get_num_threads() == threads and torch.equal(torch.random.get_rng_state(), state)
    with_pending = fitted().suggest(pending=[(alone, None)])
    assert with_pending != alone
    # Not merely a neighbour of the pending one: qLogEI over (candidate, pending) jointly
    # discounts the region the pending evaluation covers.
    assert abs(with_pending["x1"] - alone["x1"]) + abs(with_pending["x2"] - alone["x2"]) > 0.5


def test_observations_keyed_by_trial_and_resource_replace_and_non_finite_ones_are_dropped() -> None:
    suggester = GPSuggester(BRANIN_SPACE, "min", 0, num_initial_random=0)
    a, b, c = random_configs(3)
    suggester.observe(0, a, 5.0)
    suggester.observe(0, a, 4.0)  # the same trial again: replaces
    suggester.observe(1, b, float("nan"))
    suggester.observe(2, c, float("inf"))
    suggester.observe(3, b, 7.0)
    suggester.observe(4, c, 2.0)
    suggester.suggest()
    assert suggester.counts.dropped_values == 2
    assert sorted(zip(suggester.last_fit.trial_ids, suggester.last_fit.values, strict=True)) == [
        (0, 4.0),
        (3, 7.0),
        (4, 2.0),
    ]


def test_maximized_metrics_are_maximized() -> None:
    suggester = GPSuggester({"x": uniform(0.0, 1.0)}, "max", 0)
    for trial_id in range(15):
        config = suggester.suggest()
        suggester.observe(trial_id, config, -((config["x"] - 0.8) ** 2))
    assert abs(suggester.suggest()["x"] - 0.8) < 0.1


def test_the_joint_model_is_fitted_on_configurations_at_several_resources() -> None:
    suggester = GPSuggester(BRANIN_SPACE, "min", 0, max_resource=9)
    configs = random_configs(8)
    for trial_id, config in enumerate(configs):
        for resource in (1, 3, 9) if trial_id < 2 else (1, 3) if trial_id < 5 else (1,):
            # Learning curves: the loss falls with the resource towards Branin's value.
            suggester.observe(trial_id, config, branin(config) + 50.0 / resource, resource)
    pending = [(configs[7], 3)]
    config = suggester.suggest(pending=pending)
    fit = suggester.last_fit
    assert suggester.counts.sources == ["model"]
    assert sorted(set(fit.resources)) == [1, 3, 9] and len(fit.resources) == 8 + 5 + 2
    assert fit.resource_for_acquisition == 3  # the largest level with >= 3 observations
    assert fit.num_pending == 1
    assert set(config) == {"x1", "x2", "epochs"}
    with pytest.raises(ValueError, match="resource"):
        suggester.observe(9, config, 1.0)


def test_the_joint_model_predicts_a_configuration_by_the_resource() -> None:
    """MOBSTER's model uses the resource: learning curves that fall by 5/r, and the model puts
    an observed configuration about 4.4 higher at rung 1 than at rung 9. A model whose encoded
    resource is constant, or whose kernel lacks its resource term, predicts one value at every
    resource and fails here."""
    suggester = GPSuggester({**BRANIN_SPACE, "epochs": 27}, "min", 0, max_resource=27)
    configs = random_configs(10, seed=3)
    for trial_id, config in enumerate(configs):
        for resource in (1, 3, 9) if trial_id < 5 else (1, 3):
            suggester.observe(trial_id, config, branin(config) / 50 + 5.0 / resource, resource)
    at_1, at_9 = suggester.posterior_mean(configs, 1), suggester.posterior_mean(configs, 9)
    assert np.all(at_1 - at_9 > 3.0), at_1 - at_9
    # Nothing of the suggester changed: the next suggestion fits as it would have.
    assert suggester.num_optimizations == 0 and suggester.last_fit is None


def test_the_acquisition_level_is_the_largest_with_three_observations_else_the_smallest() -> None:
    """The seed's `resource_acq="bohb"` with threshold 3 (ResourceForAcquisitionBOHB)."""
    suggester = GPSuggester({**BRANIN_SPACE, "epochs": 27}, "min", 0, max_resource=27, num_initial_random=0)
    configs = random_configs(6, seed=4)
    for trial_id, config in enumerate(configs[:2]):
        suggester.observe(trial_id, config, branin(config) + 50.0, 3)
        suggester.observe(trial_id, config, branin(config) + 10.0, 9)
    suggester.suggest()
    assert suggester.last_fit.resource_for_acquisition == 3  # 2 at each: the smallest
    for trial_id, config in enumerate(configs[2:], start=2):
        suggester.observe(trial_id, config, branin(config) + 150.0, 1)
    suggester.observe(2, configs[2], branin(configs[2]) + 50.0, 3)
    suggester.suggest()
    assert suggester.last_fit.resource_for_acquisition == 3  # 4 at 1, 3 at 3, 2 at 9
    suggester.observe(2, configs[2], branin(configs[2]) + 10.0, 9)
    suggester.suggest()
    assert suggester.last_fit.resource_for_acquisition == 9


def test_the_joint_kernel_shares_a_configurations_term_across_distant_resources() -> None:
    """MOBSTER's sum kernel: what a configuration scored at rung 1 still informs its value at
    the max resource, however short the resource lengthscale is fitted (a product of the
    two Matérns would let that correlation fall to zero)."""
    import torch

    from hpobench.methods import gp_model

    kernel = gp_model.joint_kernel([0, 1], 2).double()
    resource_term = kernel.kernels[1].base_kernel
    resource_term.lengthscale = 1e-3  # distant resources as unrelated as they can be
    low, high = (
        torch.tensor([[0.3, 0.6, 0.0]], dtype=torch.float64),
        torch.tensor([[0.3, 0.6, 1.0]], dtype=torch.float64),
    )
    with torch.no_grad():
        cross = kernel(low, high).to_dense().item()
        scale = (kernel(low, low).to_dense().item() * kernel(high, high).to_dense().item()) ** 0.5
        config_share = kernel.kernels[0].outputscale.item() / (
            kernel.kernels[0].outputscale.item() + kernel.kernels[1].outputscale.item()
        )
    assert cross / scale == pytest.approx(config_share, abs=1e-6)
    assert config_share > 0.4


@pytest.mark.parametrize("resource_column", [None, 2])
def test_a_fit_starts_from_the_previous_fits_hyperparameters(resource_column) -> None:
    import torch

    from hpobench.methods import gp_model

    rng = np.random.default_rng(0)
    X = rng.random((30, 3))
    y = np.sin(6 * X[:, 0]) + X[:, 1] + 0.05 * rng.normal(size=30)
    first = gp_model.fit_gp(X, y, resource_column)
    start = gp_model.hyperparameters(first)
    # The start is loaded as is (same kernel structure, same keys), and fitting the same
    # data again from the optimum stays there.
    again = gp_model.fit_gp(X, y, resource_column, start=start)
    for name, value in gp_model.hyperparameters(again)["covar_module"].items():
        assert torch.allclose(value, start["covar_module"][name], rtol=0.05, atol=1e-3), name
    assert math.isclose(gp_model.fitted_noise(again), gp_model.fitted_noise(first), rel_tol=0.05)


def test_snapping_rows_at_once_gives_what_decoding_and_encoding_each_row_gives() -> None:
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "m": uniform(0.0, 0.99),
        "layers": randint(1, 4),
        "width": lograndint(8, 512),
        "act": choice(["relu", "tanh", "elu"]),
        "epochs": 20,
    }
    encoding = SpaceEncoding(space)
    rows = np.random.default_rng(3).random((500, encoding.dimension)) * 1.4 - 0.2  # some outside the cube
    snapped = encoding.snap(rows)
    one_by_one = np.stack([encoding.encode(encoding.decode(row)) for row in rows])
    np.testing.assert_allclose(snapped, one_by_one, rtol=0, atol=1e-12)
    assert [encoding.decode(row) for row in snapped] == [encoding.decode(row) for row in one_by_one]
    np.testing.assert_array_equal(encoding.snap(rows[7]), snapped[7])  # one point as well as rows


def test_hyperparameters_are_reoptimized_as_data_grows_and_every_observation_is_conditioned_on() -> None:
    from hpobench.methods import gp, gp_model

    suggester = GPSuggester(BRANIN_SPACE, "min", 0)
    configs = random_configs(40, seed=4)
    for trial_id, config in enumerate(configs[:30]):
        suggester.observe(trial_id, config, branin(config))
    suggester.suggest()
    assert suggester.num_optimizations == 1
    optimized = suggester._hyperparameters
    # Fewer than 10% more observations: the same hyperparameters, all 32 observations fitted.
    for trial_id in (30, 31):
        suggester.observe(trial_id, configs[trial_id], branin(configs[trial_id]))
    suggester.suggest()
    assert suggester.num_optimizations == 1 and suggester._hyperparameters is optimized
    assert sorted(suggester.last_fit.trial_ids) == list(range(32))
    for trial_id in (32, 33):  # 34 >= 1.1 * 30: optimized again
        suggester.observe(trial_id, configs[trial_id], branin(configs[trial_id]))
    suggester.suggest()
    assert suggester.num_optimizations == 2 and suggester._hyperparameters is not optimized
    assert gp.REOPTIMIZE_GROWTH * 30 <= 34

    # The conditioned GP is exact on the new data: it predicts points it was not optimized on.
    import torch

    X = np.stack([suggester.encoding.encode(c) for c in configs])
    y = -np.array([branin(c) for c in configs])
    on_30 = gp_model.fit_gp(X[:30], y[:30], None)
    conditioned = gp_model.condition_gp(X, y, None, gp_model.hyperparameters(on_30))
    with torch.no_grad():
        before = on_30.posterior(torch.as_tensor(X[30:])).mean.view(-1).numpy()
        after = conditioned.posterior(torch.as_tensor(X[30:])).mean.view(-1).numpy()
    assert np.abs(after - y[30:]).mean() < 0.2 * np.abs(before - y[30:]).mean()
