"""Train a transformer language model on WikiText-2 (the `transformer_wikitext2` benchmark).

Follows Syne Tune's `transformer_wikitext2` benchmark (itself PyTorch's
word_language_model example, transformer variant): token embedding scaled by
sqrt(d_model), sinusoidal positional encoding, a causal
nn.TransformerEncoder (2 layers, d_model 256, 2 heads, feed-forward width
d_model x ffn_ratio), an untied linear decoder, truncated sequences of `bptt`
tokens, SGD with momentum (or Adam with beta1 = momentum) and gradient-norm
clipping when `clip` > 0. The vocabulary is built from the training and
validation files, one `<eos>` per line.

Data: the same as `lstm_wikitext2`: `--dataset_path DIR` holds
`wikitext-2/wiki.train.tokens` and `wiki.valid.tokens`, as in the official
archive. Inside a SageMaker job the data channel named "training"
(SM_CHANNEL_TRAINING) is searched first. Missing data is downloaded (the
official archive, or the URL in HPOBENCH_WIKITEXT2_URL) under a file lock;
with HPOBENCH_OFFLINE=1 (or when the download fails) the script exits at once
with one line on stderr saying how to supply the data.

Precision follows the device: bf16 autocast on GPUs with compute capability
8.0 or more, fp16 autocast with a gradient scaler on older GPUs, fp32 on the
CPU; the choice is printed to the trial's log. Validation always runs in fp32,
so the reported metric does not depend on the GPU. On CUDA the training
forward and backward are replayed as CUDA graphs (captured once per trial).

Reports validation perplexity as `val_perplexity` (lower is better) and the
loss as `val_loss` after every epoch; the loss is clipped to 10 (a diverged
trial reports e^10). A checkpoint in `--st_checkpoint_dir` lets a restarted
trial go on at the next epoch. This script must not import hpobench.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn, Optional

# trial_support.py, shared by hpobench's built-in scripts, sits beside this script's folder.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
import trial_support
from trial_support import autocast, device_precision, exact_fp32, prepare_only, save_checkpoint

NAME = "transformer_wikitext2"
DATA_FOLDER = "wikitext-2"
TRAIN_FILE = "wiki.train.tokens"
VALID_FILE = "wiki.valid.tokens"
ARCHIVE_URLS = (
    "https://wikitext.smerity.com/wikitext-2-v1.zip",
    "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
)
EVAL_BATCH_SIZE = 10
MAX_VAL_LOSS = 10.0
MAX_SEQUENCE = 5000  # positional encodings precomputed, as in the seed
CHECKPOINT_FILE = "checkpoint.pt"
DOWNLOAD_LOCK_TIMEOUT = 1800.0
DOWNLOAD_TIMEOUT = 60.0


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Hyperparameters as Syne Tune passes them: `--name value`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--dropout", type=float, required=True)
    parser.add_argument("--batch_size", type=int, required=True)
    parser.add_argument("--momentum", type=float, required=True)
    parser.add_argument("--clip", type=float, required=True)
    parser.add_argument("--optimizer_name", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--d_model", type=int, default=256)
    parser.add_argument("--ffn_ratio", type=int, default=1)
    parser.add_argument("--nlayers", type=int, default=2)
    parser.add_argument("--nhead", type=int, default=2)
    # Syne Tune's local back-end splits its command line on spaces: join the pieces.
    parser.add_argument("--dataset_path", nargs="+", required=True)
    parser.add_argument("--st_checkpoint_dir", type=str, default=None)
    args, _ = parser.parse_known_args(argv)
    args.dataset_path = " ".join(args.dataset_path)
    return args


# ---- data (as lstm_wikitext2: scripts are uploaded alone, so each carries its own) ----


def fail(message: str) -> NoReturn:
    trial_support.fail(NAME, message)


def has_data(root: Path) -> bool:
    return all((root / DATA_FOLDER / name).is_file() for name in (TRAIN_FILE, VALID_FILE))


def data_root(dataset_path: str) -> Path:
    """The folder holding wikitext-2/, downloading it there if needed."""
    how = (
        f"put {DATA_FOLDER}/wiki.*.tokens (wikitext-2-v1.zip) in DIR, then --set dataset_path=DIR, "
        "or HPOBENCH_WIKITEXT2_URL=a mirror"
    )
    return trial_support.find_data(
        NAME, dataset_path, dataset="WikiText-2", where=str(DATA_FOLDER), how=how, has_data=has_data, download=download
    )


def download(root: Path) -> None:
    """Fetch and unpack the archive, one trial at a time (the others wait, then reuse it)."""
    import io
    import shutil
    import urllib.request
    import zipfile

    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".download.lock"), timeout=DOWNLOAD_LOCK_TIMEOUT):
        if has_data(root):
            return
        errors = []
        mirror = os.environ.get("HPOBENCH_WIKITEXT2_URL")
        for url in (mirror,) if mirror else ARCHIVE_URLS:
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                    archive = zipfile.ZipFile(io.BytesIO(response.read()))
                break
            except OSError as error:
                errors.append(f"{url}: {error}")
        else:
            raise OSError("; ".join(errors))
        # Unpack aside first: a half-unpacked data set must never look complete.
        staging = root / f".{DATA_FOLDER}.partial"
        archive.extractall(staging)
        (staging / DATA_FOLDER).replace(root / DATA_FOLDER)
        shutil.rmtree(staging, ignore_errors=True)


class Corpus:
    """Token ids of the training and validation text, one `<eos>` per line."""

    def __init__(self, root: Path) -> None:
        self.word_ids: dict[str, int] = {}
        self.train = self.tokenize(root / DATA_FOLDER / TRAIN_FILE)
        self.valid = self.tokenize(root / DATA_FOLDER / VALID_FILE)

    def tokenize(self, path: Path) -> list[int]:
        ids: list[int] = []
        with open(path, encoding="utf8") as f:
            for line in f:
                for word in [*line.split(), "<eos>"]:
                    ids.append(self.word_ids.setdefault(word, len(self.word_ids)))
        return ids


# ---- precision ----------------------------------------------------------------


# ---- model and training -------------------------------------------------------


def build_model(n_tokens: int, args: argparse.Namespace) -> Any:
    """Embedding x sqrt(d) + sinusoidal positions -> causal encoder -> linear decoder."""
    import torch
    from torch import nn

    class TransformerLanguageModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            d = args.d_model
            self.d_model = d
            self.encoder = nn.Embedding(n_tokens, d)
            self.drop = nn.Dropout(args.dropout)
            position = torch.arange(MAX_SEQUENCE, dtype=torch.float32)[:, None]
            frequency = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
            encoding = torch.zeros(MAX_SEQUENCE, d)
            encoding[:, 0::2] = torch.sin(position * frequency)
            encoding[:, 1::2] = torch.cos(position * frequency)
            self.register_buffer("positions", encoding, persistent=False)
            # Batch-first: (batch, sequence, d) lets attention use fused kernels.
            layer = nn.TransformerEncoderLayer(d, args.nhead, d * args.ffn_ratio, args.dropout, batch_first=True)
            self.layers = nn.TransformerEncoder(layer, args.nlayers, enable_nested_tensor=False)
            self.decoder = nn.Linear(d, n_tokens)
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            """Logits (batch, sequence, n_tokens) of the next token at every position."""
            length = tokens.size(1)
            x = self.encoder(tokens) * math.sqrt(self.d_model) + self.positions[:length]
            mask = nn.Transformer.generate_square_subsequent_mask(length, device=tokens.device)
            return self.decoder(self.layers(self.drop(x), mask=mask, is_causal=True))

    return TransformerLanguageModel()


def batchify(ids: list[int], batch_size: int, device: Any) -> Any:
    """(batch_size, steps) rows of consecutive tokens; the remainder is dropped."""
    import torch

    data = torch.tensor(ids, dtype=torch.int64)
    steps = len(data) // batch_size
    return data[: steps * batch_size].view(batch_size, -1).contiguous().to(device)


def chunk(source: Any, i: int, bptt: int) -> tuple[Any, Any]:
    length = min(bptt, source.size(1) - 1 - i)
    return source[:, i : i + length], source[:, i + 1 : i + 1 + length]


def build_optimizer(model: Any, args: argparse.Namespace) -> Any:
    import torch

    if args.optimizer_name == "adam":
        return torch.optim.Adam(model.parameters(), lr=args.lr, betas=(args.momentum, 0.999))
    return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)


def graph_training_step(model: Any, batch_size: int, bptt: int, device: Any, precision: str) -> None:
    """On CUDA, capture the model's training forward and backward at (batch_size, bptt) as
    CUDA graphs: a step of this small model is a few hundred short kernels, so without
    graphs the GPU mostly waits for Python. The epoch's last, shorter chunk runs eagerly
    with the same parameters; evaluation (eval mode) always runs eagerly. If capture
    fails, the trial says so in its log and trains eagerly.
    """
    import types

    import torch

    if device.type != "cuda":
        return
    eager_forward = types.MethodType(type(model).forward, model)
    sample = torch.zeros((batch_size, bptt), dtype=torch.int64, device=device)
    model.train()
    try:
        with autocast(device, precision, cache_enabled=False):  # CUDA graphs: no cast cache
            torch.cuda.make_graphed_callables(model, (sample,))
    except RuntimeError as error:  # the eager loop computes the same, only slower
        model.forward = eager_forward
        print(f"CUDA graphs off ({' '.join(str(error).split())[:200]}); training eagerly", flush=True)
        return
    model.eager_forward = eager_forward
    model.graphed_shape = (batch_size, bptt)


def train_epoch(model: Any, optimizer: Any, scaler: Any, data: Any, args: argparse.Namespace, precision: str) -> None:
    """One pass over the training tokens; no host sync per step."""
    import torch
    import torch.nn.functional as F

    model.train()
    graphed = getattr(model, "graphed_shape", None)
    for i in range(0, data.size(1) - 1, args.bptt):
        inputs, targets = chunk(data, i, args.bptt)
        forward = model if graphed in (None, tuple(inputs.shape)) else model.eager_forward
        with autocast(data.device, precision, cache_enabled=False):  # CUDA graphs: no cast cache
            logits = forward(inputs)
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if args.clip > 0:
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        scaler.step(optimizer)
        scaler.update()


def evaluate(model: Any, data: Any, bptt: int) -> float:
    """Mean cross-entropy per token, in fp32 (no TF32) on every device."""
    import torch
    import torch.nn.functional as F

    model.eval()
    total = torch.zeros((), device=data.device)
    with torch.no_grad(), exact_fp32():
        for i in range(0, data.size(1) - 1, bptt):
            inputs, targets = chunk(data, i, bptt)
            logits = model(inputs)
            total += F.cross_entropy(logits.flatten(0, 1), targets.reshape(-1), reduction="sum")
    return total.item() / ((data.size(1) - 1) * data.size(0))


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    # Before the slow imports, so that a trial without data fails at once.
    root = data_root(args.dataset_path)
    if prepare_only():
        print(f"{NAME}: data in {root}", flush=True)
        return
    corpus = Corpus(root)

    import torch
    from syne_tune import Reporter

    torch.set_num_threads(int(os.environ.get("HPOBENCH_TORCH_THREADS", "1")))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = device_precision(device)
    torch.manual_seed(int.from_bytes(os.urandom(4), "little"))

    train_data = batchify(corpus.train, args.batch_size, device)
    valid_data = batchify(corpus.valid, EVAL_BATCH_SIZE, device)
    model = build_model(len(corpus.word_ids), args).to(device)
    optimizer = build_optimizer(model, args)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    first_epoch = 1
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):  # empty when saved without a scaler (CPU, bf16)
            scaler.load_state_dict(state["scaler"])
        first_epoch = state["epoch"] + 1

    graph_training_step(model, args.batch_size, args.bptt, device, precision)
    report = Reporter()
    started = time.time()
    for epoch in range(first_epoch, args.epochs + 1):
        train_epoch(model, optimizer, scaler, train_data, args, precision)
        val_loss = evaluate(model, valid_data, args.bptt)
        # A diverged model (NaN or huge loss) reports the worst value instead of failing.
        val_loss = min(val_loss, MAX_VAL_LOSS) if math.isfinite(val_loss) else MAX_VAL_LOSS
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(),
                    "epoch": epoch,
                },
            )
        report(epoch=epoch, val_perplexity=math.exp(val_loss), val_loss=val_loss, elapsed_time=time.time() - started)


if __name__ == "__main__":
    main()
