"""Train a two-hidden-layer MLP on Fashion-MNIST (the `mlp_fashionmnist` benchmark).

Follows Syne Tune's `mlp_fashionmnist` benchmark: Linear -> Dropout -> ReLU
twice, then a linear output layer, trained with Adam on pixels scaled to
[0, 1]; the first 50,000 of the 60,000 training images train (full batches
only, as the seed's `drop_last=True`), the last 10,000 validate. Small data
sets keep the same fractions.

Data: `--dataset_path DIR` holds `FashionMNIST/raw/` with the idx files
(gzipped or not) as torchvision downloads them. Inside a SageMaker job the
data channel named "training" (SM_CHANNEL_TRAINING) is searched first.
Missing data is downloaded with torchvision under a file lock; with
HPOBENCH_OFFLINE=1 (or when the download fails) the script exits at once with
one line on stderr saying how to supply the data.

Precision follows the device: bf16 autocast on GPUs with compute capability
8.0 or more, fp16 autocast with a gradient scaler on older GPUs, fp32 on the
CPU; the choice is printed to the trial's log. Validation runs in fp32.

Validation accuracy is reported as `val_accuracy` after every epoch; a
checkpoint in `--st_checkpoint_dir` lets a restarted trial go on at the next
epoch. This script must not import hpobench.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn, Optional

import numpy as np

# trial_support.py, shared by hpobench's built-in scripts, sits beside this script's folder.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
import trial_support
from trial_support import autocast, device_precision, prepare_only, save_checkpoint

NAME = "mlp_fashionmnist"
RAW_FOLDER = Path("FashionMNIST") / "raw"
IMAGES = "train-images-idx3-ubyte"
LABELS = "train-labels-idx1-ubyte"
TRAIN_FRACTION = 50_000 / 60_000
EVAL_BATCH_SIZE = 4096
CHECKPOINT_FILE = "checkpoint.pt"
DOWNLOAD_TIMEOUT = 60.0  # seconds without a byte before a download gives up
DOWNLOAD_LOCK_TIMEOUT = 1800.0


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Hyperparameters as Syne Tune passes them: `--name value`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--n_units_1", type=int, required=True)
    parser.add_argument("--n_units_2", type=int, required=True)
    parser.add_argument("--batch_size", type=int, required=True)
    parser.add_argument("--dropout_1", type=float, required=True)
    parser.add_argument("--dropout_2", type=float, required=True)
    parser.add_argument("--learning_rate", type=float, required=True)
    parser.add_argument("--weight_decay", type=float, required=True)
    # Syne Tune's local back-end splits its command line on spaces, so a path
    # with spaces arrives in pieces: take them all and join them back (only a
    # piece starting with '-', as in "a -b", would be taken for an option).
    parser.add_argument("--dataset_path", nargs="+", required=True)
    parser.add_argument("--st_checkpoint_dir", type=str, default=None)
    args, _ = parser.parse_known_args(argv)
    args.dataset_path = " ".join(args.dataset_path)
    return args


# ---- data -------------------------------------------------------------------


def fail(message: str) -> NoReturn:
    trial_support.fail(NAME, message)


def idx_file(root: Path, name: str) -> Optional[Path]:
    """The idx file, uncompressed or gzipped, if present."""
    for candidate in (root / RAW_FOLDER / name, root / RAW_FOLDER / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def has_data(root: Path) -> bool:
    return idx_file(root, IMAGES) is not None and idx_file(root, LABELS) is not None


def data_root(dataset_path: str) -> Path:
    """The folder holding FashionMNIST/raw/, downloading it there if needed."""
    how = f"put {IMAGES}.gz and {LABELS}.gz in DIR/{RAW_FOLDER}, then --set dataset_path=DIR"
    return trial_support.find_data(
        NAME,
        dataset_path,
        dataset="Fashion-MNIST",
        where=str(RAW_FOLDER),
        how=how,
        has_data=has_data,
        download=download,
    )


def download(root: Path) -> None:
    """Download with torchvision, one trial at a time (the others wait, then reuse it)."""
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".download.lock"), timeout=DOWNLOAD_LOCK_TIMEOUT):
        if has_data(root):
            return
        import socket

        from torchvision.datasets import FashionMNIST

        # torchvision's urllib calls have no timeout: a network that drops
        # packets would hang this trial and every trial waiting for the lock.
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        FashionMNIST(str(root), train=True, download=True)


def read_idx(path: Path) -> np.ndarray:
    """An idx array (big-endian header: magic with the rank, then each dimension)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    offset = 4 + 4 * rank
    data = np.frombuffer(raw, dtype=np.uint8, count=int(np.prod(shape)), offset=offset)
    return data.reshape(shape).copy()  # writable, as torch.from_numpy wants


