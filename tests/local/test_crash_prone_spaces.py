"""Crash-prone search spaces are studies, not failed runs (issue 30, point 1): real ASHA runs
whose paused trials are healthy and whose promoted trials crash, and the failure share in
`status`, `results` and `report`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hpobench.results import layout

# Checkpoints every epoch; the best-looking half of the configurations (x in (-0.2, 0.8):
# the lowest loss at epoch 1) diverges at epoch 2, so each promoted trial crashes.
DIVERGING_SCRIPT = """\
import argparse, json, time
from pathlib import Path
from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--st_checkpoint_dir", type=str, required=True)
args, _ = parser.parse_known_args()
checkpoint = Path(args.st_checkpoint_dir) / "state.json"
first = json.loads(checkpoint.read_text())["epoch"] + 1 if checkpoint.exists() else 1
report = Reporter()
for epoch in range(first, args.epochs + 1):
    time.sleep(0.05)
    if epoch == 2 and abs(args.x - 0.3) < 0.5:
        raise FloatingPointError(f"loss diverged at epoch 2 (x={args.x:.3f})")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.write_text(json.dumps({"epoch": epoch}))
    report(epoch=epoch, loss=(args.x - 0.3) ** 2 + 1 / epoch)
"""

DIVERGING_DEFINITION = """\
name = "diverging"
script = "train.py"
metric = "loss"
mode = "min"
resource_attr = "epoch"
max_resource_attr = "epochs"
max_wallclock_time = 8
n_workers = 2
instance_type = "ml.c5.xlarge"

[config_space]
epochs = 9
x = { kind = "uniform", lower = -1.0, upper = 1.0 }
"""


def _metadata(root: Path, tag: str, run: str) -> dict:
    (tuner_dir,) = layout.tuner_dirs(root / tag / run)
    return layout.read_metadata(tuner_dir) or {}


def test_an_asha_run_whose_promoted_trials_diverge_completes_and_shows_its_failure_share(
    invoke, tmp_path, results_root
):
    """The old rule judged finished trials: under promotion the first to finish were the
    crashed ones, and this run failed in 3 of 3 attempts ("3 of 3 finished trials failed")."""
    folder = tmp_path / "diverging"
    folder.mkdir()
    (folder / "train.py").write_text(DIVERGING_SCRIPT)
    (folder / "diverging.toml").write_text(DIVERGING_DEFINITION)
    run = invoke(
        "run-local", "--benchmark", str(folder / "diverging.toml"), *"--method ASHA --experiment-tag dv".split()
    )
    assert run.exit_code == 0, run.output
    metadata = _metadata(results_root, "dv", "ASHA-0")
    assert metadata["hpobench_status"] == "complete", metadata.get("hpobench_error")
    failed, started = metadata[layout.TRIALS_FAILED_KEY], metadata[layout.TRIALS_STARTED_KEY]
    assert failed >= 3 and started > failed, (failed, started)

    status = invoke("status", "--experiment-tag", "dv", "--format", "json")
    assert status.exit_code == 0, status.output
    (record,) = json.loads(status.output)["runs"]
    assert record["trials_failed"] == failed and record["state"] == "complete"
    results = invoke("results", "--experiment-tag", "dv", "--format", "json")
    (summary,) = json.loads(results.output)["summary"]
    assert (summary["trials_failed"], summary["trials_started"]) == (failed, started)
    table = invoke("results", "--experiment-tag", "dv")
    assert f"{failed}/{started} ({failed / started:.0%})" in table.output
    report = invoke("report", "--experiment-tag", "dv", "-o", str(tmp_path / "report"), "--format", "json")
    assert report.exit_code == 0, report.output
    (method,) = json.loads(report.output)["benchmarks"][0]["methods"]
    assert (method["trials_failed"], method["trials_started"]) == (failed, started)
    assert f"{failed}/{started} ({failed / started:.0%})" in (tmp_path / "report" / "tables.md").read_text()


def test_a_copy_of_mlp_digits_that_diverges_for_half_the_learning_rates_completes_its_asha_run(
    invoke, tmp_path, results_root
):
    from hpobench.paths import TRIAL_SUPPORT, training_scripts_root

    scripts = tmp_path / "mine"
    shutil.copytree(training_scripts_root() / "mlp_digits", scripts / "mlp_digits")
    shutil.copy(training_scripts_root() / TRIAL_SUPPORT, scripts)
    script = scripts / "mlp_digits" / "mlp_digits.py"
    text = script.read_text()
    loop = "    for epoch in range(first_epoch, args.epochs + 1):\n"
    assert loop in text
    # Learning rates above 10**-2.5, the middle of the log range, diverge after their first epoch.
    script.write_text(
        text.replace(
            loop,
            loop
            + "        if epoch >= 2 and args.learning_rate > 10**-2.5:\n"
            + '            raise FloatingPointError("loss is nan")\n',
        )
    )
    listed = json.loads(invoke("list", "benchmarks", "--json").output)
    record = next(r for r in listed if r["name"] == "mlp_digits")
    definition = scripts / "digits.json"
    record.update(name="diverging_digits", source="file")
    definition.write_text(json.dumps(record))
    run = invoke(
        "run-local",
        "--benchmark",
        str(definition),
        *"--method ASHA --set epochs=9 --max-wallclock-time 15 --experiment-tag dd".split(),
    )
    assert run.exit_code == 0, run.output
    metadata = _metadata(results_root, "dd", "ASHA-0")
    assert metadata["hpobench_status"] == "complete", metadata.get("hpobench_error")
    assert metadata[layout.TRIALS_FAILED_KEY] >= 1
