"""Train a multi-layer perceptron on scikit-learn's bundled 8x8 digits data.

A standalone training script for hpobench's `mlp_digits` benchmark: every
hyperparameter arrives as `--name value`, validation accuracy is reported to
Syne Tune after every epoch, and a checkpoint written after every epoch lets a
paused or restarted trial continue at the next epoch.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

# trial_support.py, shared by hpobench's built-in scripts, sits beside this script's folder.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from trial_support import save_checkpoint

# Fixed so every trial sees the same train/validation split.
SPLIT_SEED = 0
VALIDATION_FRACTION = 0.2
CHECKPOINT_FILE = "checkpoint.pt"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--learning_rate", type=float, required=True)
    parser.add_argument("--batch_size", type=int, required=True)
    parser.add_argument("--n_units", type=int, required=True)
    parser.add_argument("--n_layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--weight_decay", type=float, default=0.0)
    parser.add_argument("--st_checkpoint_dir", type=str, default=None)
    # Unknown entries (e.g. Syne Tune's own) must not break the script.
    args, _ = parser.parse_known_args()
    return args


def digits_csv() -> Path:
    """The digits data file scikit-learn ships, found without importing sklearn
    (which would add about a second to every trial's start)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("mlp_digits: scikit-learn is not installed; pip install scikit-learn")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"


def load_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train and validation tensors: features scaled to [0, 1], a fixed 80/20 split."""
    with gzip.open(digits_csv(), "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float32)
    features, labels = data[:, :-1] / 16.0, data[:, -1].astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    n_valid = round(VALIDATION_FRACTION * len(labels))
    valid, train = order[:n_valid], order[n_valid:]
    as_tensor = torch.from_numpy
    return (as_tensor(features[train]), as_tensor(labels[train]), as_tensor(features[valid]), as_tensor(labels[valid]))


def build_model(n_inputs: int, n_classes: int, args: argparse.Namespace) -> nn.Module:
    layers: list[nn.Module] = []
    width = n_inputs
    for _ in range(args.n_layers):
        layers += [nn.Linear(width, args.n_units), nn.ReLU(), nn.Dropout(args.dropout)]
        width = args.n_units
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def accuracy(model: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        predicted = model(features).argmax(dim=1)
    return (predicted == labels).float().mean().item()


def main() -> None:
    from syne_tune import Reporter

    args = parse_args()
    # Trials run side by side on few cores: one thread each avoids oversubscription.
    torch.set_num_threads(int(os.environ.get("HPOBENCH_TORCH_THREADS", "1")))
    torch.manual_seed(SPLIT_SEED)
    x_train, y_train, x_valid, y_valid = load_data()
    model = build_model(x_train.shape[1], 10, args)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    loss_fn = nn.CrossEntropyLoss()

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    generator = torch.Generator().manual_seed(SPLIT_SEED)
    first_epoch = 1
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        generator.set_state(state["shuffle_rng"])
        first_epoch = state["epoch"] + 1

    report = Reporter()
    for epoch in range(first_epoch, args.epochs + 1):
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            optimizer.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        val_accuracy = accuracy(model, x_valid, y_valid)
        if checkpoint is not None:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "rng": torch.get_rng_state(),
                "shuffle_rng": generator.get_state(),
                "epoch": epoch,
            }
            save_checkpoint(checkpoint, state)
        report(epoch=epoch, val_accuracy=val_accuracy)


if __name__ == "__main__":
    main()
