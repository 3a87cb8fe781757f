"""A hostile machine joins an emulated rack and attacks its peers ([SEC-3], [SEC-4], [LAND-8]).

Machine 0 runs an honest client, machine 1 its trustee, machine 2 the attacker. For each attack the
honest client's results must be those it would get alone, and no machine may go down.
"""

from __future__ import annotations

from typing import Any

import pytest

import gossamer
from gossamer.request import Request
from gossamer.runtime import Rack, Trust, entrust
from gossamer.runtime.rack import RackFailure

from .machine import HostileMachine, run_with, u64


@gossamer.closure(capture="u64", result="u64", name="tests.hostile:bump")
def bump(c: list[int], k: int) -> int:
    c[0] += k
    return c[0]


ROUNDS = 12


def _honest(seen: list[int], trusts: list[Trust]) -> Any:
    async def main() -> None:
        t = await entrust([0], machine=1)
        trusts.append(t)
        for _ in range(ROUNDS):
            seen.append(await t.apply(bump, 1))
        t.drop()
    return main


def _attack(attack: Any) -> tuple[list[int], Rack]:
    rack = Rack(3, 1, seed=5)
    evil = HostileMachine(rack, 2)
    seen: list[int] = []
    trusts: list[Trust] = []

    def hook(r: Rack) -> None:
        if trusts and len(seen) < ROUNDS:
            attack(r, evil, trusts[0])

    try:
        run_with(rack, _honest(seen, trusts), hook)
    finally:
        rack.close()
    return seen, rack


@pytest.mark.clause("SEC-3", "LAND-8")
def test_an_immediate_naming_another_clients_request_slot_is_discarded() -> None:
    """The attacker writes valid batches (every seq in turn) into its own request slot on the
    trustee, with an immediate naming machine 0's: without the source check the trustee read
    machine 0's slot again (a replay, answered STALE_SEQUENCE into machine 0's response slot)."""
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        victim, own = r.smap.request_slot(0, 0, 0), r.smap.request_slot(2, 0, 0)
        seq = r.rounds % 40 + 1
        req = Request(t.pointer, bump.id, u64(100))
        evil.write(1, own, evil.request_batch(seq, [req], victim), imm_slot=victim, seq=seq)

    seen, rack = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
    assert rack.machines[1].net.foreign_imms > 0  # [SEC-3]: discarded and counted


@pytest.mark.clause("SEC-4", "LAND-8", "RSP-6")
def test_an_immediate_naming_another_trustees_response_slot_is_discarded() -> None:
    """The attacker answers into its own response slot on machine 0 with an immediate naming machine
    0's slot for trustee machine 1, while a batch is in flight there: without the source check the
    client read that slot (the previous response: STALE_SEQUENCE) and failed its calls."""
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        victim, own = r.smap.response_slot(0, 1, 0), r.smap.response_slot(0, 2, 0)
        seq = r.rounds % 40 + 1
        evil.write(0, own, evil.response_batch(seq, [u64(999)], victim), imm_slot=victim, seq=seq)

    seen, rack = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
    assert rack.machines[0].net.foreign_imms > 0


@pytest.mark.clause("SEC-4", "BOOT-8")
def test_a_response_on_another_trustee_threads_qp_is_discarded() -> None:
    """A faulty trustee machine (1) names client 0's slot for its thread tt in a WRITE on the QP of its
    other thread: a response comes only on the QP of the trustee thread that owes it ([BOOT-8])."""
    rack = Rack(2, 2, seed=5)
    evil = HostileMachine(rack, 1)
    seen: list[int] = []
    trusts: list[Trust] = []

    def hook(r: Rack) -> None:
        if trusts and len(seen) < ROUNDS:
            tt = trusts[0].thread  # the trustee thread that owes client m0.t0 its responses
            victim = r.smap.response_slot(0, 1, tt)
            own = r.smap.response_slot(0, 1, 1 - tt)  # never used here
            seq = r.rounds % 40 + 1
            evil.write(0, own, evil.response_batch(seq, [u64(999)], victim), imm_slot=victim, seq=seq,
                       thread=1 - tt)

    try:
        run_with(rack, _honest(seen, trusts), hook)
    finally:
        rack.close()
    assert seen == list(range(1, ROUNDS + 1))
    assert rack.machines[0].net.foreign_imms > 0


