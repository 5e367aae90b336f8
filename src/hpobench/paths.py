"""Where the files hpobench ships with live."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent  # src/hpobench, or site-packages/hpobench
# What the built-in training scripts share; each imports it from beside its own folder.
TRIAL_SUPPORT = "trial_support.py"


def training_scripts_root() -> Path:
    """The training_scripts folder: inside the package when installed from a wheel,
    at the top of the source tree for an editable install or a checkout."""
    packaged = PACKAGE_DIR / "training_scripts"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent.parent / "training_scripts"
