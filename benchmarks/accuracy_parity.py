"""Does resnet_cifar10's fast loop learn like a plain fp32 loop? Validation accuracy side by side.

For each configuration, the same ResNet-18 is trained for a few epochs twice:
with the training script's own loop (data on the device, augmentation there,
the device's precision: bf16 or fp16 autocast, channels_last, CUDA graphs),
and with a plain torchvision-style loop (PIL RandomCrop/RandomHorizontalFlip/
ToTensor/Normalize in a DataLoader, fp32, eager, NCHW). Both use the same
split, SGD with momentum and weight decay, MultiStepLR, and evaluate in fp32.

Data: CIFAR-10 from `--dataset-path DIR` (holding cifar-10-batches-py/) when
given; otherwise generated CIFAR-shaped images whose class is a coarse template
under coarse noise of the same shape, so that no model can reach 100%: the
nearest-template rule, optimal here, classifies about 80% correctly (the first
GPU run's easier images gave 1.0000 from epoch 1 in both loops, which shows
nothing). Not CIFAR-10: say which in any figure quoted.

The reference loop's DataLoader workers are spawned, not forked: a worker forked
from a process that has used CUDA can free an inherited CUDA tensor and abort
("CUDA error: initialization error"), as the second configuration did in that run.

    python benchmarks/accuracy_parity.py --synthetic 400 --epochs 2 --configs 1   # CPU, ~1 minute
    python benchmarks/accuracy_parity.py --dataset-path ~/.cache/hpobench/data/cifar10 --epochs 5
    python benchmarks/accuracy_parity.py --smoke   # seconds: checks the code path, not the parity
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from smoke_option import parse_with_smoke
from train_throughput import describe, load_script

# (batch_size, lr, momentum, weight_decay), inside the benchmark's search space.
CONFIGS = [(256, 0.05, 0.9, 5e-4), (128, 0.02, 0.9, 1e-4), (64, 0.01, 0.5, 1e-5)]
SMOKE = {"synthetic": 12, "epochs": 1, "configs": 1, "loader_workers": 0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dataset-path", type=Path, help="folder holding cifar-10-batches-py/")
    parser.add_argument(
        "--synthetic",
        type=int,
        default=50_000,
        help="generated images when no --dataset-path (default 50,000, CIFAR's size)",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--configs", type=int, default=len(CONFIGS), help=f"first N of {CONFIGS}")
    parser.add_argument(
        "--loader-workers",
        type=int,
        default=min(8, os.cpu_count() or 1),
        help="DataLoader processes of the reference loop (speed only)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parse_with_smoke(parser, SMOKE)
    return args


# Template strength against coarse noise of unit variance: 0.18 puts the best possible
# (nearest-template) accuracy near 0.80 with 10 random 3x8x8 templates (simulated).
SIGNAL = 0.18


def synthetic_cifar(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (n, 3, 32, 32) images: a per-class 3x8x8 template plus 3x8x8 noise, blown up to
    32x32, plus fine pixel noise. The coarse noise has the template's shape, so it cannot be
    averaged away: classes overlap and accuracy stays below about 0.80."""
    rng = np.random.default_rng(seed)
    templates = rng.normal(size=(10, 3, 8, 8))
    labels = rng.integers(0, 10, n)
    coarse = SIGNAL * templates[labels] + rng.normal(size=(n, 3, 8, 8))
    images = 128 + 40 * np.kron(coarse, np.ones((1, 1, 4, 4))) + 20 * rng.normal(size=(n, 3, 32, 32))
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def fast_loop(
    script: Any, images: np.ndarray, labels: np.ndarray, config: tuple, epochs: int, device: torch.device, seed: int
) -> list[float]:
    """Validation accuracy after each epoch of the training script's own loop."""
    batch_size, lr, momentum, weight_decay = config
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = device.type == "cuda"
    generator = torch.Generator(device=device).manual_seed(seed)
    data = script.DeviceData(images, labels, device)
    n_train = script.split(len(labels))
    train, valid = torch.arange(n_train, device=device), torch.arange(n_train, len(labels), device=device)
    model = script.build_model().to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    hyper = argparse.Namespace(lr=lr, momentum=momentum, weight_decay=weight_decay)
    optimizer, scheduler = script.build_optimizer(model, hyper)
    precision = script.device_precision(device)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    script.graph_training_step(model, data, batch_size, precision)
    accuracies = []
    for _ in range(epochs):
        script.train_epoch(model, optimizer, scaler, data, train, batch_size, generator, precision)
        accuracies.append(script.accuracy(model, data, valid))
        scheduler.step()
    return accuracies


