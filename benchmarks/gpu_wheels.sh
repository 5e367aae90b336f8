#!/usr/bin/env bash
# Wheels that the GPU machine's image lacks for `hpobench run-local` (its python3 is 3.12
# and has torch, transformers, pyarrow, pandas, scikit-learn, typer, rich, filelock;
# nothing can be fetched there). Run here, from the repository root, before gpu_check.sh:
#     echo /.whl/ >> "$(git rev-parse --git-common-dir)/info/exclude"   # once: never committed
#     bash benchmarks/gpu_wheels.sh                                       # about 3 MB into .whl/
set -euo pipefail
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl syne-tune==0.16.0 "dill>=0.3.6" "pydantic>=2.7" "pydantic-core" "pydantic-settings>=2.2" \
    "python-dotenv>=1.2" annotated-types typing-inspection
ls .whl
