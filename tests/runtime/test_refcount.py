"""The thesis's counterexample (3.2.6), found by Hypothesis, and the trust-id set that fixes it.

Thread A holds the only Trust, clones it (sending an asynchronous increment) and hands the clone to
thread B, which drops it (sending an asynchronous decrement). Requests of different threads are not
ordered, so the decrement can be processed first: the count reaches zero and the property is freed
while A's Trust is still live. With trust-id sets ([TRUST-2]) and the hand-over rule ([TRUST-6])
no interleaving frees it early ([TRUST-7]).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import gossamer
from gossamer.runtime import Rack, Trust, entrust, spawn, yield_now
from tests.nic_emu.helpers import emulator_only


@gossamer.closure(capture="i64", result="i64", name="tests.runtime.refcount:naive_add")
def naive_add(prop: dict[str, Any], delta: int) -> int:
    """A naive integer reference count: 'frees' the property when it reaches zero."""
    prop["rc"] += delta
    if prop["rc"] == 0:
        prop["freed"] = True
    return int(prop["rc"])


@gossamer.closure(capture="", result="bool", name="tests.runtime.refcount:is_freed")
def is_freed(prop: dict[str, Any]) -> bool:
    return bool(prop["freed"])


@gossamer.closure(capture="", result="u64", name="tests.runtime.refcount:touch")
def touch(prop: Any) -> int:
    return 7


async def _b_drops_naive(t: Trust) -> None:
    # B got (a handle on) the "clone" and drops it: asynchronous decrement
    t.apply_then(naive_add, -1)
    t.drop()


def naive_program_frees_live_property(seed: int) -> bool:
    """Run the thesis's scenario with a naive count; True when A's live reference was freed."""
    async def main() -> bool:
        # the property lives on machine 2; A is m0.t0, B is m1.t0
        t = await entrust({"rc": 1, "freed": False}, machine=2)
        t.apply_then(naive_add, +1)  # A "clones": asynchronous increment ...
        h = spawn(_b_drops_naive, t, machine=1, thread=0)  # ... and hands the clone to B at once
        await h
        for _ in range(30):
            await yield_now()
        freed = bool(await t.apply(is_freed))  # A still holds its reference
        t.drop()
        return freed

    return bool(Rack(3, 1, seed=seed, lag=0.5).run(main))


@emulator_only  # the search replays interleavings by seed (the emulated fabric's lag)
@pytest.mark.clause("TRUST-7")
def test_hypothesis_finds_the_naive_count_freeing_a_live_property() -> None:
    seed = find(
        st.integers(0, 2**16),
        naive_program_frees_live_property,
        settings=settings(max_examples=300, database=None, derandomize=True),
    )
    assert naive_program_frees_live_property(seed)  # replays exactly: a run is a function of its seed


async def _b_drops(t: Trust) -> None:
    t.drop()


def idset_program(seed: int) -> tuple[int, list[Any]]:
    async def main() -> int:
        t = await entrust({"v": 1}, machine=2)
        h = spawn(_b_drops, t, machine=1, thread=0)  # [TRUST-6]: B gets a fresh clone, drops it
        await h
        for _ in range(30):
            await yield_now()
        r = int(await t.apply(touch))  # must still be live: BAD_PROPERTY here would be the bug
        t.drop()
        return r

    rack = Rack(3, 1, seed=seed, lag=0.5)
    return rack.run(main), list(rack.drops)


@pytest.mark.clause("TRUST-2", "TRUST-4", "TRUST-5", "TRUST-6", "TRUST-7")
@given(st.integers(0, 2**32 - 1))
@settings(max_examples=30)
def test_trust_id_sets_never_free_a_live_property(seed: int) -> None:
    r, drops = idset_program(seed)
    assert r == 7
    assert len(drops) == 1 and drops[0].value == {"v": 1}
