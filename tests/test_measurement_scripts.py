"""Every measurement script under benchmarks/ runs in its smoke form and prints its figures.

docs/measured.md quotes figures from these scripts; two of them crashed unnoticed, one after a
refactor of what it imports (issue 30, point 4). Each script runs here as a user runs it, in a fresh
process (`PYTHONPATH=src python benchmarks/NAME.py --smoke`: seconds, tiny sizes; the GPU
scripts on the CPU where there is none), and must exit 0 and print each figure it promises.
The patterns check that a figure is there, never its value (tiny budgets on a shared
machine): a figure that a short budget can leave empty may read `nan` or `-`. The shell
scripts, which need a GPU or PyPI, are checked for syntax, and gpu_check.sh for the commands
its steps would run.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

NUMBER = r"-?\d[\d,]*(?:\.\d+)?"  # 3, 1,234, 0.0012, -0.4
FIGURE = rf"(?:{NUMBER}|nan|-)"  # a figure a short budget may leave empty

# Modules of benchmarks/ that are no script of their own, and a script whose smoke form runs them
# (smoke_option.py: every script).
RUN_BY = {"throughput_models.py": "train_throughput.py", "smoke_option.py": "cli_speed.py"}
SHELL_SCRIPTS = ("gpu_check.sh", "gpu_wheels.sh")


@dataclass(frozen=True)
class Smoke:
    """A script whose `--smoke` form must print lines matching `lines`."""

    script: str
    lines: tuple[str, ...]  # regular expressions, each matching a whole line of the output
    needs: str = ""  # "slurm" (the session's cluster) or "aws" (the moto server)


SMOKES = [
    Smoke(
        "accuracy_parity.py",
        (
            r"device: .+",
            rf"\(256, 0\.05, 0\.9, 0\.0005\) \| 1 \| {NUMBER} \| {NUMBER} \| \+?{NUMBER}",
            rf"\(256, 0\.05, 0\.9, 0\.0005\): training time {NUMBER} s vs {NUMBER} s",
        ),
    ),
    Smoke(
        "branin_bo.py",
        (
            *(
                rf"\s+1 {method}\s+{NUMBER}\s+{NUMBER} - {NUMBER}\s+{NUMBER} - {NUMBER}\s+{NUMBER}\s+{NUMBER}"
                for method in ("BO", "RS", "BOTorch")
            ),
            rf"goal with 1 worker\(s\): BO median {NUMBER} <= 0\.6 and below RS {NUMBER}: (met|NOT met)",
        ),
    ),
    # One seed: the median alone, no quartiles (it crashed on them).
    Smoke("branin_multi_fidelity.py", tuple(rf"\s+1 {method}\s+{NUMBER}\s+-" for method in ("RS", "DEHB"))),
    # The check itself must pass: "yes".
    Smoke("check_benchmark_speed.py", (rf"gbt_breast_cancer\s+{NUMBER}\s+{NUMBER}\s+yes",)),
    # The new rule never stops the divergence cases; a script that always fails is always stopped.
    Smoke(
        "failure_rule.py",
        (
            rf"\s+-\s+0\.35\s+anywhere\s+0\.00%\s+nan\s+{NUMBER}%\s+{FIGURE}",
            rf"\s+-\s+0\.6\s+anywhere\s+0\.00%\s+nan\s+{NUMBER}%\s+{FIGURE}",
            rf"\s+-\s+1\s+start\s+100\.00%\s+{NUMBER}\s+{NUMBER}%\s+{FIGURE}",
        ),
    ),
    Smoke(
        "cli_speed.py",
        (
            rf"python -c pass\s+{NUMBER}\s+1\.0\s+-\s*",
            rf"hpobench --help\s+{NUMBER}\s+{NUMBER}\s+0\.3\s+(yes|NO)",
            rf"hpobench list benchmarks\s+{NUMBER}\s+{NUMBER}\s+0\.8\s+(yes|NO)",
        ),
    ),
    Smoke("gp_suggestion_time.py", (rf"\s+8\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}",)),
    Smoke(
        "gpu_packing.py",
        (
            r"device: .+",
            rf"K=1: {NUMBER} trial-epochs/min \(({NUMBER}x K=1|K=1 finished no epoch)\); "
            r"\d+ trials reported; run took \d+ s",
            r"  trial 0: \d+ epochs, (first epoch at .+ s|no epoch).*",
        ),
    ),
    # Offline (this Python's packages stand in for PyPI); the image's torch is kept.
    Smoke(
        "job_requirements_install.py",
        (
            r"  before \(full requirements, no constraints\): \d+ packages; .+",
            r"  after \(job requirements \+ constraints\):\s+\d+ packages; torch kept .+",
        ),
    ),
    # One source-archive upload per launch, and a re-launch submits nothing.
    Smoke(
        "launch_remote_speed.py",
        (
            r"benchmark \S+: [1-9]\d* jobs submitted in one launch",
            rf"  launch:\s+{NUMBER} s total,\s+{NUMBER} s per job",
            rf"  bare create_training_job:\s+{NUMBER} s median of 1 boto3 calls",
            r"  S3 uploads: source archive 1 \(shared by all jobs\), .+",
            rf"  re-launch \(all [1-9]\d* jobs exist\):\s+{NUMBER} s, 0 submitted",
        ),
        needs="aws",
    ),
    Smoke(
        "hypervolume_speed.py",
        (
            r"study: 2 runs x 2,000 rows = 4,000 rows, 2 objectives \(val_log_loss, hpobench_train_time of "
            rf"gbt_breast_cancer_mo\), made in {NUMBER} s",
            rf"incremental, a value after every row \(4,000 values\):\s+{NUMBER} s",
            rf"baseline, moocore on all rows so far at 40 grid times:\s+{NUMBER} s",
            rf"ratio: baseline / incremental {NUMBER}x; per value computed {NUMBER}x",
            # The incremental values are the library's: a difference of rounding only.
            r"largest difference at the grid times: (\d\.\de-(1[0-9]|[2-9][0-9])|0\.0e\+00) "
            r"\(final hypervolume, mean: .+\)",
            rf"goal < 10 s for 800,000 rows: (met|NOT met) \({NUMBER} s scaled to 800,000 rows\)",
        ),
    ),
    # The CPU path: a block in host memory, seen from level 2 on; no GPU, no GPU-seconds.
    Smoke(
        "trial_costs.py",
        (
            r"device: cpu, block 64 MiB after level 1, fast back-end",
            rf"\s+2\s+{NUMBER}\s+0\.0\s+0\.000\s+{NUMBER}",
            r"goal cpu peak grows by >= 90% of the block at level 2: met \(\d+%\)",
            r"goal GPU-seconds = 0 x training time: met",
        ),
    ),
    Smoke(
        "local_backend_efficiency.py",
        (
            rf"training share\s+{NUMBER}%\s+{NUMBER}%\s+{FIGURE}x?",
            rf"start latency, median \(s\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x",
            rf"start to 1st epoch, median \(s\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x",
            # Stopped at a trial-epoch: trials of both back-ends trained, and none failed.
            r"trial-epochs\s+[1-9]\d*\s+[1-9]\d*\s+\S+x",
            r"trials failed\s+0\s+0\s+-",
            r"goal training share >= 60%: (met|NOT met)",
            r"goal median start latency <= 0\.3 s: (met|NOT met)",
            r"goal trial-epochs >= 3x stock: (met|NOT met) .+",
        ),
    ),
    Smoke(
        "method_comparison.py",
        (
            *(rf"{method}\s+\d+\s+{FIGURE} \+- {FIGURE}\s+{FIGURE}\s+\d+/\d+\s+.+" for method in ("RS", "BO", "ASHA")),
            *(
                rf"{method}\s+\d+\s+\d+\s+{FIGURE}\s+{FIGURE}"
                for method in ("ASHA", "ASHA-STOP", "MOBSTER", "MOBSTER-STOP")
            ),
        ),
    ),
    Smoke(
        "mo_comparison.py", tuple(rf"{method}\s+1\s+{NUMBER} \+- -\s+{NUMBER} \+- -" for method in ("MOASHA", "MO-RS"))
    ),
    Smoke(
        "mobster_kernel.py",
        tuple(
            rf"product\s+{method}\s+\d+\s+{FIGURE} \+- {FIGURE}\s+\d+\s+{FIGURE}"
            for method in ("MOBSTER", "MOBSTER-STOP")
        ),
    ),
    Smoke(
        "report_speed.py",
        (
            rf"pandas reading every results file \(baseline\):\s+{NUMBER} s \({NUMBER} rows\)",
            rf"hpobench report --format json \(no files\)\s+:\s+{NUMBER} s \({NUMBER}x baseline\)",
            rf"hpobench report -o DIR \(page, figures, tables\):\s+{NUMBER} s \({NUMBER}x baseline\)"
            r"\s+goal < 10 s: (met|NOT met)",
        ),
    ),
    Smoke("reproducibility.py", (r"ASHA\s+2\s+\d+/\d+\s+\d+/\d+\s+\d+/\d+",)),
    Smoke(
        "results_speed.py",
        (
            r"experiment: 4 methods x 1 seeds x 5 trials, \d+ result rows, written in .+",
            *(
                rf"{re.escape(name)}\s+{NUMBER}s\s+{NUMBER}s"
                for name in ("pandas reads every results.csv.zip (baseline)", "hpobench results", "hpobench status")
            ),
            r"hpobench results (meets|MISSES) the 2 s goal",
        ),
    ),
    Smoke(
        "resume_cost.py",
        (
            rf"  reference  wall\s+{NUMBER} s  trial-epochs\s+\d+",
            *(
                rf"  {variant}\s+wall\s+{NUMBER} s  trial-epochs\s+\d+  lost\s+{NUMBER} s "
                rf"\(clock\s+{NUMBER} s, work\s+{FIGURE} s\)  budget used at the kill\s+{NUMBER} s"
                for variant in ("resume", "restart")
            ),
            rf"  an interruption costs {NUMBER}x less time with resume than with a fresh start",
        ),
    ),
    Smoke(
        "slurm_speed.py",
        (
            rf"hpobench launch-remote --engine slurm, 4 cells:\s+{NUMBER} s .+",
            rf"baseline: 4 sbatch calls, one per cell:\s+{NUMBER} s .+",
            rf"hpobench status, 4 complete cells \(5 trials each\):\s+{NUMBER} s \((meets|MISSES) .+",
            rf"baseline: one squeue call:\s+{NUMBER} s",
        ),
        needs="slurm",
    ),
    # SIGTERM ends run-local with 143.
    Smoke(
        "simulation_fidelity.py",
        (
            rf"tabulate: {NUMBER} s wall-clock",
            rf"real runs \(1 seeds each\): {NUMBER} s wall-clock",
            rf"simulated runs \(2 seeds each\): {NUMBER} s wall-clock",
            rf"Kendall's tau, real vs simulated final ranks: {FIGURE}, 95% bootstrap interval (\[.+\]|-)",
            *(rf"{method}\s+1\s+2\s+{FIGURE}\s+{FIGURE}\s+(yes|no|not judged)" for method in ("RS", "ASHA")),
            r"verdict: .+\.",
        ),
    ),
    Smoke(
        "simulated_speed.py",
        (
            r"table: .+ \(generated: 20 configurations x 3 seeds x 50 rounds\)",
            rf"load average \(1, 5, 15 min\) before: {NUMBER}, {NUMBER}, {NUMBER} on \d+ CPUs",
            *(
                rf"{method}\s+{budget}s(\s+{NUMBER}){{5}}"
                for method, budget in (("RS", 60), ("RS", 120), ("ASHA", 60), ("ASHA", 120), ("OPTUNA-TPE", 60))
            ),
            rf"goal: RS and ASHA at least 10,000 results/s at 60s and 120s: slowest {NUMBER}: (met|NOT met)",
            rf"2 simulated seeds of ASHA at 60s: {NUMBER} s wall-clock \({NUMBER} results\)",
            rf"one real run of ASHA at 3s: {NUMBER} s wall-clock \(process included\)",
            rf"simulated seeds per real run's time: {NUMBER}",
            r"goal: 2 simulated seeds in less wall-clock than one real run: (met|NOT met)",
            rf"load average \(1, 5, 15 min\) after: {NUMBER}, {NUMBER}, {NUMBER}",
        ),
    ),
    Smoke("stop_latency.py", (rf"\s+1\s+{NUMBER}\s+143",)),
    # Both launches completed (a failed one exits non-zero) and were timed.
    Smoke(
        "warm_servers.py",
        (
            *(rf"{way}\s+{NUMBER}\s+{NUMBER}" for way in ("warm", "per run")),
            rf"per run / warm: wall {NUMBER}x, CPU {NUMBER}x",
        ),
    ),
    Smoke(
        "suggestion_time.py",
        (
            r"method\s+N=3\s+N=6\s+mean N=6",
            *(rf"{method}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}" for method in ("RS", "BO", "OPTUNA-TPE")),
        ),
    ),
    Smoke(
        "tabulation_overhead.py",
        (
            rf"tabulate \(in process\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}%",
            rf"hpobench tabulate process\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}%",
            rf"trials: 2, mean bare trial {NUMBER} s",
            rf"of the overhead: {NUMBER} s before the first trial .+, {NUMBER} s between trials \({NUMBER} ms .+",
            rf"goal: tabulation adds at most 10% over the bare trial time: {NUMBER}%: (met|NOT met)",
        ),
    ),
    # The CPU form of the GPU loops; throughput_models.py measures the two others.
    Smoke(
        "train_throughput.py",
        (
            rf"on-device loop \(.+\): {NUMBER} images/s",
            rf"seed-style loop \(.+\):\s+{NUMBER} images/s",
            rf"ratio: {NUMBER}x",
            *(rf"  script loop:\s+{NUMBER} {unit}/s \({NUMBER} model TFLOP/s\)" for unit in ("examples", "tokens")),
            *(rf"  seed-style loop:\s+{NUMBER} {unit}/s \({NUMBER} model TFLOP/s\)" for unit in ("examples", "tokens")),
        ),
    ),
]


def run_script(command: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    # A guard against a hung script, not a timing check.
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=540)


def test_every_script_has_a_smoke_form():
    """A new script under benchmarks/ fails here until it gets a smoke case."""
    python = {path.name for path in BENCHMARKS.glob("*.py")}
    assert python - set(RUN_BY) == {smoke.script for smoke in SMOKES}
    assert set(RUN_BY.values()) <= python
    assert {path.name for path in BENCHMARKS.glob("*.sh")} == set(SHELL_SCRIPTS)


@pytest.mark.parametrize(
    "smoke",
    # The Slurm script runs on the worker that holds the session's cluster (see test_slurm_cluster).
    [pytest.param(s, marks=pytest.mark.xdist_group("slurm")) if s.needs == "slurm" else s for s in SMOKES],
    ids=lambda smoke: smoke.script.removesuffix(".py"),
)
def test_smoke_form_prints_its_figures(smoke: Smoke, this_hpobench_env, tmp_path, request):
    env = {**this_hpobench_env, "TMPDIR": str(tmp_path)}  # folders the scripts keep stay in the test's
    command = [sys.executable, str(BENCHMARKS / smoke.script), "--smoke"]
    if smoke.needs == "slurm":
        command += ["--slurm-conf", str(request.getfixturevalue("slurm").conf)]
    elif smoke.needs == "aws":
        command += ["--endpoint-url", request.getfixturevalue("aws")]
    done = run_script(command, env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    missing = [pattern for pattern in smoke.lines if not any(re.fullmatch(pattern, line) for line in lines)]
    assert not missing, f"no line matches {missing}:\n{done.stdout}"


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_script_parses(script: str):
    done = subprocess.run(["bash", "-n", str(BENCHMARKS / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def options_of(script: Path) -> set[str]:
    """The options a script's argparse parser declares (`add_argument("--name", ...)`)."""
    calls = (node for node in ast.walk(ast.parse(script.read_text())) if isinstance(node, ast.Call))
    return {
        argument.value
        for call in calls
        if isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"
        for argument in call.args
        if isinstance(argument, ast.Constant) and str(argument.value).startswith("--")
    }


def test_gpu_check_steps_name_scripts_and_options_that_exist(this_hpobench_env, tmp_path):
    """gpu_check.sh's dry run prints each step's command: each names a script here and only
    options that script declares, so a run on a GPU machine does not fail for such a reason
    (the scripts themselves run above, in their CPU form)."""
    env = {**this_hpobench_env, "GPU_CHECK_DRY_RUN": "1", "OUT": str(tmp_path / "out")}
    done = run_script(["bash", str(BENCHMARKS / "gpu_check.sh")], env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = dict(re.findall(r"^(\w+) \(limit \d+ s\): python3 (.+)$", done.stdout, re.MULTILINE))
    assert set(steps) == {"train_throughput", "accuracy_parity", "gpu_packing", "trial_costs"}, done.stdout
    for name, command in steps.items():
        script, *arguments = command.split()
        assert script == f"benchmarks/{name}.py"
        options = {argument for argument in arguments if argument.startswith("--")}
        assert options <= options_of(ROOT / script), f"{script} declares no {options - options_of(ROOT / script)}"
