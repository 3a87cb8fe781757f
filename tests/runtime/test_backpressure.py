"""Backpressure (thesis 3.2.4): the async fiber "will yield the runtime when the pending queue is
full". Each kernel thread's pending queue is bounded by the rack's `pending_limit`; `await
trust.apply_then(...)` parks the fiber at the bound until the poller has sent enough of it.

Why not a million calls here: every request of the flood must be sent, run and answered before
the bounded queue admits more, and the Python codec on the emulated fabric does about 15-50
thousand requests a second on this machine, so a million takes 20-60 s (ten times that under
tracemalloc). The tests show the bound with 20,000 calls (10,000 per fiber; the queue never holds
more than the bound) and, under tracemalloc, that the peak memory of a flood does not grow with
its length while an unbounded queue's does. `python benchmarks/runtime_rate.py --million` runs
the million: 17,718 requests/s, longest pending queue 1024 (the default bound).
"""

from __future__ import annotations

import tracemalloc
import warnings
from typing import Any

import pytest

import gossamer
from gossamer.closures import default_registry
from gossamer.errors import DelegationError, ErrorCode
from gossamer.runtime import ADMITTED, Pending, Rack, Trust, entrust, launch, make_request, spawn, yield_now
from gossamer.runtime.client_side import ClientSide
from gossamer.runtime.env import ThreadEnv
from gossamer.runtime.slotmap import SlotMap
from gossamer.slot import SlotConfig
from tests.nic_emu.helpers import emulator_only

#: floods of thousands of requests: the queue's bookkeeping is the same over either NIC, and real
#: verbs in the TCG guest of `tox -e rxe` would take minutes over them
flood_test = emulator_only


@gossamer.closure(capture="u64", result="u64", name="tests.runtime.backpressure:add")
def add(counter: list[int], k: int) -> int:
    counter[0] += k
    return counter[0]


def _flood_rack(n: int, limit: int | None, threads: int = 1, *, keep: bool = True) -> tuple[Rack, list[list[int]]]:
    """One fiber per thread of machine 0 issues `n` awaited apply_then calls to its own counter on
    machine 1; returns the rack (after its run) and the values each fiber's callbacks saw (only
    the last one unless `keep`: a list of every answer would itself grow with `n`)."""
    seen: list[list[int]] = [[] for _ in range(threads)]

    async def flood(t: Trust, mine: list[int]) -> None:
        def last(v: int) -> None:
            mine[:] = [v]

        then = mine.append if keep else last
        for _ in range(n):
            await t.apply_then(add, 1, then=then)
        t.drop()

    async def main() -> None:
        counters = [await entrust([0], machine=1, thread=th) for th in range(threads)]
        hs = [spawn(flood, c, seen[th], machine=0, thread=th) for th, c in enumerate(counters)]
        for c in counters:
            c.drop()
        for h in hs:
            await h

    rack = Rack(2, threads, pending_limit=limit)
    try:
        rack.run(main)
    finally:
        rack.close()
    return rack, seen


@flood_test
def test_a_flood_of_apply_then_never_queues_more_than_the_bound() -> None:
    n, limit = 10_000, 128
    rack, seen = _flood_rack(n, limit, threads=2)
    for th in rack.machines[0].threads:
        assert th.client.peak_queued <= limit  # an unbounded queue holds all of them (next test)
        assert th.client.requests_sent >= n
    for mine in seen:  # every answer came, in the fiber's order ([REQ-7])
        assert mine == list(range(1, n + 1))


@flood_test
def test_without_a_bound_the_same_flood_queues_everything() -> None:
    """The contrast that shows the measure can see a queue: no bound, no yield, all of it queued."""
    rack, seen = _flood_rack(2_000, None)
    assert rack.machines[0].threads[0].client.peak_queued >= 2_000
    assert seen == [list(range(1, 2_001))]


def _traced_peak(n: int, limit: int | None) -> int:
    tracemalloc.start()
    try:
        _, seen = _flood_rack(n, limit, keep=False)
        assert seen == [[n]]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@flood_test
def test_the_memory_of_a_bounded_flood_does_not_grow_with_its_length() -> None:
    _flood_rack(100, 16, keep=False)  # warm up: first-time allocations are not the flood's
    short, long_ = _traced_peak(300, 16), _traced_peak(1_200, 16)
    unbounded = _traced_peak(1_200, None)
    # four times the calls: the bounded peak barely moves (interpreter free lists fill up, about
    # 10 bytes a call here, flattening out), while the unbounded queue holds every request with
    # its callback (about 450 bytes each)
    assert long_ - short < (unbounded - long_) / 10, (short, long_, unbounded)


