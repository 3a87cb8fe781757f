"""RC semantics: data movement, completions, limits and the error flows, as real verbs do them."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.nic_emu.helpers import Node, connect_pair, make_qp, poll, qp_state, sge


@dataclass
class Pair:
    v: ModuleType
    a: Node
    b: Node
    qa: Any
    qb: Any
    ma: Any
    mb: Any

    def wr(self, opcode: int, *, wr_id: int = 1, length: int = 8, offset: int = 0,
           roffset: int = 0, rkey: int | None = None, flags: int | None = None,
           imm: int = 0) -> Any:
        e = self.v.enums
        w = self.v.wr.SendWR(
            wr_id=wr_id, opcode=opcode, num_sge=1, sg=[sge(self.ma, length, offset)],
            imm_data=imm, send_flags=e.IBV_SEND_SIGNALED if flags is None else flags,
        )
        w.set_wr_rdma(self.mb.rkey if rkey is None else rkey, self.mb.buf + roffset)
        return w

    def recv(self, wr_id: int = 100, length: int = 256, offset: int = 0) -> None:
        self.qb.post_recv(self.v.wr.RecvWR(wr_id=wr_id, num_sge=1,
                                           sg=[sge(self.mb, length, offset)]))


def make_pair(v: ModuleType, nodes: tuple[Node, Node], **kw: Any) -> Pair:
    a, b = nodes
    e = v.enums
    qp_kw = {k: kw.pop(k) for k in list(kw) if k.startswith("max_") and k not in
             ("max_rd_atomic", "max_dest_rd_atomic")}
    qa = make_qp(a, e.IBV_QPT_RC, **qp_kw)
    qb = make_qp(b, e.IBV_QPT_RC, **qp_kw)
    connect_pair(a, qa, b, qb, **kw)
    return Pair(v, a, b, qa, qb, a.mr(4096), b.mr(4096))


@pytest.fixture
def p(v: ModuleType, nodes: tuple[Node, Node]) -> Pair:
    return make_pair(v, nodes)


def test_write_lands_in_remote_memory_without_remote_completion(p: Pair) -> None:
    e = p.v.enums
    p.ma.write(b"0123456789abcdef", 16, 0)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, length=16, roffset=64, wr_id=7))
    (wc,) = poll(p.a.scq, 1)
    assert (wc.status, wc.opcode, wc.wr_id, wc.qp_num) == (
        e.IBV_WC_SUCCESS, e.IBV_WC_RDMA_WRITE, 7, p.qa.qp_num)
    assert p.mb.read(16, 64) == b"0123456789abcdef"
    assert p.b.rcq.poll(1) == (0, [])


def test_write_with_imm_consumes_a_recv(p: Pair) -> None:
    e = p.v.enums
    p.ma.write(b"payload!", 8, 0)
    p.recv(wr_id=42)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE_WITH_IMM, length=8, roffset=8, imm=0x1234))
    (wc,) = poll(p.b.rcq, 1)
    assert wc.status == e.IBV_WC_SUCCESS
    assert wc.opcode == e.IBV_WC_RECV_RDMA_WITH_IMM
    # src_qp is 0: rxe fills it only from a DETH, which only UD packets carry
    assert (wc.wr_id, wc.byte_len, wc.imm_data, wc.src_qp) == (42, 8, 0x1234, 0)
    assert wc.wc_flags & e.IBV_WC_WITH_IMM
    assert p.mb.read(8, 8) == b"payload!"
    assert poll(p.a.scq, 1)[0].status == e.IBV_WC_SUCCESS


def test_send_with_imm_scatters_into_recv_sges(p: Pair) -> None:
    e = p.v.enums
    v = p.v
    p.ma.write(bytes(range(24)), 24, 0)
    sg = [sge(p.mb, 10, 0), sge(p.mb, 100, 1000)]
    p.qb.post_recv(v.wr.RecvWR(wr_id=5, num_sge=2, sg=sg))
    p.qa.post_send(p.wr(e.IBV_WR_SEND_WITH_IMM, length=24, imm=9))
    (wc,) = poll(p.b.rcq, 1)
    assert (wc.status, wc.opcode, wc.byte_len, wc.imm_data) == (
        e.IBV_WC_SUCCESS, e.IBV_WC_RECV, 24, 9)
    assert p.mb.read(10, 0) + p.mb.read(14, 1000) == bytes(range(24))
    assert poll(p.a.scq, 1)[0].opcode == e.IBV_WC_SEND


def test_read_reads_remote_memory(p: Pair) -> None:
    e = p.v.enums
    p.mb.write(b"remote-bytes", 12, 300)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_READ, length=12, offset=40, roffset=300))
    (wc,) = poll(p.a.scq, 1)
    assert (wc.status, wc.opcode, wc.byte_len) == (e.IBV_WC_SUCCESS, e.IBV_WC_RDMA_READ, 12)
    assert p.ma.read(12, 40) == b"remote-bytes"


def test_atomics(p: Pair) -> None:
    e, v = p.v.enums, p.v
    p.mb.write((5).to_bytes(8, "little"), 8, 64)
    faa = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_ATOMIC_FETCH_AND_ADD, num_sge=1,
                      sg=[sge(p.ma, 8, 0)])
    faa.set_wr_atomic(p.mb.rkey, p.mb.buf + 64, 10)
    cas = v.wr.SendWR(wr_id=2, opcode=e.IBV_WR_ATOMIC_CMP_AND_SWP, num_sge=1,
                      sg=[sge(p.ma, 8, 8)])
    cas.set_wr_atomic(p.mb.rkey, p.mb.buf + 64, 15, 99)
    p.qa.post_send(faa)
    p.qa.post_send(cas)
    w1, w2 = poll(p.a.scq, 2)
    assert (w1.opcode, w2.opcode) == (e.IBV_WC_FETCH_ADD, e.IBV_WC_COMP_SWAP)
    assert w1.status == w2.status == e.IBV_WC_SUCCESS
    assert int.from_bytes(p.ma.read(8, 0), "little") == 5
    assert int.from_bytes(p.ma.read(8, 8), "little") == 15
    assert int.from_bytes(p.mb.read(8, 64), "little") == 99


def test_unaligned_atomic_is_refused_at_post(p: Pair) -> None:
    e, v = p.v.enums, p.v
    faa = v.wr.SendWR(opcode=e.IBV_WR_ATOMIC_FETCH_AND_ADD, num_sge=1, sg=[sge(p.ma, 8)])
    faa.set_wr_atomic(p.mb.rkey, p.mb.buf + 4, 1)
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        p.qa.post_send(faa)
    assert ei.value.error_code == errno.EINVAL


def test_unsignaled_writes_complete_only_through_the_signaled_one(p: Pair) -> None:
    e = p.v.enums
    for i in range(5):
        p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=i, flags=0))
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=5))
    wcs = poll(p.a.scq, 6, max_polls=50)
    assert [w.wr_id for w in wcs] == [5]


def test_signaled_completions_come_in_post_order(p: Pair) -> None:
    e = p.v.enums
    ops = [e.IBV_WR_RDMA_WRITE, e.IBV_WR_RDMA_READ, e.IBV_WR_RDMA_WRITE, e.IBV_WR_RDMA_READ]
    for i, op in enumerate(ops):
        p.qa.post_send(p.wr(op, wr_id=i, offset=8 * i, roffset=8 * i))
    assert [w.wr_id for w in poll(p.a.scq, 4)] == [0, 1, 2, 3]


def test_inline_data_is_taken_at_post_time(p: Pair) -> None:
    e = p.v.enums
    p.ma.write(b"inline!!", 8, 0)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, length=8,
                        flags=e.IBV_SEND_SIGNALED | e.IBV_SEND_INLINE))
    p.ma.write(b"changed!", 8, 0)  # allowed with INLINE: the bytes were copied at post
    assert poll(p.a.scq, 1)[0].status == e.IBV_WC_SUCCESS
    assert p.mb.read(8, 0) == b"inline!!"


def test_limits_are_enforced_at_post(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    p = make_pair(v, nodes, max_send_wr=2, max_send_sge=1, max_inline_data=16,
                  max_recv_wr=1)
    e = v.enums
    err = v.pyverbs_error.PyverbsRDMAError
    too_inline = p.wr(e.IBV_WR_RDMA_WRITE, length=32, flags=e.IBV_SEND_INLINE)
    with pytest.raises(err) as ei:
        p.qa.post_send(too_inline)
    assert ei.value.error_code == errno.EINVAL
    two_sge = v.wr.SendWR(opcode=e.IBV_WR_RDMA_WRITE, num_sge=2,
                          sg=[sge(p.ma, 4, 0), sge(p.ma, 4, 8)])
    with pytest.raises(err) as ei:
        p.qa.post_send(two_sge)
    assert ei.value.error_code == errno.EINVAL
    p.recv(1)
    with pytest.raises(err) as ei:
        p.recv(2)
    assert ei.value.error_code == errno.ENOMEM
    # A full send queue: ENOMEM.  max_send_wr=2 holds 3 WRs (rxe rounds it up to 2^k - 1).
    # (Posting three without polling is enough on the emulator, which runs nothing before a
    # poll; real NICs may have finished the first ones already.)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, flags=0))
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, flags=0))
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE))
    from tests.nic_emu.conftest import EMULATED

    if EMULATED:
        with pytest.raises(err) as ei:
            p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE))
        assert ei.value.error_code == errno.ENOMEM
    assert len(poll(p.a.scq, 1)) == 1


def test_post_send_before_rts_is_einval(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    e = v.enums
    qp = make_qp(a, e.IBV_QPT_RC)
    mr = a.mr(64)
    w = v.wr.SendWR(opcode=e.IBV_WR_SEND, num_sge=1, sg=[sge(mr, 8)])
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        qp.post_send(w)
    assert ei.value.error_code == errno.EINVAL
    with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
        qp.post_recv(v.wr.RecvWR(num_sge=1, sg=[sge(mr, 8)]))
    assert ei.value.error_code == errno.EINVAL


def _assert_error_then_flush(p: Pair, status: int) -> None:
    e = p.v.enums
    w1, w2 = poll(p.a.scq, 2)
    assert (w1.wr_id, w1.status) == (1, status)
    assert (w2.wr_id, w2.status) == (2, e.IBV_WC_WR_FLUSH_ERR)
    assert qp_state(p.qa) == e.IBV_QPS_ERR


@pytest.mark.parametrize("case", ["bad_rkey", "out_of_bounds", "no_remote_write"])
def test_remote_access_error(v: ModuleType, nodes: tuple[Node, Node], case: str) -> None:
    p = make_pair(v, nodes)
    e = v.enums
    if case == "no_remote_write":
        p.mb = p.b.mr(4096, e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_READ)
    w = p.wr(e.IBV_WR_RDMA_WRITE, wr_id=1, flags=0,  # unsignaled, yet it completes: an error
             rkey=p.mb.rkey ^ 0x5A00 if case == "bad_rkey" else None,
             roffset=4090 if case == "out_of_bounds" else 0)
    p.qa.post_send(w)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=2, flags=0))
    _assert_error_then_flush(p, e.IBV_WC_REM_ACCESS_ERR)


def test_read_without_qp_remote_read_is_invalid_request(
    v: ModuleType, nodes: tuple[Node, Node]
) -> None:
    e = v.enums
    p = make_pair(v, nodes, access=e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_READ, wr_id=1))
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_READ, wr_id=2))
    _assert_error_then_flush(p, e.IBV_WC_REM_INV_REQ_ERR)


def test_atomic_on_mr_without_remote_atomic(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    p = make_pair(v, nodes)
    e = v.enums
    mb = p.b.mr(64, e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE)
    faa = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_ATOMIC_FETCH_AND_ADD, num_sge=1,
                      sg=[sge(p.ma, 8)])
    faa.set_wr_atomic(mb.rkey, mb.buf, 1)
    p.qa.post_send(faa)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=2))
    _assert_error_then_flush(p, e.IBV_WC_REM_ACCESS_ERR)


@pytest.mark.parametrize("op", ["write", "read", "outside_mr"])
def test_bad_lkey(p: Pair, op: str) -> None:
    e, v = p.v.enums, p.v
    opcode = e.IBV_WR_RDMA_READ if op == "read" else e.IBV_WR_RDMA_WRITE
    s = (v.wr.SGE(p.ma.buf + 4090, 16, p.ma.lkey) if op == "outside_mr"
         else v.wr.SGE(p.ma.buf, 8, p.ma.lkey ^ 0x300))
    w = v.wr.SendWR(wr_id=1, opcode=opcode, num_sge=1, sg=[s])
    w.set_wr_rdma(p.mb.rkey, p.mb.buf)
    p.qa.post_send(w)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=2))
    # rxe 6.1: the requester reads a WRITE's buffer (rxe_req.c: copy_data's -EINVAL for an
    # unknown lkey is LOC_QP_OP_ERR); the completer writes a READ's (rxe_comp.c do_read: any
    # copy_data error is LOC_PROT_ERR); a WRITE from outside the MR fails mr_check_range
    # (-EFAULT: LOC_PROT_ERR)
    want = e.IBV_WC_LOC_QP_OP_ERR if op == "write" else e.IBV_WC_LOC_PROT_ERR
    _assert_error_then_flush(p, want)


def test_recv_too_short(p: Pair) -> None:
    e = p.v.enums
    p.recv(wr_id=50, length=4)
    p.recv(wr_id=51, length=64)
    p.qa.post_send(p.wr(e.IBV_WR_SEND, wr_id=1, length=16))
    p.qa.post_send(p.wr(e.IBV_WR_SEND, wr_id=2, length=16))
    # rxe 6.1, not the IB spec's LOC_LEN_ERR / REM_INV_REQ_ERR: the requester sees REM_OP_ERR ...
    _assert_error_then_flush(p, e.IBV_WC_REM_OP_ERR)
    r1, r2 = poll(p.b.rcq, 2)
    # ... and the responder LOC_QP_OP_ERR (send_data_in: RESPST_ERR_MALFORMED_WQE)
    assert (r1.wr_id, r1.status) == (50, e.IBV_WC_LOC_QP_OP_ERR)
    assert (r2.wr_id, r2.status) == (51, e.IBV_WC_WR_FLUSH_ERR)
    assert qp_state(p.qb) == e.IBV_QPS_ERR


def test_qp_state_attribute_is_the_cached_state(p: Pair) -> None:
    """pyverbs' ``QP.qp_state`` returns libibverbs' ``ibv_qp.state``, which only a successful
    ibv_modify_qp or ibv_query_qp with IBV_QP_STATE in the mask sets: after an error moved the QP
    to ERR it still says RTS; ``query`` says ERR and refreshes it."""
    e, v = p.v.enums, p.v
    w = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1,
                    sg=[v.wr.SGE(p.ma.buf, 8, p.ma.lkey)])
    w.set_wr_rdma(p.mb.rkey ^ 0x5A00, p.mb.buf)
    p.qa.post_send(w)
    assert poll(p.a.scq, 1)[0].status == e.IBV_WC_REM_ACCESS_ERR
    assert p.qa.qp_state == p.qb.qp_state == e.IBV_QPS_RTS  # cached: the last modify
    p.qa.query(e.IBV_QP_PORT)  # a query without IBV_QP_STATE leaves the cache alone
    assert p.qa.qp_state == e.IBV_QPS_RTS
    attr, _ = p.qa.query(e.IBV_QP_STATE)
    assert attr.qp_state == p.qa.qp_state == e.IBV_QPS_ERR
    p.qb.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_ERR), e.IBV_QP_STATE)
    assert p.qb.qp_state == e.IBV_QPS_ERR


def test_send_without_recv_is_rnr_retry_exceeded(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    p = make_pair(v, nodes, rnr_retry=1)
    e = v.enums
    p.qa.post_send(p.wr(e.IBV_WR_SEND, wr_id=1))
    p.qa.post_send(p.wr(e.IBV_WR_SEND, wr_id=2))
    _assert_error_then_flush(p, e.IBV_WC_RNR_RETRY_EXC_ERR)
    assert qp_state(p.qb) == e.IBV_QPS_RTS  # the responder is not hurt by an RNR


def test_posting_in_err_flushes(p: Pair) -> None:
    e, v = p.v.enums, p.v
    attr = v.qp.QPAttr(qp_state=e.IBV_QPS_ERR)
    p.qb.post_recv(v.wr.RecvWR(wr_id=77, num_sge=1, sg=[sge(p.mb, 8)]))
    p.qb.modify(attr, e.IBV_QP_STATE)
    assert [(w.wr_id, w.status) for w in poll(p.b.rcq, 1)] == [(77, e.IBV_WC_WR_FLUSH_ERR)]
    p.qa.modify(attr, e.IBV_QP_STATE)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=3, flags=0))
    assert [(w.wr_id, w.status) for w in poll(p.a.scq, 1)] == [(3, e.IBV_WC_WR_FLUSH_ERR)]


def test_write_to_a_peer_in_error_times_out(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    p = make_pair(v, nodes, retry_cnt=1, timeout=1)
    e = v.enums
    p.qb.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_ERR), e.IBV_QP_STATE)
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=1))
    p.qa.post_send(p.wr(e.IBV_WR_RDMA_WRITE, wr_id=2))
    _assert_error_then_flush(p, e.IBV_WC_RETRY_EXC_ERR)


def test_modify_table_refuses_illegal_transitions(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    e = v.enums
    qp = make_qp(a, e.IBV_QPT_RC)
    err = v.pyverbs_error.PyverbsRDMAError
    with pytest.raises(err) as ei:  # RESET -> RTS
        qp.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_RTS), e.IBV_QP_STATE)
    assert ei.value.error_code == errno.EINVAL
    with pytest.raises(err) as ei:  # RESET -> INIT without the required attributes
        qp.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_INIT), e.IBV_QP_STATE)
    assert ei.value.error_code == errno.EINVAL
    attr = v.qp.QPAttr()
    attr.qp_access_flags = e.IBV_ACCESS_LOCAL_WRITE
    qp.to_init(attr)
    assert qp.qp_state == e.IBV_QPS_INIT
    with pytest.raises(err):  # INIT -> RTR without an address vector
        qp.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_RTR),
                  e.IBV_QP_STATE | e.IBV_QP_PATH_MTU | e.IBV_QP_DEST_QPN)
    qp.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_RESET), e.IBV_QP_STATE)
    assert qp.qp_state == e.IBV_QPS_RESET


def test_mr_with_remote_write_needs_local_write(v: ModuleType, nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    e = v.enums
    for access in (e.IBV_ACCESS_REMOTE_WRITE, e.IBV_ACCESS_REMOTE_ATOMIC):
        with pytest.raises(v.pyverbs_error.PyverbsRDMAError) as ei:
            v.mr.MR(a.pd, 64, access)
        assert ei.value.error_code == errno.EINVAL


def test_wr_without_sge_is_a_user_error(v: ModuleType) -> None:
    with pytest.raises(v.pyverbs_error.PyverbsUserError):
        v.wr.RecvWR(wr_id=1)
    with pytest.raises(v.pyverbs_error.PyverbsUserError):
        v.wr.SendWR(wr_id=1)
