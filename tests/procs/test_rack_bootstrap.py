"""The messages of a rack of processes ([PROC-2] .. [PROC-5]), sans-I/O."""

from __future__ import annotations

import pytest

from gossamer.errors import ErrorCode, RemoteProtocolError
from gossamer.rack_bootstrap import (
    DONE,
    SessionEnd,
    caller,
    check_app,
    check_caller,
    check_joined,
    check_spawn,
    down,
    error_message,
    joined_message,
    read_end,
    spawn_message,
    with_app,
)


@pytest.mark.clause("PROC-3", "PROC-4")
@pytest.mark.parametrize(("hello", "code"), [
    ({"machine": 1}, ErrorCode.MALFORMED_CBOR),
    ([1, 2], ErrorCode.MALFORMED_CBOR),
    ({"app": "other"}, ErrorCode.BAD_HEADER),
    ({"app": ""}, ErrorCode.BAD_HEADER),
    ({"app": b"mine"}, ErrorCode.BAD_HEADER),
    ({"app": "x" * 256}, ErrorCode.BAD_HEADER),
    ({"app": 7}, ErrorCode.BAD_HEADER),
])
def test_a_hello_of_another_application_is_refused(hello: object, code: ErrorCode) -> None:
    with pytest.raises(RemoteProtocolError) as e:
        check_app(hello, "mine")
    assert e.value.code is code and e.value.clause == "PROC-4"
    assert error_message(e.value)["error"] == int(code)


@pytest.mark.clause("PROC-3")
def test_the_own_application_passes() -> None:
    h = with_app({"machine": 1, "threads": 2}, "mine")
    check_app(h, "mine")
    check_app({"app": "é" * 127}, "é" * 127)  # 254 bytes of UTF-8
    assert h == {"machine": 1, "threads": 2, "app": "mine"}


@pytest.mark.clause("PROC-2", "PROC-4")
def test_the_caller_message() -> None:
    assert check_caller(caller(3, "a"), "a", 1, 4) == 3
    for who in (0, 1, 4, True, "2", None):
        with pytest.raises(RemoteProtocolError) as e:
            check_caller({"caller": who, "app": "a"}, "a", 1, 4)
        assert e.value.code is ErrorCode.BAD_HEADER and e.value.clause == "PROC-2"
    with pytest.raises(RemoteProtocolError) as e:
        check_caller(caller(3, "b"), "a", 1, 4)
    assert e.value.clause == "PROC-4"


@pytest.mark.clause("PROC-5")
def test_done_and_down() -> None:
    assert read_end(DONE) == SessionEnd(True)
    assert read_end(down(2, "boom")) == SessionEnd(False, 2, "boom")
    assert read_end({"down": 2}) == SessionEnd(False, 2, "")
    for other in ({"ready": True}, {"done": 1}, {"down": -1}, {"down": True}, {"down": 1 << 16}, [], "done"):
        assert read_end(other) is None


@pytest.mark.clause("PROC-7")
def test_spawn_and_joined_messages() -> None:
    trust = ["t", [0, 1, 0x1000, 7]]
    m = spawn_message(3, "examples.procs:worker", [trust, ["v", {"k": [1, 2]}]], 1)
    want = (3, "examples.procs:worker", [("t", [0, 1, 0x1000, 7]), ("v", {"k": [1, 2]})], 1)
    assert check_spawn(m, threads=2) == want
    assert check_joined(joined_message(3, None)) == (3, None)
    bad: list[dict[str, object]] = [
        {**m, "spawn": -1}, {**m, "spawn": 1 << 32}, {**m, "fn": "worker"}, {**m, "fn": "a:b:c"}, {**m, "fn": ":f"},
        {**m, "thread": 2}, {**m, "thread": True}, {**m, "args": {}}, {**m, "args": [["x", 1]]},
        {**m, "args": [["t", [0, 1, 1 << 48, 7]]]}, {**m, "args": [["t", [0, 1, 2]]]}, {**m, "args": [[1]]},
    ]
    for b in bad:
        with pytest.raises(RemoteProtocolError) as e:
            check_spawn(b, threads=2)
        assert e.value.code is ErrorCode.BAD_HEADER and e.value.clause == "PROC-7", b
    for j in ({"joined": 1}, {"joined": "1", "result": 0}, {"joined": 1 << 32, "result": 0}):
        with pytest.raises(RemoteProtocolError):
            check_joined(j)
