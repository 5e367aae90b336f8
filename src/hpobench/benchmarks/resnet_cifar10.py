"""`resnet_cifar10`: ResNet-18 on CIFAR-10, the seed's default real benchmark (GPU)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogUniform, RandInt, Uniform


def resnet_cifar10_benchmark() -> BenchmarkDefinition:
    """The seed's `resnet_cifar10` for the local back-end: 27 epochs, 4 workers, 3 h."""
    return BenchmarkDefinition(
        name="resnet_cifar10",
        description="ResNet-18 on CIFAR-10 (40,000 train / 10,000 validation), SGD",
        script="resnet_cifar10/resnet_cifar10.py",
        config_space={
            "epochs": 27,
            # Holds cifar-10-batches-py/; downloaded there if missing. The
            # script expands '~' and joins a path that Syne Tune split on spaces.
            "dataset_path": "~/.cache/hpobench/data/cifar10",
            "batch_size": RandInt(lower=8, upper=256),
            "momentum": Uniform(lower=0.0, upper=0.99),
            "weight_decay": LogUniform(lower=1e-5, upper=1e-3),
            "lr": LogUniform(lower=1e-3, upper=0.1),
        },
        metric="val_accuracy",
        mode="max",
        max_resource_attr="epochs",
        resource_attr="epoch",
        max_wallclock_time=3 * 3600,
        n_workers=4,
        # 4 GPUs: the local back-end gives each of the 4 workers its own.
        instance_type="ml.g4dn.12xlarge",
        framework="PyTorch",
        prepares_inputs=True,  # data found or downloaded once, before the first trial
        hardware="1 GPU per worker (runs on CPU too, slowly); downloads CIFAR-10 (170 MB)",
    )
