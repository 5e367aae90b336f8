"""What hpobench's built-in training scripts share: one-line failures, finding (or
downloading once) their data, the precision a device trains in, atomic checkpoints.

It lives beside the scripts' folders, and a SageMaker job's source archive carries it
beside the script's folder; a script puts that folder on sys.path and imports it. Like
the scripts, it imports nothing of hpobench (they also run inside SageMaker jobs), and
torch only inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, Optional

# Where SageMaker mounts a job's data channel named "training" (launch-remote --data).
SAGEMAKER_CHANNEL = "SM_CHANNEL_TRAINING"
BRIEF_LENGTH = 50  # characters of an exception kept in an error line


def fail(name: str, message: str) -> NoReturn:
    """Exit with one line on stderr, prefixed by the benchmark's name: hpobench shows a
    failed trial's last line."""
    print(f"{name}: {' '.join(message.split())}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def prepare_only() -> bool:
    """HPOBENCH_PREPARE_ONLY=1: find (or download) the data, then exit; hpobench runs this once
    before a study's first trial, so that missing data is one error, not a failed trial each."""
    return os.environ.get("HPOBENCH_PREPARE_ONLY", "") == "1"


def brief(error: BaseException) -> str:
    """An exception's first sentence, at most 50 characters: error lines stay one short line."""
    text = " ".join(str(error).split()).split("; ")[0].split(". ")[0] or type(error).__name__
    return text if len(text) <= BRIEF_LENGTH else text[: BRIEF_LENGTH - 3] + "..."


def offline() -> bool:
    """HPOBENCH_OFFLINE set (and not 0): never download."""
    return os.environ.get("HPOBENCH_OFFLINE", "") not in ("", "0")


def find_data(
    name: str,
    dataset_path: str,
    *,
    dataset: str,
    where: str,
    how: str,
    has_data: Callable[[Path], bool],
    download: Callable[[Path], None],
) -> Path:
    """The folder that holds the data set: the SageMaker channel if it has it, else
    `dataset_path`, downloading there if needed. Fails with one line naming `dataset`, the
    folder `where` it was looked for (relative to `dataset_path`) and `how` to supply it."""
    root = Path(dataset_path).expanduser()
    channel = os.environ.get(SAGEMAKER_CHANNEL)
    for candidate in ([Path(channel)] if channel else []) + [root]:
        if has_data(candidate):
            return candidate
    folder = root / where
    if offline():
        fail(name, f"no {dataset} data in {folder} (HPOBENCH_OFFLINE is set): {how}")
    try:
        download(root)
    except Exception as error:  # any failure means the same thing to the user
        fail(name, f"no {dataset} data in {folder}; download failed ({brief(error)}); {how}")
    if not has_data(root):
        fail(name, f"the download left no {dataset} data in {folder}; {how}")
    return root


def choose_precision(device_type: str, capability: Optional[tuple[int, int]]) -> str:
    """'bf16' on GPUs with bf16 tensor cores (compute capability >= 8.0), 'fp16' (with a
    gradient scaler) on older CUDA GPUs, 'fp32' on anything else."""
    if device_type != "cuda" or capability is None:
        return "fp32"
    return "bf16" if tuple(capability) >= (8, 0) else "fp16"


def device_precision(device: Any, choose: Callable[[str, Optional[tuple[int, int]]], str] = choose_precision) -> str:
    """This device's precision by `choose`, printed to the trial's log."""
    import torch

    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    precision = choose(device.type, capability)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"precision: {precision} ({where}, compute capability {capability})", flush=True)
    return precision


def autocast(device: Any, precision: str, cache_enabled: bool = True) -> Any:
    """Autocast to `precision` ('bf16' or 'fp16'); full precision for 'fp32'. CUDA graphs
    need `cache_enabled=False` (no weight-cast cache)."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype, cache_enabled=cache_enabled)


@contextlib.contextmanager
def exact_fp32() -> Iterator[None]:
    """fp32 without TF32 inside: by default PyTorch lets cuDNN round fp32 inputs to
    TF32 on Ampere and newer GPUs, so an fp32 metric would still depend on the GPU."""
    import torch

    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = before


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """`write` a temporary file, then rename it to `path`: a trial stopped mid-write never
    leaves a broken checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """`torch.save` the state, atomically."""
    import torch

    write_atomically(path, lambda tmp: torch.save(state, tmp))
