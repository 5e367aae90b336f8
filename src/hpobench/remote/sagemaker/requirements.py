"""What a SageMaker job installs: its `requirements.txt` and `constraints.txt`.

The container's driver runs `pip install -r requirements.txt` over the framework
image. A job needs only the training script's own requirements plus what
hpobench's in-container code imports (the local launcher, and what the chosen
methods need); launch-only packages (sagemaker, boto3), plotting and the CLI stay
out. The packages the image ships are pinned in `constraints.txt`, which
`requirements.txt` names first, so pip never replaces the image's PyTorch.

Syne Tune depends on xgboost, whose Linux wheel pulls NVIDIA's NCCL (469 MB), but
only the methods that list xgboost in `MethodSpec.needs` use it. Otherwise
`requirements.txt` lists Syne Tune's other dependencies, and Syne Tune itself goes
into `requirements-no-deps.txt`, which the job's entry installs with `--no-deps`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hpobench.errors import UsageError
from hpobench.paths import PACKAGE_DIR

REQUIREMENTS_FILE = "requirements.txt"
CONSTRAINTS_FILE = "constraints.txt"
NO_DEPS_FILE = "requirements-no-deps.txt"
# Dependencies a package declares that a job installs only when a method needs them.
UNLESS_NEEDED = {"syne-tune": frozenset({"xgboost"})}

# The distributions hpobench's in-container code (remote/sagemaker/entry.py, the local launcher,
# settings, methods' schedulers) imports; their specifiers come from pyproject.toml.
IN_CONTAINER = ("syne-tune", "pydantic", "pydantic-settings", "numpy", "pandas", "tomli")
# On an image without PyTorch (scikit-learn's, CPU only), a job that needs it (BoTorch
# methods) takes PyTorch's CPU wheels: PyPI's Linux wheels bring GBs of CUDA libraries.
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
NEEDS_TORCH = frozenset({"torch", "torchvision", "botorch", "gpytorch"})


@dataclass(frozen=True)
class JobRequirements:
    """The two files the job's pip reads."""

    requirements: list[str]  # without the constraints and index lines
    constraints: list[str]
    extra_index_urls: tuple[str, ...] = ()
    no_deps: tuple[str, ...] = ()  # installed without their dependencies, by the entry

    def no_deps_text(self) -> str:
        return "\n".join(self.no_deps) + "\n"

    def requirements_text(self) -> str:
        lines = [f"--extra-index-url {url}" for url in self.extra_index_urls]
        lines += ([f"-c {CONSTRAINTS_FILE}"] if self.constraints else []) + self.requirements
        return "\n".join(lines) + "\n"

    def constraints_text(self) -> str:
        return "\n".join(self.constraints) + "\n"


def job_requirements(script_dir: Path, method_needs: Iterable[str], constraints: Iterable[str]) -> JobRequirements:
    """Requirements of a job running a script from `script_dir` with methods needing
    `method_needs` (MethodSpec.needs) on an image shipping `constraints`."""
    own = {_name(r): r for r in hpobench_requirements()}
    needed = [own[name] for name in IN_CONTAINER if name in own]
    for needs in method_needs:  # e.g. "-", "botorch", "huggingface_hub, xgboost"
        for need in (part.strip() for part in needs.split(",")):
            if need and need != "-":
                needed.append(own.get(_name(need), need))
    script_file = script_dir / REQUIREMENTS_FILE
    theirs = read_requirements_file(script_file) if script_file.is_file() else []
    merged, no_deps = _without_unneeded_dependencies(merge_requirements(needed, theirs))
    pins = list(constraints)
    check_against_image(merged, pins)
    names = {_name(line) for line in merged}
    image_has_torch = "torch" in {_name(pin) for pin in pins}
    extra = (CPU_TORCH_INDEX,) if names & NEEDS_TORCH and not image_has_torch else ()
    return JobRequirements(merged, pins, extra, no_deps)


