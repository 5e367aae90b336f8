"""The messages between the fork server and its client: typed, one JSON object a line.

Requests go from the client to the server's stdin, replies from the server's stdout
to the client. Each line is one message: its `kind` and its fields, e.g.

    {"kind": "start", "run": 3, "argv": [...], "env": {...}, "cwd": "...",
     "stdout": ".../std.out", "stderr": ".../std.err"}
    {"kind": "exited", "run": 3, "code": 0, "error": null}

Both sides encode with `encode` and decode with `decode_request` / `decode_reply`,
which accept exactly these messages: an unknown kind, a missing or extra field or a
field of another type raises `ProtocolError`. Standard library only, like the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Optional, Union


class ProtocolError(ValueError):
    """A line that is no message of this protocol: a bug on the other side."""


class TornLine(ProtocolError):
    """A line that is not JSON: a write cut short (Ctrl-C in the tuner) and the next one, glued."""


# ---------------------------------------------------------------- requests (client -> server)


@dataclass(frozen=True)
class Start:
    """Fork a child that runs the script with `argv` and `env` in `cwd`, its output appended
    to the files `stdout` and `stderr`; `run` names it in later messages."""

    kind: ClassVar[str] = "start"
    run: int
    argv: list[str]
    env: dict[str, str]
    cwd: str
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Kill:
    """SIGKILL the run's whole process tree; its end is reported as `Exited`, as any other."""

    kind: ClassVar[str] = "kill"
    run: int


@dataclass(frozen=True)
class Log:
    """Write the server's own output (not its trials') to the file `path` from now on: a server
    kept warm for a launch's next run logs into that run's folder."""

    kind: ClassVar[str] = "log"
    path: str


# ---------------------------------------------------------------- replies (server -> client)


@dataclass(frozen=True)
class Ready:
    """Sent once, when the server is warm: `modules` are the ones it pre-imported."""

    kind: ClassVar[str] = "ready"
    modules: list[str]


@dataclass(frozen=True)
class Fatal:
    """Sent instead of `Ready` by a server that cannot start trials at all; it then exits."""

    kind: ClassVar[str] = "fatal"
    reason: str


@dataclass(frozen=True)
class Started:
    """The run's child was forked as process `pid` (the leader of its own process group)."""

    kind: ClassVar[str] = "started"
    run: int
    pid: int


@dataclass(frozen=True)
class Exited:
    """The run ended with exit code `code` (negative: killed by that signal); `error` says
    why it never ran (fork failed, server retired), else None."""

    kind: ClassVar[str] = "exited"
    run: int
    code: int
    error: Optional[str] = None


@dataclass(frozen=True)
class Retired:
    """Importing `module`, learned from a trial, initialised CUDA: the server starts no more
    trials (it answers each `Start` with `Exited`), and the client starts a fresh one."""

    kind: ClassVar[str] = "retired"
    module: str


Request = Union[Start, Kill, Log]
Reply = Union[Ready, Fatal, Started, Exited, Retired]
REQUESTS: dict[str, type[Request]] = {message.kind: message for message in (Start, Kill, Log)}
REPLIES: dict[str, type[Reply]] = {message.kind: message for message in (Ready, Fatal, Started, Exited, Retired)}

# Field types a message may have: `_conforms` checks each of them.
FIELD_TYPES = {"int", "str", "Optional[str]", "list[str]", "dict[str, str]"}


def _field_types(kind: type) -> dict[str, str]:
    """A message's fields and their types, as the class writes them (annotations are strings)."""
    types = {field.name: str(field.type) for field in fields(kind)}
    unknown = set(types.values()) - FIELD_TYPES
    if unknown:
        raise TypeError(f"{kind.__name__} has fields of types that messages cannot check: {sorted(unknown)}")
    return types


_FIELDS = {kind: _field_types(kind) for kind in (*REQUESTS.values(), *REPLIES.values())}


def encode(message: Request | Reply) -> bytes:
    """The message as one line of JSON: its kind and its fields."""
    return (json.dumps({"kind": message.kind, **vars(message)}) + "\n").encode()


def decode_request(line: bytes) -> Request:
    """The request on one line (without its newline); raises `ProtocolError` if it is none."""
    return _decode(line, REQUESTS)


def decode_reply(line: bytes) -> Reply:
    """The reply on one line (without its newline); raises `ProtocolError` if it is none."""
    return _decode(line, REPLIES)


def _decode(line: bytes, kinds: dict[str, type[Any]]) -> Any:
    try:
        payload = json.loads(line)
    except ValueError:  # also undecodable bytes
        raise TornLine(f"not a JSON line: {line[:200]!r}") from None
    if not isinstance(payload, dict):
        raise ProtocolError(f"not a JSON object: {line[:200]!r}")
    name = payload.pop("kind", None)
    kind = kinds.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ProtocolError(f"unknown message kind {name!r} (expected one of {', '.join(kinds)}): {line[:200]!r}")
    expected = _FIELDS[kind]
    if payload.keys() != expected.keys():
        raise ProtocolError(f"{kind.__name__} has the fields {sorted(expected)}, not {sorted(payload)}")
    for field, annotation in expected.items():
        if not _conforms(payload[field], annotation):
            raise ProtocolError(f"{kind.__name__}.{field} must be {annotation}, not {payload[field]!r}")
    return kind(**payload)


def _conforms(value: Any, annotation: str) -> bool:
    """Whether a value read from JSON has one of the `FIELD_TYPES`."""
    if annotation == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "Optional[str]":
        return value is None or isinstance(value, str)
    if annotation == "list[str]":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    # dict[str, str]: JSON object keys are always strings
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())
