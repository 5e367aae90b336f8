"""Precision by device: every GPU training script chooses the same way, per compute capability."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from hpobench.benchmarks import get_benchmark

GPU_SCRIPTS = ["resnet_cifar10", "mlp_fashionmnist", "lstm_wikitext2", "transformer_wikitext2", "distilbert_imdb"]

# (device type, compute capability) -> precision. bf16 tensor cores arrived with
# Ampere (8.0); a T4 (7.5, ml.g4dn) or V100 (7.0, ml.p3) gets fp16 with a scaler.
EXPECTED = [
    ("cpu", None, "fp32"),
    ("mps", None, "fp32"),
    ("cuda", (6, 1), "fp16"),  # P4/P40
    ("cuda", (7, 0), "fp16"),  # V100
    ("cuda", (7, 5), "fp16"),  # T4
    ("cuda", (8, 0), "bf16"),  # A100
    ("cuda", (8, 6), "bf16"),  # A10G (ml.g5)
    ("cuda", (8, 9), "bf16"),  # L4 (ml.g6)
    ("cuda", (9, 0), "bf16"),  # H100/H200
    ("cuda", (10, 0), "bf16"),  # B200
]


def load_script(name: str) -> ModuleType:
    """The benchmark's training script as a module (its main() does not run)."""
    path = get_benchmark(name).script_path
    spec = importlib.util.spec_from_file_location(f"{name}_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", GPU_SCRIPTS)
@pytest.mark.parametrize(("device_type", "capability", "precision"), EXPECTED)
def test_precision_per_compute_capability(name, device_type, capability, precision):
    if name == "lstm_wikitext2" and precision == "bf16":
        precision = "fp16"  # autocast runs cuDNN's LSTM in fp16 on every GPU: fp16 + scaler
    script = load_script(name)
    # The script's own policy where it has one, else the one its trial_support gives.
    choose = vars(script).get("choose_precision") or script.trial_support.choose_precision
    assert choose(device_type, capability) == precision


@pytest.mark.parametrize("name", GPU_SCRIPTS)
def test_the_cpu_trains_in_fp32_and_says_so(name, capsys):
    import torch

    script = load_script(name)
    assert script.device_precision(torch.device("cpu")) == "fp32"
    assert capsys.readouterr().out.startswith("precision: fp32 (CPU")
    with script.autocast(torch.device("cpu"), "fp32"):
        assert not torch.is_autocast_enabled("cpu")


def test_distilbert_evaluates_in_fp16_on_every_gpu_and_fp32_on_cpu():
    script = load_script("distilbert_imdb")
    assert script.evaluation_precision("cuda") == "fp16"
    assert script.evaluation_precision("cpu") == "fp32"


@pytest.mark.parametrize("name", ["resnet_cifar10", "lstm_wikitext2", "transformer_wikitext2"])
def test_validation_turns_tf32_off_and_restores_it(name):
    """cuDNN may round fp32 to TF32 on Ampere+ GPUs by default: an fp32 metric would depend on the GPU."""
    import torch

    script = load_script(name)
    before = torch.backends.cudnn.allow_tf32
    with script.exact_fp32():
        assert torch.backends.cudnn.allow_tf32 is False
    assert torch.backends.cudnn.allow_tf32 == before
