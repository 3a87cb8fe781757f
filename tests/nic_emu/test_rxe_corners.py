"""Three corners where nic_emu differed from rxe (issue 17), pinned on both providers.

* Work completion flags: IBV_WC_GRH on every successful receive completion (RC and UC too), and
  IBV_WC_WITH_IMM on the requester's completion of SEND_WITH_IMM and RDMA_WRITE_WITH_IMM
  (rxe_resp.c do_complete, rxe_comp.c make_send_cqe).
* QP capabilities rounded as rxe rounds them (rxe_qp.c rxe_init_sq / rxe_init_rq, rxe_queue.c
  rxe_queue_init), reported by ``query`` and, for the send SGEs and inline size, written back
  into the init attributes.  The expected values were measured on rxe0 (Linux 6.1.0-57).
* Shared receive queues (rxe_srq.c, rxe_resp.c get_srq_wqe).

Every test here runs unchanged on rxe (``tests/rxe/run_suites.py``).
"""

from __future__ import annotations

import errno
from types import ModuleType
from typing import Any

import pytest

from tests.nic_emu.helpers import Node, connect_pair, make_qp, poll, qp_state, sge


def _wr(v: ModuleType, mr: Any, opcode: int, wr_id: int, length: int, imm: int = 0,
        remote: Any = None, roffset: int = 0) -> Any:
    e = v.enums
    w = v.wr.SendWR(wr_id=wr_id, opcode=opcode, num_sge=1, sg=[sge(mr, length)], imm_data=imm,
                    send_flags=e.IBV_SEND_SIGNALED)
    if remote is not None:
        w.set_wr_rdma(remote.rkey, remote.buf + roffset)
    return w


@pytest.mark.parametrize("qpt", ["RC", "UC"])
def test_wc_flags_grh_on_receives_and_with_imm_on_requests(
    v: ModuleType, nodes: tuple[Node, Node], qpt: str
) -> None:
    e = v.enums
    a, b = nodes
    t = getattr(e, f"IBV_QPT_{qpt}")
    qa, qb = make_qp(a, t), make_qp(b, t)
    connect_pair(a, qa, b, qb)
    ma, mb = a.mr(4096), b.mr(4096)
    for i in range(3):
        qb.post_recv(v.wr.RecvWR(wr_id=100 + i, num_sge=1, sg=[sge(mb, 256, 256 * i)]))
    ops = [e.IBV_WR_SEND, e.IBV_WR_SEND_WITH_IMM, e.IBV_WR_RDMA_WRITE_WITH_IMM,
           e.IBV_WR_RDMA_WRITE]
    for i, op in enumerate(ops):
        rdma = op in (e.IBV_WR_RDMA_WRITE, e.IBV_WR_RDMA_WRITE_WITH_IMM)
        qa.post_send(_wr(v, ma, op, i, 10 + i, imm=0x1234, remote=mb if rdma else None,
                         roffset=2048))
    sent = [(w.wr_id, w.status, w.opcode, w.byte_len, w.imm_data, w.wc_flags)
            for w in poll(a.scq, 4)]
    imm = e.IBV_WC_WITH_IMM
    assert sent == [
        (0, 0, e.IBV_WC_SEND, 10, 0, 0),
        (1, 0, e.IBV_WC_SEND, 11, 0, imm),  # rxe: WITH_IMM on the requester too, imm_data 0
        (2, 0, e.IBV_WC_RDMA_WRITE, 12, 0, imm),
        (3, 0, e.IBV_WC_RDMA_WRITE, 13, 0, 0),
    ]
    got = [(w.wr_id, w.status, w.opcode, w.byte_len, w.imm_data, w.wc_flags)
           for w in poll(b.rcq, 3)]
    grh = e.IBV_WC_GRH
    assert got == [
        (100, 0, e.IBV_WC_RECV, 10, 0, grh),  # GRH on RC and UC receives as on UD
        (101, 0, e.IBV_WC_RECV, 11, 0x1234, grh | imm),
        (102, 0, e.IBV_WC_RECV_RDMA_WITH_IMM, 12, 0x1234, grh | imm),
    ]


