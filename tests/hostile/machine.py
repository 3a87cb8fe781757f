"""A hostile machine on an emulated rack ([SEC-1], [SEC-3], [SEC-4]).

`HostileMachine` takes one machine of a `Rack` (it runs no fibers of its own) and uses its QPs the
way an attacker with verbs can: WRITE WITH IMMEDIATE of any image to any slot address it can reach
on a peer, naming any slot in the immediate. It knows what every machine of the rack knows from the
bootstrap: the slot map, base addresses and rkeys.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

from gossamer.batch import encode_request_batch
from gossamer.errors import ErrorCode
from gossamer.request import Request
from gossamer.response import Response, encode_response_batch
from gossamer.runtime import Rack
from gossamer.slot import make_imm


class HostileMachine:
    def __init__(self, rack: Rack, index: int) -> None:
        self.rack = rack
        self.index = index
        self.net = rack.machines[index].net
        self.writes = 0

    def write(self, dst: int, addr_slot: int, image: bytes, imm_slot: int | None = None, seq: int = 1,
              imm: int | None = None, thread: int = 0) -> None:
        """WRITE WITH IMMEDIATE `image` at slot `addr_slot` of machine `dst` on the QP of `thread`; the
        immediate names `imm_slot` (default: the same slot) with `seq`, or is `imm` exactly."""
        if imm is None:
            imm = make_imm(addr_slot if imm_slot is None else imm_slot, seq)
        # stage at its last slot for `dst` (the response slot of its last client thread from dst's
        # last trustee thread): it runs no fibers, so no honest write of its own is staged there
        self.net.write(thread, dst, addr_slot, image, imm, max(self.net.slot_ids_for(dst)))
        self.writes += 1

    def request_batch(self, seq: int, requests: Sequence[Request], slot_id: int) -> bytes:
        return encode_request_batch(seq, requests, self.rack.registry.shapes, self.rack.config, slot_id).image

    def response_batch(self, seq: int, results: Sequence[bytes], slot_id: int) -> bytes:
        rs = [Response(int(ErrorCode.OK), r) for r in results]
        return encode_response_batch(seq, rs, self.rack.config, slot_id).image


def u64(v: int) -> bytes:
    return struct.pack("<Q", v)


#: on real verbs (Soft-RoCE in `tox -e rxe`), the least time between two calls of an attack hook
PACE = 0.0005


def run_with(rack: Rack, main: Callable[..., Any], hook: Callable[[Rack], None], limit: int = 20000) -> None:
    """Run `main` on machine 0 with `hook` called at the start of each round, until quiet.

    On real verbs a round takes microseconds and the NIC works in its own time: the hook runs at most
    every PACE seconds there (an attacker posting a WRITE every round would overrun its own send
    queue), and the run may take up to two minutes instead of `limit` rounds."""
    paced = not rack.network.settles
    last = [0.0]

    def call(r: Rack) -> None:
        if paced:
            now = time.monotonic()
            if now - last[0] < PACE:
                return
            last[0] = now
        hook(r)

    rack.round_hooks.append(call)
    rack.start(main)
    deadline = time.monotonic() + 120.0
    rounds = 0
    while not rack.step():
        rounds += 1
        if (time.monotonic() > deadline) if paced else rounds >= limit:
            raise AssertionError("the rack did not go quiet")
