"""The two ways hpobench turns what failed into one line."""

from __future__ import annotations

from hpobench.errors import first_line, last_line


def test_first_line_of_an_exception():
    assert first_line(ValueError("  bad value\n  at line 3\n")) == "bad value"
    assert first_line(KeyError()) == "KeyError"  # no message: its type
    assert first_line(OSError("   ")) == "OSError"


def test_last_line_of_a_log():
    assert last_line("starting\n\nTraceback ...\nValueError: no data  \n\n") == "ValueError: no data"
    assert last_line("") == "" and last_line("\n  \n") == ""
