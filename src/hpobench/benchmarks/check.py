"""`hpobench check-benchmark`: run a benchmark's script for real, briefly, before
a study spends its budget on it.

The script runs as the launchers run it (`python SCRIPT --name value ...
--st_checkpoint_dir DIR`, from the current folder) on one or two configurations
for two resource levels, then once more from the checkpoint it wrote; each
property of `SCRIPT_CONTRACT` becomes one check.
"""

from __future__ import annotations

import ast
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from hpobench.benchmarks.definition import BenchmarkDefinition
from hpobench.errors import last_line

# What a training script must do; docs/extending.md ("Your own benchmark") quotes it verbatim.
SCRIPT_CONTRACT = """\
A training script is a standalone Python program (it never imports hpobench) that:
1. takes every config_space entry as a `--name value` argument and ignores arguments it
   does not know (argparse's parse_known_args), among them `--st_checkpoint_dir DIR`;
2. trains for `max_resource_attr` resource levels (e.g. `--epochs 10`) and after each
   level reports with `syne_tune.Reporter`: `report(<resource_attr>=level, <metric>=value)`,
   numbers, the level counting 1, 2, ... up to max_resource_attr; promotion-type methods
   set max_resource_attr to the next rung level, so derive nothing else from it (a
   learning-rate schedule takes its length from another entry);
3. saves a checkpoint into DIR after each level and, started again with the same DIR,
   continues at the next level instead of level 1 (pausing methods rely on it; a script
   that cannot declares `checkpoints = false`, and ASHA and MOBSTER are refused for it);
4. lists the packages it needs in a requirements.txt in its folder (SageMaker jobs
   install them).
"""

CHECK_LEVELS = 2
Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    """One line of the report."""

    status: Status
    message: str


@dataclass
class ScriptRun:
    """What one run of the script did."""

    returncode: Optional[int]  # None: killed on timeout
    reports: list[dict[str, Any]]
    stderr: str
    seconds: float

    def last_error_line(self) -> str:
        return last_line(self.stderr) or "(nothing on stderr)"


def check_configurations(benchmark: BenchmarkDefinition, levels: int) -> list[dict[str, Any]]:
    """Up to two configurations: points_to_evaluate, else the default configuration (the one
    methods evaluate first, `methods.initial_points`), each completed as methods complete it."""
    from hpobench.benchmarks.space import to_syne_tune_space
    from hpobench.methods.initial_points import initial_points

    points = initial_points(
        (benchmark.points_to_evaluate or [])[:2] or None, to_syne_tune_space(benchmark.config_space)
    )
    return [{**benchmark.fixed_entries(), **point, benchmark.max_resource_attr: levels} for point in points]


def check_benchmark(
    benchmark: BenchmarkDefinition, timeout: float, allow_no_checkpoint: bool = False
) -> Iterator[CheckResult]:
    """Run the checks in order, yielding each result as it is known; stops at a failure.

    A script that never checkpoints fails, unless `allow_no_checkpoint` makes it a warning.
    """
    standalone = _check_standalone(benchmark)
    yield standalone
    if standalone.status == "fail":
        return  # a script that cannot stand alone is not run
    levels = min(CHECK_LEVELS, int(benchmark.max_resource))
    configs = check_configurations(benchmark, levels)
    for index, config in enumerate(configs, start=1):
        label = f"config {index}/{len(configs)}" if len(configs) > 1 else "config"
        for result in _check_config(benchmark, config, levels, timeout, label, allow_no_checkpoint):
            yield result
            if result.status == "fail":
                return


def _check_standalone(benchmark: BenchmarkDefinition) -> CheckResult:
    try:
        tree = ast.parse(benchmark.script_path.read_text(), str(benchmark.script_path))
    except SyntaxError as error:
        return CheckResult("fail", f"{benchmark.script_path} is not valid Python: {error}")
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        if any(name.split(".")[0] == "hpobench" for name in names):
            return CheckResult(
                "fail",
                f"the script imports hpobench (line {node.lineno}); it runs on its own, "
                "also in a SageMaker job: remove the import",
            )
    return CheckResult("ok", f"script {benchmark.script_path} is standalone Python")