def _without_unneeded_dependencies(merged: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """Move a package whose declared dependencies include some nobody needs to the
    no-deps list, and list its other dependencies instead (as installed here)."""
    from importlib.metadata import PackageNotFoundError, requires

    names = {_name(line): line for line in merged}
    no_deps: list[str] = []
    for package, unneeded in UNLESS_NEEDED.items():
        if package not in names or unneeded & names.keys():
            continue
        try:
            declared = requires(package) or []
        except PackageNotFoundError:  # not installed here: leave pip to it
            continue
        kept = [r for r in without_extras(declared) if _name(r) not in unneeded]
        no_deps.append(names.pop(package))
        merged = merge_requirements(list(names.values()), kept)
        names = {_name(line): line for line in merged}
    return merged, tuple(no_deps)


def check_against_image(requirements: list[str], pins: list[str]) -> None:
    """UsageError when a requirement cannot be met by the version the image ships."""
    from packaging.requirements import Requirement

    shipped = {_name(p): Requirement(p) for p in pins}
    for line in requirements:
        requirement = Requirement(line)
        pin = shipped.get(_name(line))
        if pin is None or not requirement.specifier:
            continue
        if not any(requirement.specifier.contains(v, prereleases=True) for v in _versions(pin)):
            raise UsageError(
                f"The job requires {line}, but its image ships {pin} (kept, so pip does not "
                "replace it); relax the requirement or set framework_version in the "
                "benchmark's estimator_kwargs"
            )


def _versions(pin) -> list[str]:
    """Versions a pin such as 'torch==2.5.1' or 'torchvision==0.20.*' stands for."""
    (spec,) = list(pin.specifier)
    if spec.version.endswith(".*"):
        stem = spec.version[:-2]
        return [f"{stem}.{patch}" for patch in range(30)]  # any patch release
    return [spec.version]


def hpobench_requirements() -> list[str]:
    """hpobench's runtime requirements (no extras): from the checkout's pyproject.toml
    when running from a source tree, else from the installed distribution."""
    pyproject = PACKAGE_DIR.parent.parent / "pyproject.toml"
    if pyproject.is_file():
        found = _pyproject_requirements(pyproject)
        if found is not None:
            return found
    from importlib.metadata import PackageNotFoundError, requires

    try:
        listed = requires("hpobench") or []
    except PackageNotFoundError:
        return []
    return without_extras(listed)


def without_extras(requirements: list[str]) -> list[str]:
    """Requirements that hold whatever extras were asked for (no `extra == ...` marker)."""
    return [r for r in requirements if "extra" not in r.partition(";")[2]]


def _pyproject_requirements(pyproject: Path) -> Optional[list[str]]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    project = tomllib.loads(pyproject.read_text()).get("project", {})
    if project.get("name") != "hpobench":
        return None
    return list(project.get("dependencies", []))


def merge_requirements(*groups: Iterable[str]) -> list[str]:
    """Union of requirement lists, merged by project name (and marker): specifiers are
    intersected and extras united, so each project appears once; sorted by name."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    merged: dict[tuple[str, str], Requirement] = {}
    for group in groups:
        for line in group:
            try:
                requirement = Requirement(line)
            except InvalidRequirement as error:
                raise UsageError(f"Invalid requirement {line!r}: {error}") from None
            key = (canonicalize_name(requirement.name), str(requirement.marker or ""))
            if key not in merged:
                merged[key] = requirement
                continue
            known = merged[key]
            if requirement.url and known.url and requirement.url != known.url:
                raise UsageError(f"Conflicting sources for {requirement.name}: {known.url}, {requirement.url}")
            known.url = known.url or requirement.url
            known.specifier &= requirement.specifier
            known.extras |= requirement.extras
    return [str(merged[key]) for key in sorted(merged)]


def _name(line: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(line).name)


def read_requirements_file(path: Path) -> list[str]:
    """Requirement lines of a requirements.txt, without comments and blank lines."""
    lines = []
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            if line.startswith("-"):
                raise UsageError(
                    f"{path}: pip options like {line.split()[0]} are not supported in a "
                    "training script's requirements.txt; list plain requirements"
                )
            lines.append(line)
    return lines
