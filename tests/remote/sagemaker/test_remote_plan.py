"""launch-remote without AWS: job names, hyperparameters, the source archive, --dry-run."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest
from conftest import clear_aws_environment
from packaging.requirements import Requirement

from hpobench.benchmarks import get_benchmark
from hpobench.errors import UsageError
from hpobench.remote.sagemaker.bundle import ENTRY_SCRIPT, build_bundle
from hpobench.remote.sagemaker.jobs import job_name_prefix
from hpobench.remote.sagemaker.plan import check_hyperparameter
from hpobench.remote.sagemaker.requirements import job_requirements, merge_requirements
from hpobench.settings import EXPERIMENT_TAG_MAX_LENGTH

JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
SDK_SUFFIX = "-20261127235959"  # what the SDK appends: -YYYYmmddHHMMSS


@pytest.mark.parametrize("method", ["RS", "BO", "ASHA", "MOBSTER", "ASHA_BO"])
@pytest.mark.parametrize("tag", ["t", "resnet-cifar10", "a" * EXPERIMENT_TAG_MAX_LENGTH, "a--b-" * 7 + "x" * 5])
def test_job_names_fit_sagemaker_for_any_valid_tag(tag, method):
    for seed in (0, 7, 12345):
        prefix = job_name_prefix(tag, method, seed)
        for name in (prefix + SDK_SUFFIX, prefix + "-r12" + SDK_SUFFIX):
            assert len(name) <= 63 and JOB_NAME.match(name), name
        assert prefix.startswith(tag[:10].rstrip("-"))


def test_job_names_stay_distinct_when_long_tags_are_cut():
    base = "x" * EXPERIMENT_TAG_MAX_LENGTH
    names = {job_name_prefix(base[:-1] + c, "MOBSTER", 3) for c in "abc"}
    assert len(names) == 3
    assert job_name_prefix("tag", "RS", 1) != job_name_prefix("tag", "RS", 11)


@pytest.mark.parametrize(
    "value, message",
    [
        ("it's", "single quote"),
        ("x" * 2501, "SageMaker allows 2500"),
        ("1e5", "would reach the SageMaker job as '100000.0'"),
    ],
)
def test_hyperparameter_values_sagemaker_would_break_are_refused(value, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        check_hyperparameter("experiment_tag", value)


def test_values_that_survive_the_driver_are_accepted():
    for value in ("resnet-cifar10", "3", "60.0", "1e-05", '{"epochs": "2"}', "abc"):
        check_hyperparameter("key", value)


def test_requirements_are_merged_by_name_not_concatenated():
    merged = merge_requirements(
        ["torch>=2.2", "numpy>=1.24", "syne-tune==0.16.*", "tomli>=2.0; python_version < '3.11'"],
        ["Torch>=2.3", "numpy", "scikit_learn>=1.3", "syne-tune[extra]==0.16.*"],
    )
    parsed = {Requirement(line).name.lower().replace("_", "-"): Requirement(line) for line in merged}
    assert len(merged) == len(parsed) == 5
    assert parsed["torch"].specifier.contains("2.3.0") and not parsed["torch"].specifier.contains("2.2.5")
    assert parsed["syne-tune"].extras == {"extra"}
    assert parsed["scikit-learn"].specifier.contains("1.3.0")
    assert str(parsed["tomli"].marker) == 'python_version < "3.11"'


def test_invalid_requirement_is_a_one_line_usage_error():
    with pytest.raises(UsageError, match="Invalid requirement 'torch>>2'"):
        merge_requirements(["torch>>2"])


def test_source_archive_is_reproducible_and_holds_package_script_and_requirements():
    benchmark = get_benchmark("mlp_digits")
    requirements = job_requirements(benchmark.script_dir, ["-"], ["torch==2.10.0"])
    first, second = build_bundle(benchmark, requirements), build_bundle(benchmark, requirements)
    assert first.data == second.data and first.sha256 == second.sha256
    with tarfile.open(fileobj=io.BytesIO(first.data)) as tar:
        names = tar.getnames()
        lines = tar.extractfile("requirements.txt").read().decode().splitlines()
        constraints = tar.extractfile("constraints.txt").read().decode().splitlines()
        no_deps = tar.extractfile("requirements-no-deps.txt").read().decode().splitlines()
    assert names == first.files
    assert ENTRY_SCRIPT in names
    assert "hpobench/remote/sagemaker/entry.py" in names
    assert "hpobench/training_scripts/mlp_digits/mlp_digits.py" in names
    assert not any(n.startswith("hpobench/training_scripts/gbt_breast_cancer") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") or "/.git" in n for n in names)
    # pip reads the constraints first; each project once; launch-only packages stay out.
    assert lines[0] == "-c constraints.txt" and constraints == ["torch==2.10.0"]  # no other index
    by_name = [Requirement(line).name for line in lines[1:]]
    assert len(by_name) == len(set(by_name))
    # Syne Tune goes in without its dependencies; its others are listed, xgboost is not.
    assert no_deps == ["syne-tune==0.16.*"]
    script = {Requirement(r).name for r in (benchmark.script_dir / "requirements.txt").read_text().splitlines()}
    assert script - {"syne-tune"} <= set(by_name)
    assert {"pydantic", "pydantic-settings", "dill", "statsmodels"} <= set(by_name)
    assert not {"sagemaker", "boto3", "matplotlib", "typer", "rich", "botorch", "xgboost", "syne-tune"} & set(by_name)


@pytest.mark.parametrize("method", ["BORE", "CQR", "ASHACQR"])
def test_methods_that_need_xgboost_get_syne_tune_with_its_dependencies(method):
    from hpobench.methods import get_method

    benchmark = get_benchmark("mlp_digits")
    files = job_requirements(benchmark.script_dir, [get_method(method).needs], [])
    assert files.no_deps == ()
    assert {Requirement(r).name for r in files.requirements} >= {"syne-tune", "xgboost"}


class _Listener:
    """A TCP port that records whether anything connected to it."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.socket.close()


