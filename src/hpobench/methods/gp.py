"""GP-based suggestions for BO and MOBSTER: observations keyed by trial, pending ones as fantasies.

`GPSuggester` is independent of Syne Tune's scheduler classes: BO's scheduler
(`methods/bo.py`) and MOBSTER's feed it each result with the configuration of
*its* trial (by trial id), and pass the evaluations still running when they ask
for a suggestion. Syne Tune 0.16's own `BoTorchSearcher` paired configurations
by suggestion order with results by completion order, which mismatches them as
soon as two workers finish out of order.

As Syne Tune's GP searchers at 145f8020 (`gp_searcher_factory`, `gp_fifo_searcher`): the
points to evaluate (the default configuration) first, counted among the initial random
configurations (3 for plain BO, 6 for the multi-fidelity model; configurations observed,
pending or failed all count), and the model takes over once they are taken and at least one
result is observed; MOBSTER's acquisition is evaluated at the largest resource level with at
least 3 observations (the BOHB rule, `resource_acq="bohb"`, threshold 3), else at the
smallest level observed.

Where it departs from those searchers (`notes.py` and docs/methods.md give each with its
reason): candidates (512 random and 128 perturbations of the best 5, ranked by qLogEI; the
seed: 250 random ranked by Thompson sampling, then L-BFGS on EI), the GP's priors and noise
floor (BoTorch's, `gp_model.py`), pending trials in qLogEI's joint batch (the seed: EI
averaged over 20 fantasy samples), and the fit schedule. The cost of the last: a suggestion
sits on the tuner's critical path (a worker waits for it), and MOBSTER makes one per new
trial, many of which train for a single cheap rung level. So the kernel hyperparameters are
re-optimized only when the data grew by 10% (the GP is conditioned on every observation in
between), starting from the last fit's (the seed re-optimized on every suggestion from
their initial values, with 2 starts), and MOBSTER skips the L-BFGS refinement of the best
candidate. `benchmarks/gp_suggestion_time.py` measures what each costs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from hpobench.methods import defaults
from hpobench.methods.gp_encoding import SpaceEncoding

logger = logging.getLogger(__name__)

NUM_INITIAL_RANDOM_BO = defaults.BO["initial_random_points"]
NUM_INITIAL_RANDOM_MULTI_FIDELITY = defaults.MOBSTER["initial_random_points"]
RESOURCE_ACQUISITION_THRESHOLD = 3
# The kernel and noise hyperparameters are re-optimized when the observations grew by
# this factor since the last optimization (every observation while there are fewer
# than 10); in between the GP is conditioned on all data with the last ones.
REOPTIMIZE_GROWTH = 1.1
# Tries to draw a random configuration nobody evaluated yet before accepting a repeat.
MAX_RANDOM_DRAWS = 100


@dataclass
class FitRecord:
    """What the GP was last fitted on, in the benchmark's terms (for tests and diagnostics)."""

    configs: list[dict[str, Any]]
    resources: list[Optional[int]]
    values: list[float]  # in metric units, as observed
    trial_ids: list[int]
    noise: float  # learned noise variance, standardized units
    resource_for_acquisition: Optional[int]
    num_pending: int


@dataclass
class _Observation:
    trial_id: int
    config: dict[str, Any]
    value: float
    resource: Optional[int]


@dataclass
class SuggestionCounts:
    """How suggestions were made."""

    given: int = 0  # from points_to_evaluate
    random: int = 0  # initial random configurations
    model: int = 0  # maximizers of the acquisition function
    model_failed: int = 0  # the GP could not be fitted: random instead
    dropped_values: int = 0  # observations that were not finite numbers
    sources: list[str] = field(default_factory=list)


