"""Throughput of distilbert_imdb and transformer_wikitext2: script loop vs seed-style loop.

Used by train_throughput.py (`--benchmark distilbert_imdb|transformer_wikitext2|all`).
Each measure trains the benchmark's model on generated tokens, first with the
training script's own step (on-device tensors, the device's precision, no host
sync per step), then with the seed's loop (fp32 eager, a DataLoader collating
Python lists, eager attention, a host sync per step), and prints the rates,
their ratio and the model FLOP/s of each, so that a ratio can be read against
the device's peak. On CPU the models are shrunk (stated in the output).
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch
import torch.nn.functional as F
from train_throughput import sizes, timed


def report(unit: str, fast: float, slow: float, flops_per_unit: float) -> None:
    print(f"  script loop:     {fast:,.1f} {unit}/s ({fast * flops_per_unit / 1e12:.3g} model TFLOP/s)")
    print(f"  seed-style loop: {slow:,.1f} {unit}/s ({slow * flops_per_unit / 1e12:.3g} model TFLOP/s)")
    print(
        f"  ratio: {fast / slow:.1f}x; model FLOPs per {unit[:-1]}: {flops_per_unit / 1e9:,.3f} G "
        "(6 x weights + attention, forward and backward)"
    )


# ---- distilbert_imdb ------------------------------------------------------------


def distilbert_imdb(script: ModuleType, device: torch.device, given: argparse.Namespace) -> None:
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    cuda = device.type == "cuda"
    # distilbert-base-uncased's shape (random weights: speed does not depend on them).
    config = (
        DistilBertConfig(num_labels=2)
        if cuda
        else DistilBertConfig(num_labels=2, dim=64, n_layers=2, n_heads=2, hidden_dim=128)
    )
    length = 512 if cuda else 128
    batch, steps, warmup = sizes(given, *((16, 30, 5) if cuda else (8, 3, 1)))
    n = batch * (steps + warmup)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, config.vocab_size, (n, length), generator=generator)
    labels = torch.randint(0, 2, (n,), generator=generator)
    print(
        f"distilbert_imdb: {'distilbert-base' if cuda else 'shrunk DistilBERT (dim 64, 2 layers)'}, "
        f"{length} tokens, batch {batch}, {steps} timed steps after {warmup}"
    )
    args = argparse.Namespace(learning_rate=5e-5, weight_decay=1e-5)

    # The script's loop.
    torch.manual_seed(0)
    model = DistilBertForSequenceClassification(config).to(device)
    weights = sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)
    flops = length * (6 * weights + 12 * config.n_layers * length * config.dim)
    precision = script.device_precision(device)
    optimizer, scheduler = script.build_optimizer(model, args, steps + warmup)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    data = {
        "train_ids": ids.to(device),
        "train_mask": torch.ones_like(ids, dtype=torch.bool).to(device),
        "train_labels": labels.to(device),
    }
    stream = script.ExampleStream(n, 0, device)

    def updates(first: int, count: int) -> Callable[[], None]:
        return lambda: script.train_updates(
            model, optimizer, scheduler, scaler, data, stream, first, count, batch, precision
        )

    fast = steps * batch / timed(device, updates(0, warmup), updates(warmup, steps))
    model = optimizer = data = None  # frees the GPU memory for the seed-style loop

    # The seed's Trainer loop: fp32, eager attention, DataLoader collating lists, loss.item() per step.
    from torch.utils.data import DataLoader

    torch.manual_seed(0)
    eager = copy.deepcopy(config)
    eager._attn_implementation = "eager"  # the seed's transformers (4.4) had no fused attention
    reference = DistilBertForSequenceClassification(eager).to(device)
    # The Trainer's AdamW of the seed's day: one tensor at a time (no foreach, no fused kernel).
    optimizer = torch.optim.AdamW(
        reference.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay, foreach=False
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / (steps + warmup))
    rows = [{"input_ids": ids[i].tolist(), "attention_mask": [1] * length, "labels": int(labels[i])} for i in range(n)]

    def collate(batch_rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        return {key: torch.tensor([row[key] for row in batch_rows]) for key in batch_rows[0]}

    def seed_steps(part: range) -> Callable[[], None]:
        def run() -> None:
            reference.train()
            if not part:  # no warm-up steps (an empty loader cannot shuffle)
                return
            for inputs in DataLoader(
                [rows[i] for i in part], batch_size=batch, shuffle=True, collate_fn=collate, num_workers=0
            ):
                inputs = {key: value.to(device) for key, value in inputs.items()}
                loss = reference(**inputs).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(reference.parameters(), script.MAX_GRAD_NORM)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                loss.item()

        return run

    slow = steps * batch / timed(device, seed_steps(range(warmup * batch)), seed_steps(range(warmup * batch, n)))
    report("examples", fast, slow, flops)


# ---- transformer_wikitext2 ------------------------------------------------------------


def transformer_wikitext2(script: ModuleType, device: torch.device, given: argparse.Namespace) -> None:
    cuda = device.type == "cuda"
    vocabulary = 33278  # WikiText-2's words, <eos> included
    # batch: the searched range's top (16-48); steps: chunks of bptt tokens per sequence
    batch, chunks, warmup = sizes(given, *((48, 200, 20) if cuda else (16, 6, 1)))
    args = argparse.Namespace(
        d_model=256,
        nhead=2,
        ffn_ratio=1,
        nlayers=2,
        dropout=0.2,
        lr=1e-3,
        momentum=0.9,
        clip=0.5,
        bptt=35,
        optimizer_name="sgd",
    )
    tokens_per_chunk = batch * args.bptt
    generator = torch.Generator().manual_seed(0)

    def stream(n_chunks: int) -> torch.Tensor:
        return torch.randint(0, vocabulary, (batch, n_chunks * args.bptt + 1), generator=generator).to(device)

    print(
        f"transformer_wikitext2: d_model 256, 2 layers, {vocabulary} words, batch {batch}, "
        f"bptt 35, {chunks} timed chunks after {warmup}"
    )
    model = script.build_model(vocabulary, args)
    weights = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("encoder."))
    flops = 6 * weights + 12 * args.nlayers * args.bptt * args.d_model

    torch.manual_seed(0)
    model = model.to(device)
    precision = script.device_precision(device)
    optimizer = script.build_optimizer(model, args)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    script.graph_training_step(model, batch, args.bptt, device, precision)  # as the script does on CUDA
    warm, work = stream(warmup), stream(chunks)
    fast = (
        chunks
        * tokens_per_chunk
        / timed(
            device,
            lambda: script.train_epoch(model, optimizer, scaler, warm, args, precision),
            lambda: script.train_epoch(model, optimizer, scaler, work, args, precision),
        )
    )
    model = optimizer = None  # frees the GPU memory for the seed-style loop

    # The seed's loop: sequence-first layout, fp32, log_softmax + NLLLoss, a NaN check
    # and loss.item() per step (both wait for the GPU).
    torch.manual_seed(0)
    reference = script.build_model(vocabulary, args).to(device)
    optimizer = script.build_optimizer(reference, args)
    warm_t, work_t = warm.t().contiguous(), work.t().contiguous()

    def seed_epoch(data: torch.Tensor) -> Callable[[], None]:
        def run() -> None:
            reference.train()
            for i in range(0, data.size(0) - 1, args.bptt):
                inputs = data[i : i + args.bptt].t()  # the seed's model is sequence-first; ours batch-first
                targets = data[i + 1 : i + 1 + args.bptt].t().reshape(-1)
                optimizer.zero_grad()
                output = F.log_softmax(reference(inputs), dim=-1).view(-1, vocabulary)
                loss = F.nll_loss(output, targets)
                if torch.isnan(loss):
                    return
                loss.backward()
                torch.nn.utils.clip_grad_norm_(reference.parameters(), args.clip)
                optimizer.step()
                loss.item()

        return run

    slow = chunks * tokens_per_chunk / timed(device, seed_epoch(warm_t), seed_epoch(work_t))
    report("tokens", fast, slow, flops)


MEASURES: dict[str, Callable[[ModuleType, torch.device, argparse.Namespace], None]] = {
    "distilbert_imdb": distilbert_imdb,
    "transformer_wikitext2": transformer_wikitext2,
}
