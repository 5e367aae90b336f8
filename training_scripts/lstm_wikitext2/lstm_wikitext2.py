"""Train a word-level LSTM language model on WikiText-2 (the `lstm_wikitext2` benchmark).

Follows Syne Tune's `lstm_wikitext2` benchmark (itself PyTorch's
word_language_model example): a 2-layer LSTM with 200-dimensional embeddings
tied to the output layer, dropout on embeddings, between layers and on the
output, truncated back-propagation over 35 tokens, plain SGD with gradient-norm
clipping, and the learning rate divided by `lr_factor` after every epoch whose
validation loss is not the best so far. The vocabulary is built from the
training and validation files, one `<eos>` per line.

Data: `--dataset_path DIR` holds `wikitext-2/wiki.train.tokens` and
`wiki.valid.tokens`, as in the official WikiText-2 archive. Inside a SageMaker
job the data channel named "training" (SM_CHANNEL_TRAINING) is searched first.
Missing data is downloaded (the official archive over HTTPS, or the URL in
HPOBENCH_WIKITEXT2_URL, e.g. a mirror) under a file lock, so that concurrent
trials download once; with HPOBENCH_OFFLINE=1 (or when the download fails) the
script exits at once with one line on stderr saying how to supply the data.

Precision follows the device: fp16 autocast with a gradient scaler on every
GPU, fp32 on the CPU; the choice is printed to the trial's log. Not bf16 on the
GPUs that have it, unlike the other scripts: under autocast PyTorch runs cuDNN's
LSTM in fp16 whatever dtype is asked for, so a "bf16" run would train its LSTM
in fp16 without a scaler. Validation always runs in fp32 (no TF32).

Reports validation perplexity as `val_perplexity` (lower is better) after
every epoch. As in the seed, the validation loss is clipped to 10 (perplexity
at most e^10, about 22,026) so that a diverged trial still reports a number.
A checkpoint in `--st_checkpoint_dir` lets a restarted trial go on at the next
epoch. This script must not import hpobench.
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
from trial_support import autocast, exact_fp32, prepare_only, save_checkpoint

NAME = "lstm_wikitext2"
DATA_FOLDER = "wikitext-2"
TRAIN_FILE = "wiki.train.tokens"
VALID_FILE = "wiki.valid.tokens"
# The official archive; its first home (an S3 bucket) is tried second.
ARCHIVE_URLS = (
    "https://wikitext.smerity.com/wikitext-2-v1.zip",
    "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
)
EMBEDDING_SIZE = 200
HIDDEN_SIZE = 200  # equal to EMBEDDING_SIZE: the weights are tied
N_LAYERS = 2
BPTT = 35
EVAL_BATCH_SIZE = 10
MAX_VAL_LOSS = 10.0
NON_FINITE_VAL_LOSS = 7.0
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
    parser.add_argument("--clip", type=float, required=True)
    parser.add_argument("--lr_factor", type=float, required=True)
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
            except OSError as error:  # URLError and timeouts are OSErrors
                errors.append(f"{url}: {error}")
        else:
            raise OSError("; ".join(errors))
        # Unpack into a temporary folder first: a half-unpacked data set must
        # never look complete to another trial.
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


def choose_precision(device_type: str, capability: Optional[tuple[int, int]]) -> str:
    """'fp16' (with a gradient scaler) on every CUDA GPU, 'fp32' on anything else.

    Autocast casts cuDNN's LSTM to fp16 on every GPU (its flat weight buffer is
    built in fp16 whatever the autocast dtype), so fp16 with a scaler is what the
    LSTM would get anyway, and the whole model then trains alike on every GPU.
    """
    if device_type != "cuda" or capability is None:
        return "fp32"
    return "fp16"


def device_precision(device: Any) -> str:
    return trial_support.device_precision(device, choose_precision)


# ---- model and training -----------------------------------------------------


def build_model(n_tokens: int, dropout: float) -> Any:
    """Embedding -> dropout -> LSTM -> dropout -> linear decoder tied to the embedding."""
    import torch
    from torch import nn

    class LstmLanguageModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(n_tokens, EMBEDDING_SIZE)
            self.rnn = nn.LSTM(EMBEDDING_SIZE, HIDDEN_SIZE, N_LAYERS, dropout=dropout)
            self.decoder = nn.Linear(HIDDEN_SIZE, n_tokens)
            self.decoder.weight = self.encoder.weight
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

        def forward(self, tokens: torch.Tensor, hidden: Any) -> tuple[torch.Tensor, Any]:
            output, hidden = self.rnn(self.drop(self.encoder(tokens)), hidden)
            return self.decoder(self.drop(output)), hidden

        def init_hidden(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
            weight = self.encoder.weight
            shape = (N_LAYERS, batch_size, HIDDEN_SIZE)
            return weight.new_zeros(shape), weight.new_zeros(shape)

    return LstmLanguageModel()


def batchify(ids: list[int], batch_size: int, device: Any) -> Any:
    """(steps, batch_size) columns of consecutive tokens; the remainder is dropped."""
    import torch

    data = torch.tensor(ids, dtype=torch.int64)
    steps = len(data) // batch_size
    return data[: steps * batch_size].view(batch_size, -1).t().contiguous().to(device)


def chunk(source: Any, i: int) -> tuple[Any, Any]:
    length = min(BPTT, len(source) - 1 - i)
    return source[i : i + length], source[i + 1 : i + 1 + length].reshape(-1)


def train_epoch(model: Any, optimizer: Any, scaler: Any, data: Any, clip: float, precision: str) -> None:
    import torch
    import torch.nn.functional as F

    model.train()
    hidden = model.init_hidden(data.size(1))
    for i in range(0, data.size(0) - 1, BPTT):
        inputs, targets = chunk(data, i)
        # Detach the state (and keep it fp32): gradients stop at the chunk boundary.
        hidden = tuple(h.detach().float() for h in hidden)
        with autocast(data.device, precision):
            output, hidden = model(inputs, hidden)
        loss = F.cross_entropy(output.float().view(-1, output.size(-1)), targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()


def evaluate(model: Any, data: Any) -> float:
    """Mean cross-entropy per token, in fp32 (no TF32) on every device."""
    import torch
    import torch.nn.functional as F

    model.eval()
    total = torch.zeros((), device=data.device)
    hidden = model.init_hidden(data.size(1))
    with torch.no_grad(), exact_fp32():
        for i in range(0, data.size(0) - 1, BPTT):
            inputs, targets = chunk(data, i)
            output, hidden = model(inputs, hidden)
            total += len(inputs) * F.cross_entropy(output.view(-1, output.size(-1)), targets)
    return total.item() / (len(data) - 1)


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
    model = build_model(len(corpus.word_ids), args.dropout).to(device)
    # The seed's update, p -= lr * grad, is SGD without momentum.
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    best_val_loss: Optional[float] = None

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    first_epoch = 1
    if checkpoint is not None and checkpoint.exists():
        # On the CPU: load_state_dict copies to the model's device, RNG states stay there.
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])  # holds the decayed learning rate
        if state.get("scaler"):  # empty when saved without a scaler (CPU)
            scaler.load_state_dict(state["scaler"])
        best_val_loss = state["best_val_loss"]
        first_epoch = state["epoch"] + 1

    report = Reporter()
    started = time.time()
    for epoch in range(first_epoch, args.epochs + 1):
        train_epoch(model, optimizer, scaler, train_data, args.clip, precision)
        val_loss = min(evaluate(model, valid_data), MAX_VAL_LOSS)
        if not math.isfinite(val_loss):
            val_loss = NON_FINITE_VAL_LOSS
        if best_val_loss is None or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            for group in optimizer.param_groups:
                group["lr"] /= args.lr_factor
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(),
                    "best_val_loss": best_val_loss,
                    "epoch": epoch,
                },
            )
        report(epoch=epoch, val_perplexity=math.exp(val_loss), val_loss=val_loss, elapsed_time=time.time() - started)


if __name__ == "__main__":
    main()
