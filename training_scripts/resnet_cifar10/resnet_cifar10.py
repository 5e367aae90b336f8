"""Train a ResNet-18 on CIFAR-10 (the `resnet_cifar10` benchmark of hpobench).

Follows Syne Tune's `resnet_cifar10` benchmark: ResNet-18 with a 3x3 stride-1
first convolution and no max-pool, SGD with momentum and weight decay,
MultiStepLR (milestones 25 and 40, gamma 0.1), the first 80% of the CIFAR-10
training set (40,000 images) for training with random crop (4-pixel padding),
horizontal flip and normalization, the last 20% (10,000) for validation.

Unlike the seed's per-image PIL transforms and single-process DataLoader, the
whole data set lives on the device as one uint8 tensor and each batch is
cropped, flipped and normalized there; on CUDA the model runs channels_last
under autocast. Precision follows the device: bf16 on GPUs with compute
capability 8.0 or more, fp16 with a gradient scaler on older GPUs (the T4s of
ml.g4dn have no bf16 tensor cores), fp32 on the CPU; the choice is printed to
the trial's log, and validation always runs in fp32 (no TF32). The local back-end sets
CUDA_VISIBLE_DEVICES (one GPU per trial, or a share of one: --trials-per-gpu).

Data: `--dataset_path DIR` holds `cifar-10-batches-py/` (the official python
version, as torchvision lays it out). Inside a SageMaker job the data channel
named "training" (SM_CHANNEL_TRAINING) is searched first. Missing data is
downloaded with torchvision, under a file lock so that concurrent trials
download once; with HPOBENCH_OFFLINE=1 (or when the download fails) the script
exits at once with one line on stderr saying how to supply the data.

Validation accuracy is reported as `val_accuracy` after every epoch, and a
checkpoint in `--st_checkpoint_dir` lets a restarted trial go on at the next
epoch. This script must not import hpobench: it also runs in SageMaker jobs.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any, NoReturn, Optional

import numpy as np

# trial_support.py, shared by hpobench's built-in scripts, sits beside this script's folder.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
import trial_support
from trial_support import autocast, device_precision, exact_fp32, prepare_only, save_checkpoint

NAME = "resnet_cifar10"
DATA_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
# The seed uses training-set images 0..39,999 for training, 40,000..49,999 for
# validation; small data sets keep the same fractions.
TRAIN_FRACTION = 0.8
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
PADDING = 4
MILESTONES = (25, 40)
GAMMA = 0.1
# Only memory and speed depend on it: batch norm is in eval mode when validating.
EVAL_BATCH_SIZE = 1024
CHECKPOINT_FILE = "checkpoint.pt"
DOWNLOAD_TIMEOUT = 60.0  # seconds without a byte before a download gives up
DOWNLOAD_LOCK_TIMEOUT = 3600.0  # seconds; a CIFAR-10 download takes minutes


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Hyperparameters as Syne Tune passes them: `--name value`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--batch_size", type=int, required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--momentum", type=float, required=True)
    parser.add_argument("--weight_decay", type=float, required=True)
    # Syne Tune's local back-end splits its command line on spaces, so a path
    # with spaces arrives in pieces: take them all and join them back (only a
    # piece starting with '-', as in "a -b", would be taken for an option).
    parser.add_argument("--dataset_path", nargs="+", required=True)
    parser.add_argument("--st_checkpoint_dir", type=str, default=None)
    # Entries this script does not know (e.g. added by Syne Tune) must not break it.
    args, _ = parser.parse_known_args(argv)
    args.dataset_path = " ".join(args.dataset_path)
    return args


# ---- data -------------------------------------------------------------------


def fail(message: str) -> NoReturn:
    trial_support.fail(NAME, message)


def has_data(root: Path) -> bool:
    return all((root / DATA_FOLDER / name).is_file() for name in TRAIN_FILES)


def data_root(dataset_path: str) -> Path:
    """The folder holding cifar-10-batches-py/, downloading it there if needed."""
    how = f"put the CIFAR-10 python version ({DATA_FOLDER}/data_batch_1..5) in DIR, then --set dataset_path=DIR"
    return trial_support.find_data(
        NAME, dataset_path, dataset="CIFAR-10", where=str(DATA_FOLDER), how=how, has_data=has_data, download=download
    )


def download(root: Path) -> None:
    """Download with torchvision, one trial at a time (the others wait, then reuse it)."""
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".download.lock"), timeout=DOWNLOAD_LOCK_TIMEOUT):
        if has_data(root):
            return  # another trial downloaded it while this one waited
        import socket

        from torchvision.datasets import CIFAR10

        # torchvision's urllib calls have no timeout: a network that drops
        # packets would hang this trial and every trial waiting for the lock.
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        CIFAR10(str(root), train=True, download=True)


def load_training_set(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """All training images as uint8 (N, 3, 32, 32) and labels as int64 (N,)."""
    images, labels = [], []
    for name in TRAIN_FILES:
        with open(root / DATA_FOLDER / name, "rb") as f:
            # The official files are Python 2 pickles: latin1 turns their keys into str.
            batch = pickle.load(f, encoding="latin1")
        images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch["labels"], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def split(n: int) -> int:
    """Number of leading images used for training; the rest validate."""
    return round(TRAIN_FRACTION * n)


# ---- model ------------------------------------------------------------------


def build_model() -> Any:
    """ResNet-18 as torchvision builds it, with the seed's CIFAR changes.

    Written out here because importing torchvision.models adds over a second to
    every trial's start.
    """
    import torch
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, inputs: int, outputs: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(outputs)
            self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(outputs)
            self.relu = nn.ReLU(inplace=True)
            self.downsample: nn.Module = nn.Identity()
            if stride != 1 or inputs != outputs:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.downsample(x))

    def stage(inputs: int, outputs: int, stride: int) -> nn.Sequential:
        return nn.Sequential(BasicBlock(inputs, outputs, stride), BasicBlock(outputs, outputs, 1))

    model = nn.Sequential(
        nn.Conv2d(3, 64, 3, 1, 1, bias=False),  # CIFAR: 3x3 stride 1 ...
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),  # ... and no max-pool
        stage(64, 64, 1),
        stage(64, 128, 2),
        stage(128, 256, 2),
        stage(256, 512, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(512, 10),
    )
    first_conv = model[0]
    for module in model.modules():
        # torchvision's initialization; the seed replaced the first convolution
        # after construction, so it keeps PyTorch's default initialization.
        if isinstance(module, nn.Conv2d) and module is not first_conv:
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return model


# ---- training on the device -------------------------------------------------


class DeviceData:
    """The data set as uint8 tensors on the device, augmented there per batch."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, device: Any) -> None:
        import torch

        self.device = device
        self.channels_last = device.type == "cuda"
        self.images = torch.from_numpy(images).to(device)
        self.labels = torch.from_numpy(labels).to(device)
        self.mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(STD, device=device).view(1, 3, 1, 1) * 255

    def normalize(self, images: Any) -> Any:
        """uint8 NCHW -> normalized float, channels_last on CUDA."""
        import torch

        x = (images.float() - self.mean) / self.std
        layout = torch.channels_last if self.channels_last else torch.contiguous_format
        return x.contiguous(memory_format=layout)

    def augmented(self, index: Any, generator: Any) -> Any:
        """Random 32x32 crop of the zero-padded image and a random horizontal
        flip, as torchvision's RandomCrop(32, padding=4) and
        RandomHorizontalFlip, done as one gather for the whole batch."""
        import torch
        import torch.nn.functional as F

        images = self.images[index]
        n, _, height, width = images.shape
        padded = F.pad(images, (PADDING,) * 4)  # zeros, like RandomCrop's fill=0
        span = 2 * PADDING + 1
        top = torch.randint(span, (n, 1), device=self.device, generator=generator)
        left = torch.randint(span, (n, 1), device=self.device, generator=generator)
        flip = torch.rand((n, 1), device=self.device, generator=generator) < 0.5
        rows = top + torch.arange(height, device=self.device)
        columns = torch.arange(width, device=self.device)
        columns = left + torch.where(flip, width - 1 - columns, columns)
        batch = torch.arange(n, device=self.device)[:, None, None]
        # Index the NHWC view: the result (n, h, w, c) is channels_last already.
        crops = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], columns[:, None, :]]
        return self.normalize(crops.permute(0, 3, 1, 2))


