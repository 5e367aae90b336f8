"""The suite's xdist groups hold: tests marked with one `xdist_group` run in one worker.

The Slurm cluster starts once per session and the session's real runs are made once only when
their tests share a worker (pyproject.toml: `--dist loadgroup`). pytest 9.2 with pytest-xdist
3.8 silently ignored the groups; this test runs a small marked suite under xdist and reads which
worker ran each test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SUITE = """
import json, os, pytest

@pytest.mark.xdist_group("together")
@pytest.mark.parametrize("i", range(6))
def test_grouped(i):
    with open(os.environ["WORKERS_FILE"], "a") as f:
        f.write(json.dumps([i, os.environ.get("PYTEST_XDIST_WORKER")]) + "\\n")

@pytest.mark.parametrize("i", range(6))
def test_free(i):
    pass
"""


def test_tests_of_one_xdist_group_run_in_one_worker(tmp_path: Path):
    (tmp_path / "test_grouped.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not this project's addopts
    workers_file = tmp_path / "workers.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "3", "--dist", "loadgroup", "-q"],
        cwd=tmp_path,
        env={**os.environ, "WORKERS_FILE": str(workers_file)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [json.loads(line) for line in workers_file.read_text().splitlines()]
    assert sorted(i for i, _ in ran) == list(range(6))
    assert len({worker for _, worker in ran}) == 1, ran
