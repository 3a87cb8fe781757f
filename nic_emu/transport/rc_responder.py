"""The responder's side of RC: what a WRITE, SEND, READ or atomic does at the remote QP.

Each operation runs in the same step as the request (``rc.exec_rc``): it checks the responder's
access rights and resources, places or reads the data, and returns what happened, or ends the
requester's WQE itself on a NAK: RNR (no receive posted; the requester retries later) or a
class C error (IB spec 9.9.3.1.3: the requester's WQE fails, both QPs go to ERR).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from nic_emu.constants import (
    A_REMOTE_ATOMIC,
    A_REMOTE_READ,
    A_REMOTE_WRITE,
    ERR,
    S_LOC_QP_OP,
    S_OK,
    S_REM_ACCESS,
    S_REM_INV_REQ,
    S_REM_OP,
    S_RNR_RETRY_EXC,
    WC_GRH,
    WC_RECV,
    WC_RECV_RDMA_WITH_IMM,
    WC_WITH_IMM,
    WR_FAA,
    WR_READ,
    WR_SEND_IMM,
    WR_WRITE_IMM,
)
from nic_emu.transport.completions import fail_recv, fail_send, push, pusher, to_error
from nic_emu.transport.memory import mr_for, place, read, scatter, scatter_targets
from nic_emu.transport.placement import flush_stream, start_landing, writer_release
from nic_emu.transport.queues import PSN_MASK, npkts

if TYPE_CHECKING:
    from nic_emu.fabric import Placement
    from nic_emu.transport.placement import Landing
    from nic_emu.transport.queues import Completion, QueuePair, Sge

_U64 = (1 << 64) - 1
_Q = struct.Struct("<Q")  # rxe performs atomics in host byte order (x86: little-endian)
#: What the responder did: (data still landing or None, chunks before the requester's
#: completion is released, bytes moved).  A bool instead: the WQE ended (True) or waits (False).
Done = tuple["Landing | None", int, int]


def advance_psns(qp: QueuePair, peer: QueuePair, n: int) -> None:
    qp.sq_psn = (qp.sq_psn + n) & PSN_MASK
    peer.rq_psn = (peer.rq_psn + n) & PSN_MASK


def rnr(qp: QueuePair, peer: QueuePair, now: int) -> bool:
    """No receive posted at the responder: RNR NAK.  The requester waits min_rnr_timer and
    retries, rnr_retry times (7 means forever), then IBV_WC_RNR_RETRY_EXC_ERR
    (IB spec 9.7.5.2.8).  ``peer`` is the responder.  (On rxe, with a local ACK timeout as short
    as the RNR delay in jiffies, the retransmit timer may also fire during the wait and end the
    WQE with RETRY_EXC_ERR: a race, not modelled; see nic_emu/README.md.)"""
    qp.rnr_tries += 1
    if qp.rnr_retry != 7 and qp.rnr_tries > qp.rnr_retry:
        fail_send(qp, S_RNR_RETRY_EXC)
        return True
    qp.retry_at = now + 1
    return False


def class_c(qp: QueuePair, peer: QueuePair, req_status: int) -> bool:
    """Responder-detected error on RC (IB spec 9.9.3.1.3, class C): NAK to the requester, whose
    WQE fails with ``req_status``; both QPs go to the error state (rxe: RESPST_ERROR)."""
    fail_send(qp, req_status)
    if peer.state != ERR:
        to_error(peer)
    return True


def write(
    qp: QueuePair, peer: QueuePair, op: int, length: int, raddr: int, rkey: int, imm: int,
    data: memoryview | bytes, model: Placement | None, now: int,
) -> Done | bool:
    """RDMA WRITE (WITH IMMEDIATE consumes a receive at the responder)."""
    rq = peer.rq
    # rxe checks the QP's access (check_op_valid) before it looks for a receive
    # (check_resource): no REMOTE_WRITE is REM_INV_REQ even with no receive (trace oracle, seed 106).
    if not peer.access & A_REMOTE_WRITE:
        return class_c(qp, peer, S_REM_INV_REQ)
    if op == WR_WRITE_IMM and not rq:
        return rnr(qp, peer, now)
    mr = None
    if length:
        mr = mr_for(peer.machine, peer.pd, rkey, raddr, length, A_REMOTE_WRITE)
        if mr is None:
            return class_c(qp, peer, S_REM_ACCESS)
        if model is None:
            place(mr, raddr, data)
    rwc = None
    if op == WR_WRITE_IMM:
        r_id, _, _ = rq.popleft()
        # src_qp 0: no DETH on RC (rxe_resp.c do_complete; measured on rxe)
        rwc = (r_id, S_OK, WC_RECV_RDMA_WITH_IMM, 0, length, peer.qp_num, 0, imm,
               WC_GRH | WC_WITH_IMM)
    if model is None:
        if rwc is not None:
            push(peer.rcq, rwc, peer)
        return None, 0, length
    targets = [] if mr is None else [(mr.view, raddr - mr.abase, length)]
    fabric = qp.fabric
    landing = start_landing(fabric, (peer, 0), model, targets, bytes(data),
                            None if rwc is None else pusher(peer, rwc))
    return landing, writer_release(fabric, model, landing), length


def send(
    qp: QueuePair, peer: QueuePair, op: int, length: int, imm: int, data: memoryview | bytes,
    model: Placement | None, now: int,
) -> Done | bool:
    """SEND (WITH IMMEDIATE): into the responder's next receive."""
    rq = peer.rq
    if not rq:
        return rnr(qp, peer, now)
    r_id, r_sges, capacity = rq.popleft()
    # rxe (Linux 6.1), not the IB spec's 9.9.3.1.3 (local length error / invalid request):
    # rxe_resp.c send_data_in copies with copy_data, which refuses a message longer than the
    # receive buffer with -EINVAL ("if (length > resid)"), as it refuses a bad lkey or a range
    # outside the MR; send_data_in maps every error but -ENOSPC to RESPST_ERR_MALFORMED_WQE:
    # responder LOC_QP_OP_ERR, NAK "remote operational error" (requester REM_OP_ERR), both
    # QPs to ERR.  Measured on rxe for a receive too short (tests/nic_emu test_recv_too_short).
    if model is None:
        st = S_LOC_QP_OP if length > capacity else scatter(peer.machine, peer.pd, r_sges, data)
        tg = None
    else:
        tg = (S_LOC_QP_OP if length > capacity
              else scatter_targets(peer.machine, peer.pd, r_sges, length))
        st = tg if type(tg) is int else S_OK
    if st:
        fail_recv(peer, r_id, S_LOC_QP_OP)
        return class_c(qp, peer, S_REM_OP)
    with_imm = op == WR_SEND_IMM
    # src_qp stays 0 on RC and UC: rxe's do_complete fills it only from a DETH
    # ("if (pkt->mask & RXE_DETH_MASK) uwc->src_qp = deth_sqp(pkt)"), which only UD carries.
    # IBV_WC_GRH on every successful receive completion of a user QP, RC and UC included
    # (rxe_resp.c do_complete: "uwc->wc_flags = IB_WC_GRH"; RoCE always carries the network
    # header, and rxe reports it whatever the QP type).
    rwc: Completion = (r_id, S_OK, WC_RECV, 0, length, peer.qp_num, 0, imm if with_imm else 0,
                       WC_GRH | WC_WITH_IMM if with_imm else WC_GRH)
    if model is None:
        push(peer.rcq, rwc, peer)
        return None, 0, length
    fabric = qp.fabric
    landing = start_landing(fabric, (peer, 0), model, tg, bytes(data),  # type: ignore[arg-type]
                            pusher(peer, rwc))
    return landing, writer_release(fabric, model, landing), length


