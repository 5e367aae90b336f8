"""The GP and its acquisition, all BoTorch/GPyTorch: fit on the unit cube, rank candidates.

Targets are maximized here (the suggester negates a metric it minimizes). The
model is an exact GP with a Matérn-5/2 ARD kernel, lengthscale priors scaled with
the dimension and a learned Gaussian noise (LogNormal prior, floor 1e-4), both
from BoTorch's defaults for SingleTaskGP (Hvarfner et al. 2024), on standardized
targets. With a resource column (MOBSTER's joint model) the kernel is a sum,
`notes.MOBSTER_KERNEL` (`joint_kernel`). As in Syne Tune's exp-decay-sum kernel (MOBSTER's default), the
configuration part is shared by every resource level, so what a configuration
scored at rung 1 tells the model about it at the acquisition resource, and a
pending trial heading to rung 1 still counts against a near-identical candidate;
the resource term is the same for every configuration (Syne Tune: an
exponential-decay kernel with its own mean function). A product of the two
Matérns, tried first, lets rankings change with the resource, but on
`gbt_breast_cancer` it learned a weak correlation between rounds 1 and 50 and
kept proposing configurations that rung 1 had already shown to be poor;
MOBSTER-STOP did worse with it, MOBSTER within run-to-run variation (`benchmarks/mobster_kernel.py`,
figures in docs/measured.md).

Acquisition: log expected improvement (qLogEI) over a plug-in incumbent, the best
posterior mean among the configurations observed at the acquisition resource (Syne
Tune's EI at 145f8020 took it over the running configurations too, at their fantasized
values; here they count through the joint batch instead). Evaluations still running enter as
`X_pending`: qLogEI then scores a candidate by the improvement of the joint batch
(candidate + pending), integrated over their joint posterior by quasi-Monte
Carlo, which is fantasizing the pending outcomes. In the joint model a pending
point sits at the resource its trial is heading to; the shared configuration
term couples it with candidates scored at the acquisition resource. (Noisy EI,
which integrates over the incumbent too, cost 3x more per candidate; BO on
Branin did not get worse without it: docs/measured.md.)

Against the seed's GP (Syne Tune at 145f8020): plain BO's kernel has no output scale (the
signal variance is 1 on standardized targets, BoTorch's default with the dimension-scaled
lengthscale prior), where the seed learned a covariance scale (LogNormal(0, 1) prior); the
noise floor is BoTorch's 1e-4 in standardized units (the seed's: 1e-9, with a Gamma prior),
which keeps the Cholesky factorization stable when inputs nearly repeat (snapped integers, a
configuration at several rungs) at the price of 1% of a standard deviation of assumed noise
on a deterministic benchmark. MOBSTER's two terms each carry a learned scale.

Kernel and noise hyperparameters are optimized by `fit_gp`; `condition_gp` builds
the same GP on more data with hyperparameters kept (the suggester decides when).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

import numpy as np

# Candidates scored per suggestion, and the gradient steps that refine the best
# of them (where the caller asks for refinement): enough to find Branin's three
# minima in 40 evaluations.
NUM_RANDOM_CANDIDATES = 512
NUM_LOCAL_CANDIDATES = 128
REFINE_MAXITER = 15
MC_SAMPLES = 64


@contextmanager
def torch_state(seed: int) -> Iterator[None]:
    """Torch seeded with `seed` and on one thread, both restored on exit.

    Seeded so that the same observations give the same suggestion, without
    touching the global generator others draw from. One thread because the
    matrices are tiny (n < a few hundred): extra OpenMP threads only spin, and
    on a machine whose cores are busy with trials that makes a fit 5-10x slower.
    """
    import torch

    threads = torch.get_num_threads()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


@contextmanager
def _quiet_numerics() -> Iterator[None]:
    """Silence the warnings linear_operator/gpytorch/botorch print on a well-posed model; imports them."""
    with warnings.catch_warnings():
        # linear_operator decorates functions with torch.jit.script at import time,
        # which torch >= 2.10 deprecates: nothing a user of hpobench can act on.
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
        from botorch.exceptions.warnings import OptimizationWarning
        from gpytorch.utils.warnings import NumericalWarning

        # Cholesky jitter on near-duplicate inputs, and L-BFGS stopping on its
        # iteration cap or an abnormal line search: all handled (jitter added,
        # best iterate kept; a refined candidate that did not move is still scored).
        warnings.simplefilter("ignore", NumericalWarning)
        warnings.simplefilter("ignore", OptimizationWarning)
        warnings.filterwarnings("ignore", "Optimization failed in `gen_candidates_scipy`", RuntimeWarning)
        yield


def preload() -> None:
    """Import BoTorch and GPyTorch now (about 2 s), so that the first suggestion does not pay for it."""
    with _quiet_numerics():
        import botorch.acquisition.logei
        import botorch.fit
        import botorch.models
        import botorch.optim  # noqa: F401


def fit_gp(X: np.ndarray, y: np.ndarray, resource_column: Optional[int], start: Optional[dict[str, Any]] = None) -> Any:
    """An exact GP fitted to inputs `X` (n x d, unit cube) and targets `y` (n) by marginal likelihood.

    `start`: the kernel and noise hyperparameters of the previous fit (`hyperparameters`),
    where the optimizer begins, with one start. A suggestion adds one or a few observations,
    so the previous optimum is close and L-BFGS needs far fewer steps than from the priors'
    defaults. Syne Tune's GP searchers at 145f8020 did not do this: `opt_warmstart=False`
    reset the hyperparameters to their initial values before every fit, and `opt_nstarts=2`
    ran L-BFGS twice (the second from a random draw), keeping the better. A warm start can
    stay in the optimum it started from where a fresh start would leave it; hpobench accepts
    that for the time it saves (docs/methods.md). If the start fails, `fit_gpytorch_mll`
    retries from samples of the priors.
    """
    with _quiet_numerics():
        from botorch.fit import fit_gpytorch_mll
        from gpytorch.mlls import ExactMarginalLogLikelihood

        model = _model(X, y, resource_column, start)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model


def condition_gp(X: np.ndarray, y: np.ndarray, resource_column: Optional[int], fitted: dict[str, Any]) -> Any:
    """The GP on `X`, `y` with the kernel and noise hyperparameters `fitted` kept as they are.

    The posterior is exact on all the data; only the hyperparameters are not
    re-optimized (Syne Tune's `opt_skip_*` options do the same between optimizations,
    though at 145f8020 their defaults re-optimized on every suggestion). Costs one
    Cholesky factorization instead of an L-BFGS run.
    """
    with _quiet_numerics():
        model = _model(X, y, resource_column, fitted)
    model.eval()
    return model


def _model(X: np.ndarray, y: np.ndarray, resource_column: Optional[int], start: Optional[dict[str, Any]]) -> Any:
    """The SingleTaskGP described in the module docstring, with `start`'s hyperparameters if given."""
    import torch
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.models.utils.gpytorch_modules import (
        get_covar_module_with_dim_scaled_prior,
        get_gaussian_likelihood_with_lognormal_prior,
    )

    train_X = torch.as_tensor(X, dtype=torch.float64)
    train_Y = torch.as_tensor(y, dtype=torch.float64).unsqueeze(-1)
    dimension = train_X.shape[-1]
    if resource_column is None:
        covar_module = get_covar_module_with_dim_scaled_prior(dimension, use_rbf_kernel=False)
    else:
        config_columns = [c for c in range(dimension) if c != resource_column]
        covar_module = joint_kernel(config_columns, resource_column)
    model = SingleTaskGP(
        train_X,
        train_Y,
        covar_module=covar_module,
        likelihood=get_gaussian_likelihood_with_lognormal_prior(),
        outcome_transform=Standardize(m=1),
    )
    if start is not None:
        model.covar_module.load_state_dict(start["covar_module"])
        model.likelihood.load_state_dict(start["likelihood"])
    return model


