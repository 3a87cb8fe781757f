"""UD and UC: the GRH in front of UD receives, silent drops, and which verbs each allows."""

from __future__ import annotations

import ipaddress
from types import ModuleType
from typing import Any

import pytest

from tests.nic_emu.helpers import Node, connect_pair, make_qp, poll, qp_state, sge, ud_ah, ud_ready

QKEY = 0x11111111


def _ud(v: ModuleType, nodes: tuple[Node, Node]) -> tuple[Any, Any, Any, Any, Any]:
    a, b = nodes
    e = v.enums
    qa, qb = make_qp(a, e.IBV_QPT_UD), make_qp(b, e.IBV_QPT_UD)
    ud_ready(a, qa, QKEY)
    ud_ready(b, qb, QKEY)
    return qa, qb, a.mr(4096), b.mr(4096), ud_ah(a, b.gid())


def _ud_send(v: ModuleType, qa: Any, ma: Any, ah: Any, qpn: int, length: int,
             opcode: int | None = None, qkey: int = QKEY, wr_id: int = 1) -> None:
    e = v.enums
    w = v.wr.SendWR(wr_id=wr_id, opcode=e.IBV_WR_SEND if opcode is None else opcode,
                    num_sge=1, sg=[sge(ma, length)], imm_data=0xAB)
    w.set_wr_ud(ah, qpn, qkey)
    qa.post_send(w)