def load_training_set(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images as uint8 (N, 784) and labels as int64 (N,)."""
    images = read_idx(idx_file(root, IMAGES))  # type: ignore[arg-type]
    labels = read_idx(idx_file(root, LABELS))  # type: ignore[arg-type]
    return images.reshape(len(images), -1), labels.astype(np.int64)


# ---- model and training -----------------------------------------------------


def build_model(args: argparse.Namespace) -> Any:
    """The seed's network: each hidden layer is Linear, then Dropout, then ReLU."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(28 * 28, args.n_units_1),
        nn.Dropout(args.dropout_1),
        nn.ReLU(),
        nn.Linear(args.n_units_1, args.n_units_2),
        nn.Dropout(args.dropout_2),
        nn.ReLU(),
        nn.Linear(args.n_units_2, 10),
    )


# ---- precision ----------------------------------------------------------------


def train_epoch(
    model: Any, optimizer: Any, scaler: Any, images: Any, labels: Any, batch_size: int, generator: Any, precision: str
) -> None:
    """One shuffled pass over the training part, full batches only."""
    import torch
    import torch.nn.functional as F

    model.train()
    order = torch.randperm(len(labels), device=labels.device, generator=generator)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        index = order[start : start + batch_size]
        with autocast(labels.device, precision):
            logits = model(images[index].float() / 255)
        loss = F.cross_entropy(logits.float(), labels[index])
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def accuracy(model: Any, images: Any, labels: Any) -> float:
    """Share of `labels` predicted, in fp32 on every device."""
    import torch

    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=labels.device)
    with torch.no_grad():
        for start in range(0, len(labels), EVAL_BATCH_SIZE):
            predicted = model(images[start : start + EVAL_BATCH_SIZE].float() / 255).argmax(1)
            correct += (predicted == labels[start : start + EVAL_BATCH_SIZE]).sum()
    return correct.item() / len(labels)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    # Before the slow imports, so that a trial without data fails at once.
    root = data_root(args.dataset_path)
    if prepare_only():
        print(f"{NAME}: data in {root}", flush=True)
        return
    images, labels = load_training_set(root)

    import torch
    from syne_tune import Reporter

    torch.set_num_threads(int(os.environ.get("HPOBENCH_TORCH_THREADS", "1")))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = device_precision(device)
    seed = int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(seed)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)

    n_train = round(TRAIN_FRACTION * len(labels))
    images_t = torch.from_numpy(images).to(device)
    labels_t = torch.from_numpy(labels).to(device)
    model = build_model(args).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    first_epoch = 1
    if checkpoint is not None and checkpoint.exists():
        # On the CPU: load_state_dict copies to the model's device, RNG states stay there.
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):  # empty when saved without a scaler (CPU, bf16)
            scaler.load_state_dict(state["scaler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["rng"])  # dropout masks on the CPU
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)  # dropout masks on the GPU
        first_epoch = state["epoch"] + 1

    report = Reporter()
    started = time.time()
    for epoch in range(first_epoch, args.epochs + 1):
        train_epoch(
            model, optimizer, scaler, images_t[:n_train], labels_t[:n_train], args.batch_size, generator, precision
        )
        val_accuracy = accuracy(model, images_t[n_train:], labels_t[n_train:])
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(),
                    "generator": generator.get_state(),
                    "rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                    "epoch": epoch,
                },
            )
        report(epoch=epoch, val_accuracy=val_accuracy, elapsed_time=time.time() - started)


if __name__ == "__main__":
    main()