def joint_kernel(config_columns: list[int], resource_column: int) -> Any:
    """`notes.MOBSTER_KERNEL`: s_x k_x(x, x') + s_r k_r(r, r') over (configuration, log
    resource), Matérn-5/2 both (why a sum: the module docstring)."""
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior

    config = get_covar_module_with_dim_scaled_prior(
        len(config_columns), use_rbf_kernel=False, active_dims=config_columns
    )
    resource = get_covar_module_with_dim_scaled_prior(1, use_rbf_kernel=False, active_dims=[resource_column])
    return _scaled(config) + _scaled(resource)


def _scaled(kernel: Any) -> Any:
    """`kernel` times a learned output scale (Gamma(2, 0.15) prior, BoTorch's former default),
    so the fit can weigh the two terms of the joint kernel."""
    from gpytorch.kernels import ScaleKernel
    from gpytorch.priors import GammaPrior

    return ScaleKernel(kernel, outputscale_prior=GammaPrior(2.0, 0.15))


def hyperparameters(model: Any) -> dict[str, Any]:
    """The fitted kernel and noise hyperparameters, a `start` for the next `fit_gp`."""
    return {
        "covar_module": {k: v.detach().clone() for k, v in model.covar_module.state_dict().items()},
        "likelihood": {k: v.detach().clone() for k, v in model.likelihood.state_dict().items()},
    }