def test_ud_receive_has_a_40_byte_grh(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, b = nodes
    qa, qb, ma, mb, ah = _ud(v, nodes)
    ma.write(b"datagram", 8, 0)
    qb.post_recv(v.wr.RecvWR(wr_id=9, num_sge=1, sg=[sge(mb, 40 + 64)]))
    _ud_send(v, qa, ma, ah, qb.qp_num, 8, e.IBV_WR_SEND_WITH_IMM)
    (wc,) = poll(b.rcq, 1)
    assert wc.status == e.IBV_WC_SUCCESS
    assert (wc.byte_len, wc.src_qp, wc.imm_data) == (48, qa.qp_num, 0xAB)
    assert wc.wc_flags & e.IBV_WC_GRH and wc.wc_flags & e.IBV_WC_WITH_IMM
    grh = mb.read(40, 0)
    assert grh[:20] == bytes(20)
    assert grh[20] == 0x45  # IPv4 header of RoCE v2
    src = ipaddress.IPv6Address(bytes.fromhex(a.gid().gid.replace(":", ""))).ipv4_mapped
    assert src is not None and grh[32:36] == src.packed
    assert mb.read(8, 40) == b"datagram"
    assert poll(a.scq, 1)[0].status == e.IBV_WC_SUCCESS


def test_ud_without_recv_or_with_wrong_qkey_drops_silently(
    v: ModuleType, nodes: tuple[Node, Node]
) -> None:
    e = v.enums
    a, b = nodes
    qa, qb, ma, mb, ah = _ud(v, nodes)
    _ud_send(v, qa, ma, ah, qb.qp_num, 8, wr_id=1)  # no recv posted: lost
    assert poll(a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    qb.post_recv(v.wr.RecvWR(wr_id=9, num_sge=1, sg=[sge(mb, 128)]))
    _ud_send(v, qa, ma, ah, qb.qp_num, 8, qkey=QKEY + 1, wr_id=2)  # wrong qkey: lost
    assert poll(a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    assert poll(b.rcq, 1, max_polls=50) == []
    assert qp_state(qa) == qp_state(qb) == e.IBV_QPS_RTS


def test_write_on_ud_completes_with_loc_qp_op_err(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, _ = nodes
    qa, qb, ma, _mb, ah = _ud(v, nodes)
    _ud_send(v, qa, ma, ah, qb.qp_num, 8, e.IBV_WR_RDMA_WRITE)
    assert poll(a.scq, 1)[0].status == e.IBV_WC_LOC_QP_OP_ERR
    assert qp_state(qa) == e.IBV_QPS_ERR  # rxe: ERR, not the IB spec's SQE


def test_ud_bad_lkey_moves_the_qp_to_error(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, _ = nodes
    qa, qb, ma, _mb, ah = _ud(v, nodes)
    w = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_SEND, num_sge=1,
                    sg=[v.wr.SGE(ma.buf, 8, ma.lkey ^ 0x300)])
    w.set_wr_ud(ah, qb.qp_num, QKEY)
    qa.post_send(w)
    _ud_send(v, qa, ma, ah, qb.qp_num, 16, wr_id=2)
    # rxe 6.1: LOC_QP_OP_ERR (copy_data's -EINVAL), then the QP is in ERR (not SQE)
    assert [(w.wr_id, w.status) for w in poll(a.scq, 2)] == [
        (1, e.IBV_WC_LOC_QP_OP_ERR), (2, e.IBV_WC_WR_FLUSH_ERR)]
    assert qp_state(qa) == e.IBV_QPS_ERR


def test_ud_recv_too_short(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, b = nodes
    qa, qb, ma, mb, ah = _ud(v, nodes)
    qb.post_recv(v.wr.RecvWR(wr_id=50, num_sge=1, sg=[sge(mb, 40 + 4)]))
    qb.post_recv(v.wr.RecvWR(wr_id=51, num_sge=1, sg=[sge(mb, 128, 200)]))
    _ud_send(v, qa, ma, ah, qb.qp_num, 16, wr_id=1)
    _ud_send(v, qa, ma, ah, qb.qp_num, 16, wr_id=2)
    assert [(w.wr_id, w.status) for w in poll(a.scq, 2)] == [(1, 0), (2, 0)]
    # rxe 6.1: the receive fails with LOC_QP_OP_ERR (not LOC_LEN_ERR) and the responder QP goes
    # to ERR, flushing the next receive
    r = [(w.wr_id, w.status, w.byte_len, w.src_qp) for w in poll(b.rcq, 2)]
    assert r == [(50, e.IBV_WC_LOC_QP_OP_ERR, 0, 0), (51, e.IBV_WC_WR_FLUSH_ERR, 0, 0)]
    assert (qp_state(qa), qp_state(qb)) == (e.IBV_QPS_RTS, e.IBV_QPS_ERR)


def test_ud_message_above_mtu(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, b = nodes
    qa, qb, ma, mb, ah = _ud(v, nodes)
    qb.post_recv(v.wr.RecvWR(wr_id=9, num_sge=1, sg=[sge(mb, 4096)]))
    _ud_send(v, qa, ma, ah, qb.qp_num, 2048)
    # rxe 6.1 (C10-93.1.1): a UD message above the port MTU is not sent, yet the send completes
    # successfully ("fake a successful UD send")
    assert poll(a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    assert poll(b.rcq, 1, max_polls=50) == []
    assert qp_state(qa) == qp_state(qb) == e.IBV_QPS_RTS


def _uc(v: ModuleType, nodes: tuple[Node, Node]) -> tuple[Any, Any, Any, Any]:
    a, b = nodes
    e = v.enums
    qa, qb = make_qp(a, e.IBV_QPT_UC), make_qp(b, e.IBV_QPT_UC)
    connect_pair(a, qa, b, qb, access=e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE)
    return qa, qb, a.mr(4096), b.mr(4096)


def test_uc_write_and_send(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, b = nodes
    qa, qb, ma, mb = _uc(v, nodes)
    ma.write(b"uc-data!", 8, 0)
    w = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge(ma, 8)])
    w.set_wr_rdma(mb.rkey, mb.buf + 16)
    qa.post_send(w)
    assert poll(a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    qb.post_recv(v.wr.RecvWR(wr_id=5, num_sge=1, sg=[sge(mb, 64, 100)]))
    qa.post_send(v.wr.SendWR(wr_id=2, opcode=e.IBV_WR_SEND, num_sge=1, sg=[sge(ma, 8)]))
    (wc,) = poll(b.rcq, 1)
    assert (wc.status, wc.byte_len, wc.src_qp) == (e.IBV_WC_SUCCESS, 8, 0)  # no DETH on UC
    assert mb.read(8, 16) == mb.read(8, 100) == b"uc-data!"


@pytest.mark.parametrize("op", ["read", "faa"])
def test_uc_refuses_read_and_atomics(v: ModuleType, nodes: tuple[Node, Node], op: str) -> None:
    e = v.enums
    a, _ = nodes
    qa, _qb, ma, mb = _uc(v, nodes)
    opcode = e.IBV_WR_RDMA_READ if op == "read" else e.IBV_WR_ATOMIC_FETCH_AND_ADD
    w = v.wr.SendWR(wr_id=1, opcode=opcode, num_sge=1, sg=[sge(ma, 8)])
    w.set_wr_atomic(mb.rkey, mb.buf, 1)
    qa.post_send(w)
    assert poll(a.scq, 1)[0].status == e.IBV_WC_LOC_QP_OP_ERR


def test_uc_recv_too_short(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, b = nodes
    qa, qb, ma, mb = _uc(v, nodes)
    qb.post_recv(v.wr.RecvWR(wr_id=50, num_sge=1, sg=[sge(mb, 4)]))
    qb.post_recv(v.wr.RecvWR(wr_id=51, num_sge=1, sg=[sge(mb, 64, 100)]))
    for i in (1, 2):
        qa.post_send(v.wr.SendWR(wr_id=i, opcode=e.IBV_WR_SEND, num_sge=1, sg=[sge(ma, 16)]))
    assert [(w.wr_id, w.status) for w in poll(a.scq, 2)] == [(1, 0), (2, 0)]
    # rxe 6.1: LOC_QP_OP_ERR at the responder, whose QP goes to ERR (flushing the next receive)
    r = [(w.wr_id, w.status) for w in poll(b.rcq, 2)]
    assert r == [(50, e.IBV_WC_LOC_QP_OP_ERR), (51, e.IBV_WC_WR_FLUSH_ERR)]
    assert (qp_state(qa), qp_state(qb)) == (e.IBV_QPS_RTS, e.IBV_QPS_ERR)


def test_uc_bad_rkey_is_dropped_silently(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    e = v.enums
    a, _ = nodes
    qa, qb, ma, mb = _uc(v, nodes)
    w = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge(ma, 8)])
    w.set_wr_rdma(mb.rkey ^ 0x7700, mb.buf)
    qa.post_send(w)
    assert poll(a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    assert qp_state(qa) == qp_state(qb) == e.IBV_QPS_RTS
