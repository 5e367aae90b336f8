"""`mlp_fashionmnist`: a two-hidden-layer MLP on Fashion-MNIST (CPU)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogUniform, RandInt, Uniform


def mlp_fashionmnist_benchmark() -> BenchmarkDefinition:
    """The seed's `mlp_fashionmnist`: 81 epochs, 4 workers, 3 h on a CPU instance."""
    return BenchmarkDefinition(
        name="mlp_fashionmnist",
        description="Two-hidden-layer MLP on Fashion-MNIST (50,000 train / 10,000 validation), Adam",
        script="mlp_fashionmnist/mlp_fashionmnist.py",
        config_space={
            "epochs": 81,
            # Holds FashionMNIST/raw/; downloaded there if missing.
            "dataset_path": "~/.cache/hpobench/data/fashion_mnist",
            "n_units_1": RandInt(lower=4, upper=1024),
            "n_units_2": RandInt(lower=4, upper=1024),
            "batch_size": RandInt(lower=8, upper=128),
            "dropout_1": Uniform(lower=0.0, upper=0.99),
            "dropout_2": Uniform(lower=0.0, upper=0.99),
            "learning_rate": LogUniform(lower=1e-6, upper=1.0),
            "weight_decay": LogUniform(lower=1e-8, upper=1.0),
        },
        metric="val_accuracy",
        mode="max",
        max_resource_attr="epochs",
        resource_attr="epoch",
        max_wallclock_time=3 * 3600,
        n_workers=4,
        instance_type="ml.c5.4xlarge",
        framework="PyTorch",
        prepares_inputs=True,  # data found or downloaded once, before the first trial
        hardware="CPU (1 core per worker); downloads Fashion-MNIST (30 MB)",
    )