def test_dry_run_needs_no_aws_configuration_and_calls_nothing(tmp_path, monkeypatch):
    clear_aws_environment(monkeypatch, tmp_path)
    listener = _Listener()
    # Any AWS client would be sent here: nothing may arrive.
    monkeypatch.setenv("AWS_ENDPOINT_URL", listener.url)
    monkeypatch.setenv("COLUMNS", "250")  # table cells unfolded
    try:
        result = subprocess.run(
            [
                sys.executable,
                *(
                    "-m hpobench launch-remote --benchmark mlp_digits --num-seeds 2 --experiment-tag dry --dry-run "
                    "--bucket my-bucket --region eu-west-1 --max-wallclock-time 100"
                ).split(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    assert listener.connections == 0
    out = result.stdout
    assert "dry-RS-0-" in out and "dry-MOBSTER-1-" in out
    assert "s3://my-bucket/syne-tune/dry/ASHA-1/" in out
    assert "ml.c5.2xlarge" in out and "each at most 1300 s" in out  # 100 s + 20 min set-up
    assert "8 job(s)" in out and "at most 2.89 instance-hours" in out  # 8 x 1300 s
    assert "dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:" in out
    assert "Nothing was submitted" in out


def test_dry_run_rejects_an_unknown_instance_type(invoke):
    result = invoke(
        *"launch-remote --benchmark mlp_digits --dry-run --region us-east-1 --instance-type ml.c5.3xlarge".split()
    )
    assert result.exit_code == 2, result.output
    assert "Error: Unknown SageMaker training instance type 'ml.c5.3xlarge'; did you mean" in result.output


def test_instance_type_that_is_not_one_is_refused(invoke):
    result = invoke(
        *"launch-remote --benchmark mlp_digits --dry-run --region us-east-1 --instance-type g4dn.xlarge".split()
    )
    assert result.exit_code == 2, result.output
    assert "Error: Invalid --instance-type: 'g4dn.xlarge' is not a SageMaker instance type" in result.output
    assert "Traceback" not in result.output


def test_dry_run_refuses_a_tag_the_container_driver_would_change(invoke):
    result = invoke(
        "launch-remote", "--benchmark", "mlp_digits", "--dry-run", "--region", "us-east-1", "--experiment-tag", "1e5"
    )
    assert result.exit_code == 2, result.output
    assert "would reach the SageMaker job as '100000.0'" in result.output


def test_one_hpobench_toml_serves_run_local_and_launch_remote(invoke, isolated, monkeypatch):
    monkeypatch.delenv("HPOBENCH_RESULTS_ROOT")
    (isolated / "work" / "hpobench.toml").write_text(
        f'results_root = "{isolated / "from-toml"}"\nbucket = "toml-bucket"\nn_workers = 1\n'
    )
    result = invoke(
        *"launch-remote --benchmark mlp_digits --method RS --dry-run --experiment-tag toml --region us-east-1".split()
    )
    assert result.exit_code == 0, result.output
    assert "s3://toml-bucket/syne-tune/toml/RS-0/" in result.output

    from hpobench.settings import LocalSettings, RemoteSettings, load_settings

    assert load_settings(LocalSettings).results_root == isolated / "from-toml"
    assert load_settings(RemoteSettings).n_workers == 1
    (isolated / "work" / "hpobench.toml").write_text('bucket = "b-b-b"\nnonsense = 1\n')
    bad = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run")
    assert bad.exit_code == 2
    assert "Unknown setting 'nonsense' in hpobench.toml" in bad.output


def _dry_json(invoke, *args: str) -> dict:
    import json

    result = invoke("launch-remote", "--dry-run", "--json", "--region", "eu-west-1", "--experiment-tag", "plan", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_dry_run_json_is_the_complete_plan_with_create_training_job_names(invoke):
    plan = _dry_json(
        invoke, "--benchmark", "gbt_breast_cancer", "--method", "RS", "--num-seeds", "2", "--max-wallclock-time", "60"
    )
    assert plan["region"] == "eu-west-1" and len(plan["jobs"]) == 2
    job = plan["jobs"][0]
    # scikit-learn images are versioned x.y-z; the newest the SDK lists for a CPU instance.
    image = job["AlgorithmSpecification"]["TrainingImage"]
    assert re.search(r"sagemaker-scikit-learn:1\.9-0-cpu-py3$", image), image
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 60 + 20 * 60}
    assert job["ResourceConfig"] == {"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1}
    assert job["CheckpointConfig"]["S3Uri"].endswith("/syne-tune/plan/RS-0/")
    assert job["HyperParameters"]["method"] == "RS"
    archive = plan["source_archive"]
    assert [c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]] == [archive["S3Uri"]]
    assert "hpobench/training_scripts/gbt_breast_cancer/gbt_breast_cancer.py" in archive["files"]
    folder = plan["script_folder"]
    assert folder["in_archive"] == "hpobench/training_scripts/gbt_breast_cancer"
    assert set(folder["packed"]) == {"gbt_breast_cancer.py", "requirements.txt"}
    # Only what the script and hpobench's in-container code need: no PyTorch for RS on
    # scikit-learn, and the image's scikit-learn kept.
    names = {Requirement(line).name for line in archive["requirements.txt"].splitlines()[1:]}
    assert not names & {"torch", "torchvision", "botorch", "sagemaker", "boto3", "matplotlib", "xgboost"}
    assert archive["requirements-no-deps.txt"] == "syne-tune==0.16.*\n"
    assert archive["constraints.txt"] == "scikit-learn==1.9.*\n"
    assert not archive["requirements.txt"].startswith("--extra-index-url")
    # BO needs botorch, hence PyTorch, which the scikit-learn image lacks: its CPU build.
    bo = _dry_json(invoke, "--benchmark", "gbt_breast_cancer", "--method", "BO")
    lines = bo["source_archive"]["requirements.txt"].splitlines()
    assert lines[0] == "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert any(line.startswith("botorch>=") for line in lines)


def test_pytorch_jobs_keep_the_images_torch(invoke):
    plan = _dry_json(invoke, "--benchmark", "mlp_digits", "--method", "RS")
    image = plan["jobs"][0]["AlgorithmSpecification"]["TrainingImage"]
    version = re.search(r"pytorch-training:(\d+\.\d+\.\d+)-cpu-", image)[1]
    major, minor = version.split(".")[:2]
    constraints = plan["source_archive"]["constraints.txt"].splitlines()
    assert constraints == [f"torch=={version}", f"torchvision==0.{int(minor) + 15}.*", f"torchaudio=={major}.{minor}.*"]


def test_constraints_keep_pip_from_replacing_the_images_torch(tmp_path):
    """pip itself reads a job's staged requirements.txt and constraints.txt over this
    environment, standing in for the image: pinned to the torch it has, pip installs
    nothing; pinned to another torch, pip would have to replace it (and, with no index
    here, cannot), so a job's pip never swaps the image's torch silently."""
    import importlib.metadata
    import json as json_module

    from hpobench.remote.sagemaker.images import _torch_pins

    benchmark = get_benchmark("mlp_digits")
    installed = importlib.metadata.version("torch").split("+")[0]
    other = "2.9.0" if not installed.startswith("2.9.") else "2.8.0"
    for torch_version, ok in ((installed, True), (other, False)):
        files = job_requirements(benchmark.script_dir, ["-"], _torch_pins(torch_version))
        (tmp_path / "requirements.txt").write_text(files.requirements_text())
        (tmp_path / "constraints.txt").write_text(files.constraints_text())
        result = subprocess.run(
            [
                sys.executable,
                *"-m pip install --dry-run --no-index --quiet --report report.json -r requirements.txt".split(),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert (result.returncode == 0) is ok, result.stdout + result.stderr
        if ok:
            report = json_module.loads((tmp_path / "report.json").read_text())
            assert report["install"] == []
        else:
            assert "Cannot install torch" in result.stderr and "ResolutionImpossible" in result.stderr


def test_huggingface_benchmarks_get_a_transformers_image():
    from hpobench.remote.sagemaker.images import training_image

    image = training_image("HuggingFace", {}, "us-east-1", "ml.g5.xlarge")
    assert "huggingface-pytorch-training:" in image.uri and "-gpu-" in image.uri
    transformers, torch = image.constraints[:2]
    assert transformers == f"transformers=={image.version}" and torch.startswith("torch==")
    with pytest.raises(UsageError, match=r"No HuggingFace training image for ml\.c5\.xlarge"):
        training_image("HuggingFace", {}, "us-east-1", "ml.c5.xlarge")  # GPU images only
    with pytest.raises(UsageError, match="Unsupported framework 'TensorFlow'"):
        training_image("TensorFlow", {}, "us-east-1", "ml.c5.xlarge")


def test_a_requirement_the_image_cannot_meet_is_refused(tmp_path):
    (tmp_path / "requirements.txt").write_text("torch>=99\n")
    with pytest.raises(UsageError, match=r"requires torch>=99, but its image ships torch==2\.10\.0"):
        job_requirements(tmp_path, ["-"], ["torch==2.10.0"])


def test_max_runtime_is_budget_plus_allowance_and_never_below_the_budget(invoke):
    plan = _dry_json(
        invoke, "--benchmark", "mlp_digits", "--method", "RS", "--max-wallclock-time", "100", "--max-runtime", "400"
    )
    assert plan["jobs"][0]["StoppingCondition"] == {"MaxRuntimeInSeconds": 400}
    result = invoke(
        *(
            "launch-remote --benchmark mlp_digits --dry-run --region eu-west-1 --max-wallclock-time 100 "
            "--max-runtime 150"
        ).split()
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: --max-runtime 150 is below what the 100 s tuning budget needs (160 s")


def test_data_channel_is_planned_content_addressed(invoke, tmp_path):
    data = tmp_path / "cifar"
    (data / "batches").mkdir(parents=True)
    (data / "batches" / "a.bin").write_bytes(b"1" * 100)
    (data / ".env").write_text("SECRET=1")
    first = _dry_json(invoke, "--benchmark", "mlp_digits", "--method", "RS", "--bucket", "b-1", "--data", str(data))
    uri = first["data"]["S3Uri"]
    assert re.fullmatch(r"s3://b-1/hpobench/data/[0-9a-f]{16}/", uri) and first["data"]["files"] == 1
    channels = {c["ChannelName"]: c for c in first["jobs"][0]["InputDataConfig"]}
    assert channels["training"]["DataSource"]["S3DataSource"]["S3Uri"] == uri
    assert (
        _dry_json(invoke, "--benchmark", "mlp_digits", "--method", "RS", "--bucket", "b-1", "--data", str(data))[
            "data"
        ]["S3Uri"]
        == uri
    )
    (data / "batches" / "a.bin").write_bytes(b"2" * 100)
    changed = _dry_json(invoke, "--benchmark", "mlp_digits", "--method", "RS", "--bucket", "b-1", "--data", str(data))
    assert changed["data"]["S3Uri"] != uri
    s3 = _dry_json(invoke, "--benchmark", "mlp_digits", "--method", "RS", "--data", "s3://x/cifar")
    assert s3["data"] == {"S3Uri": "s3://x/cifar/", "local": None, "files": 0}
    missing = invoke(
        *"launch-remote --benchmark mlp_digits --dry-run --region eu-west-1 --data".split(), str(tmp_path / "nope")
    )
    assert missing.exit_code == 2 and "no such folder or file" in missing.output


def test_dry_run_and_launch_agree_there_is_no_region(invoke, tmp_path, monkeypatch):
    clear_aws_environment(monkeypatch, tmp_path)
    result = invoke("launch-remote", "--benchmark", "mlp_digits", "--dry-run")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: No AWS region configured; pass --region or set AWS_DEFAULT_REGION")


def test_jobs_carry_exactly_the_hyperparameters_the_entry_reads():
    from hpobench.experiment_setup import JOB_OPTIONAL as OPTIONAL
    from hpobench.experiment_setup import JOB_REQUIRED as REQUIRED
    from hpobench.remote.sagemaker.entry import settings_from
    from hpobench.remote.sagemaker.plan import plan_remote
    from hpobench.settings import RemoteSettings

    settings = RemoteSettings(
        benchmark="mlp_digits", methods=("RS",), max_num_evaluations=3, overrides={"epochs": "2"}, trials_per_gpu=4
    )
    (job,) = plan_remote(settings, "us-east-1", "b").jobs
    assert set(REQUIRED) <= set(job.hyperparameters) <= set(REQUIRED + OPTIONAL)
    # Every optional one is set here, but the back-end (SageMaker jobs keep the default), the
    # definition file's hash (file-defined benchmarks only: tests/remote/sagemaker/test_remote_user_benchmark.py)
    # and the scalarization (multi-objective benchmarks only: test_remote_launch.py's multi-objective test).
    assert set(job.hyperparameters) == set(REQUIRED + OPTIONAL) - {"benchmark_sha256", "backend", "scalarization"}
    # ... and the entry builds run-local's settings from them.
    local = settings_from(job.hyperparameters, Path("/results"))
    assert (local.trials_per_gpu, local.max_num_evaluations, local.overrides) == (4, 3, {"epochs": "2"})
    # An option at its default is not sent, and the entry falls back to the same default.
    (plain,) = plan_remote(RemoteSettings(benchmark="mlp_digits", methods=("RS",)), "us-east-1", "b").jobs
    assert "trials_per_gpu" not in plain.hyperparameters
    assert settings_from(plain.hyperparameters, Path("/results")).trials_per_gpu == 1


def test_every_method_builds_with_only_what_its_job_installs():
    """Where a job leaves xgboost out, the method's scheduler must build without it."""
    from hpobench.methods import get_method, method_names

    script_dir = get_benchmark("mlp_digits").script_dir
    without = [
        m
        for m in method_names()
        if "xgboost"
        not in {Requirement(r).name for r in job_requirements(script_dir, [get_method(m).needs], []).requirements}
    ]
    assert "RS" in without and "BORE" not in without
    program = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "xgboost":
            raise ImportError("xgboost is not installed in this job")
sys.meta_path.insert(0, Block())
from hpobench.benchmarks import get_benchmark
from hpobench.methods import get_method
from hpobench.methods import MethodArguments
import hpobench.remote.sagemaker.entry, hpobench.local.launcher, syne_tune.report
for name in {without!r}:  # a multi-objective method on mlp_digits' multi-objective variant (the same script)
    benchmark = get_benchmark("mlp_digits_mo" if get_method(name).multi_objective else "mlp_digits")
    get_method(name).build(MethodArguments.for_benchmark(benchmark, 0))
print("built", len({without!r}))
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and f"built {len(without)}" in result.stdout, result.stderr[-2000:]


def test_the_sdk_names_the_role_check_relies_on_still_exist():
    import inspect

    from sagemaker.core.helper import iam_role_resolver
    from sagemaker.train.defaults import TrainDefaults

    assert {"role", "sagemaker_session"} <= set(inspect.signature(TrainDefaults.get_role).parameters)
    assert iam_role_resolver.RoleValidationError.__name__ == "RoleValidationError"
    # The one-line message picks this line out of the SDK's text.
    message = iam_role_resolver._build_validation_error_message("arn:x", "training", ["a:B"])
    assert "Missing permissions: a:B" in message.splitlines()