#: (asked, init attributes after creation, query) as (send_wr, recv_wr, send_sge, recv_sge,
#: inline), measured on rxe0: WR counts become 2^k - 1 >= asked (query only); the send WQE's
#: data area max(16 * send_sge, inline) gives both the inline size and the send SGEs (both)
CAPS = [
    ((0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)),
    ((1, 1, 1, 1, 0), (1, 1, 1, 1, 16), (1, 1, 1, 1, 16)),
    ((2, 2, 1, 1, 0), (2, 2, 1, 1, 16), (3, 3, 1, 1, 16)),
    ((4, 4, 1, 1, 16), (4, 4, 1, 1, 16), (7, 7, 1, 1, 16)),
    ((5, 6, 3, 3, 20), (5, 6, 3, 3, 48), (7, 7, 3, 3, 48)),
    ((64, 64, 4, 4, 64), (64, 64, 4, 4, 64), (127, 127, 4, 4, 64)),
    ((100, 100, 1, 1, 100), (100, 100, 6, 1, 100), (127, 127, 6, 1, 100)),
    ((8, 8, 1, 5, 17), (8, 8, 1, 5, 17), (15, 15, 1, 5, 17)),
    ((1, 1, 0, 0, 1), (1, 1, 0, 0, 1), (1, 1, 0, 0, 1)),
    ((7, 9, 2, 1, 33), (7, 9, 2, 1, 33), (7, 15, 2, 1, 33)),
    ((16384, 16384, 32, 32, 512), (16384, 16384, 32, 32, 512), (32767, 32767, 32, 32, 512)),
]


def _caps(cap: Any) -> tuple[int, int, int, int, int]:
    return (cap.max_send_wr, cap.max_recv_wr, cap.max_send_sge, cap.max_recv_sge,
            cap.max_inline_data)


@pytest.mark.parametrize("qpt", ["RC", "UD"])
@pytest.mark.parametrize(("asked", "init", "query"), CAPS)
def test_qp_caps_are_rounded_as_rxe_does(
    v: ModuleType, nodes: tuple[Node, Node], qpt: str, asked: tuple[int, ...],
    init: tuple[int, ...], query: tuple[int, ...],
) -> None:
    e = v.enums
    a, _ = nodes
    ia = v.qp.QPInitAttr(qp_type=getattr(e, f"IBV_QPT_{qpt}"), scq=a.scq, rcq=a.rcq,
                         cap=v.qp.QPCap(*asked))
    qp = v.qp.QP(a.pd, ia)
    assert _caps(ia.cap) == init
    attr, init_attr = qp.query(e.IBV_QP_CAP | e.IBV_QP_STATE)
    assert _caps(attr.cap) == _caps(init_attr.cap) == query


def test_rounded_caps_are_the_posting_limits(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    """max_inline_data 0 with one SGE still allows 16 inline bytes; 17 do not fit."""
    e = v.enums
    a, b = nodes
    qa = make_qp(a, e.IBV_QPT_RC, max_send_wr=2, max_send_sge=1, max_inline_data=0)
    qb = make_qp(b, e.IBV_QPT_RC)
    connect_pair(a, qa, b, qb)
    ma, mb = a.mr(64), b.mr(64)
    for n, ok in ((16, True), (17, False)):
        w = v.wr.SendWR(wr_id=n, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge(ma, n)],
                        send_flags=e.IBV_SEND_SIGNALED | e.IBV_SEND_INLINE)
        w.set_wr_rdma(mb.rkey, mb.buf)
        if ok:
            qa.post_send(w)
        else:
            with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
                qa.post_send(w)
            assert ei.value.error_code == errno.EINVAL
    assert [w.status for w in poll(a.scq, 1)] == [e.IBV_WC_SUCCESS]


