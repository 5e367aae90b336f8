"""hpobench: benchmark HPO methods on real training scripts."""

__version__ = "0.1.0"
