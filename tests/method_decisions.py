"""What a method's early decisions must look like in a run's results, real or simulated."""

from __future__ import annotations

import pandas as pd

from hpobench.methods import get_method


def assert_decisions_fit_the_method(method: str, frame: pd.DataFrame, resource_attr: str) -> None:
    """DEHB trains each trial to the fidelity it was given; other multi-fidelity methods pause
    or stop some trials; a single-fidelity method neither."""
    early = frame["st_decision"].isin(["PAUSE", "STOP"])
    if method == "DEHB":  # each trial is told how far to train (its job's fidelity) and ends there
        assert frame.groupby("trial_id")[resource_attr].max().nunique() >= 2, frame[resource_attr].value_counts()
    elif get_method(method).multi_fidelity:
        assert early.any(), frame["st_decision"].value_counts()
    else:
        assert not early.any()
