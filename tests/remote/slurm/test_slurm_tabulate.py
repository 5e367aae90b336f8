"""`tabulate --engine slurm` on the real one-node Slurm cluster: a tiny tabulation of
gbt_breast_cancer (4 configurations x 2 seeds, 5 boosting rounds) as one job array, its table
written by the command run again, equal to a local tabulation of the same design."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_slurm_cluster import slurm_command, status, wait_for

from hpobench.benchmarks import get_benchmark
from hpobench.plan import with_overrides
from hpobench.remote.slurm.records import read_submissions
from hpobench.tables.design import make_design
from hpobench.tables.format import MANIFEST_FILE

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("slurm")]

BENCHMARK = "gbt_breast_cancer"
TAG = "table-gbt-breast-cancer"
TABULATE = ("tabulate", "--benchmark", BENCHMARK, "--configs", "4", "--seeds", "2", "--set", "boosting_rounds=5")
ON_SLURM = (*TABULATE, "--engine", "slurm", "--cpus-per-job", "2", "--json")


def _read(path: Path):
    from syne_tune.blackbox_repository.blackbox_tabular import deserialize

    (blackbox,) = deserialize(str(path)).values()
    return blackbox, json.loads((path / MANIFEST_FILE).read_text())


def _cells(output: str) -> dict[int, dict]:
    return {cell["seed"]: cell for cell in json.loads(output)["cells"]}


def test_a_tabulation_is_one_array_and_the_command_run_again_writes_the_local_table(slurm, invoke, results_root):
    # Held in the queue: the command run again finds both cells pending and submits nothing.
    held = invoke(*ON_SLURM, "--slurm-option", "hold")
    assert held.exit_code == 0, held.output
    done = json.loads(held.output)
    assert done["table"] is None
    assert {seed: cell["action"] for seed, cell in _cells(held.output).items()} == {0: "submitted", 1: "submitted"}
    job = done["cells"][0]["job"].split("_")[0]
    try:
        again = invoke(*ON_SLURM)
        assert again.exit_code == 0, again.output
        assert {s: (c["state"], c["action"]) for s, c in _cells(again.output).items()} == {
            0: ("pending", "skipped"),
            1: ("pending", "skipped"),
        }
        (submission,) = read_submissions(results_root / TAG / "slurm")
        assert submission.cells == (("TABULATE", 0), ("TABULATE", 1))
        # The design travels as arguments (drawn again in the cell), and a cell has no budget: no --time.
        script = Path(submission.script).read_text()
        assert "--design sobol --configs 4 --design_seed 0 --design_sha256 " in script
        assert "#SBATCH --time" not in script
    except BaseException:
        slurm_command("scancel", job)  # never leave the session's cluster a held array
        raise
    slurm_command("scontrol", "release", job)

    # Meanwhile, the same design tabulated on this machine, into a tag and table of its own.
    local_table = results_root / "local-table"
    local = invoke(*TABULATE, "--experiment-tag", "local", "--table", str(local_table), "--json")
    assert local.exit_code == 0, local.output

    wait_for(
        lambda: all(r["state"] == "complete" for r in status(invoke, TAG, results_root).values()),
        120,
        "2 complete cells",
        slurm,
    )
    collected = invoke(*ON_SLURM)
    assert collected.exit_code == 0, collected.output
    done = json.loads(collected.output)
    table = results_root / "tables" / BENCHMARK
    assert done["table"] == str(table)
    assert (done["configs"], done["seeds"], done["fidelities"], done["skipped"], done["missing"]) == (4, 2, 5, 8, [])
    assert {s: (c["state"], c["action"]) for s, c in _cells(collected.output).items()} == {
        0: ("complete", "skipped"),
        1: ("complete", "skipped"),
    }

    blackbox, manifest = _read(table)
    mine, _ = _read(local_table)
    benchmark, _ = with_overrides(get_benchmark(BENCHMARK), {"boosting_rounds": "5"})
    design = make_design(benchmark.config_space, 4, "sobol", 0)
    searched = list(blackbox.hyperparameters.columns)
    expected = pd.DataFrame([{k: c[k] for k in searched} for c in design.configs])
    pd.testing.assert_frame_equal(blackbox.hyperparameters.reset_index(drop=True), expected, check_dtype=False)
    pd.testing.assert_frame_equal(blackbox.hyperparameters, mine.hyperparameters)
    assert blackbox.objectives_evaluations.shape == mine.objectives_evaluations.shape == (4, 2, 5, 3)
    assert blackbox.objectives_names == mine.objectives_names
    assert list(blackbox.fidelity_values) == list(mine.fidelity_values) == [1, 2, 3, 4, 5]
    # The built-in script is deterministic: the cells reported what this machine's trials did.
    np.testing.assert_allclose(blackbox.objectives_evaluations[..., 0], mine.objectives_evaluations[..., 0])
    assert (manifest["experiment_tag"], manifest["design"], manifest["seeds"]) == (TAG, "sobol", 2)

    # Once more: nothing submitted, the same table.
    last = invoke(*ON_SLURM)
    assert last.exit_code == 0, last.output
    assert {c["action"] for c in _cells(last.output).values()} == {"skipped"}
    assert len(read_submissions(results_root / TAG / "slurm")) == 1
    np.testing.assert_array_equal(_read(table)[0].objectives_evaluations, blackbox.objectives_evaluations)
