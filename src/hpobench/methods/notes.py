"""What each registered method is, and where it departs from the algorithm its name says.

One line per method, checked against Syne Tune 0.16's code by
tests/methods/test_method_pairing.py (results fed out of order, as parallel workers
deliver them). Shown by `hpobench list methods` and docs/methods.md.
"""

from __future__ import annotations

# MOBSTER's joint kernel, as `list methods`, the registry and docs/methods.md state it
# (tests/test_readme_examples.py checks the docs); methods/gp_model.py implements it.
MOBSTER_KERNEL = "a Matérn on the configuration plus a Matérn on the log resource (each with its own scale)"

# Where hpobench's GP searcher (BO, MOBSTER) departs from the seed's, and why (docs/methods.md
# has the table, with the paper's choice too).
_GP_DEPARTURES = (
    "candidates (512 random and 128 Gaussian perturbations of the best 5, all ranked by qLogEI;"
    " seed: 250 random ranked by a Thompson sample, then L-BFGS on EI: ranking by the acquisition"
    " itself, near the incumbents too, found Branin's minima in 40 evaluations); the fit schedule"
    " (kernel hyperparameters re-optimized when the data grew 10%, from the last fit, one start;"
    " seed: every suggestion, reset, 2 starts: a suggestion keeps a worker waiting; at 60-200"
    " MOBSTER observations 0.02-0.05 s, against 0.35-0.47 s re-optimized from the initial values"
    " with one start); no learned output scale for BO"
    " (signal variance 1 on standardized targets, BoTorch's default; seed: learned,"
    " LogNormal(0, 1) prior; not measured against it); noise floor 1e-4 (seed: 1e-9; keeps the"
    " Cholesky stable when inputs nearly repeat); running trials in qLogEI's joint batch (seed: EI"
    " averaged over 20 fantasy samples; both integrate over the pending outcomes)"
)

METHOD_NOTES: dict[str, str] = {
    "RS": "Random search: configurations drawn uniformly (log-uniform where the domain is logarithmic).",
    "BO": (
        "hpobench's GP-BO (Matérn-5/2 ARD GP with learned noise, qLogEI, running trials as pending"
        " fantasies); replaces Syne Tune's BOTorch (0.16), which pairs configurations by suggestion"
        " order with results by completion order. As the seed's GP searcher (Syne Tune 145f8020):"
        " the default configuration first, 3 initial random configurations, then the model once"
        f" a result is in. Departs from it in: {_GP_DEPARTURES}; the best candidate refined by"
        " L-BFGS, as the seed's."
    ),
    "ASHA": (
        "promotion type, as the seed runs it: hpobench's own scheduler (Syne Tune 0.16's ASHA only stops "
        "trials; that variant is ASHA-STOP)"
    ),
    "ASHA-STOP": (
        "hpobench's scheduler in stopping mode (same rungs, rule and sampler as ASHA), not Syne Tune "
        "0.16's ASHA class: its rank rule differs and it crashes on a result without the metric"
    ),
    "MOBSTER": (
        "promotion type, as the seed runs it, with a joint GP over (configuration, resource) fitted on "
        "every rung-level result; Syne Tune 0.16 has no MOBSTER class (its closest, ASHA with "
        "searcher='botorch', never fits its GP). As the seed's (145f8020): the default configuration "
        "first, 6 initial random configurations, acquisition at the largest rung with 3 observations. "
        f"Departs from it in: the kernel, {MOBSTER_KERNEL}, not its exp-decay resource kernel and "
        f"mean (measured against a product of the two, not against the seed's); {_GP_DEPARTURES}; "
        "no L-BFGS refinement (its suggestions sit between rung-level evaluations that can take "
        "less time)"
    ),
    "MOBSTER-STOP": ("MOBSTER's stopping type: the same scheduler and GP as MOBSTER"),
    "DEHB": (
        "DEHB (the dehb package) through ask-and-tell, asynchronous: it never stops or pauses a trial by"
        " rank; each trial trains to the fidelity DEHB gave its job and ends, and a configuration DEHB"
        " promotes is a new trial trained from scratch to the next fidelity (as in the paper: no"
        " checkpoint). Fidelities are DEHB's own geometric spacing (eta 3) from 1 to the max resource:"
        " 1.85, 5.56, 16.7, 50 rounds for 50 (first bracket: 27 configurations), 1.11, 3.33, 10, 30"
        " epochs for 30; a trial trains the fidelity rounded up (2, 6, 17, 50; 2, 4, 10, 30) and its"
        " value there is told to its job, with that resource as cost."
    ),
    "TPE": (
        "Syne Tune's KernelDensityEstimator: BOHB's multivariate KDE (top 15% vs the rest, a third of"
        " suggestions random), not Bergstra et al.'s univariate tree-structured Parzen estimators;"
        " results paired correctly."
    ),
    "BORE": (
        "BORE (Tiao et al. 2021): an XGBoost classifier of the top quantile as acquisition; results paired correctly."
    ),
    "REA": (
        "Regularized evolution (Real et al. 2019) with population 10 and sample 5 (Syne Tune's"
        " default population of 100 never evolves in a short budget); results paired correctly."
    ),
    "CQR": (
        "Conformal quantile regression (Salinas et al. 2023) with gradient-boosted quantile"
        " regressors; results paired correctly."
    ),
    "BOHB": (
        "Asynchronous successive halving (stopping) with TPE's KDE, not Falkner et al.'s synchronous"
        " Hyperband; the KDE is fitted on each trial's latest value whatever resource it came from,"
        " not per budget."
    ),
    "ASHABORE": (
        "Asynchronous successive halving (stopping) with BORE's classifier, fitted on each trial's"
        " latest value whatever resource it came from."
    ),
    "ASHACQR": (
        "Asynchronous successive halving (stopping) with CQR's quantile regressors, fitted on each"
        " trial's latest value whatever resource it came from."
    ),
    "MO-RS": (
        "Random search on a multi-objective benchmark: the same draws as RS (hpobench's seeded sampler),"
        " every objective recorded; multi-objective only by what it records."
    ),
    "MOASHA": (
        "Syne Tune 0.16's MOASHA (stopping type, one bracket, rungs ranked by non-dominated sorting with"
        " the crowding-free priority of Salinas et al.: a result continues when its rank is in the top"
        " 1/reduction_factor), with two changes: a mode per objective (0.16 takes one do_minimize for"
        " all) and the default configuration first (0.16 has no points_to_evaluate). Departs from"
        " Schmucker et al.'s paper, which also studies epsilon-net and scalarized rankings and promotion"
        " (pausing) variants; asynchronous as the paper's."
    ),
    "OPTUNA-NSGA2": (
        "Optuna's NSGA-II through ask-and-tell, population 20 (Optuna's default 50). Departs from Deb et"
        " al.'s generational algorithm under asynchronous workers: a generation is filled by trials asked"
        " while its first members still run, and the next starts once population_size have completed."
    ),
    "OPTUNA-MOTPE": (
        "Optuna's multi-objective TPE (multivariate, constant liar) through ask-and-tell. Departs from"
        " Ozaki et al. in the constant liar for asynchronous workers (the paper evaluates in batches)."
    ),
    "OPTUNA-EHVI": (
        "Optuna's GPSampler on several objectives: a GP per objective, logEHVI (qLogEHVI with running"
        " trials, greedy sequential batch). Its reference point is Optuna's own (1.1 times the worst"
        " observed values), not the benchmark's fixed one, which only the results' hypervolume uses."
        " Chosen over Syne Tune 0.16's EHVI, which pairs configurations in suggestion order with"
        " results in completion order and fixes its reference point at 2 on the raw (negated) values."
    ),
}

