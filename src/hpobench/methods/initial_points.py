"""The configurations a method evaluates first: the seed's default configuration, or the
benchmark's `points_to_evaluate`, each completed by the same rule.

At 145f8020 (the seed's Syne Tune), `points_to_evaluate=None` became `[{}]`: every
searcher's first configuration was the *default configuration*, each searched entry at
the middle of its range (`searchers/searcher.py`, `impute_points_to_evaluate`). Syne Tune
0.16 dropped that default (None means no initial point), so hpobench restores it here,
once, for every method: `MethodArguments` resolves its points with `initial_points`.

The rule, as the seed's `_non_default_config`:

- a float or integer: the midpoint of [lower, upper], geometric for a log domain; an
  integer is rounded to the nearest (Python's `round`, as `Integer.cast`), then clipped;
- a categorical: its first category; an ordinal (ordered categorical): its middle one,
  `categories[n // 2]`; a nearest-neighbour ordinal: the category nearest the midpoint of
  its numeric values.

A given point may name only some entries: the others take the default value. Points that
end up identical are evaluated once. Fixed entries are not part of a point (the scheduler
adds them), as in the seed.
"""

from __future__ import annotations

import math
from typing import Any, Optional


def default_value(domain: Any) -> Any:
    """The seed's default for one searched entry (a Syne Tune domain)."""
    from syne_tune.config_space import Categorical, Ordinal, OrdinalNearestNeighbor, is_log_space

    if isinstance(domain, Categorical):
        if not isinstance(domain, Ordinal):
            return domain.categories[0]
        if not isinstance(domain, OrdinalNearestNeighbor):
            return domain.categories[len(domain.categories) // 2]
        lower, upper = float(domain.categories[0]), float(domain.categories[-1])
    else:
        lower, upper = float(domain.lower), float(domain.upper)
    if is_log_space(domain):
        middle = math.exp(0.5 * (math.log(lower) + math.log(upper)))
    else:
        middle = 0.5 * (lower + upper)
    value = domain.cast(middle)  # an integer rounds; a nearest-neighbour ordinal snaps
    if isinstance(domain, Categorical):
        return value
    return min(max(value, domain.value_type(lower)), domain.value_type(upper))


def default_configuration(config_space: dict[str, Any]) -> dict[str, Any]:
    """The default configuration: every searched entry of `config_space` at its default."""
    from syne_tune.config_space import Domain

    return {name: default_value(domain) for name, domain in config_space.items() if isinstance(domain, Domain)}


def initial_points(
    points_to_evaluate: Optional[list[dict[str, Any]]], config_space: dict[str, Any]
) -> list[dict[str, Any]]:
    """The searched entries of each point to evaluate first, completed and without repeats.

    None: the default configuration alone (the seed's default); []: none.
    A value outside its domain is a ValueError naming the entry."""
    from syne_tune.config_space import Categorical, Domain

    if points_to_evaluate is None:
        points_to_evaluate = [{}]
    default = default_configuration(config_space)
    points: list[dict[str, Any]] = []
    for point in points_to_evaluate:
        completed = dict(default)
        for name, value in point.items():
            domain = config_space.get(name)
            if not isinstance(domain, Domain):
                continue  # a fixed entry, or none of this space: the scheduler sets it
            value = domain.cast(value)
            inside = (
                value in domain.categories if isinstance(domain, Categorical) else domain.lower <= value <= domain.upper
            )
            if not inside:
                raise ValueError(f"points_to_evaluate: {name}={value!r} is outside its domain {domain}")
            completed[name] = value
        if completed not in points:
            points.append(completed)
    return points
