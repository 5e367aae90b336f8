"""Fine-tune DistilBERT on IMDB sentiment (the `distilbert_imdb` benchmark of hpobench).

Follows Syne Tune's `distilbert_imdb` benchmark (a Hugging Face Trainer run):
`distilbert-base-uncased` with a 2-class head; fixed-size training and
evaluation subsets of IMDB's train and test splits, shuffled with seed 42;
reviews tokenized to 512 tokens (padded, truncated); AdamW (no weight decay on
biases and LayerNorm weights), the learning rate decaying linearly to 0 over
the whole run, gradients clipped to norm 1; accuracy on the evaluation subset
after every `eval_interval` training examples, reported as `accuracy` at
resource level `step` (1, 2, ...). The run lasts `steps` evaluations.

Unlike the seed's Trainer and DataLoader, the tokenized subsets live on the
device as tensors and batches are sliced there; batches run through the
training examples as one stream of per-epoch permutations (a batch may span
two epochs), so a restarted trial resumes at the exact example.

Data: `--dataset_path DIR` holds `imdb/plain_text/train-*.parquet` and
`test-*.parquet` (columns `text`, `label`), the files of the Hugging Face
dataset `stanfordnlp/imdb` as `huggingface_hub` downloads them. Inside a
SageMaker job the data channel named "training" (SM_CHANNEL_TRAINING) is
searched first. Missing files are downloaded from the Hub (HF_ENDPOINT may
name a mirror) under a file lock; the tokenized subsets are cached next to
them. The model comes from `--model_path`: a local folder (saved with
`save_pretrained`, tokenizer included) or a Hub name. With HPOBENCH_OFFLINE=1
(or when a download fails) the script exits at once with one line on stderr
naming what is missing and how to provide it.

Precision follows the device: bf16 autocast on GPUs with compute capability
8.0 or more, fp16 autocast with a gradient scaler on older GPUs, fp32 on the
CPU; the choice is printed to the trial's log. Evaluation runs in fp16 autocast on
every CUDA GPU (the same arithmetic on a T4 as on an H100, whatever the
training precision) and in fp32 on the CPU: a full-fp32 pass over the 5,000
evaluation reviews would cost 3-5 times the 5,000 training examples before it
(forward only is 1/3 of the FLOPs, but fp32 runs 8-15x slower than fp16 on
tensor cores).

A checkpoint in `--st_checkpoint_dir` (model, optimizer, scaler, position)
lets a restarted trial go on at the next step. This script must not import
hpobench.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn, Optional

import numpy as np

# trial_support.py, shared by hpobench's built-in scripts, sits beside this script's folder.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
import trial_support
from trial_support import autocast, device_precision, offline, prepare_only, save_checkpoint

NAME = "distilbert_imdb"
DATA_FOLDER = "imdb"
HUB_DATASET = "stanfordnlp/imdb"
SPLIT_PATTERN = "plain_text/{split}-*.parquet"
SUBSET_SEED = 42  # the seed's shuffle seed for the fixed subsets
MAX_GRAD_NORM = 1.0  # the Trainer's default
CHECKPOINT_FILE = "checkpoint.pt"
DOWNLOAD_LOCK_TIMEOUT = 3600.0


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Hyperparameters as Syne Tune passes them: `--name value`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, required=True)
    # Length of the learning-rate decay, in evaluations; 0: `steps`. Promotion-type
    # schedulers (ASHA, MOBSTER) set `steps` to the next rung level, so a schedule over
    # `steps` would decay to 0 at every rung and jump back up on resume.
    parser.add_argument("--schedule_steps", type=int, default=0)
    parser.add_argument("--learning_rate", type=float, required=True)
    parser.add_argument("--weight_decay", type=float, required=True)
    parser.add_argument("--train_batch_size", type=int, default=16)
    parser.add_argument("--eval_batch_size", type=int, default=32)
    parser.add_argument("--n_train_data", type=int, default=25000)
    parser.add_argument("--n_eval_data", type=int, default=5000)
    parser.add_argument("--eval_interval", type=int, default=5000)
    parser.add_argument("--max_length", type=int, default=512)
    # Syne Tune's local back-end splits its command line on spaces: join the pieces.
    parser.add_argument("--model_path", nargs="+", default=["distilbert-base-uncased"])
    parser.add_argument("--dataset_path", nargs="+", required=True)
    parser.add_argument("--st_checkpoint_dir", type=str, default=None)
    args, _ = parser.parse_known_args(argv)
    args.dataset_path = " ".join(args.dataset_path)
    args.model_path = " ".join(args.model_path)
    return args


# ---- data and model files -----------------------------------------------------


def fail(message: str) -> NoReturn:
    trial_support.fail(NAME, message)


def split_files(root: Path, split: str) -> list[Path]:
    return sorted((root / DATA_FOLDER).glob(SPLIT_PATTERN.format(split=split)))


def has_data(root: Path) -> bool:
    return all(split_files(root, split) for split in ("train", "test"))


def data_root(dataset_path: str) -> Path:
    """The folder holding imdb/plain_text/*.parquet, downloading it there if needed."""
    how = (
        f"huggingface-cli download {HUB_DATASET} --repo-type dataset --include 'plain_text/t*' "
        f"--local-dir DIR/{DATA_FOLDER}, then --set dataset_path=DIR"
    )
    return trial_support.find_data(
        NAME, dataset_path, dataset="IMDB", where=str(DATA_FOLDER), how=how, has_data=has_data, download=download
    )


def download(root: Path) -> None:
    """Fetch the parquet files from the Hub, one trial at a time."""
    from filelock import FileLock
    from huggingface_hub import snapshot_download

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".download.lock"), timeout=DOWNLOAD_LOCK_TIMEOUT):
        if not has_data(root):
            snapshot_download(
                HUB_DATASET,
                repo_type="dataset",
                allow_patterns=[SPLIT_PATTERN.format(split=s) for s in ("train", "test")],
                local_dir=str(root / DATA_FOLDER),
            )


def model_source(model_path: str) -> str:
    """A local model folder when there is one, else the Hub name (failing offline)."""
    path = Path(model_path).expanduser()
    channel = os.environ.get(trial_support.SAGEMAKER_CHANNEL)
    for candidate in ([Path(channel) / path.name] if channel else []) + [path]:
        if (candidate / "config.json").is_file():
            return str(candidate)
    if offline() or path.is_absolute() or model_path.startswith((".", "~")):
        fail(
            f"no model weights: {model_path} is not a model folder with config.json"
            f"{' (HPOBENCH_OFFLINE is set)' if offline() else ''}: huggingface-cli download "
            "distilbert-base-uncased --local-dir DIR, then --set model_path=DIR"
        )
    return model_path


def read_split(root: Path, split: str) -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table([str(p) for p in split_files(root, split)], columns=["text", "label"])
    return table.column("text").to_pylist(), np.asarray(table.column("label"), dtype=np.int64)


def subset(n_rows: int, size: int) -> np.ndarray:
    """The rows `datasets.Dataset.shuffle(seed=42).select(range(size))` picks."""
    return np.random.default_rng(SUBSET_SEED).permutation(n_rows)[:size]


def tokenized_subsets(root: Path, source: str, args: argparse.Namespace) -> dict[str, Any]:
    """Token ids, attention masks and labels of both subsets, cached in dataset_path:
    tokenizing 30,000 reviews takes longer than many trials' first step."""
    import torch
    from filelock import FileLock

    key = repr((source, args.n_train_data, args.n_eval_data, args.max_length, SUBSET_SEED))
    cache = root / DATA_FOLDER / f".tokenized-{hashlib.sha1(key.encode()).hexdigest()[:16]}.pt"
    lock_folder = root if os.access(root / DATA_FOLDER, os.W_OK) else Path(args.st_checkpoint_dir or ".")
    with FileLock(str(lock_folder / ".tokenize.lock"), timeout=DOWNLOAD_LOCK_TIMEOUT):
        if cache.is_file():
            return torch.load(cache, weights_only=True)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(source)
        tensors: dict[str, Any] = {}
        for name, split, size in (("train", "train", args.n_train_data), ("eval", "test", args.n_eval_data)):
            texts, labels = read_split(root, split)
            rows = subset(len(texts), size)
            encoded = tokenizer(
                [texts[i] for i in rows],
                padding="max_length",
                truncation=True,
                max_length=args.max_length,
                return_tensors="pt",
            )
            tensors[f"{name}_ids"] = encoded["input_ids"]
            tensors[f"{name}_mask"] = encoded["attention_mask"].to(torch.bool)
            tensors[f"{name}_labels"] = torch.from_numpy(labels[rows])
        if os.access(cache.parent, os.W_OK):
            tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp")
            torch.save(tensors, tmp)
            tmp.replace(cache)
        return tensors


# ---- precision ----------------------------------------------------------------


# ---- training -----------------------------------------------------------------


def build_optimizer(model: Any, args: argparse.Namespace, total_updates: int) -> tuple[Any, Any]:
    """AdamW with the Trainer's parameter groups and linear decay to 0, no warm-up."""
    import torch

    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        (no_decay if name.endswith("bias") or "layer_norm" in name.lower() else decay).append(parameter)
    on_cuda = next(model.parameters()).is_cuda
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.learning_rate,
        fused=on_cuda or None,  # one kernel for all 100 tensors instead of several each
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda update: max(0.0, 1.0 - update / max(1, total_updates))
    )
    return optimizer, scheduler


class ExampleStream:
    """Training examples as one stream of per-epoch permutations, resumable at any position."""

    def __init__(self, n_examples: int, seed: int, device: Any) -> None:
        self.n, self.seed, self.device = n_examples, seed, device
        self._epoch, self._order = -1, None

    def order(self, epoch: int) -> Any:
        import torch

        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed + epoch)
            self._epoch, self._order = epoch, torch.randperm(self.n, generator=generator).to(self.device)
        return self._order

    def batch(self, position: int, size: int) -> Any:
        """Indices of `size` examples starting at stream position `position`."""
        import torch

        parts, remaining = [], size
        while remaining:
            epoch, offset = divmod(position, self.n)
            take = min(remaining, self.n - offset)
            parts.append(self.order(epoch)[offset : offset + take])
            position, remaining = position + take, remaining - take
        return parts[0] if len(parts) == 1 else torch.cat(parts)


def train_updates(
    model: Any,
    optimizer: Any,
    scheduler: Any,
    scaler: Any,
    data: dict[str, Any],
    stream: ExampleStream,
    first_update: int,
    n_updates: int,
    batch_size: int,
    precision: str,
) -> None:
    """`n_updates` optimizer steps from update `first_update` on; no host sync per step."""
    import torch

    model.train()
    device = data["train_ids"].device
    for update in range(first_update, first_update + n_updates):
        index = stream.batch(update * batch_size, batch_size)
        with autocast(device, precision):
            logits = model(input_ids=data["train_ids"][index], attention_mask=data["train_mask"][index]).logits
        loss = torch.nn.functional.cross_entropy(logits.float(), data["train_labels"][index])
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients
        torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()


def evaluation_precision(device_type: str) -> str:
    """fp16 on every CUDA GPU (all have fp16 tensor cores), fp32 elsewhere: never the
    device-dependent training choice, so a GPU's metric does not depend on its kind."""
    return "fp16" if device_type == "cuda" else "fp32"


def accuracy(model: Any, data: dict[str, Any], batch_size: int) -> float:
    """Share of the evaluation subset classified correctly."""
    import torch

    model.eval()
    labels = data["eval_labels"]
    correct = torch.zeros((), dtype=torch.int64, device=labels.device)
    with torch.no_grad(), autocast(labels.device, evaluation_precision(labels.device.type)):
        for start in range(0, len(labels), batch_size):
            part = slice(start, start + batch_size)
            logits = model(input_ids=data["eval_ids"][part], attention_mask=data["eval_mask"][part]).logits
            correct += (logits.argmax(dim=-1) == labels[part]).sum()
    return correct.item() / len(labels)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    # Data and model files first, so that a trial without them fails at once.
    root = data_root(args.dataset_path)
    source = model_source(args.model_path)
    if prepare_only():
        from transformers import AutoConfig, AutoTokenizer

        try:  # fetched once now (from the Hub when online), not by every trial
            AutoConfig.from_pretrained(source)
            AutoTokenizer.from_pretrained(source)
        except OSError as error:
            fail(
                f"no model for {args.model_path!r} ({error.__class__.__name__}): huggingface-cli "
                "download distilbert-base-uncased --local-dir DIR, then --set model_path=DIR"
            )
        print(f"{NAME}: data in {root}, model {source}", flush=True)
        return

    import torch
    from syne_tune import Reporter
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # keeps the trial's std.err to real messages
    torch.set_num_threads(int(os.environ.get("HPOBENCH_TORCH_THREADS", "1")))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = device_precision(device)
    seed = int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(seed)

    try:
        data = tokenized_subsets(root, source, args)
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=2)
    except OSError as error:  # a Hub name that cannot be fetched
        fail(
            f"no model weights for {args.model_path!r} ({error.__class__.__name__}); save the model "
            "and its tokenizer to a folder and pass --set model_path=DIR, or set HF_ENDPOINT to a mirror"
        )
    data = {name: tensor.to(device) for name, tensor in data.items()}
    model.to(device)
    updates_per_step = max(1, args.eval_interval // args.train_batch_size)
    schedule_steps = args.schedule_steps or args.steps
    optimizer, scheduler = build_optimizer(model, args, schedule_steps * updates_per_step)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    first_step = 1
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):  # empty when saved without a scaler (CPU, bf16)
            scaler.load_state_dict(state["scaler"])
        seed = state["seed"]
        first_step = state["step"] + 1
    stream = ExampleStream(len(data["train_labels"]), seed, device)

    report = Reporter()
    started = time.time()
    for step in range(first_step, args.steps + 1):
        train_updates(
            model,
            optimizer,
            scheduler,
            scaler,
            data,
            stream,
            (step - 1) * updates_per_step,
            updates_per_step,
            args.train_batch_size,
            precision,
        )
        val_accuracy = accuracy(model, data, args.eval_batch_size)
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "seed": seed,
                    "step": step,
                },
            )
        report(step=step, accuracy=val_accuracy, elapsed_time=time.time() - started)


if __name__ == "__main__":
    main()
