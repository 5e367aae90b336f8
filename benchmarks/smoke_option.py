"""The `--smoke` option every script under benchmarks/ shares: tiny sizes that check the script
end to end in seconds (tests/test_measurement_scripts.py runs each so), not its speed."""

from __future__ import annotations

import argparse
from typing import Any, Optional


def parse_with_smoke(
    parser: argparse.ArgumentParser, smoke: dict[str, Any], argv: Optional[list[str]] = None
) -> argparse.Namespace:
    """`parser`'s arguments, with `--smoke` added: it makes `smoke` the defaults, so options
    given on the command line still win."""
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds: tiny sizes that check the script end to end (the test suite runs it), not speed",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        parser.set_defaults(**smoke)
        args = parser.parse_args(argv)
    return args
