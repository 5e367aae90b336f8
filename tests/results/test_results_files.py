"""Many results files read at once: joined and parsed by pandas, or one by one by the csv
module, the columns come out the same; files that are not one row per line take the csv path."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from synthetic_study import write_level_run

from hpobench.results import results_files
from hpobench.results.results_files import Request, read_columns

WANTED = ("trial_id", "st_tuner_time", "loss", "epoch", "st_decision", "config_epochs")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    paths = [
        write_level_run(tmp_path, "t", "b", "RS", s, rng.normal(size=30), rng=rng) / "results.csv.zip" for s in range(6)
    ]
    # Quoted fields with commas, a ragged line and a blank value: not one row per line.
    odd = tmp_path / "odd.csv.zip"
    text = (
        "trial_id,st_tuner_time,loss,epoch,st_decision,config_epochs,config_name\n"
        '0,1.0,0.5,1,CONTINUE,3,"a,b"\n0,2.0,,2,STOP,3,"c"\n1,3.0,0.25,1\n2,4.0,0.125,1,STOP,3,d\n'
    )
    with zipfile.ZipFile(odd, "w") as archive:
        archive.writestr("results.csv", text)
    return [*paths, odd]


def _read(paths, threshold, monkeypatch):
    monkeypatch.setattr(results_files, "PANDAS_FROM_CHARACTERS", threshold)
    return read_columns([Request(p, WANTED, ("trial_id", "st_tuner_time", "loss")) for p in paths])


def test_joined_pandas_parse_equals_the_csv_module(files, monkeypatch):
    by_pandas = _read(files, 0, monkeypatch)
    by_csv = _read(files, 10**12, monkeypatch)
    for a, b in zip(by_pandas, by_csv, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            if name == "st_decision":
                assert list(a[name]) == list(b[name])
            else:
                np.testing.assert_array_equal(a[name], b[name])
    assert len(by_pandas[0]["loss"]) == 90  # 30 trials x 3 epochs
    odd = by_pandas[-1]
    assert list(odd["trial_id"]) == [0.0, 0.0, 2.0]  # the ragged row dropped
    assert np.isnan(odd["loss"][1]) and list(odd["st_decision"]) == ["CONTINUE", "STOP", "STOP"]


def test_what_cannot_be_read_is_said(tmp_path):
    broken = tmp_path / "broken.csv.zip"
    broken.write_bytes(b"not a zip")
    empty = tmp_path / "empty.csv.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("results.csv", "")
    other = tmp_path / "other.csv.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("results.csv", "trial_id,st_tuner_time\n0,1.0\n")
    out = read_columns([Request(p, WANTED, ("trial_id", "st_tuner_time", "loss")) for p in (broken, empty, other)])
    assert out[0].startswith("unreadable (")
    assert out[1] == "empty (no result reported yet)"
    assert out[2] == "lacks column(s) loss"


@pytest.mark.parametrize("threshold", [0, 10**12], ids=["pandas", "csv"])
def test_files_with_different_headers_keep_their_own_columns(tmp_path, threshold, monkeypatch):
    """Two benchmarks' files in one batch: each file's values under its own header's names."""
    texts = {
        "a": "trial_id,st_tuner_time,loss\n0,1.0,0.5\n1,2.0,0.25\n",
        "b": "st_tuner_time,trial_id,accuracy,loss\n3.0,7,0.9,0.125\n",
    }
    paths = []
    for name, text in texts.items():
        paths.append(tmp_path / f"{name}.csv.zip")
        with zipfile.ZipFile(paths[-1], "w") as archive:
            archive.writestr("results.csv", text)
    monkeypatch.setattr(results_files, "PANDAS_FROM_CHARACTERS", threshold)
    a, b = read_columns([Request(p, ("trial_id", "st_tuner_time", "loss"), ("trial_id",)) for p in paths])
    assert list(a["trial_id"]) == [0.0, 1.0] and list(a["loss"]) == [0.5, 0.25]
    assert list(b["trial_id"]) == [7.0] and list(b["st_tuner_time"]) == [3.0] and list(b["loss"]) == [0.125]
