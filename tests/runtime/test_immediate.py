"""[GEN-1], [LAND-2]: the immediate a WRITE WITH IMMEDIATE carries is the value itself, handed to
pyverbs as a host-order integer; on the wire its 4 ImmDt bytes are that value little-endian.

pyverbs stores `SendWR(imm_data=x)` into libibverbs' `__be32 imm_data` field without a swap, and the
NIC copies those 4 bytes to the wire as they are; so on this (little-endian) host the wire bytes are
`x.to_bytes(4, "little")`, what a C program gets with `wr.imm_data = htole32(x)`, and not what it
gets with `htonl(x)`.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from typing import Any

import pytest

from gossamer.runtime import entrust, launch
from gossamer.slot import make_imm, parse_imm
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs import qp as emu_qp
from tests.nic_emu.helpers import emulator_only
from tests.runtime.test_api import get


@emulator_only
@pytest.mark.clause("GEN-1", "LAND-2")
def test_the_runtime_posts_the_immediate_unswapped(monkeypatch: pytest.MonkeyPatch) -> None:
    posted: list[tuple[int, int]] = []
    real = emu_qp.QP.post_send

    def spy(self: Any, wr: Any, bad_wr: Any = None) -> None:
        if wr.opcode == e.IBV_WR_RDMA_WRITE_WITH_IMM:
            posted.append((wr.imm_data, wr.wr_id))  # wr_id is the slot id written (verbs.py)
        real(self, wr, bad_wr)

    monkeypatch.setattr(emu_qp.QP, "post_send", spy)

    async def main() -> int:
        t = await entrust({"1": 5}, machine=1)
        v = await t.apply(get, 1)
        t.drop()
        return int(v)

    assert launch(main, machines=2) == 5
    assert posted
    for imm, slot_id in posted:
        assert parse_imm(imm)[0] == slot_id  # the value itself: the high 16 bits name the slot


@pytest.mark.clause("GEN-1")
def test_immdt_bytes_are_the_value_little_endian() -> None:
    imm = make_imm(0x0102, 0x0304)
    field = ctypes.c_uint32(imm)  # what pyverbs stores into ibv_send_wr.imm_data
    wire = bytes(field)  # the NIC copies the field's 4 bytes to ImmDt unchanged
    if sys.byteorder == "little":
        assert wire == struct.pack("<I", imm) == bytes([0x04, 0x03, 0x02, 0x01])
    swapped = int.from_bytes(struct.pack(">I", imm), "little")  # a C sender that wrote htonl(imm)
    assert parse_imm(swapped) != parse_imm(imm)  # names another slot and seq: never recognised