@flood_test
def test_many_fibers_on_one_thread_overshoot_the_bound_by_at_most_one_request_each() -> None:
    """Each woken fiber queues its next request before it can see the queue full again, so the
    bound holds up to one request per fiber of the thread (the request is never held back: that
    would let a fiber's later blocking apply overtake it, against [REQ-7])."""
    fibers, n, limit = 8, 300, 16
    answers = [0]

    def count(_: int) -> None:
        answers[0] += 1

    async def flood(t: Trust) -> None:
        for _ in range(n):
            await t.apply_then(add, 1, then=count)
        t.drop()

    async def main() -> None:
        t = await entrust([0], machine=1)
        hs = [spawn(flood, t, machine=0, thread=0) for _ in range(fibers)]
        t.drop()
        for h in hs:
            await h

    rack = Rack(2, 1, pending_limit=limit)
    try:
        rack.run(main)
    finally:
        rack.close()
    assert answers[0] == fibers * n
    assert limit <= rack.machines[0].threads[0].client.peak_queued <= limit + fibers


def test_a_fiber_that_does_not_await_apply_then_is_warned_where_it_called() -> None:
    async def main() -> int:
        t = await entrust([0], machine=1)
        for _ in range(10):
            t.apply_then(add, 1)  # not awaited: the fiber never yields; line named by the warning
        total: int = await t.apply(add, 0)
        t.drop()
        return total

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert launch(main, machines=2, pending_limit=4) == 10  # the requests all ran all the same
    ours = [w for w in caught if issubclass(w.category, RuntimeWarning) and "pending queue" in str(w.message)]
    assert ours, [str(w.message) for w in caught]
    assert ours[0].filename == __file__
    assert "await trust.apply_then" in str(ours[0].message) and "m0.t0" in str(ours[0].message)


def test_apply_is_unchanged_and_code_that_cannot_await_is_admitted() -> None:
    """With a bound of 1 the queue is full after every request: blocking apply still just waits
    for its answer, and an apply_then from a callback (which cannot yield) is admitted."""
    admissions: list[Any] = []

    async def main() -> list[int]:
        t = await entrust([0], machine=1)
        got = [await t.apply(add, 1) for _ in range(5)]

        def again(v: int) -> None:
            admissions.append(t.apply_then(add, 10, then=got.append))

        waited = t.apply_then(add, 1, then=again)
        assert waited.waiting  # a fiber on a full queue: awaiting parks it
        await waited
        while len(got) < 6:
            await yield_now()
        got.append(await t.apply(add, 0))
        t.drop()
        return got

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert launch(main, machines=2, pending_limit=1) == [1, 2, 3, 4, 5, 16, 16]
    assert admissions == [ADMITTED]


class _Slots:
    """The slot ids of a one-machine rack: all a client side's flush needs of its network."""

    def __init__(self, smap: SlotMap) -> None:
        self.smap = smap

    def request_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int:
        return self.smap.request_slot(peer, client_thread, trustee_thread)

    def response_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int:
        return self.smap.response_slot(client_thread, peer, trustee_thread)

    def read_slot(self, slot_id: int) -> memoryview:
        raise AssertionError("flush reads no slot")


def test_the_client_side_says_when_its_queue_is_full_and_calls_back_when_there_is_room() -> None:
    """The side alone (no Rack): full at the bound; `when_room` callbacks run once a flush has
    sent enough, or when everything fails (fate sharing), never while it is still full."""
    smap = SlotMap(1, 1)
    env = ThreadEnv(config=SlotConfig(), registry=default_registry, smap=smap, net=_Slots(smap),
                    fallback=None, machine=0, thread=0, pending_limit=3)  # type: ignore[arg-type]
    client = ClientSide(env)
    roomy: list[str] = []

    def queue(n: int) -> None:
        for _ in range(n):
            client.submit(0, 0, Pending(make_request(default_registry, 0x1000, add, (1,)), add, lambda v, e: None))

    queue(2)
    assert not client.full
    client.when_room(lambda: roomy.append("at once"))
    queue(2)
    assert client.full and client.queued == 4 and client.peak_queued == 4
    client.when_room(lambda: roomy.append("after the flush"))
    assert roomy == ["at once"]
    sends = client.flush()  # one batch takes the whole queue ([SLOT-10]): room again
    assert len(sends) == 1 and client.queued == 0 and not client.full
    assert roomy == ["at once", "after the flush"]
    queue(3)  # the slot is busy until its answer ([FLOW-1]): nothing can be sent, still full
    client.when_room(lambda: roomy.append("after the failure"))
    assert client.flush() == [] and client.full and roomy[-1] == "after the flush"
    assert client.fail_all(DelegationError(ErrorCode.PEER_FAILED, "ERR-1", "down")) == 7
    assert client.queued == 0 and roomy[-1] == "after the failure"


def test_the_bound_is_checked_where_it_is_set() -> None:
    with pytest.raises(ValueError, match="pending_limit"):
        Rack(1, 1, pending_limit=0)