def _check_config(
    benchmark: BenchmarkDefinition,
    config: dict[str, Any],
    levels: int,
    timeout: float,
    label: str,
    allow_no_checkpoint: bool,
) -> Iterator[CheckResult]:
    shown = ", ".join(f"{k}={_short(v)}" for k, v in config.items())
    with tempfile.TemporaryDirectory(prefix="hpobench-check-") as tmp:
        checkpoint_dir = Path(tmp) / "checkpoints"
        first = run_script(benchmark.script_path, config, checkpoint_dir, timeout)
        if not first.reports:
            yield CheckResult("fail", f"{label}: the script {_why_no_results(first, timeout)} ({shown})")
            return
        yield CheckResult("ok", f"{label}: the script starts and parses its arguments ({shown})")
        problem = _report_problem(benchmark, first.reports)
        if problem:
            yield CheckResult("fail", f"{label}: {problem}")
            return
        reported = [repr(name) for name in _script_reports(benchmark)]
        yield CheckResult("ok", f"{label}: reports {', '.join(reported[:-1])} and {reported[-1]} as numbers")
        counted = [r[benchmark.resource_attr] for r in first.reports]
        expected = list(range(1, levels + 1))
        if counted != expected:
            yield CheckResult(
                "fail",
                f"{label}: with {benchmark.max_resource_attr}={levels}, {benchmark.resource_attr!r} "
                f"went {_levels(counted)}; expected {_levels(expected)} (one report per level, "
                "counting from 1)",
            )
            return
        if first.returncode != 0:
            yield CheckResult(
                "fail",
                f"{label}: the script reported every level, then exited with {_exit(first)}: {first.last_error_line()}",
            )
            return
        yield CheckResult("ok", f"{label}: {benchmark.resource_attr!r} counts {_levels(expected)}")
        yield _timing(label, first)
        yield from _check_resume(benchmark, config, levels, checkpoint_dir, timeout, label, allow_no_checkpoint)


def _check_resume(
    benchmark: BenchmarkDefinition,
    config: dict[str, Any],
    levels: int,
    checkpoint_dir: Path,
    timeout: float,
    label: str,
    allow_no_checkpoint: bool,
) -> Iterator[CheckResult]:
    if not benchmark.checkpoints:
        yield CheckResult(
            "ok",
            f"{label}: its definition declares checkpoints = false, so methods that pause and "
            "resume trials (ASHA, MOBSTER) are refused for it; RS, BO, ASHA-STOP, MOBSTER-STOP run",
        )
        return
    written = [p for p in checkpoint_dir.rglob("*") if p.is_file()] if checkpoint_dir.is_dir() else []
    if not written:
        # Promotion-type methods (the seed's ASHA and MOBSTER) resume paused trials; one that
        # starts over retrains from level 1 (local/replays.py): correct, but time lost.
        yield CheckResult(
            "warn" if allow_no_checkpoint else "fail",
            f"{label}: the script wrote no checkpoint into --st_checkpoint_dir, so a trial that "
            "promotion-type methods (ASHA, MOBSTER) pause and resume would train from the start "
            "again; "
            + (
                "only methods that never pause (RS, BO, ASHA-STOP, ...) suit it"
                if allow_no_checkpoint
                else "save and load a checkpoint there, or declare checkpoints = false in its definition "
                "(ASHA and MOBSTER are then refused for it), or pass --allow-no-checkpoint if you "
                "run only methods that never pause (RS, BO, ASHA-STOP, ...)"
            ),
        )
        return
    resumed_config = {**config, benchmark.max_resource_attr: levels + 1}
    second = run_script(benchmark.script_path, resumed_config, checkpoint_dir, timeout)
    counted = [r.get(benchmark.resource_attr) for r in second.reports]
    if second.returncode != 0 or counted != [levels + 1]:
        why = (
            f"exited with {_exit(second)}: {second.last_error_line()}"
            if second.returncode != 0
            else f"reported {benchmark.resource_attr} {_levels(counted) or 'nothing'}"
        )
        yield CheckResult(
            "fail",
            f"{label}: started again with its checkpoint and {benchmark.max_resource_attr}="
            f"{levels + 1}, the script {why}; expected only level {levels + 1} (resume from "
            "the checkpoint in --st_checkpoint_dir, or declare checkpoints = false)",
        )
        return
    yield CheckResult(
        "ok", f"{label}: writes a checkpoint ({len(written)} file(s)) and a resumed run continues at level {levels + 1}"
    )


