"""`transformer_wikitext2`: a transformer language model on WikiText-2 (GPU)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogUniform, RandInt, Uniform


def transformer_wikitext2_benchmark() -> BenchmarkDefinition:
    """The seed's `transformer_wikitext2` for the local back-end: 40 epochs, 4 workers, 5 h."""
    return BenchmarkDefinition(
        name="transformer_wikitext2",
        description="2-layer transformer language model on WikiText-2, validation perplexity",
        script="transformer_wikitext2/transformer_wikitext2.py",
        config_space={
            "epochs": 40,
            # The same data as lstm_wikitext2: wikitext-2/wiki.*.tokens, downloaded if missing.
            "dataset_path": "~/.cache/hpobench/data/wikitext2",
            "lr": LogUniform(lower=1e-6, upper=1e-3),
            "dropout": Uniform(lower=0.0, upper=0.99),
            "batch_size": RandInt(lower=16, upper=48),
            "momentum": Uniform(lower=0.0, upper=0.99),
            "clip": Uniform(lower=0.0, upper=1.0),
            # The seed's fixed architecture and optimizer.
            "optimizer_name": "sgd",
            "bptt": 35,
            "d_model": 256,
            "ffn_ratio": 1,
            "nlayers": 2,
            "nhead": 2,
        },
        metric="val_perplexity",
        mode="min",
        max_resource_attr="epochs",
        resource_attr="epoch",
        max_wallclock_time=5 * 3600,
        n_workers=4,
        # 4 GPUs: the local back-end gives each of the 4 workers its own.
        instance_type="ml.g4dn.12xlarge",
        framework="PyTorch",
        prepares_inputs=True,  # data found or downloaded once, before the first trial
        hardware="1 GPU per worker (runs on CPU too, slowly); downloads WikiText-2 (4 MB)",
    )
