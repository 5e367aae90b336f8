"""The source archive every SageMaker job of a launch shares.

It holds hpobench itself (with only the benchmark's training-script folder, or a
file-defined benchmark's folder and the packages of plugin methods: see
`user_code`), a tiny entry script, and a `requirements.txt` that merges hpobench's runtime
requirements with the script's own. Everything is composed in a temporary
staging folder (never in the source tree) and packed reproducibly, so the same
sources give the same bytes, hence the same content-addressed S3 key.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.errors import UsageError

ENTRY_SCRIPT = "hpobench_entry.py"
REQUIREMENTS_FILE = "requirements.txt"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent

# Needed only to *launch* jobs, not inside them: the container runs the local launcher.
LAUNCH_ONLY_REQUIREMENTS = frozenset({"sagemaker", "boto3", "moto"})

# Never packed: version control, virtual environments, caches, and anything that
# may hold secrets (dotenv files, AWS/SSH folders, key files).
IGNORED_NAMES = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "env", ".env", ".envrc", ".aws", ".ssh",
     "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints",
     ".DS_Store", "credentials", ".netrc", ".pypirc", "hpobench.toml"}
)  # fmt: skip
IGNORED_SUFFIXES = (".pyc", ".pyo", ".pem", ".key", ".egg-info")

_ENTRY_SOURCE = '''\
"""Entry of hpobench's SageMaker jobs: run one (method, seed) with the local launcher."""

from hpobench.remote.entry import main

if __name__ == "__main__":
    main()
'''


@dataclass(frozen=True)
class SourceBundle:
    """A packed source archive: its bytes, content hash and merged requirements."""

    data: bytes
    sha256: str
    requirements: list[str]

    @property
    def file_name(self) -> str:
        """Content-addressed name: same sources, same name."""
        return f"hpobench-source-{self.sha256[:16]}.tar.gz"


def build_bundle(benchmark: BenchmarkDefinition, methods: Iterable[str] = ()) -> SourceBundle:
    """Stage hpobench, the benchmark's script folder, the packages of plugin `methods`
    and merged requirements; pack them."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hpobench-stage-") as tmp:
        stage = Path(tmp)
        requirements = stage_sources(benchmark, stage, methods)
        data = pack(stage)
    return SourceBundle(data, hashlib.sha256(data).hexdigest(), requirements)


def stage_sources(
    benchmark: BenchmarkDefinition, stage: Path, methods: Iterable[str] = ()
) -> list[str]:
    """Lay out the archive's contents in `stage`; returns the merged requirements."""
    from hpobench.remote import user_code

    package = stage / "hpobench"
    copy_filtered(_PACKAGE_DIR, package, skip_top=("training_scripts",))
    script_dir = benchmark.script_dir
    if benchmark.origin.kind == "built-in":
        # The packaged layout (hpobench/training_scripts/...) is what paths.py looks for first.
        relative = script_dir.relative_to(script_dir.parent)
        copy_filtered(script_dir, package / "training_scripts" / relative)
    else:
        user_code.stage_benchmark(benchmark, stage, copy_filtered)
    plugin_requirements = user_code.stage_plugin_methods(methods, stage, copy_filtered)
    (stage / ENTRY_SCRIPT).write_text(_ENTRY_SOURCE)
    script_requirements = script_dir / REQUIREMENTS_FILE
    own = [r for r in hpobench_requirements() if _name(r) not in LAUNCH_ONLY_REQUIREMENTS]
    theirs = _read_lines(script_requirements) if script_requirements.is_file() else []
    merged = merge_requirements(own, theirs, plugin_requirements)
    (stage / REQUIREMENTS_FILE).write_text("\n".join(merged) + "\n")
    return merged


def copy_filtered(source: Path, destination: Path, skip_top: Iterable[str] = ()) -> None:
    """Copy a folder without version control, environments, caches or secret files."""
    skip = set(skip_top)

    def ignore(folder: str, names: list[str]) -> set[str]:
        ignored = {n for n in names if is_ignored(n)}
        if Path(folder) == source:
            ignored |= skip & set(names)
        return ignored

    shutil.copytree(source, destination, ignore=ignore, symlinks=False)


def is_ignored(name: str) -> bool:
    """Whether a file or folder name must stay out of the archive."""
    return name in IGNORED_NAMES or name.startswith(".env") or name.endswith(IGNORED_SUFFIXES)


def pack(stage: Path) -> bytes:
    """A gzipped tar of `stage`, byte-for-byte reproducible (sorted, no times or owners)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(stage.rglob("*")):
            if not path.is_file():
                continue
            info = tarfile.TarInfo(path.relative_to(stage).as_posix())
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    # gzip's header would otherwise carry the current time.
    return gzip.compress(raw.getvalue(), mtime=0)


def hpobench_requirements() -> list[str]:
    """hpobench's runtime requirements (no extras): from the checkout's pyproject.toml
    when running from a source tree, else from the installed distribution."""
    pyproject = _PACKAGE_DIR.parent.parent / "pyproject.toml"
    if pyproject.is_file():
        found = _pyproject_requirements(pyproject)
        if found is not None:
            return found
    from importlib.metadata import PackageNotFoundError, requires

    try:
        listed = requires("hpobench") or []
    except PackageNotFoundError:
        return []
    return [r for r in listed if "extra" not in r.partition(";")[2]]


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
                raise UsageError(
                    f"Conflicting sources for {requirement.name}: {known.url}, {requirement.url}"
                )
            known.url = known.url or requirement.url
            known.specifier &= requirement.specifier
            known.extras |= requirement.extras
    return [str(merged[key]) for key in sorted(merged)]


def _name(line: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(line).name)


def _read_lines(path: Path) -> list[str]:
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
