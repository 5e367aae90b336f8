"""A training script whose import fails, as a script with a missing dependency would."""

import hpobench_no_such_module  # noqa: F401

print("never reached")
