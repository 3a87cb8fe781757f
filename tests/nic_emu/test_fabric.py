"""The emulated fabric: faults surfacing as real verbs surface them, counters, determinism.

Emulator-only (these tests take the ``fabric`` fixture, which skips on real pyverbs).
"""

from __future__ import annotations

import errno
from types import ModuleType

import pytest

import nic_emu
from nic_emu import mr_view
from tests.nic_emu.helpers import (
    emulator_only,
    make_qp,
    open_node,
    poll,
    qp_state,
    sge,
    ud_ah,
    ud_ready,
)
from tests.nic_emu.test_rc import Pair, make_pair


@pytest.fixture
def p(v: ModuleType, fabric: nic_emu.Fabric) -> Pair:
    return make_pair(v, (open_node(v, "emu0"), open_node(v, "emu1")), retry_cnt=3)


def test_devices_and_gids(v: ModuleType, fabric: nic_emu.Fabric) -> None:
    names = [d.name for d in v.device.get_device_list()]
    assert names == [b"emu0", b"emu1"]
    ctx = v.device.Context(name="emu1")
    assert str(ctx.query_gid(1, 1)) == "0000:0000:0000:0000:0000:ffff:c612:0002"
    assert str(ctx.query_gid(1, 0)).startswith("fe80:")
    assert ctx.query_port(1).state == v.enums.IBV_PORT_ACTIVE
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError):
        v.device.Context(name="mlx5_0")
    with pytest.raises(v.pyverbs_error.PyverbsUserError):
        v.device.Context()


def test_link_down_gives_retry_exceeded(p: Pair, fabric: nic_emu.Fabric) -> None:
    e = p.v.enums
    fabric.set_link("emu1", False)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=1))
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=2))
    w1, w2 = poll(p.a.scq, 2)
    assert (w1.status, w2.status) == (e.IBV_WC_RETRY_EXC_ERR, e.IBV_WC_WR_FLUSH_ERR)
    assert qp_state(p.qa) == e.IBV_QPS_ERR
    assert qp_state(p.qb) == e.IBV_QPS_RTS  # the responder never heard of it


def test_link_back_before_retries_run_out(p: Pair, fabric: nic_emu.Fabric) -> None:
    e = p.v.enums
    p.ma.write(b"late", 4, 0)
    fabric.set_link("emu0", False)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=1, length=4))
    fabric.step()
    fabric.step()  # two timeouts out of retry_cnt=3
    fabric.set_link("emu0", True)
    assert poll(p.a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    assert p.mb.read(4, 0) == b"late"


def test_crash(v: ModuleType, p: Pair, fabric: nic_emu.Fabric) -> None:
    e = v.enums
    fabric.crash("emu1")
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_READ, wr_id=1))
    assert poll(p.a.scq, 1)[0].status == e.IBV_WC_RETRY_EXC_ERR
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        p.qb.post_recv(v.wr.RecvWR(num_sge=1, sg=[sge(p.mb, 8)]))
    assert ei.value.error_code == errno.EIO


def test_cut_only_separates_the_pair(v: ModuleType, fabric: nic_emu.Fabric) -> None:
    fabric.add_machine()
    nodes = [open_node(v, f"emu{i}") for i in range(3)]
    e = v.enums
    p02 = make_pair(v, (nodes[0], nodes[2]), retry_cnt=0)
    p01 = make_pair(v, (nodes[0], nodes[1]), retry_cnt=0)
    fabric.cut("emu0", "emu2")
    p02.qa.post_send(p02.wr(e.IBV_WR_RDMA_WRITE, wr_id=1))
    p01.qa.post_send(p01.wr(e.IBV_WR_RDMA_WRITE, wr_id=2))
    got = {w.wr_id: w.status for w in poll(nodes[0].scq, 2)}
    assert got == {1: e.IBV_WC_RETRY_EXC_ERR, 2: e.IBV_WC_SUCCESS}


def test_write_is_visible_through_mr_view_without_completion(p: Pair,
                                                            fabric: nic_emu.Fabric) -> None:
    e = p.v.enums
    view = mr_view(p.mb)
    mr_view(p.ma)[0:5] = b"hello"
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, length=5, flags=0))
    assert bytes(view[0:5]) == bytes(5)  # nothing moves until the fabric progresses
    assert fabric.run_until_idle()
    assert bytes(view[0:5]) == b"hello"


