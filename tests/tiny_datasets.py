"""Write tiny data sets in the official on-disk formats the real benchmarks read.

The training scripts' own loading code then runs on them unchanged: CIFAR-10's
python-pickle batches, Fashion-MNIST's gzipped idx files as torchvision lays
them out, WikiText-2's token files as in the official archive. The contents are
random, so only the pipeline is tested, not what a model can learn.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

CIFAR_LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root: Path, images_per_batch: int = 40, seed: int = 0) -> Path:
    """`root/cifar-10-batches-py/` with 5 training batches, a test batch and the meta file."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for index, name in enumerate(names):
        batch = {
            "batch_label": f"batch {index + 1} of 6",
            "labels": [int(v) for v in rng.integers(0, 10, images_per_batch)],
            # Rows are images: 1024 red, then 1024 green, then 1024 blue values.
            "data": rng.integers(0, 256, (images_per_batch, 3072), dtype=np.uint8),
            "filenames": [f"image_{index}_{i}.png" for i in range(images_per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    meta = {"num_cases_per_batch": images_per_batch, "label_names": CIFAR_LABELS, "num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return root


def _idx(magic: int, shape: tuple[int, ...], data: np.ndarray) -> bytes:
    return struct.pack(">" + "I" * (1 + len(shape)), magic, *shape) + data.tobytes()


def write_fashion_mnist(root: Path, n_train: int = 240, n_test: int = 60, seed: int = 0) -> Path:
    """`root/FashionMNIST/raw/*-ubyte.gz`, the idx files torchvision downloads."""
    rng = np.random.default_rng(seed)
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        with gzip.open(raw / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(_idx(2051, (n, 28, 28), images))
        with gzip.open(raw / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(_idx(2049, (n,), labels))
    return root


def write_wikitext2(root: Path, n_lines: int = 60, seed: int = 0) -> Path:
    """`root/wikitext-2/wiki.{train,valid,test}.tokens`: headings, blank lines,
    tokenized sentences with `<unk>` and ` @-@ `, as in the official archive."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(150)] + ["the", "of", "<unk>", "@-@", ",", "."]
    folder = root / "wikitext-2"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_lines), ("valid", n_lines // 4), ("test", n_lines // 4)):
        lines = []
        for i in range(n):
            if i % 10 == 0:
                lines += [" \n", f" = {words[i % 150]} {words[(i + 7) % 150]} = \n", " \n"]
            else:
                sentence = " ".join(rng.choice(words, int(rng.integers(8, 30))))
                lines.append(f" {sentence} . \n")
        (folder / f"wiki.{split}.tokens").write_text("".join(lines), encoding="utf8")
    return root


IMDB_WORDS = ["good", "great", "fun", "bad", "awful", "dull", "the", "movie", "plot", "acting", "was", "a"]


def write_imdb(root: Path, n_train: int = 40, n_test: int = 40, seed: int = 0) -> Path:
    """`root/imdb/plain_text/{train,test,unsupervised}-00000-of-00001.parquet`: the
    files of the Hugging Face dataset `stanfordnlp/imdb` (columns text, label)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    folder = root / "imdb" / "plain_text"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test), ("unsupervised", 8)):
        labels = rng.integers(0, 2, n) if split != "unsupervised" else np.full(n, -1)
        texts = [" ".join(rng.choice(IMDB_WORDS, int(rng.integers(5, 40)))) + "<br /><br />The end." for _ in range(n)]
        table = pa.table({"text": texts, "label": pa.array(labels, type=pa.int64())})
        pq.write_table(table, folder / f"{split}-00000-of-00001.parquet")
    return root


def write_tiny_distilbert(folder: Path) -> Path:
    """A randomly initialized 2-layer DistilBERT (dim 32) and its WordPiece tokenizer,
    saved with `save_pretrained` as a downloaded model folder is laid out."""
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<", ">", "/", ".", "br", "end"]
    (folder / "vocab.txt").write_text("\n".join(vocab + IMDB_WORDS) + "\n", encoding="utf8")
    DistilBertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = DistilBertConfig(
        vocab_size=len(vocab) + len(IMDB_WORDS),
        dim=32,
        n_layers=2,
        n_heads=2,
        hidden_dim=64,
        max_position_embeddings=512,
        num_labels=2,
    )
    DistilBertForSequenceClassification(config).save_pretrained(folder)
    return folder
