"""Benchmarks and methods that installed packages register through entry points.

A package declares, in its metadata (e.g. pyproject.toml's
`[project.entry-points."hpobench.benchmarks"]`):

    hpobench.benchmarks:  name = "package.module:function"  -> BenchmarkDefinition
    hpobench.methods:     name = "package.module:function"  -> f(MethodArguments) -> scheduler

Discovery reads only metadata; a plugin is imported when it is used or listed.
A plugin that fails to load is reported as broken with its error, never
dropped silently and never fatal to `list` or `--help`; a plugin whose name is
already taken by a built-in (or by another plugin) is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

from hpobench.errors import UsageError, typed_first_line

BENCHMARK_GROUP = "hpobench.benchmarks"
METHOD_GROUP = "hpobench.methods"


@dataclass(frozen=True)
class Plugin:
    """One entry point of an installed package."""

    group: str
    name: str
    target: str  # "module:attribute"
    distribution: str  # "name version" of the package that declares it
    entry_point: Any

    @property
    def location(self) -> str:
        """`DIST VERSION (module:attribute)`."""
        return f"{self.distribution} ({self.target})"

    @property
    def source(self) -> str:
        """Where it comes from, as `list` shows it."""
        return f"plugin {self.location}"

    def load(self) -> Any:
        """The entry point's object; a UsageError saying what failed otherwise."""
        try:
            return self.entry_point.load()
        except (Exception, SystemExit) as error:  # a plugin may fail in any way while importing
            raise PluginError(self, f"cannot be imported: {typed_first_line(error)}") from None


class PluginError(UsageError):
    """A plugin that cannot be used; the message names it, its package and the problem."""

    def __init__(self, plugin: Plugin, problem: str) -> None:
        kind = "benchmark" if plugin.group == BENCHMARK_GROUP else "method"
        super().__init__(f"Plugin {kind} {plugin.name!r} from {plugin.source} {problem}")
        self.plugin = plugin
        self.problem = problem


def discover(group: str) -> list[Plugin]:
    """The entry points of `group` that installed packages declare, sorted by name."""
    from importlib.metadata import entry_points

    found = []
    for entry in entry_points(group=group):
        dist = getattr(entry, "dist", None)
        distribution = f"{dist.name} {dist.version}" if dist is not None else "unknown package"
        found.append(Plugin(group, entry.name, entry.value, distribution, entry))
    return sorted(found, key=lambda p: (p.name, p.distribution))


def names(group: str, built_in: list[str]) -> list[str]:
    """Built-in names in their order, then the names plugins register (not yet loaded)."""
    found = [p.name for p in discover(group) if p.name not in built_in]
    return list(built_in) + list(dict.fromkeys(found))


def find(group: str, name: str, built_in: list[str]) -> Optional[Plugin]:
    """The plugin registered as `name`, None if there is none; refused if the name is taken."""
    matches = [p for p in discover(group) if p.name == name]
    if not matches:
        return None
    check_name(matches[0], built_in)
    return matches[0]


def check_name(plugin: Plugin, built_in: list[str]) -> None:
    """Refuse a plugin whose name a built-in or another plugin already has."""
    if plugin.name in built_in:
        raise PluginError(plugin, "has the name of a built-in one, which wins; rename the entry point")
    others = [p for p in discover(plugin.group) if p.name == plugin.name and p != plugin]
    if others:
        rivals = ", ".join(p.distribution for p in others)
        raise PluginError(plugin, f"is also registered by {rivals}; uninstall or rename one")


def load_benchmark(plugin: Plugin) -> Any:
    """Call the plugin's factory; its definition, marked as coming from the plugin."""
    from dataclasses import replace

    from pydantic import ValidationError

    from hpobench.benchmarks.definition import BenchmarkDefinition

    factory = plugin.load()
    try:
        definition = factory()
    except ValidationError as error:
        # The model's own message for its first problem names the field and the fix.
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = first["msg"].removeprefix("Value error, ")
        raise PluginError(plugin, f"failed to build its definition: {f'{where}: ' if where else ''}{problem}") from None
    except (Exception, SystemExit) as error:
        raise PluginError(plugin, f"failed to build its definition: {typed_first_line(error)}") from None
    if not isinstance(definition, BenchmarkDefinition):
        raise PluginError(plugin, f"returned {type(definition).__name__}, not a BenchmarkDefinition")
    if definition.name != plugin.name:
        raise PluginError(plugin, f"returned a benchmark named {definition.name!r}; the names must match")
    definition = definition.with_origin(replace(definition.origin, kind="plugin", location=plugin.location))
    if not definition.script_path.is_file():
        raise PluginError(
            plugin,
            f"names script {definition.script!r}, not found at {definition.script_path}; "
            "return definition.located(FOLDER) with the script's folder",
        )
    return definition


def load_method(plugin: Plugin) -> Any:
    """The plugin's scheduler factory as a MethodSpec."""
    from hpobench.methods.spec import MethodSpec

    factory: Callable[..., Any] = plugin.load()
    if not callable(factory):
        raise PluginError(plugin, f"is a {type(factory).__name__}, not a callable")
    return MethodSpec(
        name=plugin.name,
        family=str(getattr(factory, "family", "plugin")),
        multi_fidelity=bool(getattr(factory, "multi_fidelity", False)),
        needs="-",  # its package's own requirements travel with it (remote/sagemaker/user_code.py)
        factory=factory,
    )


@dataclass(frozen=True)
class Surveyed:
    """A plugin as `list` shows it: what it registers, or why it cannot be used."""

    plugin: Plugin
    value: Any = None  # a BenchmarkDefinition or a MethodSpec
    error: str = ""


def survey(group: str, built_in: list[str]) -> list[Surveyed]:
    """Every plugin of `group`, loaded; a broken one carries its error instead."""
    load = load_benchmark if group == BENCHMARK_GROUP else load_method
    surveyed = []
    for plugin in discover(group):
        try:
            check_name(plugin, built_in)
            surveyed.append(Surveyed(plugin, value=load(plugin)))
        except PluginError as error:
            surveyed.append(Surveyed(plugin, error=error.problem))
    return surveyed
