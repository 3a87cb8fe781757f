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


@pytest.mark.clause("SEC-3")
@pytest.mark.xfail(strict=True, reason="[SEC-3] one memory region holds every peer's slots in the runtime "
                   "(MachineNet.mr): a peer's QP can place bytes in another peer's slot (its immediate naming "
                   "its own); needs per-peer memory regions in separate protection domains, or memory windows, "
                   "and slots laid out contiguously per peer")
def test_bytes_placed_in_another_clients_slot_without_its_immediate_do_not_run() -> None:
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        victim = r.smap.request_slot(0, 0, 0)
        own = r.smap.request_slot(2, 0, 0)
        seq = r.rounds % (ROUNDS + 1) + 1  # one WRITE a round: the send queue is not drained for it
        req = Request(t.pointer, bump.id, u64(100))
        evil.write(1, victim, evil.request_batch(seq, [req], victim), imm_slot=own, seq=0xFFFF)

    seen, _ = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
