"""The training image of a benchmark's framework, and the packages that image ships.

Images resolve offline from the SageMaker SDK's bundled tables. A benchmark's
`framework` names one of `FRAMEWORKS`; `estimator_kwargs` may fix
`framework_version` (and `py_version`, or `pytorch_version` for HuggingFace),
else the newest release the SDK lists *for the instance's processor* is used.
The packages the image ships are pinned through a constraints file, so pip
never replaces the image's PyTorch (and its CUDA build) while installing a job's
requirements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from hpobench.errors import UsageError

# Benchmark `framework` (lower-cased) -> the SDK's framework name.
FRAMEWORKS = {"pytorch": "pytorch", "sklearn": "sklearn", "scikit-learn": "sklearn", "huggingface": "huggingface"}
_RELEASE = re.compile(r"^\d+\.\d+[.-]\d+$")  # 2.5.1 (PyTorch, HuggingFace), 1.2-1 (scikit-learn)


@dataclass(frozen=True)
class TrainingImage:
    """A framework image and the package versions it ships."""

    uri: str
    framework: str  # the SDK's name
    version: str
    constraints: tuple[str, ...]  # pip constraints: what the image ships, pinned


def training_image(framework: str, estimator_kwargs: dict[str, Any], region: str, instance_type: str) -> TrainingImage:
    """The image for this framework, region and instance type (offline); UsageError if none."""
    name = FRAMEWORKS.get(framework.lower())
    if name is None:
        raise UsageError(
            f"Unsupported framework {framework!r}: launch-remote supports PyTorch, SKLearn "
            "and HuggingFace images; set the benchmark's framework to one of them"
        )
    pinned = estimator_kwargs.get("framework_version")
    candidates = [pinned] if pinned else _releases_newest_first(name)
    errors = []
    for version in candidates:
        try:
            return _retrieve(name, str(version), estimator_kwargs, region, instance_type)
        except ValueError as error:
            errors.append(f"{version}: {' '.join(str(error).split())}")
    raise UsageError(
        f"No {framework} training image for {instance_type} in {region} "
        f"({'; '.join(errors[:2]) or 'no versions listed'}); choose another instance type "
        "or framework_version"
    )


def _releases_newest_first(name: str) -> list[str]:
    """The SDK's full releases of a framework (not x.y aliases), newest first."""
    from packaging.version import Version
    from sagemaker.core import image_uris

    versions = image_uris.list_versions(name, image_scope="training")
    releases = [v for v in versions if _RELEASE.match(v)]
    return sorted(releases, key=lambda v: Version(v.replace("-", ".")), reverse=True)


def _retrieve(name: str, version: str, kwargs: dict[str, Any], region: str, instance_type: str) -> TrainingImage:
    from sagemaker.core import image_uris

    base: Optional[str] = None
    py_version: Optional[str]
    if name == "huggingface":
        base, py_version = _huggingface_base(version, kwargs.get("pytorch_version"))
    else:
        listed = image_uris.list_py_versions(name, version, image_scope="training")
        py_version = kwargs.get("py_version") or (listed[-1] if listed else None)
    uri = image_uris.retrieve(
        framework=name,
        region=region,
        version=version,
        py_version=py_version,
        instance_type=instance_type,
        image_scope="training",
        base_framework_version=base,
    )
    return TrainingImage(str(uri), name, version, shipped_packages(name, version, base))


def _huggingface_base(version: str, pytorch_version: Optional[str]) -> tuple[str, str]:
    """The PyTorch base (e.g. 'pytorch2.9.0') of a transformers image, and its Python."""
    from packaging.version import Version
    from sagemaker.core import image_uris

    table = image_uris.config_for_framework("huggingface")["training"]["versions"]
    entry = table.get(version)
    if entry is None:
        raise ValueError(f"transformers {version} is not listed")
    bases = [k for k in entry if k.startswith("pytorch") and _RELEASE.match(k[len("pytorch") :])]
    if pytorch_version:
        bases = [b for b in bases if b == f"pytorch{pytorch_version}"]
    if not bases:
        raise ValueError(f"no PyTorch base image for transformers {version}")
    base = max(bases, key=lambda b: Version(b[len("pytorch") :]))
    return base, entry[base]["py_versions"][-1]


def shipped_packages(name: str, version: str, base: Optional[str] = None) -> tuple[str, ...]:
    """Pins of the packages an image ships (its framework, and PyTorch's companions)."""
    if name == "sklearn":
        major_minor = version.split("-")[0]  # 1.2-1: scikit-learn 1.2, image revision 1
        return (f"scikit-learn=={major_minor}.*",)
    torch = base[len("pytorch") :] if base else version
    pins = _torch_pins(torch)
    if name == "huggingface":
        pins = (f"transformers=={version}", *pins)
    return pins


def _torch_pins(version: str) -> tuple[str, ...]:
    """torch itself, and the torchvision / torchaudio releases built against it."""
    major, minor = (int(part) for part in version.split(".")[:2])
    # torchvision 0.(minor+15) goes with torch 2.minor (0.14 with 1.13); torchaudio
    # shares torch's version from 2.0 on.
    vision = minor + 15 if major == 2 else minor + 1
    pins = [f"torch=={version}", f"torchvision==0.{vision}.*"]
    if major == 2:
        pins.append(f"torchaudio=={major}.{minor}.*")
    return tuple(pins)
