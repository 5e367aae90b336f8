"""The multi-objective methods' registry entries (issue 32; docs/multi-objective.md), which
`methods.registry` adds to `METHODS`. A leaf beside it: no library is imported here."""

from __future__ import annotations

from hpobench.methods import defaults
from hpobench.methods.factories import mo_random_search, moasha, optuna_ehvi, optuna_motpe, optuna_nsga2
from hpobench.methods.spec import MethodSpec

_OPTUNA = "optuna>=4, scipy"

MULTI_OBJECTIVE_SPECS = [
    MethodSpec(
        name="MO-RS",
        family="random search (multi-objective)",
        multi_fidelity=False,
        multi_objective=True,
        needs="-",
        factory=mo_random_search,
        library="hpobench",
        model="none (uniform sampling)",
        reference="Bergstra & Bengio 2012, Random Search for Hyper-Parameter Optimization (JMLR)",
    ),
    MethodSpec(
        name="MOASHA",
        family="successive halving (multi-objective)",
        multi_fidelity=True,
        multi_objective=True,
        needs="-",
        factory=moasha,
        library="syne-tune",
        decisions="stopping",
        model="none (uniform sampling); rungs rank by non-dominated sorting",
        defaults=defaults.MOASHA,
        reference="Schmucker et al. 2021, Multi-objective Asynchronous Successive Halving (arXiv:2106.12639); "
        "Salinas et al. 2021 (NAS workshop, ICLR)",
    ),
    MethodSpec(
        name="OPTUNA-NSGA2",
        family="evolutionary (multi-objective)",
        multi_fidelity=False,
        multi_objective=True,
        needs=_OPTUNA,
        factory=optuna_nsga2,
        model="NSGA-II (Optuna's NSGAIISampler: non-dominated sorting, crowding distance, uniform crossover)",
        defaults=defaults.OPTUNA_NSGA2,
        reference="Deb et al. 2002, A Fast and Elitist Multiobjective Genetic Algorithm: NSGA-II (IEEE TEC)",
        library="optuna",
        pending="not counted: a generation takes new trials until population_size of them completed "
        "(so up to population_size + workers - 1), and parents are chosen among completed trials",
        extra="optuna",
    ),
    MethodSpec(
        name="OPTUNA-MOTPE",
        family="Bayesian optimization (KDE, multi-objective)",
        multi_fidelity=False,
        multi_objective=True,
        needs=_OPTUNA,
        factory=optuna_motpe,
        model="multi-objective TPE (Optuna's TPESampler: good and bad split by non-dominated rank and "
        "hypervolume contribution), multivariate",
        defaults=defaults.OPTUNA_MOTPE,
        reference="Ozaki et al. 2022, Multiobjective Tree-Structured Parzen Estimator (JAIR)",
        library="optuna",
        pending="constant liar (running trials count among the bad group)",
        extra="optuna",
    ),
    MethodSpec(
        name="OPTUNA-EHVI",
        family="Bayesian optimization (GP, multi-objective)",
        multi_fidelity=False,
        multi_objective=True,
        needs=f"{_OPTUNA}, torch",
        factory=optuna_ehvi,
        model="independent GPs per objective (Matérn-5/2, ARD), logEHVI; qLogEHVI with running "
        "trials (Optuna's GPSampler)",
        defaults=defaults.OPTUNA_MOGP,
        reference="Daulton et al. 2020, Differentiable Expected Hypervolume Improvement for Parallel "
        "Multi-Objective Bayesian Optimization (NeurIPS); Ament et al. 2023 (NeurIPS, log-EI)",
        library="optuna",
        pending="pending points of a q-batch acquisition (qLogEHVI)",
        extra="optuna",
    ),
]
