"""A multi-objective method replays a table in simulated time (issue 32): the table's measured
cost reaches the scheduler and the results as `hpobench_train_time`, and MOASHA stops trials."""

from __future__ import annotations

import pandas as pd
from table_factory import write_test_table

from hpobench.results import layout


def test_moasha_on_a_table_records_both_objectives_and_stops_trials(invoke, results_root, tmp_path):
    table = write_test_table(tmp_path / "mo", "gbt_breast_cancer_mo", configs=40, seeds=1)
    result = invoke(
        *"run-local --backend simulated --experiment-tag sim --benchmark gbt_breast_cancer_mo --method MOASHA".split(),
        *("--table", str(table), "--max-wallclock-time", "120", "--random-seed", "2"),
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "sim" / "MOASHA-0")
    results = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
    assert results["val_log_loss"].notna().all() and (results["hpobench_train_time"] > 0).all()
    # The table's training time, which has no start-up in it: below the simulated elapsed time.
    assert (results["hpobench_train_time"] < results["elapsed_time"]).all()
    assert (results["st_decision"] == "STOP").any()
