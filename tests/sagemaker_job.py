"""A SageMaker training job's container, imitated on this machine: a temporary /opt/ml
laid out as the container has it, and the SDK's own driver running the job's entry."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from hpobench.remote.sagemaker.bundle import ENTRY_SCRIPT


def _sdk_drivers() -> Path:
    import sagemaker.train

    return Path(sagemaker.train.__file__).parent / "container_drivers"


def lay_out_opt_ml(root: Path, archive: bytes, hyperparameters: dict[str, str]) -> Path:
    """`root` laid out like /opt/ml: hyperparameters, the source archive unpacked, the drivers."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    code = root / "input" / "data" / "code"
    code.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(code, filter="data")
    shutil.copytree(
        _sdk_drivers(), root / "input" / "data" / "sm_drivers", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def run_job(opt_ml: Path, **extra_env: str) -> subprocess.CompletedProcess:
    """Run the job as the container does: the SDK's basic driver, from the code folder."""
    command, cwd, env = _job_command(opt_ml, **extra_env)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def start_job(opt_ml: Path, **extra_env: str) -> subprocess.Popen:
    """The job started as `run_job` runs it, in a session of its own (so that the whole
    container can be killed, as a spot interruption does)."""
    command, cwd, env = _job_command(opt_ml, **extra_env)
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _job_command(opt_ml: Path, **extra_env: str) -> tuple[list[str], Path, dict[str, str]]:
    drivers = opt_ml / "input" / "data" / "sm_drivers"
    sys.path.insert(0, str(drivers))
    try:
        from common.utils import safe_deserialize  # the SDK driver's own decoding
    finally:
        sys.path.pop(0)
    raw = json.loads((opt_ml / "input" / "config" / "hyperparameters.json").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SYNETUNE_FOLDER")}
    env.update(
        SM_ENTRY_SCRIPT=ENTRY_SCRIPT,
        SM_HPS=json.dumps({k: safe_deserialize(v) for k, v in raw.items()}),
        HPOBENCH_JOB_CHECKPOINT_DIR=str(opt_ml / "checkpoints"),
        HPOBENCH_JOB_TRIALS_DIR=str(opt_ml / "trials"),
        **extra_env,
    )
    driver = drivers / "distributed_drivers" / "basic_script_driver.py"
    return [sys.executable, str(driver)], opt_ml / "input" / "data" / "code", env