def reference_loop(
    script: Any,
    images: np.ndarray,
    labels: np.ndarray,
    config: tuple,
    epochs: int,
    device: torch.device,
    seed: int,
    workers: int,
) -> list[float]:
    """Validation accuracy after each epoch of a plain torchvision-style fp32 loop: true fp32
    (cuDNN's default TF32 off) and cuDNN's autotuner off, both restored afterwards."""
    cudnn = torch.backends.cudnn
    before = cudnn.benchmark, cudnn.allow_tf32
    cudnn.benchmark, cudnn.allow_tf32 = False, False
    try:
        return _plain_fp32_loop(script, images, labels, config, epochs, device, seed, workers)
    finally:
        cudnn.benchmark, cudnn.allow_tf32 = before


class HwcImages(torch.utils.data.Dataset):
    """uint8 HWC images through torchvision transforms; at module level so that spawned
    DataLoader workers can unpickle it."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Any) -> None:
        self.images, self.labels, self.transform = np.ascontiguousarray(images), labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def _plain_fp32_loop(
    script: Any,
    images: np.ndarray,
    labels: np.ndarray,
    config: tuple,
    epochs: int,
    device: torch.device,
    seed: int,
    workers: int,
) -> list[float]:
    from torch.utils.data import DataLoader
    from torchvision import transforms

    batch_size, lr, momentum, weight_decay = config
    torch.manual_seed(seed)
    normalize = [transforms.ToTensor(), transforms.Normalize(script.MEAN, script.STD)]
    augment = transforms.Compose(
        [transforms.RandomCrop(32, padding=script.PADDING), transforms.RandomHorizontalFlip(), *normalize]
    )
    plain = transforms.Compose(normalize)
    hwc = images.transpose(0, 2, 3, 1)
    n_train = script.split(len(labels))
    # Spawned workers (see the module's docstring), started once per loader.
    spawned = {"num_workers": workers, "pin_memory": device.type == "cuda"}
    if workers > 0:
        spawned.update(multiprocessing_context="spawn", persistent_workers=True)
    train = DataLoader(
        HwcImages(hwc[:n_train], labels[:n_train], augment), batch_size=batch_size, shuffle=True, **spawned
    )
    valid = DataLoader(HwcImages(hwc[n_train:], labels[n_train:], plain), batch_size=1024, **spawned)
    model = script.build_model().to(device)
    optimizer, scheduler = script.build_optimizer(
        model, argparse.Namespace(lr=lr, momentum=momentum, weight_decay=weight_decay)
    )
    accuracies = []
    for _ in range(epochs):
        model.train()
        for inputs, targets in train:
            inputs, targets = inputs.to(device), targets.to(device)
            loss = F.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for inputs, targets in valid:
                correct += int((model(inputs.to(device)).argmax(1) == targets.to(device)).sum())
        accuracies.append(correct / (len(labels) - n_train))
        scheduler.step()
    return accuracies


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    script = load_script()
    if args.dataset_path:
        images, labels = script.load_training_set(args.dataset_path.expanduser())
        source = f"CIFAR-10 from {args.dataset_path}"
    else:
        images, labels = synthetic_cifar(args.synthetic, args.seed)
        source = (
            f"{args.synthetic} generated CIFAR-shaped images (coarse class template under coarse noise; "
            "best possible accuracy about 0.80), not CIFAR-10"
        )
    n_train = script.split(len(labels))
    print(f"device: {describe(device)}")
    print(f"data: {source}; {n_train} train / {len(labels) - n_train} validation; {args.epochs} epochs")
    print("config (batch, lr, momentum, wd) | epoch | script loop | plain fp32 loop | difference")
    for config in CONFIGS[: args.configs]:
        started = time.perf_counter()
        fast = fast_loop(script, images, labels, config, args.epochs, device, args.seed)
        fast_seconds = time.perf_counter() - started
        started = time.perf_counter()
        plain = reference_loop(script, images, labels, config, args.epochs, device, args.seed, args.loader_workers)
        plain_seconds = time.perf_counter() - started
        for epoch, (a, b) in enumerate(zip(fast, plain, strict=True), start=1):
            print(f"{config} | {epoch} | {a:.4f} | {b:.4f} | {a - b:+.4f}")
        print(f"{config}: training time {fast_seconds:.1f} s vs {plain_seconds:.1f} s")


if __name__ == "__main__":
    main()
