"""DEHB (differential evolution + Hyperband, Awad et al. 2021) from the `dehb` package, as an
hpobench method, through DEHB's ask-and-tell interface.

Each trial hpobench starts is one `DEHB.ask()`: a configuration and a fidelity. The trial is
told to train up to that fidelity (the benchmark's `max_resource_attr`, e.g. `epochs`, is set
to it, as ASHA's promotions do) and its value at that resource is told back to the job DEHB
asked, found by hpobench's trial id, whatever order trials finish in. DEHB evaluates every
job from scratch, promotions included (a configuration promoted to a higher fidelity is a new
trial with the same configuration), as the paper does.

Fidelities are DEHB's own: geometric with ratio eta (3) down from the maximum resource, as
many as fit above the minimum (1): 50 boosting rounds give 1.85, 5.56, 16.7, 50 (4 levels;
DEHB's first bracket starts 27 configurations), 30 epochs 1.11, 3.33, 10, 30. A trial trains
whole epochs or rounds, so a fractional fidelity is rounded *up* to the resource the trial
is told to train to (2, 6, 17, 50 rounds; 2, 4, 10, 30 epochs): it trains at least the
budget DEHB asked for, never less, and the value told to DEHB is the one reported at that
integer resource, with that resource as its cost. (ASHA's rung levels are not DEHB's: 1, 3,
9, 27 and 50 would give DEHB 5 levels and a first bracket of 81.)

Running trials: DEHB's asynchronous mode hands out the next job of a bracket without waiting
for results, and opens a new bracket when every open one waits on a rung; no worker idles.
A trial that fails, or ends before its fidelity without a usable value, is told fitness +inf
(DEHB never promotes it, and it replaces no evaluated parent).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from typing import Any, Optional

from ConfigSpace import Configuration
from dehb import DEHB
from syne_tune.backend.trial_status import Trial
from syne_tune.optimizer.scheduler import SchedulerDecision

from hpobench.methods.configspace import configspace_space
from hpobench.methods.scheduler import AskTellScheduler, plain


def resource_of(fidelity: float) -> int:
    """The whole epochs (rounds) a trial trains for a DEHB fidelity: rounded up, so that a
    trial never trains less than DEHB asked (the tolerance keeps 30 / 3 = 10.000000000000002 at 10)."""
    return max(1, math.ceil(fidelity - 1e-9))


class DEHBScheduler(AskTellScheduler):
    """One DEHB optimizer driven by ask-and-tell; jobs found by hpobench trial id."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        mode: str,
        resource_attr: str,
        max_resource: int,
        random_seed: int,
        max_resource_attr: Optional[str] = None,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
        *,
        min_fidelity: int = 1,
        eta: int = 3,
        mutation_factor: float = 0.5,
        crossover_prob: float = 0.5,
        strategy: str = "rand1_bin",
    ) -> None:
        """DEHB's own parameters after the `*` (its paper's defaults; the factory passes
        `methods.defaults.DEHB`)."""
        super().__init__(config_space, metric, mode, random_seed)
        self.resource_attr = resource_attr
        self.max_resource_attr = max_resource_attr
        if max_resource <= min_fidelity:
            raise ValueError(f"DEHB needs a maximum resource above {min_fidelity} (this benchmark's is {max_resource})")
        space, self.fixed = configspace_space(config_space, random_seed)
        self._to_evaluate = [
            Configuration(space, values={k: v for k, v in point.items() if k not in self.fixed})
            for point in points_to_evaluate or []
        ]
        # DEHB logs through loguru to stdout and to OUTPUT_PATH/dehb.log, and writes nothing else
        # unless asked to save: the folder lives only while it is built.
        scratch = tempfile.mkdtemp(prefix="hpobench-dehb-")
        try:
            self.dehb = DEHB(
                min_fidelity=min_fidelity,
                max_fidelity=int(max_resource),
                cs=space,
                dimensions=len(space),
                eta=eta,
                seed=int(random_seed),
                n_workers=1,
                save_freq="end",
                output_path=scratch,
                log_level="ERROR",
                mutation_factor=mutation_factor,
                crossover_prob=crossover_prob,
                strategy=strategy,
            )
        finally:
            _quiet_loguru()
            shutil.rmtree(scratch, ignore_errors=True)
        self._last_value: dict[int, float] = {}  # hpobench trial id -> latest sign-adjusted value
        # DEHB's fidelities and the whole resources trials train for them.
        self.fidelities = [float(f) for f in self.dehb.fidelities]
        self.levels = [resource_of(f) for f in self.fidelities]

    def __setstate__(self, state: dict[str, Any]) -> None:
        from loguru import logger

        self.__dict__.update(state)
        self.dehb.logger = logger  # DEHB drops its logger when pickled (a resumed run)

    def _ask(self) -> tuple[Any, dict[str, Any]]:
        job = self.dehb.ask()
        if self._to_evaluate:
            # A point to evaluate takes the place of the configuration DEHB drew for this job (the
            # first ones: the first bracket's lowest fidelity), in the job and in DEHB's
            # repository, as DEHB's own replay of a history does; its result then enters the
            # population by DE's selection like any job's.
            given = self._to_evaluate.pop(0)
            job["config"] = given
            self.dehb.config_repository.configs[job["config_id"]].config = self.dehb.configspace_to_vector(given)
        config = {**self.fixed, **{k: plain(v) for k, v in dict(job["config"]).items()}}
        if self.max_resource_attr in config:
            config[self.max_resource_attr] = self._resource(job)
        return job, config

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> str:
        job = self._running.get(trial.trial_id)
        if job is None:
            return SchedulerDecision.CONTINUE
        value = self._value(result)
        if math.isfinite(value):
            self._last_value[trial.trial_id] = value
        resource = result.get(self.resource_attr)
        if isinstance(resource, (int, float)) and not isinstance(resource, bool) and resource >= self._resource(job):
            self._tell(trial.trial_id, value)
            # The job's fidelity is reached: a trial told to train that far ends by itself.
            ends_itself = trial.config.get(self.max_resource_attr) == self._resource(job)
            return SchedulerDecision.CONTINUE if ends_itself else SchedulerDecision.STOP
        return SchedulerDecision.CONTINUE

    def on_trial_complete(self, trial: Trial, result: dict[str, Any]) -> None:
        value = self._value(result)
        self._tell(trial.trial_id, value if math.isfinite(value) else self._last_value.get(trial.trial_id, math.inf))

    def on_trial_error(self, trial: Trial) -> None:
        self._tell(trial.trial_id, math.inf)

    def on_trial_remove(self, trial: Trial) -> None:
        # After this scheduler's own STOP (already told), or a stop from outside before the job's
        # fidelity: the job ends with the latest value it reached, or +inf.
        self._tell(trial.trial_id, self._last_value.get(trial.trial_id, math.inf))

    def scheduler_kwargs(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "library": f"dehb {version('dehb')}",
            "fidelities": [round(f, 4) for f in self.fidelities],
            "resources": self.levels,
            "eta": self.dehb.eta,
            "mutation_factor": self.dehb.mutation_factor,
            "crossover_prob": self.dehb.crossover_prob,
            "strategy": self.dehb.strategy,
            "random_seed": self.random_seed,
        }

    def _resource(self, job: dict[str, Any]) -> int:
        return resource_of(job["fidelity"])

    def _tell(self, trial_id: int, value: float) -> None:
        job = self._running.pop(trial_id, None)
        self._last_value.pop(trial_id, None)
        if job is not None:
            self.dehb.tell(job, {"fitness": value, "cost": float(self._resource(job))})


def _quiet_loguru() -> None:
    """DEHB points loguru at stdout (and a file) when built: keep errors only, on stderr."""
    import sys

    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="ERROR")
