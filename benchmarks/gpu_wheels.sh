#!/usr/bin/env bash
# Wheels that the GPU machine's image lacks for `hpobench run-local` (its python3 is 3.12
# and has torch, transformers, pyarrow, pandas, scikit-learn, typer, rich, filelock;
# nothing can be fetched there). Run here, from the repository root, before gpu_check.sh:
#     echo /.whl/ >> "$(git rev-parse --git-common-dir)/info/exclude"   # once: never committed
#     bash benchmarks/gpu_wheels.sh                                       # about 3 MB into .whl/
# Exact versions, as in the development venv: pydantic checks at import that its core is the
# one it was built with, and two versions of one package stop the device's install.
set -euo pipefail
rm -rf .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl syne-tune==0.16.0 dill==0.4.1 pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 \
    python-dotenv==1.2.4 annotated-types==0.8.0 typing-inspection==0.4.5
ls .whl
