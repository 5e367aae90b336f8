"""How a run's state is written while it runs: tuner.dill pickled fast, and how often a
growing file (tuner.dill, results.csv.zip) is written again.

`tuner.dill` keeps Syne Tune's name and stays readable by `dill.load` (Syne Tune's
`Tuner.load`, `resume.load`): a file written by Python's C pickler is a plain pickle, which
dill reads. dill's own pickler is pure Python: a simulated run's tuner (its scheduler's
rungs, every trial's last result, thousands a second) took it half a second per save, and
a run saves again and again. So `dump` tries the C pickler first and falls back to dill for
what only dill pickles (lambdas, local functions, objects of `__main__`, which dill pickles
by value and the C pickler by a name another process cannot look up).

`Throttle` spaces the writes of a file whose cost grows with the run: at least `interval`
seconds apart and `factor` times what the last write took, so that writing it costs at
most about 1/`factor` of the run, however long the run gets.
"""

from __future__ import annotations

import io
import pickle
import time
import types
from collections.abc import Callable
from typing import IO, Any

# A growing file is written again after `WRITE_COST_FACTOR` times what its last write took.
WRITE_COST_FACTOR = 10


class _NeedsDill(Exception):
    """An object the C pickler would pickle by a name only this process can look up."""


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # Called for objects of classes other than the built-in containers and scalars: few,
        # and cheap next to dill's walk of every object.
        if isinstance(obj, (type, types.FunctionType)):
            module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
        else:
            module, name = type(obj).__module__, ""
        if module == "__main__" or "<lambda>" in name or "<locals>" in name:
            raise _NeedsDill(f"{module}.{name or type(obj).__qualname__}")
        return NotImplemented


def dump(obj: Any, file: IO[bytes], how: str = "pickle") -> str:
    """Pickle `obj` into `file`, by the C pickler if it can (`how="dill"`: straight to dill, for
    an object that needed it last time), else by dill; which one wrote it ("pickle" or "dill")."""
    import dill

    if how == "dill":
        dill.dump(obj, file)
        return "dill"
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    except (_NeedsDill, pickle.PicklingError, TypeError, AttributeError):
        dill.dump(obj, file)
        return "dill"
    file.write(buffer.getbuffer())
    return "pickle"


class Throttle:
    """Whether a costly write is due: `interval` seconds after the last one and `factor`
    times as long as it took (time.monotonic: cheap enough to ask at every result)."""

    def __init__(self, interval: float, factor: float) -> None:
        self.interval = interval
        self.factor = factor
        self.last = time.monotonic()
        self.took = 0.0

    def due(self) -> bool:
        return time.monotonic() - self.last >= max(self.interval, self.factor * self.took)

    def run(self, write: Callable[[], Any]) -> None:
        """`write()` now, timed for the next `due`."""
        began = time.monotonic()
        write()
        self.last = time.monotonic()
        self.took = self.last - began
