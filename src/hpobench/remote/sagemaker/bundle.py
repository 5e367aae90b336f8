"""The source archive every SageMaker job of a launch shares.

It holds hpobench itself (with only the benchmark's training-script folder, as
`archive_rules` selects it, and the `trial_support.py` beside it, if any; a
file-defined or plugin benchmark's folder and definition, and plugin methods' packages:
see `user_code`), a tiny entry script, the job's `requirements.txt` and the
`constraints.txt` it names. Everything is composed in a temporary
staging folder (never in the source tree) and packed reproducibly, so the same
sources give the same bytes, hence the same content-addressed S3 key.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.paths import PACKAGE_DIR, TRIAL_SUPPORT
from hpobench.remote.sagemaker.archive_rules import Selection, select_files, select_script_folder
from hpobench.remote.sagemaker.requirements import CONSTRAINTS_FILE, NO_DEPS_FILE, REQUIREMENTS_FILE, JobRequirements

ENTRY_SCRIPT = "hpobench_entry.py"
PACKAGE_FOLDER = "hpobench"

_ENTRY_SOURCE = f'''\
"""Entry of hpobench's SageMaker jobs: run one (method, seed) with the local launcher."""

import subprocess
import sys
from pathlib import Path

# SageMaker's driver installed requirements.txt; these go in without their dependencies.
NO_DEPS = Path(__file__).with_name("{NO_DEPS_FILE}")
if NO_DEPS.is_file():
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", "-r", str(NO_DEPS)])

from hpobench.remote.sagemaker.entry import main  # noqa: E402

if __name__ == "__main__":
    main()
'''


@dataclass(frozen=True)
class SourceBundle:
    """A packed source archive: its bytes, content hash and member names."""

    data: bytes
    sha256: str
    files: list[str]

    @property
    def file_name(self) -> str:
        """Content-addressed name: same sources, same name."""
        return f"hpobench-source-{self.sha256[:16]}.tar.gz"


def build_bundle(
    benchmark: BenchmarkDefinition, requirements: JobRequirements, methods: Iterable[str] = ()
) -> SourceBundle:
    """Stage hpobench, the benchmark's script folder, the packages of plugin `methods`
    and the job's requirements; pack them."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hpobench-stage-") as tmp:
        stage = Path(tmp)
        stage_sources(benchmark, requirements, stage, methods)
        data, files = pack(stage)
    return SourceBundle(data, hashlib.sha256(data).hexdigest(), files)


def stage_sources(
    benchmark: BenchmarkDefinition, requirements: JobRequirements, stage: Path, methods: Iterable[str] = ()
) -> None:
    """Lay out the archive's contents in `stage`."""
    from hpobench.remote.sagemaker import user_code

    package = select_files(PACKAGE_DIR, use_ignore_files=False)
    package.files = [f for f in package.files if f.relative.parts[0] != "training_scripts"]
    copy_selection(package, stage / PACKAGE_FOLDER)
    copy_selection(select_script_folder(benchmark.script_dir), stage / script_destination(benchmark))
    # The built-in scripts' helper sits beside their folder (and beside a copied one's).
    shared = benchmark.script_dir.parent / TRIAL_SUPPORT
    if shared.is_file():
        shutil.copyfile(shared, stage / script_destination(benchmark).parent / TRIAL_SUPPORT)
    if benchmark.origin.kind != "built-in":
        user_code.stage_definition(benchmark, stage)
    user_code.stage_plugin_methods(methods, stage, copy_folder)
    (stage / ENTRY_SCRIPT).write_text(_ENTRY_SOURCE)
    (stage / REQUIREMENTS_FILE).write_text(requirements.requirements_text())
    if requirements.constraints:
        (stage / CONSTRAINTS_FILE).write_text(requirements.constraints_text())
    if requirements.no_deps:
        (stage / NO_DEPS_FILE).write_text(requirements.no_deps_text())


def script_destination(benchmark: BenchmarkDefinition) -> PurePosixPath:
    """Where the script folder lands in the archive: for a built-in, the packaged layout
    (hpobench/training_scripts/NAME/) that paths.py looks for first; for a file-defined
    or plugin benchmark, its place beside its staged definition (see `user_code`)."""
    if benchmark.origin.kind != "built-in":
        from hpobench.remote.sagemaker.user_code import staged_script_folder

        return staged_script_folder(benchmark)
    return PurePosixPath(PACKAGE_FOLDER, "training_scripts", benchmark.script_dir.name)


def copy_folder(source: Path, destination: Path) -> None:
    """Copy what the archive rules let through of a package folder (no ignore files)."""
    copy_selection(select_files(source, use_ignore_files=False), destination)


def copy_selection(selection: Selection, destination: Path) -> None:
    """Copy the selected files below `destination`, keeping their relative paths."""
    for item in selection.files:
        target = destination.joinpath(*item.relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item.path, target)


def pack(stage: Path) -> tuple[bytes, list[str]]:
    """A gzipped tar of `stage`, byte-for-byte reproducible (sorted, no times or owners),
    and its member names."""
    raw = io.BytesIO()
    names: list[str] = []
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(stage.rglob("*")):
            if not path.is_file():
                continue
            info = tarfile.TarInfo(path.relative_to(stage).as_posix())
            names.append(info.name)
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    # gzip's header would otherwise carry the current time.
    return gzip.compress(raw.getvalue(), mtime=0), names
