"""What the fork server imports before forking: what every run of the script imports, and what trials taught it.

The server imports what every run of the training script imports (torch,
numpy, syne_tune, ...; see `script_imports` for the exact rule) once, so each
forked trial finds them imported. The trial's own modules are left out, and so
is anything whose import opened CUDA (see `cuda_initialized`).
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from typing import Any

# Modules that libraries import lazily on first use, at a cost each trial would
# pay again: torch's optimizers pull in torch._dynamo (seconds) on construction.
LAZY_IMPORTS = {"torch": ("torch.optim", "torch._dynamo")}
# "1" turns on learning the modules trials import at run time (see `Server`). Off
# by default: a module one trial imported would be imported, with its import-time
# side effects, into every later trial.
LEARN_VARIABLE = "HPOBENCH_FORK_SERVER_LEARN"
# Not learned from trials: their import may open the GPU (see `learnable`).
GPU_MODULES = {"triton", "_inductor", "cudnn", "nccl", "cupy", "jax", "jaxlib", "pynvml"}


def script_imports(script: Path) -> list[str]:
    """Absolute modules every run of the script imports: import statements at top
    level or inside functions, but not under an `if` or `match` (only some runs
    take that branch; `if __name__ == "__main__":` counts as taken)."""
    try:
        tree = ast.parse(script.read_bytes(), filename=str(script))
    except (OSError, SyntaxError, ValueError):
        return []  # the trial itself will report the error
    names: list[str] = []
    for node in _unconditional_nodes(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            # `from torch import nn` may name a submodule; importing it is cheap if not.
            names += [f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"]
    return list(dict.fromkeys(names))


def _unconditional_nodes(node: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.If, ast.Match, ast.IfExp)) and not _is_main_guard(child):
            continue
        found.append(child)
        found += _unconditional_nodes(child)
    return found


def _is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":` - always taken when the script runs."""
    test = getattr(node, "test", None)
    return (
        isinstance(node, ast.If)
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def preimport(script: Path, log: Any) -> list[str]:
    """Import the script's third-party modules; returns those imported.

    Modules next to the script or beside its folder are left out: they are the
    trial's own code and must be imported fresh by each trial, as a new process would.
    """
    names = script_imports(script)
    names += [lazy for name in names for lazy in LAZY_IMPORTS.get(name, ())]
    return import_quietly(names, script.resolve().parent, log)


def import_quietly(names: list[str], local_dir: Path, log: Any) -> list[str]:
    """Import what can be imported of `names`, leaving out the script's own modules."""
    imported = []
    for name in names:
        if name in ("__future__", "__main__") or _is_local(name, local_dir):
            continue
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as error:  # a trial reports its own import errors
            if "." not in name:
                print(f"fork server: could not pre-import {name}: {error!r}", file=log, flush=True)
    return imported


def learnable(name: str) -> bool:
    """Modules a trial imported that the server may import too: not GPU runtimes,
    whose import may touch the device, and not the trial's own `__main__`."""
    parts = name.lower().split(".")
    return not any(part in GPU_MODULES or "cuda" in part for part in parts) and parts[0] != "__main__"


def _is_local(name: str, local_dir: Path) -> bool:
    """A module of the trial's own code: next to the script, or beside its folder (where
    hpobench's built-in scripts find trial_support.py)."""
    top = name.split(".")[0]
    return any(
        (folder / f"{top}.py").exists() or (folder / top / "__init__.py").exists()
        for folder in (local_dir, local_dir.parent)
    )


def cuda_initialized() -> bool:
    """Whether something imported so far initialised CUDA (forked children could not use it)."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    try:
        return bool(cuda is not None and cuda.is_initialized())
    except Exception:  # a broken torch is the trial's problem
        return False
