"""The run-local progress display: live on a terminal, plain lines otherwise."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from hpobench.cli.console import LogProgress, RichProgress, format_seconds, progress_for
from hpobench.local.progress import RunOutcome, TuningSnapshot
from hpobench.plan import plan_experiment
from hpobench.settings import LocalSettings, load_settings


def _plan():
    settings = load_settings(LocalSettings, benchmark="mlp_digits", methods=("ASHA", "RS"), random_seed=1)
    return plan_experiment(settings)


def _feed(progress) -> None:
    plan = _plan()
    progress.plan_started(plan)
    progress.run_skipped(plan.runs[0], Path("/somewhere/ASHA-0"))
    progress.run_started(plan.runs[1], 1, plan)
    progress.tuning_update(TuningSnapshot(trials_started=5, trials_finished=3, best=0.9512, elapsed=30, budget=60))
    progress.run_finished(RunOutcome(plan.runs[1], "complete", Path("/somewhere/RS-0"), 0.9512))
    progress.plan_finished([])
    progress.stop()


def test_terminal_gets_the_live_display():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=150)
    progress = progress_for(console)
    assert isinstance(progress, RichProgress)
    _feed(progress)
    text = out.getvalue()
    assert "experiments" in text
    assert "trials 3/5 finished/started, best 0.9512, 30s of 1m" in text


def test_pipe_gets_plain_lines():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=150)
    progress = progress_for(console)
    assert type(progress) is LogProgress
    progress.last_line = -1e9  # the next update is due at once
    _feed(progress)
    lines = out.getvalue().splitlines()
    assert any("ASHA-0: already complete in /somewhere/ASHA-0; skipped" in line for line in lines)
    assert any("[2/2] started mlp-digits: mlp_digits RS-0" in line for line in lines)
    assert any("RS-0: complete; best 0.9512" in line for line in lines)
    assert "\x1b[" not in out.getvalue()  # no terminal escapes in logs


def test_format_seconds():
    assert format_seconds(60) == "1m"
    assert format_seconds(10800) == "3h"
    assert format_seconds(90) == "1m30s"
    assert format_seconds(0) == "0s"
