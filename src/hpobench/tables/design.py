"""The fixed, seeded design a table evaluates: N configurations of a benchmark's search space.

A design is points of the unit cube, one coordinate per searched entry, drawn by a scrambled
Sobol sequence (`scipy.stats.qmc.Sobol(scramble=True, seed=...)`: low discrepancy, the usual
choice for a table meant to cover a space) or uniformly at random (numpy's generator of the same
seed), then mapped through each entry's domain (`benchmarks.space`):

- uniform: linearly; loguniform: linearly in log space;
- randint: the unit interval cut into upper - lower + 1 equal bins (every integer equally
  likely; rounding would give the two ends half a share each); lograndint: log-uniform on
  [lower, upper + 1), floored, as Syne Tune samples it;
- choice: the unit interval cut into one bin per category, in order;
- fixed entries are kept as they are.

Repeated configurations (a small integer or categorical space) are dropped and more points are
drawn, so a design has N distinct configurations when the space holds that many. The same
(space, N, kind, seed) always gives the same design; `Design.sha256` names it.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpobench.benchmarks.space import Choice, ConfigEntry, LogRandInt, LogUniform, RandInt, Uniform, is_domain
from hpobench.errors import UsageError

DESIGNS = ("sobol", "random")
DEFAULT_DESIGN = "sobol"
DEFAULT_DESIGN_SEED = 0
# Draws tried before concluding that the space holds fewer distinct configurations than asked.
MAX_DRAW_ROUNDS = 20


@dataclass(frozen=True)
class Design:
    """N configurations (fixed entries included), in the order they are evaluated."""

    kind: str
    seed: int
    requested: int
    configs: tuple[dict[str, Any], ...]

    @property
    def note(self) -> str:
        """What a user should know of this design, or ''."""
        notes = []
        if len(self.configs) < self.requested:
            notes.append(f"the space holds only {len(self.configs)} distinct configurations, not {self.requested}")
        if self.kind == "sobol" and self.requested & (self.requested - 1):
            notes.append(
                f"a Sobol design is balanced at a power of two configurations; {self.requested} is not one "
                f"(e.g. {1 << (self.requested - 1).bit_length()})"
            )
        return "; ".join(notes)

    def sha256(self) -> str:
        """Names the design: equal hashes, equal configurations in the same order."""
        text = json.dumps([self.kind, self.seed, list(self.configs)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def make_design(space: Mapping[str, ConfigEntry], configs: int, kind: str = DEFAULT_DESIGN, seed: int = 0) -> Design:
    """The `configs` configurations of `space` that design `kind` with `seed` gives."""
    if kind not in DESIGNS:
        raise UsageError(f"Unknown design {kind!r}; choose from: {', '.join(DESIGNS)}")
    if configs < 1:
        raise UsageError(f"Invalid --configs {configs}: a table needs at least 1 configuration")
    searched = {name: column for column, name in enumerate(n for n, entry in space.items() if is_domain(entry))}
    draw = _sampler(kind, len(searched), seed)
    found: dict[str, dict[str, Any]] = {}
    for _ in range(MAX_DRAW_ROUNDS):
        for point in draw(configs):
            config = {
                name: _map(entry, float(point[searched[name]])) if name in searched else entry
                for name, entry in space.items()
            }
            found.setdefault(json.dumps(config, sort_keys=True), config)
            if len(found) == configs:
                break
        if len(found) == configs or not searched:
            break
    return Design(kind, seed, configs, tuple(found.values()))


def _sampler(kind: str, dimensions: int, seed: int) -> Any:
    """A function drawing the next n points of the unit cube (a continuing sequence)."""
    import numpy as np

    if dimensions == 0:
        return lambda n: np.zeros((n, 0))
    if kind == "random":
        generator = np.random.default_rng(seed)
        return lambda n: generator.random((n, dimensions))
    from scipy.stats import qmc

    sobol = qmc.Sobol(d=dimensions, scramble=True, seed=seed)

    def next_points(n: int) -> Any:
        with warnings.catch_warnings():  # Design.note says it once, in hpobench's words
            warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
            return sobol.random(n)

    return next_points


def _map(entry: Any, u: float) -> Any:
    """The value of domain `entry` at `u` in [0, 1)."""
    if isinstance(entry, LogUniform):
        low, high = math.log(entry.lower), math.log(entry.upper)
        return min(max(math.exp(low + u * (high - low)), entry.lower), entry.upper)
    if isinstance(entry, Uniform):
        return entry.lower + u * (entry.upper - entry.lower)
    if isinstance(entry, LogRandInt):
        low, high = math.log(entry.lower), math.log(entry.upper + 1)
        return min(max(math.floor(math.exp(low + u * (high - low))), entry.lower), entry.upper)
    if isinstance(entry, RandInt):
        return min(entry.lower + int(u * (entry.upper - entry.lower + 1)), entry.upper)
    if isinstance(entry, Choice):
        return entry.categories[min(int(u * len(entry.categories)), len(entry.categories) - 1)]
    raise TypeError(f"no design mapping for {type(entry).__name__}")
