"""Shared fixtures: every test runs in its own folder with a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hpobench.cli import app


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No HPOBENCH_* variables, no hpobench.toml, results under a temporary root."""
    for name in list(os.environ):
        if name.startswith("HPOBENCH_") or name == "SYNETUNE_FOLDER":
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HPOBENCH_RESULTS_ROOT", str(tmp_path / "results"))
    return tmp_path


@pytest.fixture
def results_root(isolated: Path) -> Path:
    return isolated / "results"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    """Run the CLI in-process; returns click's Result."""

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run
