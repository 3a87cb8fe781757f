"""Posting work requests: the checks rxe makes at ibv_post_send / ibv_post_recv time.

Each function returns 0 or the errno the verb returns, and on success appends a ``Wqe`` or
``Rqe`` to the QP's queue.  Nothing moves until the fabric progresses (``execute``).  The pyverbs
facade passes a WR's fields in (it never hands its objects to the NIC) and turns the errno into
``PyverbsRDMAError``.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from nic_emu.constants import (
    F_INLINE,
    F_SIGNALED,
    RESET,
    RTS,
    S_FLUSH,
    SQE,
    UD,
    WR_CAS,
    WR_READ,
)
from nic_emu.errors import NicError
from nic_emu.transport.completions import WC_OPCODE, push
from nic_emu.transport.queues import completion

if TYPE_CHECKING:
    from nic_emu.transport.queues import QueuePair, Sge, UdDest, Wqe

#: The send opcodes the NIC carries out (the memory-window ones are the facade's).
KNOWN_OPCODES = frozenset(WC_OPCODE)


def post_send_one(
    qp: QueuePair,
    wr_id: int,
    op: int,
    flags: int,
    sges: tuple[Sge, ...],
    raddr: int,
    rkey: int,
    imm: int,
    compare_add: int,
    swap: int,
    ud: UdDest | None,
) -> int:
    """Checks that rxe makes at ibv_post_send time; 0 or an errno.  ``ud`` is the destination
    of a UD send (None if the WR has no address handle)."""
    state = qp.state
    sq = qp.sq
    if (
        state == RTS
        and 0 <= op <= WR_READ
        and not flags & F_INLINE
        and qp.qp_type != UD
        and len(sges) <= qp.max_send_sge
        and len(sq) < qp.max_send_wr
    ):
        # The common case (a WRITE, SEND or READ on a ready RC/UC QP with room), for which
        # every check below passes: the same WQE, built without them.
        sq.append((
            wr_id, op, bool(qp.sig_all or flags & F_SIGNALED), sges,
            sges[0][1] if len(sges) == 1 else sum(s[1] for s in sges), raddr, rkey, imm,
            compare_add, swap, None, None,
        ))
        qp.send_wrs += 1
        if not qp.scheduled:
            qp.fabric.schedule(qp)
        return 0
    # Linux rxe_post_send: "if (unlikely(qp->req.state < QP_STATE_READY)) return -EINVAL"
    if state < RTS:
        return errno.EINVAL
    n = len(sges)
    if n > qp.max_send_sge:
        return errno.EINVAL
    if op not in KNOWN_OPCODES:
        return errno.EINVAL
    length = sges[0][1] if n == 1 else sum(s[1] for s in sges)
    # rxe validate_send_wr: atomics need 8 bytes of local buffer and an aligned remote address.
    # On UD the remote address shares its union with the address handle's pointer (aligned), so
    # only the length counts there (trace oracle, seed 29).
    if op >= WR_CAS and (length < 8 or (raddr & 7 and qp.qp_type != UD)):
        return errno.EINVAL
    inline: bytes | None = None
    if flags & F_INLINE:
        if length > qp.max_inline:
            return errno.EINVAL
        # ibv_post_send(3): with IBV_SEND_INLINE "the lkey won't be checked"; the bytes are
        # copied now, so the buffer may be reused as soon as the call returns.
        try:
            inline = b"".join(qp.fabric.read_address(a, ln) for a, ln, _ in sges if ln)
        except NicError:
            return errno.EFAULT
        if op >= WR_READ:
            sges = ()  # rxe keeps the inline bytes, not the SGEs: no buffer for the response
    if len(sq) >= qp.max_send_wr:
        return errno.ENOMEM
    if qp.qp_type != UD:
        ud = None
    elif ud is None:
        return errno.EINVAL
    wqe: Wqe = (
        wr_id, op, bool(qp.sig_all or flags & F_SIGNALED), sges, length, raddr, rkey, imm,
        compare_add, swap, inline, ud,
    )
    qp.send_wrs += 1
    if state >= SQE:
        # IB spec 10.3.1: WRs posted in SQE or ERR complete with "flushed" status.
        push(qp.scq, completion(wr_id, S_FLUSH, WC_OPCODE[op], 0, qp.qp_num), qp)
        return 0
    sq.append(wqe)
    if not qp.scheduled and state == RTS:
        qp.fabric.schedule(qp)
    return 0


def post_recv_one(qp: QueuePair, wr_id: int, sges: tuple[Sge, ...]) -> int:
    """Checks that rxe makes at ibv_post_recv time; 0 or an errno."""
    # rxe_post_recv: "see C10-97.2.1": no receives in RESET; and none on a QP with an SRQ
    # (it has no receive queue: "if (!rq || !recv_wr || !rq->queue) return EINVAL").
    if qp.state == RESET or qp.srq is not None:
        return errno.EINVAL
    # rxe_post_one_recv: a full queue first (ENOMEM), then the SGE count (trace oracle, seed 23)
    if len(qp.rq) >= qp.max_recv_wr:
        return errno.ENOMEM
    if len(sges) > qp.max_recv_sge:
        return errno.EINVAL
    qp.recv_wrs += 1
    # In ERR too the receive is queued, not flushed: rxe's user-space post_recv only writes the
    # queue (no doorbell), and the responder task flushes it when it next runs, e.g. on the
    # next modify to ERR (found by the trace oracle, seed 0: no completion on rxe until then).
    qp.rq.append((wr_id, sges, sum(s[1] for s in sges)))
    return 0
