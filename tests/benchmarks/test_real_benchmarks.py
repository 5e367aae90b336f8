"""The seed's real benchmarks, end to end on tiny data in their official formats.

Each benchmark's own training script runs as a real trial under `run-local`,
reads the generated files with its real loading code and reports its metric;
without data and offline it fails at once with a one-line message; a trial
restarted from its checkpoint goes on at the next epoch. Concurrent trials
download missing data once (WikiText-2, served from 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tiny_datasets import write_cifar10, write_fashion_mnist, write_imdb, write_tiny_distilbert, write_wikitext2

from hpobench.benchmarks import get_benchmark
from hpobench.results import layout


@dataclass(frozen=True)
class Case:
    write_data: Callable[[Path], Path]
    # One configuration of the searched entries, for running the script directly.
    config: dict[str, Any]
    missing_data: str  # what the one-line error names
    epochs: int = 2  # resource levels per run-local trial; ResNet-18 on CPU is slow, so 1 there
    # Fixed entries to set besides the data (e.g. a tiny model), given a scratch folder.
    fixed: Callable[[Path], dict[str, Any]] = lambda scratch: {}


CASES = {
    "resnet_cifar10": Case(
        # 5 x 20 training images: 80 train / 20 validation, the seed's 80/20.
        # ResNet-18 trains at a few images/s per CPU core: keep it small.
        write_data=lambda root: write_cifar10(root, images_per_batch=20),
        config={"batch_size": 32, "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
        missing_data="no CIFAR-10 data in",
        epochs=1,
    ),
    "mlp_fashionmnist": Case(
        write_data=lambda root: write_fashion_mnist(root, n_train=240),
        config={
            "n_units_1": 64,
            "n_units_2": 32,
            "batch_size": 16,
            "dropout_1": 0.1,
            "dropout_2": 0.1,
            "learning_rate": 1e-3,
            "weight_decay": 1e-6,
        },
        missing_data="no Fashion-MNIST data in",
    ),
    "lstm_wikitext2": Case(
        write_data=lambda root: write_wikitext2(root, n_lines=80),
        config={"lr": 20.0, "dropout": 0.2, "batch_size": 8, "clip": 0.25, "lr_factor": 4.0},
        missing_data="no WikiText-2 data in",
    ),
    "transformer_wikitext2": Case(
        write_data=lambda root: write_wikitext2(root, n_lines=80),
        config={"lr": 1e-3, "dropout": 0.1, "batch_size": 8, "momentum": 0.9, "clip": 0.5},
        missing_data="no WikiText-2 data in",
        fixed=lambda scratch: {"d_model": 32, "nhead": 2},
    ),
    "distilbert_imdb": Case(
        write_data=lambda root: write_imdb(root, n_train=40, n_test=40),
        config={"learning_rate": 5e-5, "weight_decay": 1e-5},
        missing_data="no IMDB data in",
        # A tiny random DistilBERT saved locally; 2 evaluations of 16 examples each.
        fixed=lambda scratch: {
            "model_path": write_tiny_distilbert(scratch / "tiny distilbert"),
            "n_train_data": 24,
            "n_eval_data": 16,
            "eval_interval": 16,
            "train_batch_size": 8,
            "max_length": 64,
        },
    ),
}


def tuner_dir_of(results_root: Path, tag: str) -> Path:
    """The tuner folder of the single run (RS, seed 0) of an experiment."""
    (tuner_dir,) = layout.tuner_dirs(results_root / tag / "RS-0")
    return tuner_dir


def run_local(
    invoke, name: str, tag: str, epochs: int, dataset_path: Path, *extra: str, fixed: dict[str, Any] | None = None
):
    """`run-local` of one RS seed with `epochs` resource levels (the benchmark's max resource)."""
    max_resource_attr = get_benchmark(name).max_resource_attr
    sets = [f"{key}={value}" for key, value in (fixed or {}).items()]
    return invoke(
        "run-local",
        "--benchmark",
        name,
        *"--method RS --experiment-tag".split(),
        tag,
        *"--n-workers 1 --random-seed 7 --set".split(),
        f"{max_resource_attr}={epochs}",
        "--set",
        f"dataset_path={dataset_path}",
        *[arg for item in sets for arg in ("--set", item)],
        *extra,
    )


def script_command(name: str, args: dict[str, Any]) -> list[str]:
    """The training script's command line, one `--key value` pair per entry."""
    command = [sys.executable, str(get_benchmark(name).script_path)]
    for key, value in args.items():
        command += [f"--{key}", str(value)]
    return command


def online_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "HPOBENCH_OFFLINE"}


