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
@pytest.mark.xfail(strict=True, reason="source checks ([SEC-3], [SEC-4], [LAND-8]) not yet in the runtime")
def test_a_batch_written_into_another_clients_request_slot_is_not_run() -> None:
    """The attacker writes valid batches (every seq in turn) into machine 0's request slot on the
    trustee, naming that slot: without the source check they ran as machine 0's and broke its seq."""
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        slot = r.smap.request_slot(0, 0, 0)
        seq = r.rounds % 40 + 1
        req = Request(t.pointer, bump.id, u64(100))
        evil.write(1, slot, evil.request_batch(seq, [req], slot), seq=seq)

    seen, rack = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
    assert rack.machines[1].net.foreign_imms > 0  # [SEC-3]: discarded and counted


@pytest.mark.clause("SEC-4", "LAND-8", "RSP-6")
@pytest.mark.xfail(strict=True, reason="source checks ([SEC-3], [SEC-4], [LAND-8]) not yet in the runtime")
def test_a_forged_response_in_a_clients_response_slot_is_not_delivered() -> None:
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        slot = r.smap.response_slot(0, 1, 0)  # machine 0's slot for trustee machine 1, thread 0
        seq = r.rounds % 40 + 1
        evil.write(0, slot, evil.response_batch(seq, [u64(999)], slot), seq=seq)

    seen, rack = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
    assert rack.machines[0].net.foreign_imms > 0


@pytest.mark.clause("SEC-4", "LAND-8")
@pytest.mark.xfail(strict=True, reason="source checks ([SEC-3], [SEC-4], [LAND-8]) not yet in the runtime")
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
                   "(MachineNet.mr): a peer's QP can place bytes in another peer's slot with an immediate "
                   "naming its own; needs a protection domain or memory windows per peer")
def test_bytes_placed_in_another_clients_slot_without_its_immediate_do_not_run() -> None:
    def attack(r: Rack, evil: HostileMachine, t: Trust) -> None:
        victim = r.smap.request_slot(0, 0, 0)
        own = r.smap.request_slot(2, 0, 0)
        for seq in range(1, ROUNDS + 2):
            req = Request(t.pointer, bump.id, u64(100))
            evil.write(1, victim, evil.request_batch(seq, [req], victim), imm_slot=own, seq=0xFFFF)

    seen, _ = _attack(attack)
    assert seen == list(range(1, ROUNDS + 1))