@pytest.mark.clause("SEC-4", "LAND-8")
def test_an_immediate_naming_an_unused_response_slot_does_not_stop_the_trustee_machine() -> None:
    """The attacker names a response slot of machine 1 that it owns itself (client thread 0 of
    machine 1 <- trustee machine 2): machine 1 never sent a batch there."""
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        slot = r.smap.response_slot(0, 2, 0)
        evil.write(1, slot, evil.response_batch(1, [u64(7)], slot), seq=1)

    seen, rack = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
    assert sum(th.client.stray_responses for th in rack.machines[1].threads) > 0


def _forge_into(dst: int, victim: Any, own: Any, image: Any) -> tuple[list[int], Rack, RackFailure | None, bool]:
    """Machine 2 WRITEs `image(rack, trust, seq, victim slot)` at the address of slot `victim(rack)`
    of machine `dst` ([BOOT-6]: `base + id * S` with the base and rkey announced to machine 2),
    with an immediate naming its own slot `own(rack)`, every round. Returns the honest results, the
    rack, the rack's failure (None if it ran to the end) and whether the victim's address lies in
    the region announced to machine 2 ([SEC-3])."""
    rack = Rack(3, 1, seed=5)
    evil = HostileMachine(rack, 2)
    inside = victim(rack) in rack.machines[dst].net.region_span(2)
    seen: list[int] = []
    trusts: list[Trust] = []

    def hook(r: Rack) -> None:
        if trusts and len(seen) < ROUNDS:
            seq = r.rounds % (ROUNDS + 1) + 1  # one WRITE a round: the send queue is not drained for it
            evil.write(dst, victim(r), image(r, trusts[0], seq, victim(r)), imm_slot=own(r), seq=0xFFFF)

    failure = None
    try:
        run_with(rack, _honest(seen, trusts), hook)
    except RackFailure as exc:
        failure = exc
    finally:
        rack.close()
    return seen, rack, failure, inside


def _request_image(r: Rack, t: Trust, seq: int, slot: int) -> bytes:
    return HostileMachine(r, 2).request_batch(seq, [Request(t.pointer, bump.id, u64(100))], slot)


def _response_image(r: Rack, t: Trust, seq: int, slot: int) -> bytes:
    return HostileMachine(r, 2).response_batch(seq, [u64(999)], slot)


def _expect_isolated(dst: int, seen: list[int], failure: RackFailure | None, inside: bool) -> None:
    """[SEC-3]'s two outcomes. The address lies outside the region announced to machine 2: the NIC
    refuses the WRITE (REM_ACCESS_ERR), the connection between machines `dst` and 2 fails and the
    rack goes down by fate sharing, naming it. Inside it (between two slots announced to machine 2):
    the bytes land in machine 2's own region, never in the slot the victim reads, and nothing
    happens. Either way no forged batch is ever read: every result client 0 saw is the honest one."""
    if inside:
        assert failure is None, failure.report
        assert seen == list(range(1, ROUNDS + 1))
        return
    assert failure is not None and failure.failure is not None
    assert {failure.failure.machine, failure.failure.peer} == {dst, 2}, failure.report
    assert seen == list(range(1, len(seen) + 1))


@pytest.mark.clause("SEC-3", "BOOT-6")
def test_bytes_placed_in_another_clients_request_slot_never_run() -> None:
    """Machine 2 places a batch (seq guessed, bump by 100) at the address of client 0's request slot
    on trustee machine 1. With one region for every peer it landed there and ran as client 0's
    (STALE_SEQUENCE or a result off by 100). With today's slot map that address is outside machine
    2's region on machine 1: refused by the NIC."""
    seen, _, failure, inside = _forge_into(1, lambda r: r.smap.request_slot(0, 0, 0),
                                           lambda r: r.smap.request_slot(2, 0, 0), _request_image)
    _expect_isolated(1, seen, failure, inside)


@pytest.mark.clause("SEC-3", "BOOT-6")
def test_bytes_placed_in_another_trustees_response_slot_are_never_read() -> None:
    """Machine 2 places a response (999) at the address of client 0's response slot for trustee
    machine 1. With one region for every peer client 0 read it (STALE_SEQUENCE). With today's slot
    map that address lies between two slots announced to machine 2 on machine 0: the bytes land in
    machine 2's own region, and client 0 reads its slot in machine 1's."""
    seen, _, failure, inside = _forge_into(0, lambda r: r.smap.response_slot(0, 1, 0),
                                           lambda r: r.smap.response_slot(0, 2, 0), _response_image)
    _expect_isolated(0, seen, failure, inside)