# How each method evaluates the points it is given first: by default the default configuration
# (`methods.initial_points`; `--no-default-first-trial` or a benchmark's
# `default_first_trial = false` leave it out, a benchmark's points_to_evaluate replace it).
FIRST_TRIAL_RULE = (
    "Each method's first trial is the default configuration (the middle of each range, in log space for "
    "log domains; a choice's first category), as Syne Tune's searchers at 145f8020 did "
    "(points_to_evaluate=None -> [{}]); a benchmark's points_to_evaluate replace it; "
    "--no-default-first-trial (or default_first_trial = false in the benchmark) leaves it out."
)
# What every method does differently on `--backend simulated` (tables/simulated_backend.py).
SIMULATED_RULE = (
    "Simulated (--backend simulated, docs/tables.md): without --surrogate, every method's suggestions "
    "are moved to the nearest configuration of the table, which is what is evaluated and recorded; "
    "model-based methods learn the value at the configuration they suggested. Methods that stop, pause "
    "or re-run trials at lower levels need a table of several levels."
)
_SYNE_TUNE_FIRST = "trial 0, through the searcher's points_to_evaluate"
_OPTUNA_FIRST = "trial 0, through study.enqueue_trial"
FIRST_TRIAL: dict[str, str] = {
    "RS": "trial 0",
    "BO": "trial 0, one of its 3 initial random configurations",
    "ASHA": "trial 0, starting at rung 1 like any other",
    "ASHA-STOP": "trial 0, starting at rung 1 like any other",
    "MOBSTER": "trial 0, one of its 6 initial random configurations",
    "MOBSTER-STOP": "trial 0, one of its 6 initial random configurations",
    "BOHB": _SYNE_TUNE_FIRST,
    "TPE": _SYNE_TUNE_FIRST,
    "BORE": _SYNE_TUNE_FIRST,
    "REA": _SYNE_TUNE_FIRST,
    "CQR": _SYNE_TUNE_FIRST,
    "ASHABORE": _SYNE_TUNE_FIRST,
    "ASHACQR": _SYNE_TUNE_FIRST,
    "OPTUNA-TPE": _OPTUNA_FIRST,
    "OPTUNA-CMAES": _OPTUNA_FIRST,
    "OPTUNA-GP": _OPTUNA_FIRST,
    "NEVERGRAD-ONEPLUSONE": "trial 0, through optimizer.suggest",
    "DEHB": "trial 0: the first job (first bracket, lowest fidelity), in place of DEHB's own draw",
    "SMAC": "trial 0: the first configuration of its initial design, before the Sobol points",
    "MO-RS": "trial 0",
    "MOASHA": "trial 0, starting at rung 1 like any other",
    "OPTUNA-NSGA2": _OPTUNA_FIRST,
    "OPTUNA-MOTPE": _OPTUNA_FIRST,
    "OPTUNA-EHVI": _OPTUNA_FIRST,
}
# A plugin's factory receives the points in MethodArguments.points_to_evaluate.
PLUGIN_FIRST_TRIAL = "in MethodArguments.points_to_evaluate, used as the plugin uses them"
