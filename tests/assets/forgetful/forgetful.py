"""A training script that checkpoints every epoch but loses its checkpoint folder
whenever it stops, as if it had been deleted: a resumed trial starts over."""

import argparse
import json
import shutil
from pathlib import Path

from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--st_checkpoint_dir", type=str, default=None)
args, _ = parser.parse_known_args()

checkpoint = Path(args.st_checkpoint_dir) / "state.json" if args.st_checkpoint_dir else None
done = json.loads(checkpoint.read_text())["epoch"] if checkpoint and checkpoint.exists() else 0
report = Reporter()
for epoch in range(done + 1, args.epochs + 1):
    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_text(json.dumps({"epoch": epoch}))
    report(epoch=epoch, loss=args.x + 1.0 / epoch)
if checkpoint is not None:
    shutil.rmtree(checkpoint.parent)
