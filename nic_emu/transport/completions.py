"""Completions, errors and flushes: how a WQE ends and how a QP goes to ERR.

``push`` queues one ``Completion`` on a CQ (IB spec 11.4.2.1 for an overrun).  A send WQE ends
with ``complete_send`` (completed if signaled or failed; in posting order behind completions
held back by a placement model), ``hold_send`` (completed once enough of its data is placed) or
``fail_send`` (its status, then the QP to ERR).  ``to_error`` flushes both queues:
ibv_modify_qp(3), "all outstanding WRs are flushed"; every WR completes with WR_FLUSH_ERR,
signaled or not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from nic_emu.constants import (
    ERR,
    S_FLUSH,
    S_OK,
    WC_COMP_SWAP,
    WC_FETCH_ADD,
    WC_RDMA_READ,
    WC_RDMA_WRITE,
    WC_RECV,
    WC_SEND,
    WC_WITH_IMM,
    WR_CAS,
    WR_FAA,
    WR_READ,
    WR_SEND,
    WR_SEND_IMM,
    WR_WRITE,
    WR_WRITE_IMM,
)
from nic_emu.transport.placement import flush_stream
from nic_emu.transport.queues import completion

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric
    from nic_emu.transport.placement import Landing
    from nic_emu.transport.queues import Completion, CompletionQueue, QueuePair

#: The completion opcode of each send opcode.
WC_OPCODE = {
    WR_WRITE: WC_RDMA_WRITE,
    WR_WRITE_IMM: WC_RDMA_WRITE,
    WR_SEND: WC_SEND,
    WR_SEND_IMM: WC_SEND,
    WR_READ: WC_RDMA_READ,
    WR_CAS: WC_COMP_SWAP,
    WR_FAA: WC_FETCH_ADD,
}

#: wc_flags of a successful send completion, by opcode: rxe sets IBV_WC_WITH_IMM on the
#: requester's completion of SEND_WITH_IMM and RDMA_WRITE_WITH_IMM too (rxe_comp.c
#: make_send_cqe: "if (wqe->wr.opcode == IB_WR_RDMA_WRITE_WITH_IMM || wqe->wr.opcode ==
#: IB_WR_SEND_WITH_IMM) uwc->wc_flags = IB_WC_WITH_IMM"; imm_data stays 0 there).
SEND_WC_FLAGS = {WR_SEND_IMM: WC_WITH_IMM, WR_WRITE_IMM: WC_WITH_IMM}


def push(cq: CompletionQueue, c: Completion, qp: QueuePair) -> None:
    """Queue ``c`` on ``cq`` (fed by ``qp``), counting it on the QP.

    A completion in error carries only wr_id, status and qp_num: rxe zeroes the CQE and fills
    the opcode, byte_len, immediate and flags only on success (rxe_comp.c make_send_cqe, rxe_resp.c
    do_complete; found by the trace oracle: a flushed receive reads opcode 0, not IBV_WC_RECV).
    """
    wr_id, status, _, _, _, qp_num, _, _, _ = c
    if status:
        c = (wr_id, status, 0, 0, 0, qp_num, 0, 0, 0)
    entries = cq.entries
    if len(entries) >= cq.depth:
        # IB spec 11.4.2.1: a CQ overrun is an affiliated asynchronous error; the completion is
        # lost and the QPs feeding the CQ go to the error state.
        cq.overflowed = True
        cq.machine.cq_overflows += 1
        if qp.state != ERR:
            to_error(qp)
        return
    entries.append(c)
    if cq.notify is not None:
        cq.notify()
    if status:
        qp.error_completions += 1
    qp.completions += 1


def pusher(qp: QueuePair, c: Completion) -> Callable[[], None]:
    """A receive completion to queue later (when a landing's data is all placed)."""

    def push_it() -> None:
        push(qp.rcq, c, qp)

    return push_it


def complete_send(qp: QueuePair, status: int, byte_len: int) -> None:
    """Pop the head WQE and complete it (always if it failed, else only if signaled)."""
    wr_id, op, signaled, _, _, _, _, _, _, _, _, _ = qp.sq.popleft()
    qp.tries = qp.rnr_tries = 0
    if status or signaled:
        c = (wr_id, status, WC_OPCODE.get(op, 0), 0, byte_len, qp.qp_num, 0, 0,
             0 if status else SEND_WC_FLAGS.get(op, 0))
        fabric = qp.fabric
        held = fabric.held.get(qp) if fabric.held else None
        if held:
            # RC completions come in posting order: behind a completion still held back.
            held.append((c, None, 0))
        else:
            push(qp.scq, c, qp)


def hold_send(qp: QueuePair, byte_len: int, landing: Landing, release_at: int) -> None:
    """Complete the head WQE once ``release_at`` chunks of ``landing`` are placed, in posting
    order with the QP's other completions."""
    wr_id, op, signaled, _, _, _, _, _, _, _, _, _ = qp.sq.popleft()
    qp.tries = qp.rnr_tries = 0
    if signaled:
        fabric = qp.fabric
        held = fabric.held.get(qp)
        if held is None:
            held = fabric.held[qp] = deque()
        held.append((completion(wr_id, S_OK, WC_OPCODE[op], byte_len, qp.qp_num,
                                wc_flags=SEND_WC_FLAGS.get(op, 0)), landing, release_at))
        release(fabric, qp)


def release(fabric: Fabric, qp: QueuePair) -> None:
    """Queue the held completions of ``qp`` whose data is placed far enough, in order."""
    held = fabric.held.get(qp)
    while held:
        c, landing, at = held[0]
        if landing is not None and landing.placed < at:
            return
        held.popleft()
        push(qp.scq, c, qp)
    fabric.held.pop(qp, None)


def release_held(fabric: Fabric) -> None:
    for qp in list(fabric.held):
        release(fabric, qp)


def drain_landings(fabric: Fabric) -> None:
    """Place everything and release every held completion (before an error flushes a QP)."""
    if fabric.draining:
        return
    fabric.draining = True
    try:
        while fabric.streams:
            flush_stream(fabric, next(iter(fabric.streams)))
        for qp in list(fabric.held):
            held = fabric.held.pop(qp)
            for c, _, _ in held:
                push(qp.scq, c, qp)
    finally:
        fabric.draining = False


def fail_send(qp: QueuePair, status: int) -> None:
    """The head WQE failed: complete it with ``status`` and move the QP to ERR.

    RC: IB spec 10.3.1, "Error" state; o10-2.1.2.  UC/UD too, as rxe (Linux 6.1) does it, not
    SQE as the IB spec has it (10.3.1, "SQ Error"): rxe_comp.c, ``COMPST_ERROR``: "do_complete(qp,
    wqe); rxe_qp_error(qp)" for every QP type.  Measured on rxe: a UD SEND with a bad lkey
    completes with LOC_QP_OP_ERR, the next WR is flushed, and the QP queries as ERR.
    """
    fabric = qp.fabric
    if fabric.streams or fabric.held:
        drain_landings(fabric)
    complete_send(qp, status, 0)
    to_error(qp)


def fail_recv(qp: QueuePair, wr_id: int, status: int) -> None:
    """A receive the responder could not fill: it completes with ``status``."""
    push(qp.rcq, completion(wr_id, status, WC_RECV, 0, qp.qp_num), qp)


def flush_sq(qp: QueuePair) -> None:
    sq = qp.sq
    while sq:
        wr_id, op, _, _, _, _, _, _, _, _, _, _ = sq.popleft()
        push(qp.scq, completion(wr_id, S_FLUSH, WC_OPCODE.get(op, 0), 0, qp.qp_num), qp)
    qp.tries = qp.rnr_tries = 0


def flush_rq(qp: QueuePair) -> None:
    if qp.srq is not None:
        return  # an SRQ's WQEs stay for the other QPs (rxe flushes only a QP's own RQ)
    rq = qp.rq
    while rq:
        wr_id, _, _ = rq.popleft()
        push(qp.rcq, completion(wr_id, S_FLUSH, WC_RECV, 0, qp.qp_num), qp)


def to_error(qp: QueuePair) -> None:
    """Move to ERR and flush both queues (ibv_modify_qp(3): "all outstanding WRs are flushed")."""
    fabric = qp.fabric
    if fabric.streams or fabric.held:
        # Data already accepted lands, and its completions come first (a simplification: on
        # hardware, data of a message the responder had not finished may never land).
        drain_landings(fabric)
    qp.state = ERR
    fabric.unschedule(qp)
    flush_sq(qp)
    flush_rq(qp)
