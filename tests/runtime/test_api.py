"""The runtime's API and its clear errors, one conversation per test (thesis Table II)."""

from __future__ import annotations

from typing import Any

import pytest

import gossamer
from gossamer.errors import DelegationError, ErrorCode, LocalProtocolError
from gossamer.runtime import Rack, RackFailure, Trust, context, entrust, here, launch, spawn, yield_now
from nic_emu.provider import is_emulated
from tests.nic_emu.helpers import emulator_only


@gossamer.closure(capture="u64 u64", result="u64", name="tests.runtime.api:put")
def put(d: dict[str, int], k: int, v: int) -> int:
    d[str(k)] = v
    return len(d)


@gossamer.closure(capture="u64", result="u64", name="tests.runtime.api:get")
def get(d: dict[str, int], k: int) -> int:
    return d.get(str(k), 0)


@gossamer.closure(capture="", result="cbor", param="cbor", name="tests.runtime.api:merge")
def merge(d: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    d.update(extra)
    return dict(sorted(d.items()))


@gossamer.closure(capture="", result="u64", name="tests.runtime.api:boom")
def boom(d: Any) -> int:
    raise KeyError("no such thing")


@gossamer.closure(capture="", result="u8", name="tests.runtime.api:too_big_result")
def too_big_result(d: Any) -> int:
    return 300


@gossamer.closure(capture="", result="cbor", name="tests.runtime.api:size")
def size(d: Any) -> int:
    return len(d)


NESTED: list[Trust] = []


@gossamer.closure(capture="", result="", name="tests.runtime.api:nested")
def nested(d: Any) -> None:
    NESTED[0].apply(get, 1)  # a blocking apply inside a delegated closure


@pytest.mark.clause("TRUST-3", "REQ-7", "RSP-2", "LAND-1", "LAND-2", "LAND-3")
@pytest.mark.parametrize("machines", [1, 2, 3])
def test_table_ii_program(machines: int) -> None:
    """entrust, a blocking apply, an apply_then with its callback, from a spawned fiber."""
    log: list[str] = []

    async def worker(trust: Trust) -> int:
        n: int = await trust.apply(put, 1, 100)
        trust.apply_then(put, 2, 200, then=lambda n: log.append(f"added second greeting ({n})"))
        got: int = await trust.apply(get, 2)  # same fiber, same trustee: after the apply_then ([REQ-7])
        trust.drop()
        return n + got

    async def main() -> int:
        trust = await entrust({}, machine=machines - 1, thread=1)
        r = await spawn(worker, trust, machine=0, thread=0)
        trust.drop()
        return r

    assert launch(main, machines=machines, threads=2, seed=machines) == 201
    assert log == ["added second greeting (2)"]


@pytest.mark.clause("SER-1", "REQ-4")
def test_serialized_argument_and_cbor_result() -> None:
    async def main() -> Any:
        t = await entrust({"a": 1}, machine=1)
        r = await t.apply(merge, arg={"b": [1, 2], "c": "three"})
        t.drop()
        return r

    assert launch(main, machines=2) == {"a": 1, "b": [1, 2], "c": "three"}


@pytest.mark.clause("FB-1", "FB-2", "FB-3", "FB-4", "FB-5", "FB-8", "RSP-4")
@pytest.mark.parametrize("machines", [1, 2])
def test_large_capture_and_result_take_the_tcp_fallback(machines: int) -> None:
    blob = {"k": "y" * 50_000}

    async def main() -> Any:
        t = await entrust({}, machine=machines - 1)
        first = await t.apply(put, 1, 1)
        merged = await t.apply(merge, arg=blob)  # too big for the slot: fallback both ways
        after = await t.apply(get, 1)  # ordering kept: runs after the large one
        t.drop()
        return first, len(merged["k"]), after

    rack = Rack(machines, 1, seed=5)
    try:
        assert rack.run(main) == (1, 50_000, 1)
        assert rack.fallback.frames_sent == 2
        if machines > 1:
            assert rack.fallback.bytes_sent > 100_000 and rack.fallback.links  # real sockets
    finally:
        rack.close()


@pytest.mark.clause("ERR-2")
def test_a_closure_that_raises_gets_its_error_back() -> None:
    async def main() -> str:
        t = await entrust({}, machine=1)
        try:
            await t.apply(boom)
        except DelegationError as e:
            assert e.code is ErrorCode.CLOSURE_RAISED
            msg = e.message
        assert await t.apply(put, 1, 1) == 1  # the trustee is fine afterwards
        t.drop()
        return msg

    msg = launch(main, machines=2)
    assert "KeyError" in msg and "no such thing" in msg


@pytest.mark.clause("ERR-2")
def test_a_result_that_does_not_fit_its_layout_is_bad_result() -> None:
    async def main() -> ErrorCode:
        t = await entrust({})
        try:
            await t.apply(too_big_result)
        except DelegationError as e:
            t.drop()
            return e.code
        raise AssertionError("no error")

    assert launch(main) is ErrorCode.BAD_RESULT


@pytest.mark.clause("ERR-1", "ERR-5")
def test_blocking_apply_inside_a_closure_fails_with_nested_apply_instead_of_hanging() -> None:
    """[ERR-5]: the caller of the outer apply receives NESTED_APPLY itself (it used to get CLOSURE_RAISED)."""
    async def main() -> ErrorCode:
        t = await entrust({"1": 5}, machine=1)
        NESTED[:] = [t]
        try:
            await t.apply(nested)
        except DelegationError as e:
            t.drop()
            return e.code
        raise AssertionError("no error")

    assert launch(main, machines=2) is ErrorCode.NESTED_APPLY


@pytest.mark.clause("LAYOUT-3")
def test_a_capture_that_breaks_noref_fails_at_registration() -> None:
    with pytest.raises(LocalProtocolError) as info:
        @gossamer.closure(capture="u64 str", name="tests.runtime.api:bad_noref")
        def bad(d: Any, k: int, s: str) -> None: ...
    assert info.value.code is ErrorCode.NOREF
    assert "param='cbor'" in info.value.message


@pytest.mark.clause("TRUST-5", "TRUST-6", "REQ-1")
def test_trust_misuse_is_refused_locally() -> None:
    async def other(t: Trust, stolen: list[Trust]) -> str:
        try:
            await stolen[0].apply(get, 1)  # a Trust of another thread, smuggled in
        except LocalProtocolError as e:
            t.drop()
            return e.clause
        raise AssertionError("no error")

    async def main() -> tuple[str, str]:
        t = await entrust({})
        clause = await spawn(other, t, [t], machine=0, thread=1)
        t.drop()
        try:
            t.apply_then(get, 1)
        except LocalProtocolError as e:
            return clause, e.clause
        raise AssertionError("no error")

    assert launch(main, threads=2) == ("TRUST-6", "TRUST-5")


@pytest.mark.clause("TRUST-5", "REQ-1")
def test_the_property_is_dropped_with_its_last_trust_and_then_gone() -> None:
    async def main() -> tuple[list[int], int]:
        t = await entrust({"x": 1}, machine=1, thread=1)
        pointer = t.pointer
        c = t.clone()
        t.drop()
        for _ in range(20):
            await yield_now()
        rack = context.current_rack()
        assert rack.drops == []  # c is still live
        c.drop()
        for _ in range(20):
            await yield_now()
        return [d.pointer for d in rack.drops], pointer

    drops, pointer = launch(main, machines=2, threads=2)
    assert drops == [pointer]


@pytest.mark.clause("SLOT-1", "FLOW-4")
@pytest.mark.parametrize(("machines", "threads"), [(2, 1), (3, 2), (4, 4)])
def test_one_qp_per_thread_and_remote_machine(machines: int, threads: int) -> None:
    async def main() -> None:
        trusts = [await entrust([], machine=m, thread=t) for m in range(machines) for t in range(threads)]
        for tr in trusts:
            tr.drop()

    rack = Rack(machines, threads, seed=1)
    try:
        rack.run(main)
        assert rack.qp_counts() == [threads * (machines - 1)] * machines
        if is_emulated():  # the NIC's own counters; a real device's are not read here
            counters = [m.net.counters() for m in rack.machines]
            assert all(c.qps_created == threads * (machines - 1) for c in counters)
            assert all(c.error_completions == 0 for c in counters)  # [FLOW-4]: never an RNR
        # same-machine pairs went through slot images too, remote ones through the NIC
        assert rack.machines[0].net.local_writes > 0
        assert all(m.net.remote_writes > 0 for m in rack.machines)
    finally:
        rack.close()


@pytest.mark.clause("SLOT-10", "FLOW-1")
def test_requests_are_batched_per_slot() -> None:
    async def main() -> int:
        t = await entrust({}, machine=1)
        answers: list[int] = []
        for k in range(100):
            t.apply_then(put, k, k, then=answers.append)  # all queued before the poller runs
        await yield_now()
        n = await t.apply(size)
        t.drop()
        assert answers == list(range(1, 101))
        return int(n)

    rack = Rack(2, 1, seed=2)
    try:
        assert rack.run(main) == 100
        client = rack.machines[0].threads[0].client
        # 100 requests of 24 bytes fill 1024-byte slots 41 at a time ([SLOT-10]); one in flight
        assert client.batches_sent <= 6
    finally:
        rack.close()


@emulator_only  # real verbs take real time: the interleaving is not a function of the seed
@pytest.mark.clause("LAND-4")
def test_a_run_is_a_pure_function_of_its_seed() -> None:
    def trace(seed: int) -> list[Any]:
        out: list[Any] = []

        async def worker(t: Trust, k: int) -> None:
            for i in range(5):
                out.append((k, here(), await t.apply(put, k * 10 + i, i)))
            t.drop()

        async def main() -> None:
            t = await entrust({}, machine=1)
            hs = [spawn(worker, t, k) for k in range(6)]
            for h in hs:
                await h
            t.drop()

        Rack(3, 2, seed=seed, lag=0.2).run(main)
        return out

    assert trace(11) == trace(11)
    assert trace(11) != trace(12)


@pytest.mark.clause("ERR-1")
def test_an_uncaught_error_brings_the_rack_down_with_a_report() -> None:
    async def main() -> None:
        t = await entrust({})
        t.apply_then(boom)  # fails, and nobody handles it

    with pytest.raises(RackFailure) as info:
        launch(main)
    assert "CLOSURE_RAISED" in info.value.report
