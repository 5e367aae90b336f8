#!/usr/bin/env bash
# The GPU figures of issue 13 in one short run (about 6 minutes on one H100/H200), for a
# machine with one GPU, no network, and the repository as its working directory.
# Prepare the wheels first (benchmarks/gpu_wheels.sh), carry `.whl`, and run:
#     bash benchmarks/gpu_check.sh        # writes its outputs under $OUT (default ./gpu-out)
# Settings (small on purpose, stated in each output):
#   train_throughput: --benchmark all (resnet_cifar10 batch 256 x 100 steps; distilbert-base
#     512 tokens batch 16 x 30 steps; transformer batch 48 x 200 chunks), each vs its seed-style loop
#   accuracy_parity: 1 configuration x 4 epochs (2 took over 200 s on an H200), 50,000 generated CIFAR-shaped images
#     (CIFAR-10 itself cannot be downloaded there), script loop vs plain fp32 loop
#   gpu_packing: K = 1, 2, 4 trials on the GPU, 45 s of random search each
#   trial_costs (issue 32): one trial that holds 1 GiB on its GPU from level 2 on; its recorded
#     peak GPU memory must grow by it, and its GPU-seconds be its training time (one GPU held)
# Each step runs whatever the others did; the step limits (150 + 200 + 200 + 45 s) and the
# install fit a 600 s call only when every step ends before its limit; split the call with
# GPU_CHECK_STEPS otherwise. grep is line-buffered so a killed call still returns lines.
# GPU_CHECK_STEPS="accuracy_parity gpu_packing" re-runs only the steps named (default: all four).
# GPU_CHECK_DRY_RUN=1 prints each step's command instead of running it, and queries no GPU and
# installs nothing: the test suite checks those commands on machines without a GPU.
set -uo pipefail
OUT="${OUT:-$PWD/gpu-out}"
STEPS=" ${GPU_CHECK_STEPS:-train_throughput accuracy_parity gpu_packing trial_costs} "
DRY_RUN="${GPU_CHECK_DRY_RUN:-0}"
wanted() { [[ "$STEPS" == *" $1 "* ]]; }
# step NAME LIMIT_S COMMAND...: COMMAND under a time limit, its output (warnings left out) in $OUT/NAME.txt
step() {
    local name=$1 limit=$2
    shift 2
    if [ "$DRY_RUN" = 1 ]; then
        echo "$name (limit ${limit} s): $*"
        return 0
    fi
    timeout "$limit" "$@" 2>&1 | grep --line-buffered -v Warning | tee "$OUT/$name.txt"
}
mkdir -p "$OUT"
status=0
wheels=ok  # only gpu_packing and trial_costs (hpobench run-local: syne-tune, pydantic) need them
if [ "$DRY_RUN" = 1 ]; then
    echo "dry run: no GPU queried, no wheel installed"
elif compgen -G ".whl/*.whl" > /dev/null; then
    if python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl 2>&1 | tee "$OUT/wheels.txt"; then
        export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
    else
        wheels=failed status=1
    fi
fi
export PYTHONPATH="$PWD/src:$PWD/benchmarks:${PYTHONPATH:-}" PYTHONUNBUFFERED=1
if [ "$DRY_RUN" != 1 ]; then
    nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv | tee "$OUT/device.txt"
fi
if wanted train_throughput; then
    step train_throughput 150 python3 benchmarks/train_throughput.py --device cuda --benchmark all || status=1
fi
if wanted accuracy_parity; then
    step accuracy_parity 200 python3 benchmarks/accuracy_parity.py --device cuda --epochs 4 --configs 1 || status=1
fi
if ! wanted gpu_packing; then
    :
elif [ "$wheels" = ok ]; then
    step gpu_packing 200 python3 benchmarks/gpu_packing.py --budget 45 --ks 1 2 4 || status=1
else
    echo "gpu_packing skipped: the wheels did not install (see wheels.txt)" | tee "$OUT/gpu_packing.txt"
fi
if ! wanted trial_costs; then
    :
elif [ "$wheels" = ok ]; then
    step trial_costs 45 python3 benchmarks/trial_costs.py --device cuda --allocate-mib 1024 || status=1
else
    echo "trial_costs skipped: the wheels did not install (see wheels.txt)" | tee "$OUT/trial_costs.txt"
fi
exit $status
