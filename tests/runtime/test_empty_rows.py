"""[BOOT-12]: an empty `request_slots` row means the peer offers that client thread no request slot;
a call from it to the peer's trustee threads fails locally with PEER_FAILED (never an IndexError,
never a write to some other slot), and the full rows next to it are used as announced."""

from __future__ import annotations

import pytest

from gossamer.errors import ErrorCode, LocalProtocolError
from gossamer.runtime.verbs import MachineNet
from gossamer.shape import RackShape


def _net() -> MachineNet:
    net = MachineNet.__new__(MachineNet)  # only the slot lookup is exercised: no device, no QPs
    net.shape = RackShape.uniform(2, 2)
    net.index = 0
    net.peer_request_slots = {1: [[], [6, 7]]}  # machine 1's hello: thread 0 gets no request slot
    return net


@pytest.mark.clause("BOOT-12", "BOOT-6")
def test_an_empty_request_row_fails_the_call_locally_with_peer_failed() -> None:
    net = _net()
    with pytest.raises(LocalProtocolError) as got:
        net.request_slot_at(1, 0, 1)
    assert got.value.code is ErrorCode.PEER_FAILED and got.value.clause == "BOOT-12"
    assert net.request_slot_at(1, 1, 0) == 6 and net.request_slot_at(1, 1, 1) == 7  # the full row, as announced
