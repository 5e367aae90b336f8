"""What would a SageMaker job's pip install over its framework image? Resolved by pip
itself against PyPI (needs PyPI access; installs nothing).

A fresh virtual environment stands in for the image: it holds the packages the image
ships (torch, torchvision, torchaudio for PyTorch; scikit-learn for scikit-learn) as
pip sees them (their metadata). Then `pip install --dry-run --report` reads, for a
benchmark and its methods:

- "before": hpobench's full runtime requirements (minus sagemaker/boto3) merged with
  the script's, without constraints (what jobs installed before);
- "after": the job's `requirements.txt` and `constraints.txt` as launch-remote stages them
  (plus what its entry installs without dependencies: Syne Tune, unless a method needs
  xgboost).

It prints, for each, whether pip would replace the image's torch, how many packages it
would install, and which of them are NVIDIA CUDA wheels.

    python benchmarks/job_requirements_install.py [--benchmark mlp_digits] [--method RS ...] [--only-torch]
    python benchmarks/job_requirements_install.py --offline   # no PyPI: this Python's packages stand in for it
    python benchmarks/job_requirements_install.py --smoke     # the same as --offline (seconds, the code path)

Offline, pip resolves against wheels that hold only the metadata of the distributions installed
in the Python running this script: the versions PyPI would offer are replaced by those, so the
counts can differ from PyPI's, and a package not installed here cannot be resolved.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path


def fake_installed(site_packages: Path, pins: list[str]) -> None:
    """Make pip see `name==version` as installed (metadata only)."""
    for pin in pins:
        name, _, version = pin.partition("==")
        version = version.replace(".*", ".0")
        info = site_packages / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text("")


def metadata_wheels(folder: Path) -> Path:
    """A folder of wheels holding only the metadata of every distribution installed in this
    Python: a stand-in for PyPI that offers exactly those versions (pip reads no more than
    the metadata for a dry run)."""
    import importlib.metadata
    import re
    import zipfile

    folder.mkdir()
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        if not name:
            continue
        stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{distribution.version}"
        with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"{stem}.dist-info/METADATA", distribution.read_text("METADATA") or "")
            wheel.writestr(f"{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            wheel.writestr(f"{stem}.dist-info/RECORD", "")
    return folder


def resolve(python: Path, folder: Path, requirements: str, constraints: str, index: list[str]) -> dict:
    (folder / "requirements.txt").write_text(requirements)
    (folder / "constraints.txt").write_text(constraints)
    result = subprocess.run(
        [str(python), *"-m pip install --dry-run --quiet --report report.json -r requirements.txt".split(), *index],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:]}
    return json.loads((folder / "report.json").read_text())


def summary(report: dict, image_torch: str | None) -> str:
    if "error" in report:
        return f"pip fails: {report['error']}"
    installs = [(i["metadata"]["name"].lower(), i["metadata"]["version"]) for i in report["install"]]
    torch = [v for n, v in installs if n == "torch"]
    cuda = sorted(n for n, _ in installs if n.startswith("nvidia-"))
    replaced = (
        f"torch replaced by {torch[0]}"
        if torch and image_torch
        else (f"torch {torch[0]} installed" if torch else "torch kept (or not needed)")
    )
    return f"{len(installs)} packages; {replaced}; NVIDIA wheels: {', '.join(cuda) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="mlp_digits")
    parser.add_argument("--method", action="append", default=None)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--only-torch",
        action="store_true",
        help="The stand-in image holds torch alone (as the issue measured), not its companions.",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="Resolve against the packages installed in this Python (metadata only) instead of PyPI.",
    )
    parser.add_argument("--smoke", action="store_true", help="--offline, which takes seconds (the test suite runs it)")
    args = parser.parse_args()
    args.offline = args.offline or args.smoke

    from hpobench.remote.sagemaker.plan import plan_remote
    from hpobench.remote.sagemaker.requirements import hpobench_requirements, merge_requirements, read_requirements_file
    from hpobench.settings import RemoteSettings

    settings = RemoteSettings(benchmark=args.benchmark, methods=tuple(args.method or ("RS",)))
    plan = plan_remote(settings, args.region, "bucket")
    benchmark = plan.experiment.benchmark
    pins = list(plan.image.constraints)
    image_torch = next((p for p in pins if p.startswith("torch==")), None)
    script = read_requirements_file(benchmark.script_dir / "requirements.txt")
    own = [r for r in hpobench_requirements() if not r.startswith(("sagemaker", "boto3"))]
    before = "\n".join(merge_requirements(own, script)) + "\n"
    print(f"{benchmark.name}, methods {', '.join(settings.methods)}; image {plan.image.uri}")
    shown = [p for p in pins if p.startswith("torch==")] if args.only_torch else pins
    print(f"  the stand-in image holds (as pip sees it): {', '.join(shown) or 'nothing'}")
    with tempfile.TemporaryDirectory(prefix="hpobench-pip-") as tmp:
        folder = Path(tmp)
        venv.EnvBuilder(with_pip=True).create(folder / "image")
        python = folder / "image" / "bin" / "python"
        site = next((folder / "image" / "lib").glob("python3*/site-packages"))
        fake_installed(site, shown)
        index = []
        if args.offline:
            index = ["--no-index", "--find-links", str(metadata_wheels(folder / "index"))]
        print(
            "  before (full requirements, no constraints): "
            + summary(resolve(python, folder, before, "", index), image_torch)
        )
        after = resolve(
            python, folder, plan.requirements.requirements_text(), plan.requirements.constraints_text(), index
        )
        extra = plan.requirements.no_deps
        also = f" (+ {', '.join(extra)} without dependencies)" if extra else ""
        print("  after (job requirements + constraints):     " + summary(after, image_torch) + also)


if __name__ == "__main__":
    sys.exit(main())
