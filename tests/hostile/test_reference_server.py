"""The reference server against hostile hellos ([SEC-2], [BOOT-1] .. [BOOT-6], [SER-4]).

Each hello below broke `reference_trustee` before issue 13: KeyError, ValueError (int-to-str above
4300 digits), IndexError, a verbs error, or a hang on shared-reference CBOR. Each is now answered
with the spec's `{"error": code}` ([BOOT-5]) and the server serves the next session.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

import cbor2
import pytest

import nic_emu
from conformance.cases import catalogue
from conformance.live_bootstrap import Channel, encode
from conformance.model import Verdict
from conformance.peers.reference_trustee import Server
from conformance.runner import run
from conformance.targets.live import LiveTarget
from gossamer.errors import ErrorCode
from gossamer.slot import SlotConfig
from nic_emu.provider import verbs

from .attacks import exponential_cbor

BIG = 10**5000  # repr of it raises ValueError: more than 4300 digits


@pytest.fixture
def served() -> Iterator[tuple[Server, LiveTarget]]:
    fab = nic_emu.Fabric(seed=11, machines=2)
    prev = nic_emu.set_fabric(fab)
    srv = Server(verbs("emu"), "emu0", fabric=fab, config=SlotConfig(fallback_timeout_ms=250))
    target = LiveTarget(f"127.0.0.1:{srv.port}", device="emu1", pump=srv.poll)
    try:
        yield srv, target
    finally:
        target.close()
        srv.close()
        nic_emu.set_fabric(prev)


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(m: dict[str, Any]) -> None:
        d = m
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda m: m.pop(key)


def _short_row(m: dict[str, Any]) -> None:
    m["request_slots"][0] = m["request_slots"][0][:-1]


B, M, V = int(ErrorCode.BAD_HEADER), int(ErrorCode.MALFORMED_CBOR), int(ErrorCode.VERSION_MISMATCH)
HELLOS: list[tuple[str, Callable[[dict[str, Any]], None], int]] = [
    ("no-slots", _drop("slots"), M),
    ("no-gid", _drop("gid"), M),
    ("base-text", _set(("slots", "base"), "x"), B),
    ("rkey-huge", _set(("slots", "rkey"), 1 << 32), B),
    ("ids-not-list", _set(("slots", "ids"), 5), B),
    ("gid-empty", _set(("gid",), b""), B),
    ("qpns-empty", _set(("qpns",), []), B),
    ("qpns-text", _set(("qpns",), ["a", "b"]), B),
    ("psn-25-bit", _set(("psn",), 1 << 24), B),
    ("port-huge", _set(("fallback_port",), BIG), B),
    ("short-slot-row", _short_row, B),
    ("slot-id-unknown", _set(("response_slots",), [[9999, 9999], [9999, 9999]]), B),
    ("slot-size-5000-digits", _set(("slot_size",), BIG), B),
    ("machine-5000-digits", _set(("machine",), BIG), B),
    ("versions-text", _set(("versions",), [BIG, "x"]), B),
    ("versions-7-9", _set(("versions",), [7, 9]), V),
    ("versions-5000-digits", _set(("versions",), [BIG, BIG]), B),  # [SER-5]: a bignum is tag 2, not an integer
    ("threads-other", _set(("threads",), 3), B),
]


def _peer_hello(chan: Channel, srv: Server) -> dict[str, Any]:
    """The server's own hello, mirrored as a connector's (machine 1)."""
    theirs = chan.recv(pump=srv.poll)
    return {**theirs, "machine": 1}


def _with_raw_key(m: dict[str, Any], key: str, raw_item: bytes) -> bytes:
    """A bootstrap message: `m` plus one more key whose value is the raw CBOR `raw_item`."""
    body = cbor2.dumps(m, canonical=True)
    n = len(m)
    assert n < 23 and body[0] == 0xA0 | n
    body = bytes([0xA0 | (n + 1)]) + body[1:] + cbor2.dumps(key) + raw_item
    return struct.pack("<I", len(body)) + body


def _serves_next_session(srv: Server, target: LiveTarget) -> None:
    for _ in range(100):
        srv.poll()
    assert srv.phase == "idle"
    [c] = [c for c in catalogue() if c.id == "nic.write-with-imm"]
    assert run(target, [c]).count(Verdict.PASS) == 1


@pytest.mark.clause("SEC-2", "BOOT-1", "BOOT-2", "BOOT-3", "BOOT-5", "BOOT-6", "BOOT-8", "BOOT-10")
def test_every_broken_hello_gets_its_code_and_the_server_serves_on(served: tuple[Server, LiveTarget]) -> None:
    srv, target = served
    for name, edit, code in HELLOS:
        chan = Channel(socket.create_connection(("127.0.0.1", srv.port)))
        m = _peer_hello(chan, srv)
        edit(m)
        chan.send(encode(m))
        reply = chan.recv(pump=srv.poll, timeout=10)
        assert reply.get("error") == code, (name, reply)
        chan.close()
    _serves_next_session(srv, target)


@pytest.mark.clause("SER-4", "SEC-5", "DEC-6")
def test_a_shared_reference_item_in_an_extra_key_does_not_hang_the_server(
        served: tuple[Server, LiveTarget]) -> None:
    srv, target = served
    chan = Channel(socket.create_connection(("127.0.0.1", srv.port)))
    m = _peer_hello(chan, srv)
    chan.send(_with_raw_key(m, "x-extra", exponential_cbor(40)))  # 2^39 nodes if resolved
    assert chan.recv(pump=srv.poll, timeout=10) == {"ready": True}  # keys other than ours are ignored
    chan.close()
    _serves_next_session(srv, target)