def test_read_with_no_initiator_depth_stalls(v: ModuleType, fabric: nic_emu.Fabric) -> None:
    p = make_pair(v, (open_node(v, "emu0"), open_node(v, "emu1")), max_rd_atomic=0)
    p.qa.post_send(p.wr(v.enums.IBV_WR_RDMA_READ))
    assert not fabric.run_until_idle(max_steps=100)
    assert p.a.scq.poll(1) == (0, [])


def test_cq_overflow_moves_qp_to_error(v: ModuleType, fabric: nic_emu.Fabric) -> None:
    a, b = open_node(v, "emu0", cqe=2), open_node(v, "emu1")
    p = make_pair(v, (a, b))
    e = v.enums
    for i in range(3):
        p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=i))
    fabric.run_until_idle()
    assert a.scq.overflowed
    assert qp_state(p.qa) == e.IBV_QPS_ERR
    assert fabric.machine("emu0").counters().cq_overflows >= 1


def test_counters(p: Pair, fabric: nic_emu.Fabric) -> None:
    e = p.v.enums
    for i in range(4):
        p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=i, length=100, flags=0))
    fabric.run_until_idle()
    c0 = fabric.machine("emu0").counters()
    c1 = fabric.machine("emu1").counters()
    assert (c0.send_wrs, c0.bytes_sent, c1.bytes_received) == (4, 400, 400)
    assert c0.connected_qps == c0.peak_connected_qps == 1
    assert nic_emu.qp_counters(p.qa).send_wrs == 4


def test_qp_count_per_machine(v: ModuleType, fabric: nic_emu.Fabric) -> None:
    """One connection per thread per machine: T threads on each of M machines need
    T * (M - 1) connected QPs per machine."""
    machines, threads = 3, 2
    fabric.add_machine()
    nodes = [open_node(v, f"emu{i}") for i in range(machines)]
    for i in range(machines):
        for j in range(i + 1, machines):
            for _ in range(threads):
                make_pair(v, (nodes[i], nodes[j]))
    for m in fabric.machines:
        assert m.counters().connected_qps == threads * (machines - 1)


def _ud_trace(seed: int, faults: nic_emu.FaultPlan) -> list[tuple[int, int]]:
    from nic_emu.provider import verbs

    v = verbs()
    e = v.enums
    with nic_emu.use_fabric(nic_emu.Fabric(seed=seed, faults=faults)):
        a, b = open_node(v, "emu0"), open_node(v, "emu1")
        qa, qb = make_qp(a, e.IBV_QPT_UD, max_send_wr=64), make_qp(b, e.IBV_QPT_UD,
                                                                  max_recv_wr=64)
        ud_ready(a, qa)
        ud_ready(b, qb)
        ma, mb = a.mr(4096), b.mr(64 * 64)
        ah = ud_ah(a, b.gid())
        for i in range(40):
            qb.post_recv(v.wr.RecvWR(wr_id=i, num_sge=1, sg=[sge(mb, 64, 64 * i)]))
        for i in range(40):
            ma.write(bytes([i]), 1, i)
            w = v.wr.SendWR(wr_id=i, opcode=e.IBV_WR_SEND, num_sge=1, sg=[sge(ma, 1, i)],
                            send_flags=0)
            w.set_wr_ud(ah, qb.qp_num, 0x11111111)
            qa.post_send(w)
        from nic_emu import current_fabric

        current_fabric().run_until_idle()
        wcs = poll(b.rcq, 40, max_polls=5)
        return [(w.wr_id, mb.read(1, 64 * w.wr_id + 40)[0]) for w in wcs]


@emulator_only
def test_ud_faults_drop_and_reorder_deterministically() -> None:
    plan = nic_emu.FaultPlan(drop=0.2, delay=0.3, max_delay=3, reorder=0.5)
    t1, t2 = _ud_trace(7, plan), _ud_trace(7, plan)
    assert t1 == t2  # a pure function of the seed
    payloads = [b for _, b in t1]
    assert len(payloads) < 40  # some dropped
    assert payloads != sorted(payloads)  # some reordered
    assert [b for _, b in _ud_trace(7, nic_emu.FaultPlan())] == list(range(40))
    assert _ud_trace(8, plan) != t1
