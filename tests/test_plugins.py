"""Entry-point plugins: a tiny installed package (its code and .dist-info metadata on
sys.path) registering a benchmark and a method, plus broken and colliding entries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from user_benchmark import script_source

from hpobench.results import layout

PACKAGE = "hpb_toy_plugin"
ENTRY_POINTS = f"""\
[hpobench.benchmarks]
toy_quadratic = {PACKAGE}:quadratic_benchmark
toy_broken = {PACKAGE}.broken:benchmark
toy_exits = {PACKAGE}:exits
mlp_digits = {PACKAGE}:quadratic_benchmark
twice = {PACKAGE}:quadratic_benchmark
toy_tradeoff = {PACKAGE}:tradeoff_benchmark
toy_no_reference = {PACKAGE}:no_reference

[hpobench.methods]
FIRST_POINT = {PACKAGE}:first_point_search
BROKEN_METHOD = {PACKAGE}.broken:method
RS = {PACKAGE}:first_point_search
"""
MODULE = '''\
"""hpobench plugin: a benchmark and a method of a package the user installed."""
from pathlib import Path

from hpobench.benchmarks import BenchmarkDefinition
from hpobench.benchmarks.space import Choice, Uniform

# The point the plugin method tries first: random search never draws exactly this.
FIRST_POINT = {"x": 0.123456, "opt": "adam"}


def quadratic_benchmark():
    return BenchmarkDefinition(
        name="toy_quadratic",
        script="train.py",
        config_space={"epochs": 3, "x": Uniform(lower=-1.0, upper=1.0),
                       "opt": Choice(categories=("sgd", "adam"))},
        metric="loss", mode="min", resource_attr="epoch", max_resource_attr="epochs",
        max_wallclock_time=30, n_workers=1, instance_type="ml.c5.xlarge",
    ).located(Path(__file__).parent / "script")


def tradeoff_benchmark(name="toy_tradeoff", reference_point=(1.0, 30.0)):
    from hpobench.benchmarks.objectives import Hypervolume, Objective

    data = quadratic_benchmark().model_dump(exclude={"metric", "mode", "objectives", "hypervolume"})
    return BenchmarkDefinition(
        **{**data, "name": name},
        objectives=(Objective(metric="loss", mode="min"), Objective(metric="hpobench_train_time", mode="min")),
        hypervolume=None if reference_point is None else Hypervolume(reference_point=reference_point),
    ).located(Path(__file__).parent / "script")


def no_reference():
    return tradeoff_benchmark("toy_no_reference", reference_point=None)


def first_point_search(args):
    from syne_tune.optimizer.baselines import RandomSearch

    return RandomSearch(args.config_space, metrics=[args.metric], do_minimize=args.do_minimize,
                        random_seed=args.random_seed, points_to_evaluate=[FIRST_POINT])


first_point_search.family = "random search, fixed first point"


def exits():
    raise SystemExit("no display")
'''


def _dist_info(site: Path, name: str, version: str, entry_points: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"  # as pip names it
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """The package and its metadata in a folder first on sys.path, as pip would install it."""
    site = tmp_path_factory.mktemp("site-packages")
    package = site / PACKAGE
    (package / "script").mkdir(parents=True)
    (package / "__init__.py").write_text(MODULE)
    (package / "broken.py").write_text("raise ImportError('needs a_library_that_is_missing')\n")
    (package / "script" / "train.py").write_text(script_source())
    _dist_info(site, "hpb-toy-plugin", "0.1", ENTRY_POINTS)
    _dist_info(site, "hpb-other-plugin", "0.2", f"[hpobench.benchmarks]\ntwice = {PACKAGE}:quadratic_benchmark\n")
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]


def test_plugin_benchmark_and_method_run_end_to_end(plugin_site, invoke, results_root: Path):
    result = invoke(
        *(
            "run-local --benchmark toy_quadratic --method FIRST_POINT --experiment-tag plugged --max-num-evaluations 6"
        ).split()
    )
    assert result.exit_code == 0, result.output
    (tuner_dir,) = layout.tuner_dirs(results_root / "plugged" / "FIRST_POINT-0")
    metadata = layout.read_metadata(tuner_dir)
    assert metadata[layout.STATUS_KEY] == "complete"
    assert metadata["benchmark_source"] == (f"plugin hpb-toy-plugin 0.1 ({PACKAGE}:quadratic_benchmark)")
    from syne_tune.experiments import load_experiment

    frame = load_experiment(str(tuner_dir.relative_to(results_root)), local_path=str(results_root)).results
    first = frame[frame.trial_id == 0].iloc[0]
    # The plugin's scheduler made the suggestions: its fixed first point came first.
    assert (first["config_x"], first["config_opt"]) == (0.123456, "adam")
    assert frame["epoch"].max() == 3


def test_list_shows_plugins_with_their_source_and_broken_ones_with_their_error(plugin_site, invoke):
    result = invoke("list", "benchmarks", "--json")
    assert result.exit_code == 0, result.output
    records = {(r["name"], r["source"]): r for r in json.loads(result.output)}
    toy = records[("toy_quadratic", f"plugin hpb-toy-plugin 0.1 ({PACKAGE}:quadratic_benchmark)")]
    assert toy["metric"] == "loss" and "error" not in toy
    broken = records[("toy_broken", f"plugin hpb-toy-plugin 0.1 ({PACKAGE}.broken:benchmark)")]
    assert broken["error"] == "cannot be imported: ImportError: needs a_library_that_is_missing"
    exits = records[("toy_exits", f"plugin hpb-toy-plugin 0.1 ({PACKAGE}:exits)")]
    assert exits["error"] == "failed to build its definition: SystemExit: no display"
    colliding = records[("mlp_digits", f"plugin hpb-toy-plugin 0.1 ({PACKAGE}:quadratic_benchmark)")]
    assert "has the name of a built-in one" in colliding["error"]
    assert records[("mlp_digits", "built-in")]["metric"] == "val_accuracy"  # the built-in wins
    twice = [r for (name, _), r in records.items() if name == "twice"]
    assert len(twice) == 2 and all("is also registered by" in r["error"] for r in twice)

    methods = invoke("list", "methods", "--json")
    assert methods.exit_code == 0, methods.output
    by_name = {(r["name"], r["source"].split()[0]): r for r in json.loads(methods.output)}
    assert by_name[("FIRST_POINT", "plugin")]["family"] == "random search, fixed first point"
    assert "cannot be imported" in by_name[("BROKEN_METHOD", "plugin")]["error"]
    assert "has the name of a built-in one" in by_name[("RS", "plugin")]["error"]

    table = invoke("list", "benchmarks")
    assert table.exit_code == 0 and "toy_broken" in table.output and "BROKEN:" in table.output

    # A plugin declares several objectives as a built-in does.
    tradeoff = records[("toy_tradeoff", f"plugin hpb-toy-plugin 0.1 ({PACKAGE}:tradeoff_benchmark)")]
    assert [o["metric"] for o in tradeoff["objectives"]] == ["loss", "hpobench_train_time"]
    assert tradeoff["hypervolume"]["reference_point"] == [1.0, 30.0]
    assert toy["objectives"] == [{"metric": "loss", "mode": "min"}]


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["--benchmark", "toy_broken"],
            "Plugin benchmark 'toy_broken' from plugin hpb-toy-plugin 0.1 "
            f"({PACKAGE}.broken:benchmark) cannot be imported: ImportError",
        ),
        (["--benchmark", "twice"], "is also registered by"),
        (["--benchmark", "mlp_digits", "--method", "BROKEN_METHOD"], "Plugin method 'BROKEN_METHOD'"),
        (["--benchmark", "toy_quadratic", "--method", "NOT_A_METHOD"], "FIRST_POINT"),
        (
            ["--benchmark", "toy_no_reference"],
            "failed to build its definition: a benchmark with 2 objectives needs a hypervolume reference point: "
            "add [hypervolume] reference_point = [..., ...]",
        ),
        (["--benchmark", "toy_tradeoff", "--method", "RS"], "RS is single-objective, but benchmark 'toy_tradeoff'"),
    ],
)
def test_a_plugin_that_cannot_be_used_is_one_line(plugin_site, invoke, args, expected):
    result = invoke("run-local", *args)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert expected in result.output


def test_a_fresh_process_finds_the_plugins_and_help_ignores_broken_ones(plugin_site):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_site), *sys.path])}
    for args in (["--help"], ["run-local", "--help"], ["list", "methods"]):
        done = subprocess.run(
            [sys.executable, "-m", "hpobench", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    assert "FIRST_POINT" in done.stdout and "BROKEN" in done.stdout


def test_a_job_archive_carries_plugin_benchmark_and_method_and_runs_them(plugin_site, tmp_path: Path):
    """The job's Python finds the plugin method in the archive alone (no PYTHONPATH)."""
    import io
    import tarfile

    from hpobench.benchmarks import get_benchmark
    from hpobench.remote.sagemaker.bundle import ENTRY_SCRIPT, build_bundle
    from hpobench.remote.sagemaker.requirements import job_requirements
    from hpobench.remote.sagemaker.user_code import job_benchmark

    benchmark = get_benchmark("toy_quadratic")
    code = tmp_path / "code"
    requirements = job_requirements(benchmark.script_dir, ["-"], [])
    archive = build_bundle(benchmark, requirements, ["FIRST_POINT", "RS"]).data
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(code, filter="data")
    assert (code / PACKAGE / "__init__.py").is_file()
    entry_points = (code / "hpb_toy_plugin-0.1.dist-info" / "entry_points.txt").read_text()
    assert "FIRST_POINT = hpb_toy_plugin:first_point_search" in entry_points
    assert "toy_quadratic" not in entry_points  # the benchmark travels as a definition file
    assert job_benchmark(benchmark) == "hpobench_benchmark/toy_quadratic.json"
    assert (code / "hpobench_benchmark" / "train.py").is_file()

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SYNETUNE_FOLDER")}
    env.update(
        HPOBENCH_JOB_CHECKPOINT_DIR=str(tmp_path / "checkpoints"), HPOBENCH_JOB_TRIALS_DIR=str(tmp_path / "trials")
    )
    args = {
        "experiment_tag": "job",
        "benchmark": job_benchmark(benchmark),
        "method": "FIRST_POINT",
        "seed": "0",
        "random_seed": "3",
        "n_workers": "1",
        "max_wallclock_time": "30",
        "max_num_evaluations": "3",
    }
    argv = [sys.executable, ENTRY_SCRIPT] + [x for k, v in args.items() for x in (f"--{k}", v)]
    done = subprocess.run(argv, cwd=code, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (tuner_dir,) = layout.tuner_dirs(tmp_path / "checkpoints")
    metadata = layout.read_metadata(tuner_dir)
    assert (metadata["benchmark"], metadata["method"]) == ("toy_quadratic", "FIRST_POINT")
    assert metadata[layout.STATUS_KEY] == "complete"