def test_rd_atomic_depths_query_as_powers_of_two(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, b = nodes
    qa, qb = make_qp(a, e.IBV_QPT_RC), make_qp(b, e.IBV_QPT_RC)
    connect_pair(a, qa, b, qb, max_rd_atomic=3, max_dest_rd_atomic=5)
    attr, _ = qa.query(e.IBV_QP_MAX_QP_RD_ATOMIC | e.IBV_QP_MAX_DEST_RD_ATOMIC)
    assert (attr.max_rd_atomic, attr.max_dest_rd_atomic) == (4, 8)


# -- shared receive queues ------------------------------------------------------------------


def _srq(v: ModuleType, node: Node, max_wr: int, max_sge: int = 1, limit: int = 0) -> Any:
    return v.srq.SRQ(node.pd, v.srq.SrqInitAttr(v.srq.SrqAttr(max_wr=max_wr, max_sge=max_sge,
                                                              srq_limit=limit)))


def _srq_recv(v: ModuleType, srq: Any, mr: Any, wr_id: int, offset: int = 0) -> None:
    srq.post_recv(v.wr.RecvWR(wr_id=wr_id, num_sge=1, sg=[sge(mr, 64, offset)]))


@pytest.mark.parametrize(("asked", "init", "query"), [
    ((1, 1, 0), (1, 1, 0), (1, 1, 0)),
    ((5, 2, 3), (5, 2, 3), (7, 2, 3)),
    ((5, 1, 7), (5, 1, 7), (7, 1, 7)),  # the limit is not checked at creation
    ((4, 0, 0), (4, 1, 0), (7, 1, 0)),  # max_sge 0 becomes 1, written back
    ((16385, 1, 0), (16385, 1, 0), (32767, 1, 0)),
])
def test_srq_creation_rounds_as_rxe(
    v: ModuleType, nodes: tuple[Node, Node], asked: tuple[int, int, int],
    init: tuple[int, int, int], query: tuple[int, int, int],
) -> None:
    a, _ = nodes
    ia = v.srq.SrqInitAttr(v.srq.SrqAttr(*asked))
    srq = v.srq.SRQ(a.pd, ia)
    assert (ia.max_wr, ia.max_sge, ia.srq_limit) == init
    q = srq.query()
    assert (q.max_wr, q.max_sge, q.srq_limit) == query


@pytest.mark.parametrize("asked", [(0, 1, 0), (8, 28, 0)])
def test_srq_creation_refused(v: ModuleType, nodes: tuple[Node, Node], asked: tuple[int, ...]) -> None:
    a, _ = nodes
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        v.srq.SRQ(a.pd, v.srq.SrqInitAttr(v.srq.SrqAttr(*asked)))
    assert ei.value.error_code == errno.EINVAL


def _srq_pairs(v: ModuleType, nodes: tuple[Node, Node], srq: Any) -> tuple[list[Any], list[Any]]:
    """Two RC connections a_i -> b_i, both b_i taking receives from ``srq``."""
    e = v.enums
    a, b = nodes
    senders, receivers = [], []
    for _ in range(2):
        qa = make_qp(a, e.IBV_QPT_RC)
        init = v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=b.scq, rcq=b.rcq, srq=srq,
                               cap=v.qp.QPCap(16, 16, 1, 1, 0))
        qb = v.qp.QP(b.pd, init)
        connect_pair(a, qa, b, qb)
        senders.append(qa)
        receivers.append(qb)
    return senders, receivers


