"""Racks as the thesis runs them (SPEC.md section 1.2): machines of different sizes, dedicated trustee
threads, client-only machines; the 16-bit slot id limit checked where a shape is set ([LIM-3]).

Figure 11 of the thesis: server machines with 6 dedicated trustee threads and 26 query threads each,
and 4 client machines with 768 threads in all (192 each). Its slot tables and bootstrap messages
are built here for every machine pair and checked the way a peer checks them.
"""

from __future__ import annotations

from typing import Any

import pytest

import gossamer
from gossamer.bootstrap import MAX_MESSAGE, Hello, check_rdma, decode_message, hello_from_map
from gossamer.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from gossamer.runtime import Rack, entrust, launch, machine_shape, spawn
from gossamer.runtime.slotmap import SlotMap
from gossamer.shape import MachineShape, RackShape, ranges_of

SERVER = MachineShape.of(32, 6)  #: 6 dedicated trustees (threads 0-5) + 26 query threads
CLIENT = MachineShape.of(192, 0)  #: 768 threads over 4 client machines, no trustee


def figure_11(servers: int) -> RackShape:
    return RackShape([SERVER] * servers + [CLIENT] * 4)


def hello_to(shape: RackShape, m: int, p: int) -> bytes:
    """The hello machine `m` sends machine `p`, its tables from `m`'s slot map ([BOOT-6], [SHAPE-5])."""
    smap, me, them = SlotMap.of(shape, m), shape[m], shape[p]
    req = [[smap.request_slot(p, c, t) for t in me.trustees] for c in range(them.threads)]
    rsp = [[smap.response_slot(c, p, t) for t in them.trustees] for c in range(me.threads)]
    return Hello(machine=m, threads=me.threads, trustees=None if me.all_trustees else me.trustees, rdma={
        "gid": bytes(16), "qpns": list(range(1, 1 + max(me.threads, them.threads))), "psn": 7,
        "slots": {"base": 1 << 40, "rkey": 5, "ids": sorted(i for row in req + rsp for i in row)},
        "request_slots": req, "response_slots": rsp, "fallback_port": 4791 if me.trustees else 0,
    }).encode()


@pytest.mark.clause("SHAPE-1", "SHAPE-2", "SHAPE-3", "SHAPE-5", "LIM-3", "BOOT-6", "BOOT-8")
@pytest.mark.parametrize("servers", [1, 8])
def test_figure_11_slot_tables_and_hellos_fit(servers: int) -> None:
    shape = figure_11(servers)
    shape.check()  # [LIM-3]: no machine needs more than 65536 ids
    for m in range(len(shape)):
        smap = SlotMap.of(shape, m)
        total_t, total_r = 32 * servers + 768, 6 * servers  # [SHAPE-2]: N_m = sum T * r_m + T_m * sum R
        assert smap.count == total_t * len(shape[m].trustees) + shape[m].threads * total_r
        assert smap.count == (4608 + 384 * servers if m < servers else 1152 * servers) <= 1 << 16
    for m in range(len(shape)):
        for p in range(len(shape)):
            if p == m:
                continue
            data = hello_to(shape, m, p)
            assert len(data) - 4 <= MAX_MESSAGE
            h = hello_from_map(decode_message(data))
            assert h.trustee_threads == shape[m].trustees
            # the receiver's checks, with its own part of the shape ([SHAPE-5])
            check_rdma(h, shape[p].threads, 1024, len(shape[p].trustees))
            if m not in (0, len(shape) - 1):  # a server's and a client machine's ids are mapped back
                continue
            smap = SlotMap.of(shape, m)
            for c, row in enumerate(h.rdma["request_slots"]):  # [SHAPE-3]: every announced id maps back
                for k, sid in enumerate(row):
                    use = smap.owner(sid)
                    assert (use.is_request, use.peer_machine, use.peer_thread, use.local_thread) == (
                        True, p, c, shape[m].trustees[k])
            for c, row in enumerate(h.rdma["response_slots"]):
                for k, sid in enumerate(row):
                    use = smap.owner(sid)
                    assert (use.is_request, use.peer_machine, use.peer_thread, use.local_thread) == (
                        False, p, shape[p].trustees[k], c)


@pytest.mark.clause("SHAPE-5", "BOOT-6", "BOOT-8")
def test_a_hello_sized_for_another_shape_is_refused() -> None:
    shape = figure_11(2)
    h = hello_from_map(decode_message(hello_to(shape, 0, 2)))  # server 0 -> client machine 2
    check_rdma(h, 192, 1024, 0)
    back = hello_from_map(decode_message(hello_to(shape, 2, 0)))  # client machine 2 -> server 0
    check_rdma(back, 32, 1024, 6)
    for hello, threads, trustees in [(h, 191, 0), (h, 193, 0), (back, 32, 5), (back, 32, 7), (back, 33, 6)]:
        with pytest.raises(RemoteProtocolError) as ei:
            check_rdma(hello, threads, 1024, trustees)
        assert ei.value.code is ErrorCode.BAD_HEADER


