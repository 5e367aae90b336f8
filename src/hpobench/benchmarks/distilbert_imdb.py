"""`distilbert_imdb`: DistilBERT fine-tuned on IMDB sentiment (GPU, Hugging Face)."""

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.benchmarks.space import LogUniform

# The seed evaluates every 5,000 of 25,000 training examples for 15 epochs:
# 5 evaluations (resource levels) per epoch.
EPOCHS = 15
N_TRAIN = 25_000
EVAL_INTERVAL = 5_000


def distilbert_imdb_benchmark() -> BenchmarkDefinition:
    """The seed's `distilbert_imdb`: 15 epochs (75 evaluations), 4 workers, 3 h, one GPU."""
    return BenchmarkDefinition(
        name="distilbert_imdb",
        description="DistilBERT fine-tuned on IMDB sentiment (25,000 train / 5,000 eval), AdamW",
        script="distilbert_imdb/distilbert_imdb.py",
        config_space={
            # Resource level `step` counts evaluations, so the scheduler's maximum
            # is in steps too: 15 epochs x 5 evaluations per epoch.
            "steps": EPOCHS * N_TRAIN // EVAL_INTERVAL,
            # The learning rate decays over all 15 epochs whatever `steps` a
            # promotion-type scheduler sets for the next rung (see the script).
            "schedule_steps": EPOCHS * N_TRAIN // EVAL_INTERVAL,
            # Holds imdb/plain_text/{train,test}-*.parquet; downloaded there if missing.
            "dataset_path": "~/.cache/hpobench/data/imdb",
            # A local folder (save_pretrained, tokenizer included) or a Hub name.
            "model_path": "distilbert-base-uncased",
            "learning_rate": LogUniform(lower=1e-6, upper=1e-4),
            "weight_decay": LogUniform(lower=1e-6, upper=1e-4),
            "train_batch_size": 16,
            "eval_batch_size": 32,
            "n_train_data": N_TRAIN,
            "n_eval_data": 5_000,
            "eval_interval": EVAL_INTERVAL,
            "max_length": 512,  # tokens per review (padded, truncated)
        },
        metric="accuracy",
        mode="max",
        max_resource_attr="steps",
        resource_attr="step",
        max_wallclock_time=3 * 3600,
        n_workers=4,
        # One GPU shared by the 4 workers, as in the seed (see --trials-per-gpu).
        instance_type="ml.g4dn.xlarge",
        framework="HuggingFace",
        prepares_inputs=True,  # data found or downloaded once, before the first trial
        hardware="1 GPU (runs on CPU too, very slowly); downloads IMDB (84 MB) and DistilBERT (268 MB)",
    )
