"""A user's own benchmark, written by tests into a folder outside the repository:
a complete minimal training script and its TOML definition, plus broken variants."""

from __future__ import annotations

from pathlib import Path

SCRIPT = '''\
"""A quadratic 'training' whose loss falls with each epoch: the contract, nothing more."""
import argparse
import json
import time
from pathlib import Path

from syne_tune import Reporter
{import_line}

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--opt", type=str, default="sgd")
parser.add_argument("--st_checkpoint_dir", type=str, default=None)
args, _ = parser.parse_known_args()

checkpoint = Path(args.st_checkpoint_dir) / "state.json" if args.st_checkpoint_dir else None
first = 1
if {resumes} and checkpoint is not None and checkpoint.exists():
    first = json.loads(checkpoint.read_text())["epoch"] + 1

report = Reporter()
for epoch in range(first, args.epochs + 1):
    time.sleep({epoch_seconds})
    loss = (args.x - 0.3) ** 2 + (0.1 if args.opt == "adam" else 0.2) / epoch
    if {checkpoints} and checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_text(json.dumps({{"epoch": epoch}}))
    report(**{{"{resource}": {level}, "{metric}": loss}})
'''

DEFINITION = """\
name = "quadratic"
description = "A toy problem"
script = "train.py"
metric = "loss"
mode = "min"
resource_attr = "epoch"
max_resource_attr = "epochs"
max_wallclock_time = 30
n_workers = 2
instance_type = "ml.c5.xlarge"

[config_space]
epochs = 3
x = { kind = "uniform", lower = -1.0, upper = 1.0 }
opt = { kind = "choice", categories = ["sgd", "adam"] }
"""

# The same benchmark on two objectives: the script's loss and the training time hpobench measures.
MULTI_OBJECTIVE_DEFINITION = (
    DEFINITION.replace('metric = "loss"\nmode = "min"\n', "")
    + """
[[objectives]]
metric = "loss"
mode = "min"

[[objectives]]
metric = "hpobench_train_time"
mode = "min"

[hypervolume]
reference_point = [1.0, 30.0]
"""
)

VARIANTS = {
    "good": {},
    "wrong_metric": {"metric": "val_loss"},
    "skips_level": {"level": "2 * epoch - 1"},
    "never_checkpoints": {"checkpoints": "False"},
    "never_resumes": {"resumes": "False"},
    "crashes_at_import": {"import_line": "import a_module_that_is_not_installed"},
    # An epoch that takes 0.1 s: a run's trial-epochs follow its budget, not the machine's speed.
    "slow": {"epoch_seconds": "0.1"},
}


def script_source(variant: str = "good") -> str:
    """The training script, or one of its broken VARIANTS."""
    values = {
        "import_line": "",
        "resumes": "True",
        "checkpoints": "True",
        "resource": "epoch",
        "level": "epoch",
        "metric": "loss",
        "epoch_seconds": "0",
        **VARIANTS[variant],
    }
    return SCRIPT.format(**values)


def write_benchmark(folder: Path, variant: str = "good", definition: str = DEFINITION) -> Path:
    """Write train.py and quadratic.toml into `folder`; returns the TOML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(script_source(variant))
    (folder / "requirements.txt").write_text("syne-tune\n")
    path = folder / "quadratic.toml"
    path.write_text(definition)
    return path