def graph_training_step(model: Any, data: DeviceData, batch_size: int, precision: str) -> None:
    """On CUDA, capture the model's training forward and backward at `batch_size`
    as CUDA graphs: one launch replays a few hundred kernels, which would
    otherwise leave the GPU waiting on Python at small image sizes. Batches of
    another size (the last, partial one) run eagerly with the same parameters.
    """
    import types

    import torch

    if data.device.type != "cuda" or batch_size > len(data.labels):
        return
    eager_forward = types.MethodType(type(model).forward, model)
    # Capturing runs a few warm-up passes; keep BatchNorm's running statistics as they were.
    buffers = {name: value.clone() for name, value in model.named_buffers()}
    model.train()
    sample = data.normalize(data.images[:batch_size])
    with autocast(data.device, precision, cache_enabled=False):  # CUDA graphs: no cast cache
        torch.cuda.make_graphed_callables(model, (sample,))
    with torch.no_grad():
        for name, value in model.named_buffers():
            value.copy_(buffers[name])
    model.eager_forward = eager_forward
    model.graphed_batch_size = batch_size


def train_epoch(
    model: Any,
    optimizer: Any,
    scaler: Any,
    data: DeviceData,
    indices: Any,
    batch_size: int,
    generator: Any,
    precision: str,
) -> None:
    """One pass over `indices` in random order (the last batch may be smaller)."""
    import torch
    import torch.nn.functional as F

    model.train()
    order = indices[torch.randperm(len(indices), device=data.device, generator=generator)]
    graphed = getattr(model, "graphed_batch_size", None)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        inputs = data.augmented(index, generator)
        forward = model if graphed in (None, len(index)) else model.eager_forward
        with autocast(data.device, precision, cache_enabled=False):  # CUDA graphs: no cast cache
            logits = forward(inputs)
        loss = F.cross_entropy(logits.float(), data.labels[index])
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def accuracy(model: Any, data: DeviceData, indices: Any) -> float:
    """Share of `indices` classified correctly, without augmentation, in fp32 on every
    device (no TF32): the metric must not depend on which GPU (and so which precision) trained."""
    import torch

    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=data.device)
    with torch.no_grad(), exact_fp32():
        for start in range(0, len(indices), EVAL_BATCH_SIZE):
            index = indices[start : start + EVAL_BATCH_SIZE]
            predicted = model(data.normalize(data.images[index])).argmax(dim=1)
            correct += (predicted == data.labels[index]).sum()
    return correct.item() / len(indices)  # the only sync with the host per epoch


