"""Fate sharing (thesis 3.2.1): a crashed machine or a dead link fails every affected pending
request with PEER_FAILED (no fiber waits forever) and brings the whole rack down with a report."""

from __future__ import annotations

import pytest

import gossamer
from gossamer.errors import DelegationError, ErrorCode
from gossamer.runtime import RackFailure, Trust, context, entrust, launch, spawn
from tests.nic_emu.helpers import emulator_only


@gossamer.closure(capture="u64", result="u64", name="tests.runtime.failures:bump")
def bump(c: list[int], k: int) -> int:
    c[0] += k
    return c[0]


@emulator_only  # crashes, links and cuts are the emulated fabric's faults
@pytest.mark.clause("ERR-1")
@pytest.mark.parametrize("fault", ["crash", "link", "cut"])
def test_a_failure_fails_every_waiting_fiber_and_stops_the_rack(fault: str) -> None:
    seen: list[DelegationError] = []

    async def waiter(t: Trust) -> None:
        try:
            await t.apply(bump, 1)
        except DelegationError as e:
            seen.append(e)
        t.drop()

    async def main() -> None:
        t = await entrust([0], machine=1)
        await t.apply(bump, 1)
        fabric = context.current_rack().fabric
        if fault == "crash":
            fabric.crash("emu1")
        elif fault == "link":
            fabric.set_link("emu1", False)
        else:
            fabric.cut("emu0", "emu1")
        hs = [spawn(waiter, t, machine=m, thread=1) for m in (0, 2)]
        try:
            await t.apply(bump, 1)
        except DelegationError as e:
            seen.append(e)
        for h in hs:
            await h

    with pytest.raises(RackFailure) as info:
        launch(main, machines=3, threads=2, seed=4)
    report = info.value.report
    assert "fate sharing" in report
    assert "machine 1" in report or "emu1" in report
    assert seen and all(e.code is ErrorCode.PEER_FAILED for e in seen)
    assert info.value.failure is not None


@pytest.mark.clause("ERR-1")
def test_a_deadlocked_program_is_reported_not_hung() -> None:
    from gossamer.runtime import Future

    async def main() -> None:
        await Future()  # nobody will ever answer

    with pytest.raises(RackFailure) as info:
        launch(main)
    assert "deadlock" in info.value.report


@pytest.mark.clause("LAND-8", "SEC-4")
def test_a_response_in_an_unused_slot_is_discarded_and_counted() -> None:
    """A completion naming a response slot this thread never used has no batch in flight: it is
    discarded and counted ([LAND-8]) and the machine goes on ([SEC-4]); it brought the rack down
    before issue 13."""
    from gossamer.runtime import Rack, yield_now
    from gossamer.slot import make_imm

    rack = Rack(2, 1, seed=3)
    net = rack.machines[0].net
    unused = rack.smap.response_slot(0, 1, 0)  # client m0.t0 <- trustee m1.t0: never used below

    async def main() -> None:
        for _ in range(5):
            await yield_now()

    def hostile(r: Rack) -> None:
        if r.rounds == 2:
            net.inbox[0].append((unused, make_imm(unused, 1)))

    rack.round_hooks.append(hostile)
    rack.start(main)
    try:
        while not rack.step():
            pass
    finally:
        rack.close()
    assert rack.machines[0].threads[0].client.stray_responses == 1


@pytest.mark.clause("RSP-6", "ERR-1")
def test_a_protocol_error_while_polling_brings_the_rack_down_through_fate_sharing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer's protocol error raised while a landing is handled goes through fate sharing (a
    report) instead of escaping `Rack.step()` raw."""
    from gossamer.errors import ErrorCode, RemoteProtocolError
    from gossamer.runtime import Rack, yield_now
    from gossamer.runtime.client_side import ClientSide
    from gossamer.slot import make_imm

    def broken(self: ClientSide, slot_id: int, imm: int) -> None:
        raise RemoteProtocolError(ErrorCode.STALE_SEQUENCE, "RSP-6", f"response rejected in slot {slot_id}")

    monkeypatch.setattr(ClientSide, "on_response", broken)
    rack = Rack(2, 1, seed=3)
    net = rack.machines[0].net
    slot = rack.smap.response_slot(0, 1, 0)

    async def main() -> None:
        for _ in range(5):
            await yield_now()

    def hostile(r: Rack) -> None:
        if r.rounds == 2:
            net.inbox[0].append((slot, make_imm(slot, 1)))

    rack.round_hooks.append(hostile)
    rack.start(main)
    try:
        with pytest.raises(RackFailure) as info:
            while not rack.step():
                pass
    finally:
        rack.close()
    assert "RSP-6" in info.value.report
    assert any(isinstance(e, RemoteProtocolError) for e in info.value.errors)
