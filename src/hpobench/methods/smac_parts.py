"""Two parts of SMAC3's facade made reproducible: the same seed gives the same suggestions in
every process. Imports SMAC: imported only where a SMAC method is built.

- Local search. SMAC 2.4's `LocalSearch._get_initial_points` returns `list(set(configurations))`:
  the order follows the configurations' hashes, which change with every process's
  PYTHONHASHSEED, and the local search keeps the first of equally good neighbours it meets. Two
  processes with the same seed suggested different configurations after the forest's first fit
  (tests/methods/test_smac_method.py), so a SMAC run did not reproduce. The set's order is
  arbitrary in SMAC itself; sorting its members by their vector fixes it without choosing other
  start points.
- Random forest. The facade's forest predicts with joblib threads on every core (`n_jobs=-1`),
  adding the trees' predictions into shared arrays in whatever order threads finish, and it
  competes with the trials for the cores. One thread gives the same trees (each tree's seed is
  drawn before any is fitted) and a fixed summation order; on Branin it halved SMAC's
  suggestion time on this 2-core machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from smac.acquisition.maximizer.local_search import LocalSearch


class OrderedLocalSearch(LocalSearch):
    """LocalSearch whose start points come sorted by their vector (inactive values first)."""

    def _get_initial_points(self, *args: Any, **kwargs: Any) -> list[Any]:
        points = super()._get_initial_points(*args, **kwargs)
        return sorted(points, key=lambda config: tuple(np.nan_to_num(config.get_array(), nan=-np.inf)))


def ordered_maximizer(facade: Any, scenario: Any) -> Any:
    """The facade's acquisition maximizer (LocalAndSortedRandomSearch) with an ordered local
    search; the class is swapped on the instance SMAC built, so every argument it gave stays."""
    maximizer = facade.get_acquisition_maximizer(scenario)
    local_search = maximizer._local_search
    if type(local_search) is not LocalSearch:
        raise TypeError(f"SMAC's maximizer has a {type(local_search).__name__}, not the LocalSearch expected")
    local_search.__class__ = OrderedLocalSearch
    return maximizer


def single_threaded_model(facade: Any, scenario: Any) -> Any:
    """The facade's random forest, predicting in one thread."""
    model = facade.get_model(scenario)
    options = model._rf_opts
    if options.get("n_jobs") != -1:
        raise TypeError(f"SMAC's forest options changed (n_jobs {options.get('n_jobs')!r}): check smac_parts.py")
    options["n_jobs"] = 1
    return model
