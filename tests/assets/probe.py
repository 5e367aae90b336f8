"""A tiny training script for back-end tests: reports what a trial sees, then acts.

--mode report   report --steps results and exit
--mode crash    report once, then raise
--mode mutate   change process-wide state (environment, modules, cwd, sys.path), then report
--mode sleep    start a child process, report both pids, then sleep until killed
--mode session  the same, with the child in its own session (so its own process group)
--mode lazy     report whether a module it imports at run time was already loaded
--mode plugin   import a module only this mode imports (`this`: it prints at import)
"""

import argparse
import importlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy
from syne_tune import Reporter

LEAK = "HPOBENCH_PROBE_LEAK"
# Imported by name at run time, so no parser of this file's imports can see it.
LAZY_MODULE = "tab" + "nanny"


def observed() -> dict:
    """What a trial sees of the state an earlier trial may have changed."""
    return {
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"),
        "env_leak": os.environ.get(LEAK, ""),
        "module_leak": getattr(numpy, "hpobench_probe_leak", ""),
        "path_leak": any(entry.endswith("hpobench-probe-leak") for entry in sys.path),
        "cwd": os.getcwd(),
        "argv0": sys.argv[0],
        "python_random": random.random(),
        "numpy_random": float(numpy.random.rand()),
        "pid": os.getpid(),
        # Only --mode plugin imports it; any other trial holding it got it from elsewhere.
        "plugin_loaded": "this" in sys.modules,
        "unbuffered": bool(getattr(sys.stdout, "write_through", False)),
        "pythonpath_seen": any(entry.endswith("hpobench-probe-pythonpath") for entry in sys.path),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="report")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--st_checkpoint_dir", default=None)
    args, _ = parser.parse_known_args()
    report = Reporter()
    if args.st_checkpoint_dir:
        Path(args.st_checkpoint_dir).mkdir(parents=True, exist_ok=True)
        (Path(args.st_checkpoint_dir) / "probe.txt").write_text(args.mode)
    if args.mode == "mutate":
        os.environ[LEAK] = "leaked"
        numpy.hpobench_probe_leak = "leaked"
        sys.path.append("/tmp/hpobench-probe-leak")
        os.chdir("/")
    if args.mode == "plugin":
        import this  # noqa: F401 - an import-time side effect, in one branch only
    if args.mode == "lazy":
        report(step=1, preloaded=LAZY_MODULE in sys.modules)
        importlib.import_module(LAZY_MODULE)
        return
    if args.mode in ("sleep", "session"):
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=args.mode == "session"
        )
        report(step=1, child_pid=child.pid, **observed())
        time.sleep(300)
    for step in range(1, args.steps + 1):
        report(step=step, **observed())
    print("probe stderr line", file=sys.stderr)
    if args.mode == "crash":
        raise RuntimeError("probe crashed on purpose")


if __name__ == "__main__":
    main()
