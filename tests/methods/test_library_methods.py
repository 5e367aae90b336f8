"""What every method from another library does alike (issue 22): a missing extra is one line,
a SageMaker job installs the library, the effective seed seeds the optimizer, and on Branin
with 4 asynchronous workers it beats random search. Library-specific behaviour (how each is
told a failure, its space translation, a real run and its saved state) is in each library's
own test module; DEHB, multi-fidelity, is compared and seeded there."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from branin_runs import best_of_async_run, branin, build, start

# method, the module whose absence is tested, its extra, what a SageMaker job of it installs
LIBRARIES = [
    ("OPTUNA-CMAES", "optuna", "optuna", ("optuna>=4", "cmaes")),
    ("NEVERGRAD-ONEPLUSONE", "nevergrad", "nevergrad", ("nevergrad>=1",)),
    ("SMAC", "smac", "smac", ("smac>=2.4",)),
    ("DEHB", "dehb", "dehb", ("dehb>=0.1.2",)),
]
SINGLE_FIDELITY = ["OPTUNA-TPE", "OPTUNA-CMAES", "OPTUNA-GP", "NEVERGRAD-ONEPLUSONE", "SMAC"]


@pytest.mark.parametrize(("name", "module", "extra", "requirements"), LIBRARIES, ids=[n for n, *_ in LIBRARIES])
def test_a_missing_extra_is_one_line(name, module, extra, requirements, invoke, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    result = invoke(
        *"run-local --benchmark gbt_breast_cancer --method".split(),
        name,
        *"--max-wallclock-time 5 --experiment-tag no-extra".split(),
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: Method {name} needs {module}, which is not installed; install the extra: "
        f'pip install "hpobench[{extra}]"'
    )


@pytest.mark.parametrize(("name", "module", "extra", "requirements"), LIBRARIES, ids=[n for n, *_ in LIBRARIES])
def test_a_remote_job_installs_the_library(name, module, extra, requirements):
    from hpobench.remote.sagemaker.plan import plan_remote
    from hpobench.settings import RemoteSettings

    plan = plan_remote(RemoteSettings(benchmark="gbt_breast_cancer", methods=(name,)), "us-east-1", "b")
    lines = plan.requirements.requirements_text().splitlines()
    assert set(requirements) <= set(lines)


@pytest.mark.parametrize("name", SINGLE_FIDELITY)
def test_the_effective_seed_seeds_the_optimizer(name):
    def suggestions(seed: int) -> list[dict]:
        scheduler, configs = build(name, seed), []
        for trial_id in range(12):  # one worker: each result told before the next suggestion
            trial = start(scheduler, trial_id)
            scheduler.on_trial_complete(trial, {"value": branin(trial.config)})
            configs.append(trial.config)
        return configs

    assert suggestions(3) == suggestions(3)
    assert suggestions(3) != suggestions(4)


@pytest.mark.parametrize("name", SINGLE_FIDELITY)
def test_beats_random_search_on_branin_with_four_asynchronous_workers(name):
    # 30 evaluations: past SMAC's initial design (20 on two hyperparameters) and OPTUNA-GP's
    # 10 start-up trials; each method's median beats random search's (1.61) by 0.2 or more.
    seeds = range(10)
    random_search = np.median([best_of_async_run("RS", seed, evaluations=30) for seed in seeds])
    method = np.median([best_of_async_run(name, seed, evaluations=30) for seed in seeds])
    assert method < random_search, (name, method, random_search)