@pytest.mark.clause("LIM-3")
def test_figure_11_fits_up_to_56_servers_and_57_is_refused_with_the_largest_that_fits() -> None:
    figure_11(56).check()
    with pytest.raises(LocalProtocolError) as ei:
        figure_11(57).check("Rack(shape=...)")
    msg = str(ei.value)
    assert ei.value.code is ErrorCode.BAD_ARGUMENT and ei.value.clause == "LIM-3"
    assert "16-bit slot id limit" in msg and "57 x 32 threads (6 trustees) + 4 x 192 threads (no trustees)" in msg
    assert "machine 57 needs 65664 slot ids" in msg
    assert "the largest that fits: 56 x 32 threads (6 trustees) + 4 x 192 threads (no trustees)" in msg


@pytest.mark.clause("LIM-3")
def test_rack_2_129_fails_at_construction() -> None:
    for make in (lambda: Rack(2, 129), lambda: Rack(shape=[129, 129]),
                 lambda: launch(_never, machines=2, threads=129)):
        with pytest.raises(LocalProtocolError) as ei:
            make()
        msg = str(ei.value)
        assert ei.value.clause == "LIM-3", msg
        assert "16-bit slot id limit" in msg and "2 x 129 threads" in msg and "66564" in msg
        assert "the largest that fits: 2 x 128 threads (Rack(2, 128))" in msg
    assert not RackShape.uniform(2, 128).overflow()  # exactly 65536 ids
    with pytest.raises(LocalProtocolError, match=r"largest that fits: 3 x 104 threads \(Rack\(3, 104\)\)"):
        Rack(3, 105)
    with pytest.raises(LocalProtocolError, match=r"2 x 300 threads \(64 trustees\).*largest that fits: 2 x 256 "):
        Rack(2, 300, trustees=64)


async def _never() -> None:  # pragma: no cover - a rack that fails at construction never runs it
    raise AssertionError("ran")


@gossamer.closure(capture="u64 u64", result="u64", name="test_shapes:put")
def _put(d: dict[str, int], k: int, v: int) -> int:
    d[str(k)] = v
    return len(d)


async def _worker(n: int, *trusts: Any) -> int:
    for i in range(n):
        for t in trusts:
            await t.apply(_put, i, i)
    for t in trusts:
        t.drop()
    return n


async def _mixed_main() -> list[int]:
    trusts = [await entrust({}, machine=m, thread=t) for m in (0, 1) for t in (1, 3)]
    with pytest.raises(LocalProtocolError, match="not a trustee thread"):
        entrust({}, machine=2, thread=0)  # [SHAPE-1]: a client-only machine holds no property
    with pytest.raises(LocalProtocolError, match="not a trustee thread"):
        entrust({}, machine=0, thread=0)
    assert machine_shape(2).trustees == () and machine_shape(0).trustees == (1, 3)
    handles = [spawn(_worker, 3, *trusts, machine=m, thread=th)
               for m in range(4) for th in range(machine_shape(m).threads)]
    for h in handles:
        await h
    sizes = [await t.apply(_put, 99, 0) for t in trusts]
    for t in trusts:
        t.drop()
    return sizes


@pytest.mark.clause("SHAPE-1", "SHAPE-5", "BOOT-8", "FLOW-4")
def test_a_mixed_rack_runs_and_has_max_t_qps_per_peer() -> None:
    shape = [(4, [1, 3]), (4, [1, 3]), (3, 0), (5, 0)]
    rack = Rack(shape=shape, seed=3)
    try:
        assert rack.run(_mixed_main) == [4, 4, 4, 4]  # keys 0, 1, 2 and 99 on every property
        ts = [4, 4, 3, 5]
        want = [sum(max(ts[m], ts[p]) for p in range(4) if p != m) for m in range(4)]
        assert rack.qp_counts() == want
        # client-only machines host no request slot; every thread has a response slot per trustee
        assert [m.net.smap.requests for m in rack.machines] == [16 * 2, 16 * 2, 0, 0]
    finally:
        rack.close()


@pytest.mark.clause("SHAPE-4")
def test_the_hello_carries_trustees_only_when_some_thread_is_not_one() -> None:
    rack = Rack(shape=[(2, [1]), 2], seed=0)
    try:
        h0 = hello_from_map(decode_message(rack.hello_for(0, 1)))
        h1 = hello_from_map(decode_message(rack.hello_for(1, 0)))
        assert h0.trustees == (1,) and ranges_of(h0.trustees) == [[1, 1]]
        assert h1.trustees is None and h1.trustee_threads == (0, 1)
        assert "trustees" not in decode_message(rack.hello_for(1, 0))
    finally:
        rack.close()


@pytest.mark.clause("SHAPE-5", "BOOT-10")
def test_a_machine_whose_hello_is_not_the_shape_it_is_given_is_refused() -> None:
    """A rack of another process ([SHAPE-5]): machine 1 runs elsewhere; a hello from it that
    announces another thread count, or other trustee threads, is refused before any QP moves."""
    shape = [(2, [1]), (3, 0)]
    here_rack = Rack(shape=shape, remote=1, seed=0)
    elsewhere = Rack(shape=[(2, [1]), (2, 0)], seed=0)  # its machine 1 runs 2 threads, not 3
    fewer_trustees = Rack(shape=[(2, [1]), (3, [0])], seed=0)
    try:
        for other in (elsewhere, fewer_trustees):
            with pytest.raises(RemoteProtocolError) as ei:
                here_rack.connect_remote(0, 1, other.hello_for(1, 0))
            assert ei.value.code is ErrorCode.BAD_HEADER and ei.value.clause == "SHAPE-5"
    finally:
        for r in (here_rack, elsewhere, fewer_trustees):
            r.close()
