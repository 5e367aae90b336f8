"""Method names with a dash (ASHA-STOP) survive every place that builds or parses
``{method}-{seed}``: run folders, SageMaker job names, S3 keys."""

from __future__ import annotations

import re

import pytest

from hpobench.methods import method_names
from hpobench.remote.sagemaker.jobs import job_key, job_name_prefix
from hpobench.remote.sagemaker.plan import results_uri
from hpobench.results import layout
from hpobench.results.load import load_experiment

SDK_SUFFIX = "-20261127235959"


def test_registered_names_are_valid_in_folders_s3_keys_and_job_names():
    assert "ASHA-STOP" in method_names() and "MOBSTER" in method_names()
    for method in method_names():
        assert re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", method), method


@pytest.mark.parametrize("method", method_names())
def test_run_names_split_at_the_last_dash(method):
    for seed in (0, 12, 345):
        assert layout.split_run_name(layout.run_name(method, seed)) == (method, seed)


def test_other_folder_names_are_not_runs():
    for name in ("ASHA", "ASHA-", "-3", "ASHA-STOP-x", ".DS_Store"):
        assert layout.split_run_name(name) is None


@pytest.mark.parametrize("method", method_names())
def test_job_names_parse_back_to_their_method_and_seed(method):
    for seed in (0, 7, 12345):
        name = job_name_prefix("exp", method, seed) + SDK_SUFFIX
        assert job_key(name, "exp", method_names()) == (method, seed), name
        assert results_uri("b", "exp", layout.run_name(method, seed)).endswith(f"/exp/{method}-{seed}/")


def test_a_run_folder_without_metadata_keeps_its_dashed_method(tmp_path):
    (tmp_path / "exp" / "ASHA-STOP-2" / "exp-gbt_breast_cancer-2-2026").mkdir(parents=True)
    (tmp_path / "exp" / "ASHA-4").mkdir()
    runs = load_experiment(tmp_path, "exp").runs
    assert sorted((r.method, r.seed) for r in runs if r.state != "missing") == [("ASHA", 4), ("ASHA-STOP", 2)]