def test_srq_receives_are_taken_in_order_across_qps(
    v: ModuleType, nodes: tuple[Node, Node]
) -> None:
    e = v.enums
    a, b = nodes
    srq = _srq(v, b, 16)
    (a1, a2), (b1, b2) = _srq_pairs(v, nodes, srq)
    ma, mb = a.mr(4096), b.mr(4096)
    _, init = b1.query(e.IBV_QP_CAP)
    assert (init.cap.max_recv_wr, init.cap.max_recv_sge) == (0, 0)
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        b1.post_recv(v.wr.RecvWR(wr_id=1, num_sge=1, sg=[sge(mb, 8)]))
    assert ei.value.error_code == errno.EINVAL  # the QP has no receive queue of its own
    for i in range(4):
        _srq_recv(v, srq, mb, 200 + i, 64 * i)
    for i, qa in enumerate((a2, a1, a2)):
        ma.write(bytes([65 + i]) * 4, 4, 0)
        qa.post_send(_wr(v, ma, e.IBV_WR_SEND, i, 4))
        poll(a.scq, 1)
    got = [(w.wr_id, w.qp_num, w.byte_len, w.wc_flags) for w in poll(b.rcq, 3)]
    g = e.IBV_WC_GRH
    assert got == [(200, b2.qp_num, 4, g), (201, b1.qp_num, 4, g), (202, b2.qp_num, 4, g)]
    assert mb.read(4, 0) + mb.read(4, 64) + mb.read(4, 128) == b"AAAABBBBCCCC"
    # b1 in ERR flushes nothing of the SRQ: b2 still gets the next receive
    b1.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_ERR), e.IBV_QP_STATE)
    assert poll(b.rcq, 1, max_polls=200) == []
    a2.post_send(_wr(v, ma, e.IBV_WR_SEND, 9, 4))
    assert [(w.wr_id, w.qp_num, w.status) for w in poll(b.rcq, 1)] == [(203, b2.qp_num, 0)]
    assert qp_state(b2) == e.IBV_QPS_RTS


def test_srq_post_limits(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    srq = _srq(v, b, 5, max_sge=2)  # holds 7
    mb = b.mr(4096)
    err = v.pyverbs_error.PyverbsRDMAError
    with pytest.raises(err) as ei:
        srq.post_recv(v.wr.RecvWR(wr_id=1, num_sge=3, sg=[sge(mb, 8)] * 3))
    assert ei.value.error_code == errno.EINVAL
    for i in range(7):
        _srq_recv(v, srq, mb, i)
    with pytest.raises(err) as ei:
        _srq_recv(v, srq, mb, 7)
    assert ei.value.error_code == errno.ENOMEM


def test_srq_limit_event(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    """rxe checks the limit when a responder takes a WQE: fewer than srq_limit left disarms it
    (query reports 0) and raises IBV_EVENT_SRQ_LIMIT_REACHED; arming raises nothing."""
    e = v.enums
    a, b = nodes
    srq = _srq(v, b, 8)  # holds 15
    (a1, a2), _ = _srq_pairs(v, nodes, srq)
    ma, mb = a.mr(4096), b.mr(4096)
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        srq.modify(v.srq.SrqAttr(srq_limit=16), e.IBV_SRQ_LIMIT)
    assert ei.value.error_code == errno.EINVAL
    for i in range(6):
        _srq_recv(v, srq, mb, 300 + i, 64 * i)
    srq.modify(v.srq.SrqAttr(srq_limit=4), e.IBV_SRQ_LIMIT)
    assert srq.query().srq_limit == 4
    left = []
    for i, qa in enumerate((a1, a2, a1)):
        qa.post_send(_wr(v, ma, e.IBV_WR_SEND, i, 4))
        assert len(poll(b.rcq, 1)) == 1
        left.append(srq.query().srq_limit)
    poll(a.scq, 3)
    assert left == [4, 4, 0]  # 5 left, 4 left, then 3 < 4: disarmed
    event = b.ctx.get_async_event()
    event.ack()
    assert event.event_type == e.IBV_EVENT_SRQ_LIMIT_REACHED
    # resize: rounded again, and not below what is queued
    srq.modify(v.srq.SrqAttr(max_wr=20), e.IBV_SRQ_MAX_WR)
    assert srq.query().max_wr == 31
