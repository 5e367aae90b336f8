"""SMAC3's hyperparameter-optimization facade (random-forest BO, Lindauer et al. 2022) as an
hpobench method, through SMAC's ask-and-tell interface.

Each trial hpobench starts is one `smac.ask()`; its result is told to that same `TrialInfo`,
found by hpobench's trial id, whatever order trials finish in. SMAC minimizes a cost: a
maximized metric is told negated. A trial that fails is told CRASHED, one stopped before it
completes (a run's end, its process killed) TIMEOUT, both at SMAC's crash cost; a result
without a finite value CRASHED.

The scenario is deterministic with one evaluation per configuration (`max_config_calls=1`):
a training run is one noisy evaluation, as for every other method here, and SMAC's default
of up to 3 seeds per configuration would spend a third of a short budget on repeats.
Everything else is the facade's default: a Sobol initial design of 10 configurations per
hyperparameter, a random forest refitted after every 8 configurations, log-EI maximized by
local and random search, 20% random interleaving... as `smac.HyperparameterOptimizationFacade`
builds it.

Running trials are RUNNING in SMAC's run history: the forest is fitted on finished trials
only, and the intensifier and configuration selector never hand out a configuration that is
running or already evaluated.

SMAC keeps generators (its intensifier's and its configuration selector's loops), which
cannot be pickled: a tuner saved for resuming drops them, and a resumed run starts them again
over the run history, SMAC's own way of continuing a run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from hpobench.methods.configspace import configspace_space
from hpobench.methods.scheduler import AskTellScheduler, plain


def _never_called(config: Any, seed: int = 0) -> float:
    raise RuntimeError("SMAC's target function is not used: hpobench runs trials and tells SMAC")


class SMACScheduler(AskTellScheduler):
    """One SMAC3 optimizer driven by ask-and-tell; TrialInfos found by hpobench trial id."""

    def __init__(
        self,
        config_space: dict[str, Any],
        metric: str,
        mode: str,
        random_seed: int,
        points_to_evaluate: Optional[list[dict[str, Any]]] = None,
    ) -> None:
        super().__init__(config_space, metric, mode, random_seed)
        with _loggers_kept():
            self._build(config_space, random_seed, points_to_evaluate)

    def _build(self, config_space: dict[str, Any], random_seed: int, points_to_evaluate: Any) -> None:
        from ConfigSpace import Configuration
        from smac import HyperparameterOptimizationFacade, Scenario

        from hpobench.methods.defaults import SMAC
        from hpobench.methods.smac_parts import ordered_maximizer, single_threaded_model

        space, self.fixed = configspace_space(config_space, random_seed)
        # SMAC writes its scenario and run history under output_directory; hpobench keeps its own
        # records and tells with save=False, so the folder lives only while SMAC is built.
        scratch = tempfile.mkdtemp(prefix="hpobench-smac-")
        try:
            scenario = Scenario(
                space, deterministic=True, n_trials=2**31 - 1, seed=int(random_seed), output_directory=Path(scratch)
            )
            given = [Configuration(space, values=_searched(p, self.fixed)) for p in points_to_evaluate or []]
            facade = HyperparameterOptimizationFacade
            design = facade.get_initial_design(
                scenario, n_configs_per_hyperparameter=SMAC["configs_per_hyperparameter"], additional_configs=given
            )
            self.smac = facade(
                scenario,
                _never_called,
                initial_design=_GivenFirst(design, given),  # type: ignore[arg-type]  # read as SMAC reads its own
                intensifier=facade.get_intensifier(scenario, max_config_calls=SMAC["max_config_calls"]),
                config_selector=facade.get_config_selector(scenario, retrain_after=SMAC["retrain_after"]),
                # The facade's own forest and maximizer, made reproducible (smac_parts.py says how).
                model=single_threaded_model(facade, scenario),
                acquisition_maximizer=ordered_maximizer(facade, scenario),
                overwrite=True,
                logging_level=40,
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.crash_cost = float(scenario.crash_cost)  # type: ignore[arg-type]  # one objective: a number

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        smbo = self.smac._optimizer
        generators = (smbo._trial_generator, smbo._intensifier._config_generator)
        smbo._trial_generator = smbo._intensifier._config_generator = None  # type: ignore[assignment]
        try:
            import dill

            state["smac"] = dill.loads(dill.dumps(self.smac))  # a copy without its generators
        finally:
            smbo._trial_generator, smbo._intensifier._config_generator = generators
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # SMAC configures logging when its facade is built, not when imported or unpickled:
        # a resume leaves the process's logging alone (a test loads a saved tuner to check).
        self.__dict__.update(state)
        smbo = self.smac._optimizer
        intensifier = smbo._intensifier
        # Its setter starts the loop again.
        intensifier.config_selector = intensifier._config_selector  # type: ignore[assignment]
        smbo._trial_generator = iter(intensifier)

    def _ask(self) -> tuple[Any, dict[str, Any]]:
        info = self.smac.ask()
        return info, {**self.fixed, **{k: plain(v) for k, v in dict(info.config).items()}}

    def _tell_value(self, handle: Any, value: float) -> None:
        from smac.runhistory.enumerations import StatusType

        self._tell(handle, value if self.mode == "min" else -value, StatusType.SUCCESS)  # SMAC minimizes

    def _tell_failed(self, handle: Any) -> None:
        from smac.runhistory.enumerations import StatusType

        self._tell(handle, self.crash_cost, StatusType.CRASHED)

    def _tell_stopped(self, handle: Any) -> None:
        from smac.runhistory.enumerations import StatusType

        self._tell(handle, self.crash_cost, StatusType.TIMEOUT)

    def scheduler_kwargs(self) -> dict[str, Any]:
        from importlib.metadata import version

        from hpobench.methods.defaults import SMAC

        return {
            "library": f"smac {version('smac')}",
            "facade": "HyperparameterOptimizationFacade",
            **SMAC,
            "random_seed": self.random_seed,
        }

    def _tell(self, info: Any, cost: float, status: Any) -> None:
        from smac.runhistory.dataclasses import TrialValue

        self.smac.tell(info, TrialValue(cost=cost, status=status), save=False)


@contextmanager
def _loggers_kept() -> Iterator[None]:
    """SMAC configures logging with dictConfig on import and when built, which disables every
    logger that exists (hpobench's warnings included) and sets the root level: undo both."""
    import logging

    loggers = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    enabled = [logger for logger in loggers if not logger.disabled]
    root_level = logging.root.level
    try:
        yield
    finally:
        for logger in enabled:
            logger.disabled = False
        logging.root.setLevel(root_level)  # SMAC sets the root logger's level to its own


def _searched(point: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in point.items() if k not in fixed}


class _GivenFirst:
    """SMAC's initial design with the points to evaluate first: the facade's design (Sobol, 10
    configurations per hyperparameter) puts its `additional_configs` after its own, which
    would start the default configuration 50 trials late on a space of 5 hyperparameters.
    SMAC reads an initial design through these two members only."""

    def __init__(self, design: Any, given: list[Any]) -> None:
        self._design = design
        self._given = given

    @property
    def meta(self) -> dict[str, Any]:
        import warnings

        with warnings.catch_warnings():  # SMAC's meta of given configurations calls a deprecated ConfigSpace name
            warnings.simplefilter("ignore", DeprecationWarning)
            return dict(self._design.meta)

    def select_configurations(self) -> list[Any]:
        configs = self._design.select_configurations()
        return [c for c in configs if c in self._given] + [c for c in configs if c not in self._given]
