"""A light, serializable description of a search space.

Benchmark definitions are listed and validated on every CLI call, so they must
not import Syne Tune (slow). Each domain here converts to its Syne Tune
counterpart only when a tuner is built.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Domain(BaseModel):
    """A searched entry; each kind converts itself with `to_syne_tune()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Uniform(_Domain):
    """A float drawn uniformly from [lower, upper]."""

    kind: Literal["uniform"] = "uniform"
    lower: float
    upper: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        _check_bounds(self.lower, self.upper)
        return self

    def to_syne_tune(self) -> Any:
        from syne_tune.config_space import uniform

        return uniform(self.lower, self.upper)


class LogUniform(Uniform):
    """A float drawn uniformly on a log scale from [lower, upper]."""

    kind: Literal["loguniform"] = "loguniform"  # type: ignore[assignment]  # pydantic's tag

    @model_validator(mode="after")
    def _positive(self) -> LogUniform:
        if self.lower <= 0:
            raise ValueError("loguniform needs a positive lower bound")
        return self

    def to_syne_tune(self) -> Any:
        from syne_tune.config_space import loguniform

        return loguniform(self.lower, self.upper)


class RandInt(_Domain):
    """An integer drawn uniformly from [lower, upper] (both included)."""

    kind: Literal["randint"] = "randint"
    lower: int
    upper: int

    @model_validator(mode="after")
    def _ordered(self) -> RandInt:
        _check_bounds(self.lower, self.upper)
        return self

    def to_syne_tune(self) -> Any:
        from syne_tune.config_space import randint

        return randint(self.lower, self.upper)


class LogRandInt(RandInt):
    """An integer drawn on a log scale from [lower, upper] (both included)."""

    kind: Literal["lograndint"] = "lograndint"  # type: ignore[assignment]  # pydantic's tag

    @model_validator(mode="after")
    def _positive(self) -> LogRandInt:
        if self.lower <= 0:
            raise ValueError("lograndint needs a positive lower bound")
        return self

    def to_syne_tune(self) -> Any:
        from syne_tune.config_space import lograndint

        return lograndint(self.lower, self.upper)


class Choice(_Domain):
    """One of a fixed list of categories."""

    kind: Literal["choice"] = "choice"
    categories: tuple[Union[int, float, str], ...]

    @model_validator(mode="after")
    def _non_empty(self) -> Choice:
        if len(self.categories) < 1:
            raise ValueError("choice needs at least one category")
        return self

    def to_syne_tune(self) -> Any:
        from syne_tune.config_space import choice

        return choice(list(self.categories))


def _check_bounds(lower: float, upper: float) -> None:
    if not lower < upper:
        raise ValueError(f"lower bound {lower} must be below upper bound {upper}")


Domain = Annotated[Union[LogUniform, Uniform, LogRandInt, RandInt, Choice], Field(discriminator="kind")]
FixedValue = Union[bool, int, float, str]
ConfigEntry = Union[Domain, FixedValue]


def is_domain(entry: object) -> bool:
    """True for a searched entry, False for a fixed value."""
    return isinstance(entry, _Domain)


def to_syne_tune_space(space: dict[str, ConfigEntry]) -> dict[str, Any]:
    """The Syne Tune config space with the same entries (imports Syne Tune)."""
    return {name: entry.to_syne_tune() if isinstance(entry, _Domain) else entry for name, entry in space.items()}
