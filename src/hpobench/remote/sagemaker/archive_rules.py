"""Which files of a folder go into a SageMaker job's source archive.

A training script's folder may hold data, notebooks, virtual environments and
secrets. The archive takes the folder minus:

- what the folder's `.gitignore` and `.hpobenchignore` (gitignore syntax, read in
  that order, so `.hpobenchignore` may re-include with `!`) leave out;
- always, whatever those files say: version-control folders, virtual
  environments, caches, and secret-looking files (private keys, certificates,
  dotenv files, credential stores, cloud credentials JSON);
- symbolic links (they may point anywhere on this machine).

A folder still larger than `MAX_FOLDER_BYTES` is refused, naming its biggest
files: data belongs in a `--data` channel, not in every job's source archive.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Optional

from hpobench.errors import UsageError

IGNORE_FILES = (".gitignore", ".hpobenchignore")
MAX_FOLDER_BYTES = 20 * 1024 * 1024

VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr"})
CACHE_FOLDERS = frozenset(
    {
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        ".tox",
        ".nox",
        ".hypothesis",
        ".cache",
        "node_modules",
    }
)
# Virtual environments are also recognised by their pyvenv.cfg, whatever their name.
VENV_FOLDERS = frozenset({".venv", "venv", ".conda", "conda-env"})
SECRET_FOLDERS = frozenset({".aws", ".ssh", ".gnupg", ".azure", ".kube", ".docker"})
CACHE_FILE_PATTERNS = ("*.pyc", "*.pyo", ".DS_Store", "*.egg-info")
# Lower-cased file-name patterns of files that may hold secrets.
SECRET_FILE_PATTERNS = (
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_rsa_*",
    "id_ed25519_*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    ".env",
    ".env.*",
    ".envrc",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".dockercfg",
    "credentials",
    "*credentials*.json",
    "*service-account*.json",
    "*service_account*.json",
    "client_secret*.json",
    "*.tfvars",
    # Local launch settings (role, bucket) are not the job's business.
    "hpobench.toml",
)


@dataclass(frozen=True)
class ArchiveFile:
    """A file that goes into the archive."""

    relative: PurePosixPath  # below the folder
    path: Path  # on this machine
    size: int


@dataclass
class Selection:
    """A folder's files split into what is packed and what is left out (and why)."""

    folder: Path
    files: list[ArchiveFile] = field(default_factory=list)
    # relative path (a folder ends in '/') -> reason
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def always_left_out(name: str, is_dir: bool, path: Optional[Path] = None) -> Optional[str]:
    """Why a file or folder name never goes into an archive, or None."""
    if is_dir:
        if name in VCS_FOLDERS:
            return "version control"
        if name in CACHE_FOLDERS:
            return "cache"
        if name in VENV_FOLDERS or (path is not None and (path / "pyvenv.cfg").is_file()):
            return "virtual environment"
        if name in SECRET_FOLDERS:
            return "secret-looking"
        if name.endswith(".egg-info"):
            return "cache"
        return None
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, p) for p in SECRET_FILE_PATTERNS):
        return "secret-looking"
    if any(fnmatch.fnmatchcase(name, p) for p in CACHE_FILE_PATTERNS):
        return "cache"
    return None


def _ignore_spec(folder: Path):  # -> pathspec.GitIgnoreSpec | None
    lines: list[str] = []
    for name in IGNORE_FILES:
        path = folder / name
        if path.is_file():
            lines += path.read_text(errors="replace").splitlines()
    if not lines:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def select_files(folder: Path, use_ignore_files: bool = True) -> Selection:
    """Walk `folder` and apply the rules (no size check: see `check_size`)."""
    spec = _ignore_spec(folder) if use_ignore_files else None
    selection = Selection(folder)
    for current, dirs, files in os.walk(folder, followlinks=False):
        here = Path(current)
        relative_here = PurePosixPath(here.relative_to(folder).as_posix())
        kept_dirs = []
        for name in sorted(dirs):
            relative_name = (relative_here / name).as_posix()
            reason = _reason(here / name, name, relative_name, True, spec)
            if reason:
                selection.left_out[relative_name + "/"] = reason
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs  # os.walk descends only into these
        for name in sorted(files):
            relative = relative_here / name
            reason = _reason(here / name, name, relative.as_posix(), False, spec)
            if reason:
                selection.left_out[relative.as_posix()] = reason
                continue
            path = here / name
            selection.files.append(ArchiveFile(relative, path, path.stat().st_size))
    selection.files.sort(key=lambda f: f.relative.as_posix())
    return selection


def _reason(path: Path, name: str, relative: str, is_dir: bool, spec) -> Optional[str]:
    if path.is_symlink():
        return "symbolic link"
    reason = always_left_out(name, is_dir, path)
    if reason:
        return reason
    if spec is not None and spec.match_file(relative + ("/" if is_dir else "")):
        return "ignore file"
    return None


def check_size(selection: Selection, limit: int = MAX_FOLDER_BYTES) -> None:
    """UsageError naming the biggest files when the selection is over `limit` bytes."""
    total = selection.total_bytes
    if total <= limit:
        return
    biggest = sorted(selection.files, key=lambda f: f.size, reverse=True)[:3]
    named = ", ".join(f"{f.relative} ({_megabytes(f.size)})" for f in biggest)
    raise UsageError(
        f"{selection.folder} holds {_megabytes(total)} to pack, over the "
        f"{_megabytes(limit)} limit of a job's source archive; biggest: {named}. List data "
        "files in a .hpobenchignore there and pass the data with --data"
    )


def select_script_folder(folder: Path) -> Selection:
    """The files of a training script's folder that its jobs get; UsageError if too big."""
    selection = select_files(folder)
    check_size(selection)
    return selection


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
