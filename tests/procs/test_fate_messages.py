"""[PROC-5] on an established connection, in process: a machine's `watch` over a socket pair
standing for its bootstrap connection to machine 1 (no other process needed)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gossamer.bootstrap import encode_message
from gossamer.launch_env import LaunchInfo
from gossamer.procrack import ProcessRack, _Conn


@pytest.fixture
def machine0(tmp_path: Path) -> Iterator[tuple[ProcessRack, socket.socket]]:
    info = LaunchInfo(machine=0, machines=2, app="a", launcher="gossamer",
                      peers=(("127.0.0.1", 0), ("127.0.0.1", 0)), bind_host="127.0.0.1")
    p = ProcessRack(info, wire_dir=str(tmp_path), log=lambda _: None)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    p.conns[1] = _Conn(1, ours)
    try:
        yield p, theirs
    finally:
        theirs.close()
        p.close()


def _watch(p: ProcessRack) -> None:
    for _ in range(50):
        p.watch()
        if p.first is not None:
            return
        time.sleep(0.01)


@pytest.mark.clause("PROC-5")
@pytest.mark.parametrize("data, first", [
    (encode_message({"down": 0, "detail": "x"}), 0),  # a machine of the rack: reported as given
    (encode_message({"down": 7, "detail": "x"}), 1),  # outside 0 .. M-1: step 2, the peer went first
    (struct.pack("<I", (1 << 20) + 1), 1),  # [DEC-5] step 2 on an established connection: step 2
    (encode_message({"ready": True}), 1),  # a kind out of place after both readys
    (b"", 1),  # the connection closes before done
], ids=["down-0", "down-outside-rack", "oversize-prefix", "ready", "closed"])
def test_what_brings_a_machine_down_names_the_right_first_machine(
        machine0: tuple[ProcessRack, socket.socket], data: bytes, first: int) -> None:
    p, theirs = machine0
    if data:
        theirs.sendall(data)
    else:
        theirs.shutdown(socket.SHUT_WR)
    _watch(p)
    assert p.first == first, p.why
