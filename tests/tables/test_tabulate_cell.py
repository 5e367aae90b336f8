"""What a Slurm array task of `tabulate --engine slurm` runs (remote/cell_job.py), away from
Slurm: the design reaches it as arguments and is drawn again there, never trusted blindly."""

from __future__ import annotations

from hpobench.benchmarks import get_benchmark
from hpobench.remote.cell_job import run_cell
from hpobench.tables.design import make_design


def _argv(results_root, sha256: str) -> list[str]:
    return [
        *("--results-root", str(results_root), "--experiment_tag", "cell", "--benchmark", "gbt_breast_cancer"),
        *("--method", "TABULATE", "--seed", "0", "--random_seed", "7", "--n_workers", "1"),
        *("--max_wallclock_time", "2592000.0", "--default_first_trial", "false"),
        *("--design", "sobol", "--configs", "4", "--design_seed", "0", "--design_sha256", sha256),
    ]


def test_a_cell_whose_design_is_not_the_submitted_one_refuses_to_run(results_root, capsys):
    drawn = make_design(get_benchmark("gbt_breast_cancer").config_space, 4, "sobol", 0).sha256()
    other = make_design(get_benchmark("gbt_breast_cancer").config_space, 4, "sobol", 1).sha256()
    assert run_cell(_argv(results_root, other)) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"Error: The design drawn in this job (sha256 {drawn[:12]}) is not the one submitted")
    assert not (results_root / "cell").exists()  # no trial ran