def _script_reports(benchmark: BenchmarkDefinition) -> list[str]:
    """What every report of the script must hold: the objectives it measures (not the
    `hpobench_*` costs, which hpobench measures), then the resource."""
    return [*(o.metric for o in benchmark.objectives if o.reported_by_script), benchmark.resource_attr]


def _report_problem(benchmark: BenchmarkDefinition, reports: list[dict[str, Any]]) -> str:
    wanted = _script_reports(benchmark)
    fields = "objectives" if benchmark.multi_objective else "metric"
    for report in reports:
        names = [k for k in report if not k.startswith("st_")]
        missing = [name for name in wanted if name not in report]
        if missing:
            call = ", ".join(f"{name}=..." for name in [wanted[-1], *wanted[:-1]])
            return (
                f"the script reports {', '.join(names) or 'nothing'} but not "
                f"{' and '.join(repr(m) for m in missing)}; report them (report({call})) "
                f"or fix {fields} / resource_attr in the definition"
            )
        for name in wanted:
            value = report[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"the script reports {name}={value!r}, not a number"
            if not math.isfinite(value):
                return f"the script reports {name}={value!r}; report finite numbers"
    return ""


def _timing(label: str, run: ScriptRun) -> CheckResult:
    reported = [r.get("st_worker_timestamp") for r in run.reports]
    stamps = [float(s) for s in reported if isinstance(s, (int, float))]
    if len(stamps) < 2 or len(stamps) < len(reported):
        return CheckResult("ok", f"{label}: {run.seconds:.2f} s for the run")
    per_level = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    first = run.seconds - (stamps[-1] - stamps[0])
    return CheckResult("ok", f"{label}: time per level {per_level:.2f} s (start-up and first level {first:.2f} s)")


def _why_no_results(run: ScriptRun, timeout: float) -> str:
    if run.returncode is None:
        return f"reported nothing within {timeout:g} s (stopped); raise --timeout if it is slow"
    error = run.last_error_line()
    if run.returncode != 0 and ("unrecognized arguments" in error or "error: argument" in error):
        return f"rejects its arguments: {error}; declare every config_space entry and parse with parse_known_args"
    if run.returncode != 0:
        return f"exited with {_exit(run)} before reporting anything: {error}"
    return "exited without reporting anything; report with syne_tune.Reporter after each level"


def run_script(script: Path, config: dict[str, Any], checkpoint_dir: Path, timeout: float) -> ScriptRun:
    """Run the script once as a trial: `--name value` arguments, Syne Tune's reports parsed."""
    from syne_tune.report import retrieve

    argv = [sys.executable, str(script)]
    for name, value in {**config, "st_checkpoint_dir": str(checkpoint_dir)}.items():
        argv += [f"--{name}", str(value)]
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        code: Optional[int] = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # with anything the script started
        stdout, stderr = process.communicate()
        code = None
    return ScriptRun(code, retrieve(stdout.splitlines()), stderr, time.monotonic() - started)


def _levels(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _exit(run: ScriptRun) -> str:
    return f"code {run.returncode}" if run.returncode is not None else "a timeout"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
