"""`gbt_breast_cancer`: gradient-boosted trees on scikit-learn's bundled
breast-cancer data, boosting rounds as the resource (CPU, no torch, no download)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogRandInt, LogUniform, RandInt, Uniform


def gbt_breast_cancer_benchmark() -> BenchmarkDefinition:
    return BenchmarkDefinition(
        name="gbt_breast_cancer",
        description="Gradient-boosted trees on scikit-learn's breast-cancer data (455 / 114)",
        script="gbt_breast_cancer/gbt_breast_cancer.py",
        config_space={
            "boosting_rounds": 50,
            "trees_per_round": 1,
            "learning_rate": LogUniform(lower=0.01, upper=0.5),
            "max_depth": RandInt(lower=1, upper=6),
            "subsample": Uniform(lower=0.5, upper=1.0),
            "min_samples_leaf": LogRandInt(lower=1, upper=32),
            "max_features": Uniform(lower=0.2, upper=1.0),
        },
        metric="val_log_loss",
        mode="min",
        max_resource_attr="boosting_rounds",
        resource_attr="round",
        max_wallclock_time=60,
        n_workers=2,
        instance_type="ml.c5.2xlarge",
        framework="SKLearn",
        hardware="CPU (1 core per worker)",
    )
