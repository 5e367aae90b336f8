"""Train gradient-boosted trees on scikit-learn's bundled breast-cancer data.

A standalone training script for hpobench's `gbt_breast_cancer` benchmark. The
resource is the number of boosting rounds: trees are added one round at a time
(`warm_start`), and the validation log-loss is reported to Syne Tune after each
round. The model is pickled to the checkpoint folder after every round so a
restarted trial continues where it stopped.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

# trial_support.py, shared by hpobench's built-in scripts, sits beside this script's folder.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from trial_support import write_atomically

SPLIT_SEED = 0
VALIDATION_FRACTION = 0.2
CHECKPOINT_FILE = "model.pkl"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--boosting_rounds", type=int, required=True)
    parser.add_argument("--trees_per_round", type=int, default=1)
    parser.add_argument("--learning_rate", type=float, required=True)
    parser.add_argument("--max_depth", type=int, required=True)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--min_samples_leaf", type=int, default=1)
    parser.add_argument("--max_features", type=float, default=1.0)
    parser.add_argument("--st_checkpoint_dir", type=str, default=None)
    args, _ = parser.parse_known_args()
    return args


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fixed, stratified 80/20 split of the 569 samples."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    features, labels = load_breast_cancer(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        features, labels, test_size=VALIDATION_FRACTION, stratify=labels, random_state=SPLIT_SEED
    )
    return x_train, y_train, x_valid, y_valid


def main() -> None:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import log_loss
    from syne_tune import Reporter

    args = parse_args()
    x_train, y_train, x_valid, y_valid = load_data()

    checkpoint = Path(args.st_checkpoint_dir) / CHECKPOINT_FILE if args.st_checkpoint_dir else None
    if checkpoint is not None and checkpoint.exists():
        with checkpoint.open("rb") as f:
            model, done_rounds = pickle.load(f)
    else:
        model = GradientBoostingClassifier(
            n_estimators=0,
            learning_rate=args.learning_rate,
            max_depth=args.max_depth,
            subsample=args.subsample,
            min_samples_leaf=args.min_samples_leaf,
            max_features=args.max_features,
            warm_start=True,
            random_state=SPLIT_SEED,
        )
        done_rounds = 0

    report = Reporter()
    for boosting_round in range(done_rounds + 1, args.boosting_rounds + 1):
        model.set_params(n_estimators=boosting_round * args.trees_per_round)
        model.fit(x_train, y_train)
        val_log_loss = log_loss(y_valid, model.predict_proba(x_valid), labels=[0, 1])
        if checkpoint is not None:
            state = pickle.dumps((model, boosting_round))
            write_atomically(checkpoint, lambda tmp, state=state: tmp.write_bytes(state))
        report(**{"round": boosting_round, "val_log_loss": val_log_loss})


if __name__ == "__main__":
    main()
