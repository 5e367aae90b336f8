"""`lstm_wikitext2`: a word-level LSTM language model on WikiText-2 (GPU)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogUniform, RandInt, Uniform


def lstm_wikitext2_benchmark() -> BenchmarkDefinition:
    """The seed's `lstm_wikitext2` for the local back-end: 81 epochs, 4 workers, 7 h."""
    return BenchmarkDefinition(
        name="lstm_wikitext2",
        description="2-layer LSTM language model on WikiText-2, validation perplexity",
        script="lstm_wikitext2/lstm_wikitext2.py",
        config_space={
            "epochs": 81,
            # Holds wikitext-2/wiki.*.tokens; downloaded there if missing.
            "dataset_path": "~/.cache/hpobench/data/wikitext2",
            "lr": LogUniform(lower=1.0, upper=50.0),
            "dropout": Uniform(lower=0.0, upper=0.99),
            "batch_size": RandInt(lower=8, upper=256),
            "clip": Uniform(lower=0.1, upper=2.0),
            "lr_factor": LogUniform(lower=1.0, upper=100.0),
        },
        metric="val_perplexity",
        mode="min",
        max_resource_attr="epochs",
        resource_attr="epoch",
        max_wallclock_time=7 * 3600,
        n_workers=4,
        instance_type="ml.g4dn.12xlarge",
        framework="PyTorch",
        prepares_inputs=True,  # data found or downloaded once, before the first trial
        hardware="1 GPU per worker (runs on CPU too, slowly); downloads WikiText-2 (4 MB)",
    )
