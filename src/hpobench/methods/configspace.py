"""A Syne Tune space as a ConfigSpace space: the form DEHB and SMAC3 take (both ask for the
`ConfigSpace` package, so it is there whenever either is)."""

from __future__ import annotations

from typing import Any

from syne_tune.config_space import Categorical, Domain, Float, Integer


def configspace_space(config_space: dict[str, Any], seed: int) -> tuple[Any, dict[str, Any]]:
    """(A seeded ConfigSpace of the searched entries, the fixed entries) of a Syne Tune space."""
    import ConfigSpace as CS

    searched: list[Any] = []  # ConfigSpace hyperparameters
    fixed: dict[str, Any] = {}
    for name, domain in config_space.items():
        if not isinstance(domain, Domain):
            fixed[name] = domain
            continue
        log = type(domain.get_sampler()).__name__ == "_LogUniform"
        if isinstance(domain, Float):
            searched.append(CS.UniformFloatHyperparameter(name, float(domain.lower), float(domain.upper), log=log))
        elif isinstance(domain, Integer):
            searched.append(CS.UniformIntegerHyperparameter(name, int(domain.lower), int(domain.upper), log=log))
        elif isinstance(domain, Categorical):
            searched.append(CS.CategoricalHyperparameter(name, list(domain.categories)))
        else:
            raise ValueError(f"ConfigSpace has no hyperparameter for {name!r} ({type(domain).__name__})")
    space = CS.ConfigurationSpace(seed=seed)
    space.add(searched)
    return space, fixed