def read_or_atomic(
    qp: QueuePair, peer: QueuePair, op: int, length: int, sges: tuple[Sge, ...], raddr: int,
    rkey: int, compare_add: int, swap: int, model: Placement | None,
) -> Done | bool:
    """RDMA READ, COMPARE_AND_SWAP, FETCH_AND_ADD: the responder's data comes back into the
    requester's buffers (which need LOCAL_WRITE)."""
    fabric = qp.fabric
    m, peer_m = qp.machine, peer.machine
    # The responder needs the right in qp_access_flags and responder resources (rxe
    # check_op_valid / check_resource: NAK invalid request).
    need = A_REMOTE_READ if op == WR_READ else A_REMOTE_ATOMIC
    if not peer.access & need or peer.max_dest_rd_atomic < 1:
        return class_c(qp, peer, S_REM_INV_REQ)
    if fabric.streams:
        # The responder executes a READ or atomic after the earlier WRITEs of its QP are
        # placed (docs/placement.md, "between messages").
        flush_stream(fabric, (peer, 0))
    landing: Landing | None = None
    release_at = 0
    if op == WR_READ:
        rdata = b""
        if length:
            mr = mr_for(peer_m, peer.pd, rkey, raddr, length, A_REMOTE_READ)
            if mr is None:
                return class_c(qp, peer, S_REM_ACCESS)
            # What memory holds now: under a relaxed model a WRITE still landing there from
            # another QP shows as a mix of old and new chunks.
            rdata = read(mr, raddr, length)
        if model is None:
            st = scatter(m, qp.pd, sges, rdata)
        else:
            tg = scatter_targets(m, qp.pd, sges, len(rdata))
            if type(tg) is int:
                st = tg
            else:
                st = S_OK
                landing = start_landing(fabric, (qp, 1), model, tg, rdata, None)  # type: ignore[arg-type]
                # The requester's own completion: after all of the response data is visible.
                release_at = len(landing.chunks)
    else:
        mr = mr_for(peer_m, peer.pd, rkey, raddr, 8, A_REMOTE_ATOMIC)
        if mr is None:
            return class_c(qp, peer, S_REM_ACCESS)
        o = raddr - mr.abase
        (old,) = _Q.unpack_from(mr.mem, o)
        if op == WR_FAA:
            _Q.pack_into(mr.mem, o, (old + compare_add) & _U64)
        elif old == compare_add:
            _Q.pack_into(mr.mem, o, swap & _U64)
        # The original value returns to the local buffer; without LOCAL_WRITE the WQE
        # fails there, and the remote word has been changed all the same (measured on rxe).
        # rxe copies the 8 bytes through the WQE's SGEs (copy_data) and reports the WQE's whole
        # length as byte_len (make_send_cqe: wqe->dma.length; trace oracle, seed 185).
        st = scatter(m, qp.pd, sges, _Q.pack(old))
    if st:
        advance_psns(qp, peer, npkts(length, qp.mtu))
        fail_send(qp, st)
        return True
    return landing, release_at, length