def numerical_errors() -> tuple[type[Exception], ...]:
    """What fitting or conditioning a GP raises on degenerate data (no fallback left)."""
    import torch
    from botorch.exceptions.errors import ModelFittingError
    from linear_operator.utils.errors import NotPSDError

    return (ModelFittingError, NotPSDError, torch.linalg.LinAlgError)


def posterior_mean(model: Any, X: np.ndarray) -> np.ndarray:
    """The model's posterior mean at the rows of `X`, in target units."""
    import torch

    with _quiet_numerics(), torch.no_grad():
        mean = model.posterior(torch.as_tensor(X, dtype=torch.float64)).mean
    return mean.squeeze(-1).numpy()


def fitted_noise(model: Any) -> float:
    """The observation noise variance the model learned (in standardized target units)."""
    return float(model.likelihood.noise.detach().mean())


def rank_candidates(
    model: Any,
    incumbents: np.ndarray,
    X_pending: Optional[np.ndarray],
    candidates: np.ndarray,
    snap: Any,
    fixed: dict[int, float],
    one_hot_columns: list[int],
    seed: int,
    refine: bool = True,
) -> np.ndarray:
    """Candidates (rows of the config part of the input) best first by qLogEI, refined ones included.

    The improvement is measured against the best posterior mean among `incumbents`
    (configurations observed, rows of the config part): a plug-in incumbent that
    noise in a single lucky observation cannot inflate (Syne Tune's EI also took a posterior mean).
    `fixed` pins input columns (the resource at which MOBSTER acquires);
    `snap` maps a point to the nearest valid configuration; `one_hot_columns`
    stay fixed during gradient refinement (a category is not a direction);
    `refine`: whether the best candidate is refined by L-BFGS steps.
    """
    import torch

    def full(points: np.ndarray) -> torch.Tensor:
        tensor = torch.as_tensor(points, dtype=torch.float64)
        for column, value in sorted(fixed.items()):
            pin = torch.full((*tensor.shape[:-1], 1), value, dtype=torch.float64)
            tensor = torch.cat([tensor[..., :column], pin, tensor[..., column:]], dim=-1)
        return tensor

    with _quiet_numerics():
        from botorch.acquisition import FixedFeatureAcquisitionFunction
        from botorch.acquisition.logei import qLogExpectedImprovement
        from botorch.optim import optimize_acqf
        from botorch.sampling import SobolQMCNormalSampler

        with torch.no_grad():
            best_f = model.posterior(full(incumbents)).mean.max()
        acquisition: Any = qLogExpectedImprovement(
            model,
            best_f=best_f,
            X_pending=None if X_pending is None else torch.as_tensor(X_pending, dtype=torch.float64),
            sampler=SobolQMCNormalSampler(torch.Size([MC_SAMPLES]), seed=seed),
        )
        dimension = candidates.shape[-1]
        if fixed:
            acquisition = FixedFeatureAcquisitionFunction(
                acquisition, d=dimension + len(fixed), columns=sorted(fixed), values=[fixed[c] for c in sorted(fixed)]
            )
        with torch.no_grad():
            chunks = torch.as_tensor(candidates).split(256)
            scores = torch.cat([acquisition(chunk.unsqueeze(-2)) for chunk in chunks])
        refined = []
        free = [c for c in range(dimension) if c not in set(one_hot_columns)]
        if free and refine:
            bounds = torch.stack([torch.zeros(dimension), torch.ones(dimension)]).double()
            for index in scores.argsort(descending=True)[:1].tolist():
                start = torch.as_tensor(candidates[index], dtype=torch.float64)
                point, _ = optimize_acqf(
                    acquisition,
                    bounds=bounds,
                    q=1,
                    num_restarts=1,
                    batch_initial_conditions=start.view(1, 1, -1),
                    fixed_features={c: float(start[c]) for c in one_hot_columns},
                    options={"maxiter": REFINE_MAXITER},
                )
                refined.append(snap(point.view(-1).numpy()))
        if refined:
            refined_points = np.stack(refined)
            with torch.no_grad():
                refined_scores = acquisition(torch.as_tensor(refined_points).unsqueeze(-2))
            candidates = np.concatenate([refined_points, candidates])
            scores = torch.cat([refined_scores, scores])
    order = scores.argsort(descending=True, stable=True).numpy()
    return candidates[order]
