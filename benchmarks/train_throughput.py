"""Training throughput of the GPU benchmarks: each training script's loop vs a seed-style loop.

resnet_cifar10 (images/s): the seed-style loop applies PIL transforms per image
in a DataLoader with num_workers=0 and trains in fp32. distilbert_imdb and
transformer_wikitext2 (`--benchmark`, see throughput_models.py): examples/s
and tokens/s against the seed's fp32 eager loops. Both loops of a benchmark
train the same model on the same generated data in one run; the script prints
the rate of each and their ratio. The fast loop is the training script's own
code (imported from it, at the precision it picks for the device), so what is
measured is what trials run.

    python benchmarks/train_throughput.py                 # CPU: about a minute
    python benchmarks/train_throughput.py --device cuda   # batch 256, 100 steps
    python benchmarks/train_throughput.py --benchmark all --device cuda
    python benchmarks/train_throughput.py --smoke         # seconds: all three, one step each

Goal on one H100: at least 20,000 images/s at batch size 256, at least 10x the
seed-style loop; at least 10x on the two others where the reference starves the GPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F
from smoke_option import parse_with_smoke

SCRIPTS = Path(__file__).resolve().parents[1] / "training_scripts"
SCRIPT = SCRIPTS / "resnet_cifar10" / "resnet_cifar10.py"
BENCHMARKS = ("resnet_cifar10", "distilbert_imdb", "transformer_wikitext2")
# (batch size, timed steps, warm-up steps): small on CPU, the setting on CUDA.
DEFAULTS = {"cpu": (32, 4, 1), "cuda": (256, 100, 10)}
SMOKE = {"benchmark": "all", "batch_size": 4, "steps": 1, "warmup": 0}


def load_script(path: Path = SCRIPT) -> ModuleType:
    """A training script as a module (it is not a package; its main() does not run)."""
    spec = importlib.util.spec_from_file_location(f"{path.stem}_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="cpu, cuda or cuda:N (default: cuda when available)",
    )
    # Each benchmark has its own sizes (throughput_models.py for the two others); these replace them.
    parser.add_argument("--batch-size", type=int, help="resnet_cifar10's default: 32 on CPU, 256 on CUDA")
    parser.add_argument("--steps", type=int, help="timed steps per loop (resnet_cifar10's: 4 CPU, 100 CUDA)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (resnet_cifar10's: 1 CPU, 10 CUDA)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's)")
    parser.add_argument("--benchmark", choices=(*BENCHMARKS, "all"), default="resnet_cifar10")
    args = parse_with_smoke(parser, SMOKE)
    return args


def sizes(given: argparse.Namespace, batch_size: int, steps: int, warmup: int) -> tuple[int, int, int]:
    """A benchmark's batch size, timed steps and warm-up steps, where the command line gave none."""
    return (given.batch_size or batch_size, given.steps or steps, warmup if given.warmup is None else given.warmup)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, warmup: Callable[[], None], work: Callable[[], None]) -> float:
    """Seconds taken by `work`, after `warmup` ran and the device is idle."""
    warmup()
    synchronize(device)
    started = time.perf_counter()
    work()
    synchronize(device)
    return time.perf_counter() - started


def on_device_loop(
    script: ModuleType, images: np.ndarray, labels: np.ndarray, args: argparse.Namespace, device: torch.device
) -> float:
    """Images/s of the training script's own epoch loop."""
    torch.backends.cudnn.benchmark = device.type == "cuda"  # as the script sets it
    data = script.DeviceData(images, labels, device)
    model = script.build_model().to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer, _ = script.build_optimizer(model, argparse.Namespace(lr=0.05, momentum=0.9, weight_decay=5e-4))
    precision = script.device_precision(device)  # as the script chooses
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    script.graph_training_step(model, data, args.batch_size, precision)  # as the script does on CUDA
    generator = torch.Generator(device=device).manual_seed(0)
    n_warm = args.warmup * args.batch_size
    warm = torch.arange(n_warm, device=device)
    timed_part = torch.arange(n_warm, len(labels), device=device)

    def run(indices: torch.Tensor) -> Callable[[], None]:
        return lambda: script.train_epoch(
            model, optimizer, scaler, data, indices, args.batch_size, generator, precision
        )

    seconds = timed(device, run(warm) if n_warm else (lambda: None), run(timed_part))
    return len(timed_part) / seconds


def seed_style_loop(
    script: ModuleType, images: np.ndarray, labels: np.ndarray, args: argparse.Namespace, device: torch.device
) -> float:
    """Images/s of the seed's pipeline: PIL transforms per image, one loader process,
    fp32 NCHW, a host sync per step for the loss (`loss.item()`)."""
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset, SubsetRandomSampler
    from torchvision import transforms

    torch.backends.cudnn.benchmark = False  # the seed does not set it
    transform = transforms.Compose(
        [
            transforms.RandomCrop(32, padding=script.PADDING),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(script.MEAN, script.STD),
        ]
    )
    hwc = images.transpose(0, 2, 3, 1).copy()  # torchvision's CIFAR10 keeps HWC arrays

    class Cifar(Dataset):
        def __len__(self) -> int:
            return len(labels)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return transform(Image.fromarray(hwc[i])), int(labels[i])

    def loader(indices: range) -> DataLoader:
        return DataLoader(
            Cifar(),
            batch_size=args.batch_size,
            num_workers=0,
            sampler=SubsetRandomSampler(list(indices)),
            pin_memory=device.type == "cuda",
        )

    model = script.build_model().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    n_warm = args.warmup * args.batch_size

    def run(indices: range) -> Callable[[], None]:
        def epoch() -> None:
            model.train()
            losses = []
            for inputs, targets in loader(indices):
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(inputs), targets)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())

        return epoch

    seconds = timed(device, run(range(n_warm)) if n_warm else (lambda: None), run(range(n_warm, len(labels))))
    return (len(labels) - n_warm) / seconds


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return f"CPU, {torch.get_num_threads()} threads (torch {torch.__version__})"


def resnet_cifar10(given: argparse.Namespace, device: torch.device) -> None:
    batch_size, steps, warmup = sizes(given, *DEFAULTS[device.type])
    args = argparse.Namespace(batch_size=batch_size, steps=steps, warmup=warmup)
    script = load_script()
    n = (args.warmup + args.steps) * args.batch_size
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int64)
    print(
        f"resnet_cifar10: batch size {args.batch_size}, "
        f"{args.steps} timed steps after {args.warmup} warm-up steps, {n} generated images"
    )
    fast = on_device_loop(script, images, labels, args, device)
    print(f"on-device loop (uint8 data on the device, augmentation there): {fast:,.0f} images/s")
    slow = seed_style_loop(script, images, labels, args, device)
    print(f"seed-style loop (PIL transforms, DataLoader num_workers=0):    {slow:,.0f} images/s")
    print(f"ratio: {fast / slow:.1f}x")


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device: {describe(device)}")
    chosen = BENCHMARKS if args.benchmark == "all" else (args.benchmark,)
    for name in chosen:
        if name == "resnet_cifar10":
            resnet_cifar10(args, device)
        else:
            from throughput_models import MEASURES

            MEASURES[name](load_script(SCRIPTS / name / f"{name}.py"), device, args)


if __name__ == "__main__":
    main()
