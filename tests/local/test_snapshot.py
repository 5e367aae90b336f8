"""local/snapshot.py: tuner.dill written by the C pickler where it can and by dill where only
dill can, readable by dill either way; a growing file written again only when it is due."""

from __future__ import annotations

import io
import time

import dill

from hpobench.local import snapshot
from hpobench.local.snapshot import Throttle


class Holder:
    def __init__(self, value):
        self.value = value


def _round_trip(obj):
    buffer = io.BytesIO()
    how = snapshot.dump(obj, buffer)
    return how, dill.loads(buffer.getvalue())


def test_plain_state_is_written_by_the_c_pickler_and_read_by_dill():
    how, loaded = _round_trip(Holder({"rows": [1.5, 2, "x"], "nested": Holder((1, 2))}))
    assert how == "pickle"
    assert loaded.value["rows"] == [1.5, 2, "x"] and loaded.value["nested"].value == (1, 2)


def test_a_lambda_or_a_local_function_falls_back_to_dill():
    def local(x):
        return x + 1

    for function in (lambda x: x * 2, local):
        how, loaded = _round_trip(Holder(function))
        assert how == "dill"
        assert loaded.value(3) == function(3)


def test_an_object_of_main_is_left_to_dill(monkeypatch):
    """The C pickler would name `__main__.Holder`, which another process cannot look up."""
    monkeypatch.setattr(Holder, "__module__", "__main__")
    how, _ = _round_trip(Holder(1))
    assert how == "dill"


def test_a_write_is_due_after_the_interval_and_ten_times_its_cost():
    throttle = Throttle(interval=5.0, factor=10)
    assert not throttle.due()  # just made
    throttle.last = time.monotonic() - 6
    assert throttle.due()
    throttle.took = 1.0  # a write that took a second waits ten
    assert not throttle.due()
    throttle.last = time.monotonic() - 11
    assert throttle.due()
    written = []
    throttle.run(lambda: written.append(1))
    assert written == [1] and not throttle.due()
