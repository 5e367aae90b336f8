"""What of a user's script folder goes into a job's source archive."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hpobench.errors import UsageError
from hpobench.remote.sagemaker.archive_rules import MAX_FOLDER_BYTES, select_files, select_script_folder

FIFTY_MB = 50 * 1024 * 1024


def _write(root: Path, relative: str, text: str = "x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _sparse(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)  # no disk blocks: the size is what counts


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A script folder as a user's may be: code, data, a venv, secrets, caches."""
    root = tmp_path / "my_bench"
    for relative in [
        "train.py",
        "requirements.txt",
        "lib/model.py",
        "notes/readme.md",
        "id_rsa",
        "keys/id_ed25519",
        "cert.pem",
        "store.P12",
        ".env",
        ".env.prod",
        ".netrc",
        ".npmrc",
        ".git-credentials",
        "creds/service-account.json",
        "creds/gcp_service_account_key.json",
        "aws/credentials",
        "client_secret_123.json",
        ".git/config",
        "__pycache__/train.cpython-312.pyc",
        "lib/__pycache__/model.cpython-312.pyc",
        ".venv/bin/python",
        "myenv/pyvenv.cfg",
        "myenv/lib/site.py",
        ".ipynb_checkpoints/a.ipynb",
        "outputs/run1.log",
        "notebook.ipynb",
        "scratch.tmp",
        "hpobench.toml",
    ]:
        _write(root, relative)
    _sparse(root / "data" / "big.bin", FIFTY_MB)
    _write(root, ".gitignore", "outputs/\n*.tmp\n")
    _write(root, ".hpobenchignore", "# data goes through --data\ndata/\n*.ipynb\n!notebook.ipynb\n")
    return root


def test_secrets_environments_caches_and_ignored_files_stay_out(user_folder: Path):
    selection = select_script_folder(user_folder)
    packed = [f.relative.as_posix() for f in selection.files]
    assert packed == [
        ".gitignore",
        ".hpobenchignore",
        "lib/model.py",
        "notebook.ipynb",
        "notes/readme.md",
        "requirements.txt",
        "train.py",
    ]
    left_out = selection.left_out
    for secret in [
        "id_rsa",
        "keys/id_ed25519",
        "cert.pem",
        "store.P12",
        ".env",
        ".env.prod",
        ".netrc",
        ".npmrc",
        ".git-credentials",
        "creds/service-account.json",
        "creds/gcp_service_account_key.json",
        "aws/credentials",
        "client_secret_123.json",
        "hpobench.toml",
    ]:
        assert left_out[secret] == "secret-looking", secret
    assert left_out[".venv/"] == left_out["myenv/"] == "virtual environment"
    assert left_out[".git/"] == "version control"
    assert left_out["__pycache__/"] == left_out["lib/__pycache__/"] == "cache"
    assert left_out["data/"] == left_out["outputs/"] == left_out["scratch.tmp"] == "ignore file"


def test_ignore_files_cannot_bring_back_secrets(user_folder: Path):
    (user_folder / ".hpobenchignore").write_text("!id_rsa\n!.env\n!.venv/\n")
    packed = {f.relative.as_posix() for f in select_files(user_folder).files}
    assert not packed & {"id_rsa", ".env", ".venv/bin/python"}


def test_a_folder_over_the_limit_is_refused_naming_its_biggest_files(user_folder: Path):
    (user_folder / ".hpobenchignore").write_text("")  # the 50 MB file is no longer ignored
    _sparse(user_folder / "data" / "small.bin", 3 * 1024 * 1024)
    with pytest.raises(UsageError) as refused:
        select_script_folder(user_folder)
    message = str(refused.value)
    assert f"over the {MAX_FOLDER_BYTES / 1024 / 1024:.1f} MB limit" in message
    assert "biggest: data/big.bin (50.0 MB), data/small.bin (3.0 MB)" in message
    assert ".hpobenchignore" in message and "--data" in message


def test_symbolic_links_are_not_followed(tmp_path: Path):
    outside = _write(tmp_path / "home", "innocent.txt", "secret")
    root = tmp_path / "bench"
    _write(root, "train.py")
    os.symlink(outside, root / "data.txt")
    os.symlink(outside.parent, root / "linked")
    selection = select_files(root)
    assert [f.relative.as_posix() for f in selection.files] == ["train.py"]
    assert selection.left_out == {"data.txt": "symbolic link", "linked/": "symbolic link"}
