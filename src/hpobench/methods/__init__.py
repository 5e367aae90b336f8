"""HPO methods: the registry, and hpobench's own searchers and schedulers."""

from hpobench.methods.registry import METHODS, get_method, method_names, method_record
from hpobench.methods.spec import MethodArguments, MethodSpec

__all__ = ["METHODS", "MethodArguments", "MethodSpec", "get_method", "method_names", "method_record"]