def pick_device() -> Any:
    import torch

    if torch.cuda.is_available():
        # Only the GPUs in CUDA_VISIBLE_DEVICES are visible: this trial's one.
        torch.backends.cudnn.benchmark = True
        return torch.device("cuda")
    return torch.device("cpu")


def build_optimizer(model: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(MILESTONES), gamma=GAMMA)
    return optimizer, scheduler


# ---- checkpoints ------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    # Find (or fail to find) the data before the slow imports, so that a trial
    # without data fails in a fraction of a second.
    root = data_root(args.dataset_path)
    if prepare_only():
        print(f"{NAME}: data in {root}", flush=True)
        return
    images, labels = load_training_set(root)

    import torch
    from syne_tune import Reporter

    torch.set_num_threads(int(os.environ.get("HPOBENCH_TORCH_THREADS", "1")))
    device = pick_device()
    precision = device_precision(device)
    seed = int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(seed)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)

    data = DeviceData(images, labels, device)
    n_train = split(len(labels))
    train_indices = torch.arange(n_train, device=device)
    valid_indices = torch.arange(n_train, len(labels), device=device)
    model = build_model().to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer, scheduler = build_optimizer(model, args)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    first_epoch = 1
    if checkpoint is not None and checkpoint.exists():
        # On the CPU: load_state_dict copies to the model's device, RNG states stay there.
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):  # empty when saved without a scaler (CPU, bf16)
            scaler.load_state_dict(state["scaler"])
        generator.set_state(state["generator"])
        first_epoch = state["epoch"] + 1

    graph_training_step(model, data, args.batch_size, precision)
    report = Reporter()
    started = time.time()
    for epoch in range(first_epoch, args.epochs + 1):
        train_epoch(model, optimizer, scaler, data, train_indices, args.batch_size, generator, precision)
        val_accuracy = accuracy(model, data, valid_indices)
        scheduler.step()
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "generator": generator.get_state(),
                    "epoch": epoch,
                },
            )
        report(epoch=epoch, val_accuracy=val_accuracy, elapsed_time=time.time() - started)


if __name__ == "__main__":
    main()
