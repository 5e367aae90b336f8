"""`mlp_digits_mo`: `mlp_digits` with two objectives, the validation accuracy (maximized) and
the training time up to the reported epoch (hpobench measures it: `hpobench_train_time`,
minimized); same script, search space and budget."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.mlp_digits import mlp_digits_benchmark
from hpobench.benchmarks.objectives import Hypervolume, Objective

# A result counts where its accuracy beats chance on 10 digits (0.1) and its epochs took under
# 40 s. The slowest configuration (batch 8, 256 units) trains its 30 epochs in 15.7 s on the
# project's 2-core machine at load average 1.5 (st_worker_time of the last report), 1.1 s at
# batch 128; two workers on a loaded machine take about twice that. 40 s keeps every
# full-length trial in and stays below the 60 s run budget, so the time axis is not mostly
# empty. Ideal point: accuracy 1, no time; `bounds` maps both objectives to [0, 1].
REFERENCE_POINT = (0.1, 40.0)
IDEAL_POINT = (1.0, 0.0)


def mlp_digits_mo_benchmark() -> BenchmarkDefinition:
    single = mlp_digits_benchmark().model_dump(exclude={"metric", "mode", "objectives"})
    return BenchmarkDefinition(
        **{
            **single,
            "name": "mlp_digits_mo",
            "description": "mlp_digits on validation accuracy (max) and training time (min)",
            "objectives": (
                Objective(metric="val_accuracy", mode="max"),
                Objective(metric="hpobench_train_time", mode="min"),
            ),
            "hypervolume": Hypervolume(
                reference_point=REFERENCE_POINT, normalization="bounds", ideal_point=IDEAL_POINT
            ),
        }
    )