class GPSuggester:
    """Configurations from a GP fitted on observations; pending evaluations as fantasies."""

    def __init__(
        self,
        config_space: dict[str, Any],
        mode: str,
        random_seed: int,
        *,
        num_initial_random: Optional[int] = None,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
        max_resource: Optional[int] = None,
    ) -> None:
        """`num_initial_random` None: 3 for plain BO, 6 with `max_resource` (Syne Tune's GP defaults).

        `max_resource` None: a GP over configurations (BO). An integer: a joint
        GP over (configuration, resource) for MOBSTER, resources in 1..max_resource.
        """
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        self.encoding = SpaceEncoding(config_space)
        self.mode = mode
        self.random_seed = int(random_seed)
        self.max_resource = max_resource
        if num_initial_random is None:
            multi_fidelity = max_resource is not None
            num_initial_random = NUM_INITIAL_RANDOM_MULTI_FIDELITY if multi_fidelity else NUM_INITIAL_RANDOM_BO
        self.num_initial_random = num_initial_random
        # The best candidate is refined by gradient steps for BO, not for the joint model:
        # MOBSTER's suggestions sit between rung-level evaluations that can take less time
        # than the refinement (Syne Tune's GP searchers offer this as `skip_local_optimization`).
        self.refine = max_resource is None
        self._generator = np.random.default_rng(self.random_seed)
        # Completed by the seed's rule (the default configuration's values for entries a point
        # leaves out); None or [] here: none (MethodArguments resolves the seed's default).
        from hpobench.methods.initial_points import initial_points

        self._to_evaluate = [
            {**self.encoding.fixed, **point} for point in initial_points(points_to_evaluate or [], config_space)
        ]
        self._observations: dict[tuple[int, Optional[int]], _Observation] = {}
        self._suggested: set[Hashable] = set()
        self.counts = SuggestionCounts()
        self.last_fit: Optional[FitRecord] = None
        # The last fit's kernel and noise hyperparameters: where the next fit starts,
        # and the observations they were optimized on.
        self._hyperparameters: Optional[dict[str, Any]] = None
        self._optimized_on = 0
        self.num_optimizations = 0
        # Imported here, when the scheduler is built, rather than by the first model-based
        # suggestion: a tuner's wall-clock budget should not pay for loading libraries.
        from hpobench.methods import gp_model

        gp_model.preload()

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled from tuner.dill by a resumed run: loaded before its clock starts again too.
        self.__dict__.update(state)
        from hpobench.methods import gp_model

        gp_model.preload()

    # -- observations -------------------------------------------------------

    def observe(self, trial_id: int, config: dict[str, Any], value: float, resource: Optional[int] = None) -> None:
        """Record `value` (metric units) of `trial_id`'s `config` at `resource`; a repeated key replaces."""
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            self.counts.dropped_values += 1
            return
        if self.max_resource is not None and resource is None:
            raise ValueError("the joint (configuration, resource) model needs the resource of every observation")
        key = (int(trial_id), None if resource is None or self.max_resource is None else int(resource))
        config = {name: config[name] for name in self.encoding.searched}
        self._observations[key] = _Observation(int(trial_id), config, value, key[1])

    @property
    def num_observations(self) -> int:
        """Observations the next fit will use."""
        return len(self._observations)

    # -- suggestions --------------------------------------------------------

    def suggest(self, pending: Sequence[tuple[dict[str, Any], Optional[int]]] = ()) -> Optional[dict[str, Any]]:
        """A new configuration (fixed entries included); `pending` = (config, awaited resource) of running trials."""
        taken = self._suggested | {self.encoding.key(c) for c, _ in pending}
        taken |= {self.encoding.key(o.config) for o in self._observations.values()}
        config: Optional[dict[str, Any]]
        if self._to_evaluate:
            config, source = self._to_evaluate.pop(0), "given"
        elif self._initial_phase(taken):
            config, source = self._random_config(taken), "random"
        else:
            config, source = self._model_config(pending, taken), "model"
            if config is None:
                self.counts.model_failed += 1
                config, source = self._random_config(taken), "random"
        setattr(self.counts, source, getattr(self.counts, source) + 1)
        self.counts.sources.append(source)
        self._suggested.add(self.encoding.key(config))
        return config

    def _initial_phase(self, taken: set[Hashable]) -> bool:
        """Random until `num_initial_random` configurations are taken and a result is observed
        (the seed's `_should_pick_random_config`)."""
        return len(taken) < self.num_initial_random or not self._observations

    def _random_config(self, taken: set[Hashable]) -> dict[str, Any]:
        for _ in range(MAX_RANDOM_DRAWS):
            config = self.encoding.decode(self.encoding.sample(self._generator, 1)[0])
            if self.encoding.key(config) not in taken:
                break
        return config

    def _model_config(
        self, pending: Sequence[tuple[dict[str, Any], Optional[int]]], taken: set[Hashable]
    ) -> Optional[dict[str, Any]]:
        """The best non-duplicate maximizer of the acquisition function; None if the GP cannot be fitted."""
        from hpobench.methods import gp_model

        observations, X, y = self._training_data()
        resource_acq = self._resource_for_acquisition()
        # EI's incumbent is the model's best belief over the configurations observed at
        # `resource_acq` (every one for plain BO), as MOBSTER's EI takes its incumbent among
        # the observations at the acquisition level.
        at_acquisition = [o for o in observations if resource_acq is None or o.resource == resource_acq]
        incumbents = np.unique(np.stack([self.encoding.encode(o.config) for o in at_acquisition]), axis=0)
        X_pending = None
        if pending:
            X_pending = np.stack([self._input(c, resource_acq if r is None else r) for c, r in pending])
        resource_column = None if resource_acq is None else self.encoding.dimension
        fixed = (
            {}
            if resource_acq is None or resource_column is None
            else {resource_column: self._encode_resource(resource_acq)}
        )
        # Seeded per suggestion: the same observations in the same order give the same config.
        seed = int(np.random.SeedSequence([self.random_seed, len(self.counts.sources)]).generate_state(1)[0])
        with gp_model.torch_state(seed):
            try:
                model = self._model(X, y, resource_column)
                ranked = gp_model.rank_candidates(
                    model,
                    incumbents=incumbents,
                    X_pending=X_pending,
                    candidates=self._candidates(observations, y, resource_acq),
                    snap=self.encoding.snap,
                    fixed=fixed,
                    one_hot_columns=[c for group in self.encoding.one_hot_columns for c in group],
                    seed=seed,
                    refine=self.refine,
                )
            except gp_model.numerical_errors() as error:
                logger.warning("The GP could not be fitted (%s); suggesting a random configuration", error)
                return None
        self.last_fit = FitRecord(
            configs=[dict(o.config) for o in observations],
            resources=[o.resource for o in observations],
            values=[o.value for o in observations],
            trial_ids=[o.trial_id for o in observations],
            noise=gp_model.fitted_noise(model),
            resource_for_acquisition=resource_acq,
            num_pending=len(pending),
        )
        for point in ranked:
            config = self.encoding.decode(point)
            if self.encoding.key(config) not in taken:
                return config
        return self._random_config(taken)

    def _training_data(self) -> tuple[list[_Observation], np.ndarray, np.ndarray]:
        """The observations, their inputs (the encoded resource last, for the joint model) and
        their targets, sign-adjusted so that the GP maximizes."""
        observations = list(self._observations.values())
        sign = -1.0 if self.mode == "min" else 1.0
        y = sign * np.array([o.value for o in observations])
        X = np.stack([self._input(o.config, o.resource) for o in observations])
        return observations, X, y

    def posterior_mean(self, configs: Sequence[dict[str, Any]], resource: Optional[int] = None) -> np.ndarray:
        """What a GP fitted on the observations predicts for `configs` at `resource`, in metric
        units (for tests and diagnostics: the suggester's own state is left as it was)."""
        from hpobench.methods import gp_model

        _, X, y = self._training_data()
        resource_column = None if self.max_resource is None else self.encoding.dimension
        with gp_model.torch_state(self.random_seed):
            model = gp_model.fit_gp(X, y, resource_column=resource_column, start=self._hyperparameters)
            means = gp_model.posterior_mean(model, np.stack([self._input(c, resource) for c in configs]))
        return means if self.mode == "max" else -means

    def _model(self, X: np.ndarray, y: np.ndarray, resource_column: Optional[int]) -> Any:
        """The GP on all observations; its hyperparameters re-optimized as data grows (REOPTIMIZE_GROWTH).

        Re-optimizing on every suggestion made MOBSTER's suggestions cost 0.1-0.25 s
        at 60-200 observations, during which a worker waits; with the hyperparameters
        kept between optimizations a suggestion costs the acquisition alone, while
        the posterior is still exact on every observation.
        """
        from hpobench.methods import gp_model

        if self._hyperparameters is not None and len(y) < REOPTIMIZE_GROWTH * self._optimized_on:
            return gp_model.condition_gp(X, y, resource_column, self._hyperparameters)
        model = gp_model.fit_gp(X, y, resource_column=resource_column, start=self._hyperparameters)
        self._hyperparameters = gp_model.hyperparameters(model)
        self._optimized_on = len(y)
        self.num_optimizations += 1
        return model

    def _candidates(self, observations: list[_Observation], y: np.ndarray, resource: Optional[int]) -> np.ndarray:
        """Random points of the space plus perturbations of the best configurations observed at `resource`."""
        from hpobench.methods.gp_model import NUM_LOCAL_CANDIDATES, NUM_RANDOM_CANDIDATES

        ranked = [i for i in np.argsort(-y, kind="stable") if observations[i].resource == resource]
        best = np.stack([self.encoding.encode(observations[i].config) for i in ranked[:5]])
        centres = best[self._generator.integers(len(best), size=NUM_LOCAL_CANDIDATES)]
        local = np.clip(centres + self._generator.normal(0.0, 0.05, centres.shape), 0.0, 1.0)
        points = np.concatenate([self.encoding.sample(self._generator, NUM_RANDOM_CANDIDATES), local])
        return self.encoding.snap(points)

    # -- the resource ---------------------------------------------------------

    def _resource_for_acquisition(self) -> Optional[int]:
        """Largest resource with at least 3 observations, else the smallest observed (None for plain BO)."""
        if self.max_resource is None:
            return None
        counts: dict[int, int] = {}
        for observation in self._observations.values():
            assert observation.resource is not None  # see observe(): required with max_resource
            counts[observation.resource] = counts.get(observation.resource, 0) + 1
        enough = [r for r, n in counts.items() if n >= RESOURCE_ACQUISITION_THRESHOLD]
        return max(enough) if enough else min(counts)

    def _encode_resource(self, resource: Optional[int]) -> float:
        # Log scale: rung levels grow geometrically, so they spread evenly over [0, 1].
        assert resource is not None and self.max_resource is not None, "the joint model's resource"
        if self.max_resource <= 1:
            return 1.0
        return min(max(math.log(resource) / math.log(self.max_resource), 0.0), 1.0)

    def _input(self, config: dict[str, Any], resource: Optional[int]) -> np.ndarray:
        point = self.encoding.encode(config)
        if self.max_resource is None:
            return point
        return np.append(point, self._encode_resource(resource))
