"""`mlp_digits`: a torch MLP on scikit-learn's bundled digits data (CPU, no download)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogRandInt, LogUniform, Uniform


def mlp_digits_benchmark() -> BenchmarkDefinition:
    return BenchmarkDefinition(
        name="mlp_digits",
        description="Two-layer MLP on scikit-learn's 8x8 digits (1,437 train / 360 validation)",
        script="mlp_digits/mlp_digits.py",
        config_space={
            "epochs": 30,
            "n_layers": 2,
            "learning_rate": LogUniform(lower=1e-4, upper=1e-1),
            "batch_size": LogRandInt(lower=8, upper=128),
            "n_units": LogRandInt(lower=16, upper=256),
            "dropout": Uniform(lower=0.0, upper=0.5),
            "weight_decay": LogUniform(lower=1e-6, upper=1e-2),
        },
        metric="val_accuracy",
        mode="max",
        max_resource_attr="epochs",
        resource_attr="epoch",
        max_wallclock_time=60,
        n_workers=2,
        instance_type="ml.c5.2xlarge",
        framework="PyTorch",
        hardware="CPU (1 core per worker)",
    )