def run_script(name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the training script as Syne Tune would; returns what it reported."""
    done = subprocess.run(script_command(name, args), capture_output=True, text=True, timeout=300, env=online_env())
    assert done.returncode == 0, done.stderr
    prefix = "[tune-metric]: "
    return [json.loads(line[len(prefix) :]) for line in done.stdout.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("name", list(CASES))
def test_run_local_trains_and_a_restarted_trial_resumes(invoke, results_root, tmp_path, name):
    case = CASES[name]
    benchmark = get_benchmark(name)
    # A space in the path: Syne Tune splits its command line on spaces.
    data = case.write_data(tmp_path / "data sets" / name)
    result = run_local(
        invoke,
        name,
        "real",
        case.epochs,
        data,
        "--max-num-evaluations",
        str(case.epochs),  # one trial, every epoch
        "--max-wallclock-time",
        "240",  # a safety net only
        fixed=case.fixed(tmp_path),
    )
    assert result.exit_code == 0, result.output

    tuner_dir = tuner_dir_of(results_root, "real")
    results = pd.read_csv(tuner_dir / layout.RESULTS_FILE)
    metadata = layout.read_metadata(tuner_dir) or {}
    assert metadata[layout.STATUS_KEY] == layout.STATUS_COMPLETE
    first = results[results["trial_id"] == 0]
    assert list(first[benchmark.resource_attr]) == list(range(1, case.epochs + 1))
    metric = first[benchmark.metric]
    if benchmark.mode == "max":  # an accuracy
        assert metric.between(0, 1).all()
    else:  # a perplexity: finite, above 1, clipped at e^10
        assert metric.between(1, 22027).all()
    assert (first[f"config_{benchmark.max_resource_attr}"] == case.epochs).all()
    assert (first["config_dataset_path"] == str(data)).all()

    # Restart that trial from its checkpoint with one more epoch, as a resumed
    # trial is started: the same configuration, the same checkpoint folder.
    trial = tuner_dir / "0"
    assert "precision: fp32 (CPU" in (trial / "std.out").read_text()  # the precision it chose
    checkpoints = trial / "checkpoints"
    assert (checkpoints / "checkpoint.pt").is_file()
    assert not list(checkpoints.glob("*.tmp"))  # written atomically
    config = json.loads((trial / "config.json").read_text())
    more = case.epochs + 1
    reported = run_script(name, {**config, benchmark.max_resource_attr: more, "st_checkpoint_dir": checkpoints})
    assert [r[benchmark.resource_attr] for r in reported] == [more]  # not from scratch
    assert benchmark.metric in reported[0]


@pytest.mark.parametrize("name", list(CASES))
def test_offline_without_data_fails_at_once_with_one_line(invoke, results_root, tmp_path, monkeypatch, name):
    monkeypatch.setenv("HPOBENCH_OFFLINE", "1")  # trials inherit the environment
    empty = tmp_path / "no-data"
    empty.mkdir()
    result = run_local(
        invoke, name, "offline", 1, empty, "--max-wallclock-time", "300", fixed=CASES[name].fixed(tmp_path)
    )
    # Found before any trial (the script's prepare step): bad input, exit 2, nothing started.
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {name}: {CASES[name].missing_data} {empty}")
    assert "--set dataset_path=" in lines[0] and len(lines[0].replace(str(empty), "D")) < 300
    assert "Traceback" not in result.output
    assert not list((results_root / "offline").glob("*/*/metadata.json"))


@pytest.fixture
def wikitext_server(tmp_path):
    """The WikiText-2 archive (zip of wikitext-2/wiki.*.tokens) served on 127.0.0.1;
    yields its URL and the list of requests it answered."""
    import threading
    import zipfile
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    source = write_wikitext2(tmp_path / "archive-source", n_lines=80)
    archive = tmp_path / "wikitext-2-v1.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted((source / "wikitext-2").iterdir()):
            z.write(path, f"wikitext-2/{path.name}")
    body = archive.read_bytes()
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/wikitext-2-v1.zip", requests
    server.shutdown()
    server.server_close()


def test_concurrent_trials_download_wikitext2_once(tmp_path, wikitext_server):
    url, requests = wikitext_server
    data = tmp_path / "downloaded"
    args = {**CASES["lstm_wikitext2"].config, "epochs": 1, "dataset_path": data}
    command = script_command("lstm_wikitext2", args)
    env = {**online_env(), "HPOBENCH_WIKITEXT2_URL": url}
    # Two trials start together on an empty dataset_path, as the local back-end does.
    trials = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    for trial in trials:
        stdout, stderr = trial.communicate(timeout=300)
        assert trial.returncode == 0, stderr
        assert '"epoch": 1' in stdout
    assert len(requests) == 1  # the second trial waited for the first one's download
    assert sorted(p.name for p in (data / "wikitext-2").iterdir()) == [
        "wiki.test.tokens",
        "wiki.train.tokens",
        "wiki.valid.tokens",
    ]
    assert not (data / ".wikitext-2.partial").exists()


def test_distilbert_offline_without_model_weights_names_them(tmp_path):
    """Data present, the model a Hub name, offline: one line naming the weights and the fix."""
    data = write_imdb(tmp_path / "data")
    args = {
        **CASES["distilbert_imdb"].config,
        "steps": 1,
        "dataset_path": data,
        "model_path": "distilbert-base-uncased",
    }
    done = subprocess.run(
        script_command("distilbert_imdb", args),
        capture_output=True,
        text=True,
        timeout=120,
        env={**online_env(), "HPOBENCH_OFFLINE": "1"},
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("distilbert_imdb: no model weights: distilbert-base-uncased is not a model folder")
    assert "--set model_path=DIR" in line and len(line) < 300
