"""The fork server's messages: what both sides accept, and a server told something else."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hpobench.local.forkserver.client import SERVER_SCRIPT
from hpobench.local.forkserver.protocol import (
    Exited,
    Fatal,
    Kill,
    ProtocolError,
    Ready,
    Retired,
    Start,
    Started,
    TornLine,
    decode_reply,
    decode_request,
    encode,
)

START = Start(3, ["--lr", "0.1", "--name", "a b"], {"PATH": "/bin", "EMPTY": ""}, "/tmp", "/t/std.out", "/t/std.err")
REQUESTS = [START, Kill(3)]
REPLIES = [
    Ready(["numpy", "torch"]),
    Fatal("no"),
    Started(3, 1234),
    Exited(3, -9),
    Exited(3, 1, "fork failed"),
    Retired("x"),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=repr)
def test_each_request_reads_back_as_sent(request_):
    line = encode(request_)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_request(line.rstrip(b"\n")) == request_


@pytest.mark.parametrize("reply", REPLIES, ids=repr)
def test_each_reply_reads_back_as_sent(reply):
    assert decode_reply(encode(reply).rstrip(b"\n")) == reply


def test_a_reply_is_no_request_and_a_request_no_reply():
    with pytest.raises(ProtocolError, match="unknown message kind 'started'"):
        decode_request(encode(Started(1, 2)))
    with pytest.raises(ProtocolError, match="unknown message kind 'kill'"):
        decode_reply(encode(Kill(1)))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"op": "kill", "run": 1}, "unknown message kind None"),  # the old, untyped protocol
        ({"kind": "stop", "run": 1}, "unknown message kind 'stop'"),
        ({"kind": ["kill"], "run": 1}, r"unknown message kind \['kill'\]"),
        ({"kind": "kill"}, r"Kill has the fields \['run'\], not \[\]"),
        ({"kind": "kill", "run": 1, "signal": 9}, r"Kill has the fields \['run'\], not \['run', 'signal'\]"),
        ({"kind": "kill", "run": "1"}, "Kill.run must be int, not '1'"),
        ({"kind": "kill", "run": True}, "Kill.run must be int, not True"),
        ({**json.loads(encode(START)), "argv": "--lr 0.1"}, r"Start.argv must be list\[str\]"),
        ({**json.loads(encode(START)), "env": {"X": 1}}, r"Start.env must be dict\[str, str\]"),
    ],
)
def test_a_malformed_request_is_refused_by_name(payload, message):
    with pytest.raises(ProtocolError, match=message):
        decode_request(json.dumps(payload).encode())


def test_a_line_that_is_not_json_is_a_torn_line():
    with pytest.raises(TornLine):
        decode_request(b'{"kind": "kill", "ru{"kind": "kill", "run": 2}')
    with pytest.raises(ProtocolError, match="not a JSON object"):
        decode_request(b"[1, 2]")


def _server(tmp_path: Path) -> subprocess.Popen:
    script = tmp_path / "train.py"
    script.write_text("print('trained')\n")
    return subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )


def test_the_server_skips_a_torn_request_and_serves_the_next(tmp_path):
    server = _server(tmp_path)
    start = Start(0, [], {}, str(tmp_path), str(tmp_path / "std.out"), str(tmp_path / "std.err"))
    # A write cut short glues itself to the next request; that line is lost, later ones are not.
    torn = b'{"kind": "kill", "ru' + encode(Kill(5))
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(torn + encode(start))
    server.stdin.flush()
    watchdog = threading.Timer(60, server.kill)  # a server that never answers fails the test, not hangs it
    watchdog.start()
    try:
        replies = [decode_reply(server.stdout.readline()) for _ in range(3)]  # stdin open: the trial may end
    finally:
        watchdog.cancel()
    _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    assert isinstance(replies[0], Ready)
    assert replies[1] == Started(0, replies[1].pid) and replies[2] == Exited(0, 0)
    assert (tmp_path / "std.out").read_text() == "trained\n"
    assert b"fork server: skipped not a JSON line" in stderr


def test_a_server_sent_an_unknown_request_ends_and_says_why(tmp_path):
    server = _server(tmp_path)
    stdout, stderr = server.communicate(b'{"kind": "pause", "run": 0}\n', timeout=60)
    assert server.returncode == 1
    assert isinstance(decode_reply(stdout.splitlines()[0]), Ready)
    assert stderr.decode().splitlines()[-1].startswith("fork server: ProtocolError: unknown message kind 'pause'")
