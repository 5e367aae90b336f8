"""Map configurations of a Syne Tune config space to points of [0, 1]^d and back.

The GP works on the unit cube: floats and integers take one coordinate each
(on a log scale where the domain is logarithmic), a choice takes one coordinate
per category (one-hot). Fixed values of the space take none and are filled back
in on decoding.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class _Numeric:
    """A float or integer entry: one coordinate, linear or logarithmic."""

    name: str
    lower: float
    upper: float
    log: bool
    integer: bool
    column: int

    def _bounds(self) -> tuple[float, float]:
        # Each integer owns a cell of width 1 around it, so that every value of
        # the range covers the same share of the unit interval.
        lower, upper = (self.lower - 0.5, self.upper + 0.5) if self.integer else (self.lower, self.upper)
        if self.log:
            lower, upper = math.log(lower), math.log(upper)  # an integer's lower - 0.5 is still > 0
        return lower, upper

    def encode(self, value: Any) -> float:
        lower, upper = self._bounds()
        x = math.log(float(value)) if self.log else float(value)
        return min(max((x - lower) / (upper - lower), 0.0), 1.0)

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Coordinates `u` (any shape) moved to the values `decode` would give, encoded again."""
        if not self.integer:
            return np.clip(u, 0.0, 1.0)
        lower, upper = self._bounds()
        x = lower + np.asarray(u, dtype=float) * (upper - lower)
        x = np.clip(np.round(np.exp(x) if self.log else x), self.lower, self.upper)
        x = np.log(x) if self.log else x
        return np.clip((x - lower) / (upper - lower), 0.0, 1.0)

    def decode(self, u: float) -> Any:
        lower, upper = self._bounds()
        x = lower + float(u) * (upper - lower)
        x = math.exp(x) if self.log else x
        if self.integer:
            return int(min(max(round(x), self.lower), self.upper))
        return float(min(max(x, self.lower), self.upper))


@dataclass(frozen=True)
class _OneHot:
    """A choice: one coordinate per category, decoded to the largest."""

    name: str
    categories: tuple[Any, ...]
    column: int

    def encode_into(self, value: Any, row: np.ndarray) -> None:
        row[self.column + self.index(value)] = 1.0

    def index(self, value: Any) -> int:
        for i, category in enumerate(self.categories):
            if value == category:
                return i
        # Values that travelled through a command line arrive as strings.
        for i, category in enumerate(self.categories):
            if str(value) == str(category):
                return i
        raise ValueError(f"{value!r} is not one of {self.name}'s categories {list(self.categories)}")

    def decode(self, coordinates: np.ndarray) -> Any:
        return self.categories[int(np.argmax(coordinates))]


class SpaceEncoding:
    """The unit-cube encoding of one Syne Tune config space."""

    def __init__(self, config_space: dict[str, Any]) -> None:
        from syne_tune.config_space import Categorical, Domain, Float, Integer, is_log_space

        self.fixed: dict[str, Any] = {}
        self.numeric: list[_Numeric] = []
        self.choices: list[_OneHot] = []
        column = 0
        for name, domain in config_space.items():
            if isinstance(domain, Categorical) and len(domain.categories) > 1:
                self.choices.append(_OneHot(name, tuple(domain.categories), column))
                column += len(domain.categories)
            elif isinstance(domain, Categorical):
                self.fixed[name] = domain.categories[0]
            elif isinstance(domain, (Float, Integer)):
                self.numeric.append(
                    _Numeric(
                        name,
                        float(domain.lower),
                        float(domain.upper),
                        log=is_log_space(domain),
                        integer=isinstance(domain, Integer),
                        column=column,
                    )
                )
                column += 1
            elif isinstance(domain, Domain):
                raise ValueError(f"{name}: domain {type(domain).__name__} is not supported by the GP searcher")
            else:
                self.fixed[name] = domain
        self.dimension = column
        self.searched = [entry.name for entry in self.numeric] + [entry.name for entry in self.choices]

    @property
    def one_hot_columns(self) -> list[list[int]]:
        """Column groups of each choice (a group is one categorical entry)."""
        return [list(range(c.column, c.column + len(c.categories))) for c in self.choices]

    def encode(self, config: dict[str, Any]) -> np.ndarray:
        """The point of [0, 1]^d for `config` (its searched entries)."""
        row = np.zeros(self.dimension)
        for entry in self.numeric:
            row[entry.column] = entry.encode(config[entry.name])
        for choice in self.choices:
            choice.encode_into(config[choice.name], row)
        return row

    def decode(self, point: np.ndarray) -> dict[str, Any]:
        """The configuration nearest to `point`, fixed entries included."""
        config = dict(self.fixed)
        for entry in self.numeric:
            config[entry.name] = entry.decode(point[entry.column])
        for choice in self.choices:
            config[choice.name] = choice.decode(point[choice.column : choice.column + len(choice.categories)])
        return config

    def snap(self, points: np.ndarray) -> np.ndarray:
        """`points` (a point or rows of points) moved onto values the space can take:
        floats clipped to the cube, integers rounded, one-hot made hard (the largest wins)."""
        points = np.asarray(points, dtype=float)
        snapped = np.zeros_like(points)
        for entry in self.numeric:
            snapped[..., entry.column] = entry.snap(points[..., entry.column])
        for choice in self.choices:
            block = points[..., choice.column : choice.column + len(choice.categories)]
            winner = np.argmax(block, axis=-1)[..., None]
            np.put_along_axis(snapped[..., choice.column : choice.column + len(choice.categories)], winner, 1.0, -1)
        return snapped

    def key(self, config: dict[str, Any]) -> Hashable:
        """What tells two configurations apart: their searched entries, as encoded."""
        return tuple(np.round(self.encode(config), 12))

    def sample(self, generator: np.random.Generator, n: int) -> np.ndarray:
        """`n` random points that decode to valid, uniformly drawn configurations."""
        return self.snap(generator.random((n, self.dimension)))
