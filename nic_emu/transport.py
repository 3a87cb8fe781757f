"""What the emulated NIC does with work requests: posting, execution, delivery, errors.

Rules come from ibv_post_send(3), ibv_post_recv(3), ibv_poll_cq(3), ibv_modify_qp(3), the
InfiniBand spec (vol. 1, ch. 9 "Transport layer", 10.3 "QP states", 11.4 "Work completions") and
what rxe does where the spec leaves room (``/work/shared/softroce-facts.md``); each rule is quoted
or cited next to the code that enforces it.

Shape of the model:

* ``post_send_one`` checks what the provider checks synchronously (returns an errno) and appends
  a ``Wqe`` tuple to the QP's send queue.  Nothing moves until the fabric progresses.
* ``run_send_queue`` executes WQEs in order.  On RC one WQE is request + response in one step:
  the data lands in the responder's memory and the requester's completion is queued.  Under the
  ``whole`` placement model the data lands at once (``place``); under ``ascending`` and ``any``
  it becomes a ``Landing`` placed chunk by chunk at later ticks (``place_chunks``), and the
  completions wait as the IB spec requires (nic_emu/docs/placement.md).  A WQE that
  cannot finish (RNR, peer unreachable) stays at the head and is retried at a later tick.
* On UC and UD the requester completes as soon as the message leaves; delivery happens now or,
  with faults, later (``InFlight``), and a problem at the responder drops the message silently,
  except a receive that cannot take it (too short, bad lkey), which fails with LOC_QP_OP_ERR and
  takes the responder QP to ERR, as on rxe.
* Errors take the QP to ERR (on UC/UD too, as rxe does) and flush: the failing WQE completes with
  its status, every other outstanding WR (send and receive) with WR_FLUSH_ERR, signaled or not.
"""

from __future__ import annotations

import errno
import random
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from nic_emu.pyverbs.cq import WC
from nic_emu.pyverbs.device import MAX_QP_RD_ATOM
from nic_emu.qp_states import check_transition

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric, Machine, Placement
    from nic_emu.pyverbs.cq import CQ
    from nic_emu.pyverbs.mr import MR
    from nic_emu.pyverbs.pd import PD
    from nic_emu.pyverbs.qp import QP, QPAttr
    from nic_emu.pyverbs.wr import RecvWR, SendWR, SgeTuple

# Plain ints on the hot paths (IntEnum members are slower to compare and combine).
RESET, INIT, RTR, RTS, SQD, SQE, ERR = 0, 1, 2, 3, 4, 5, 6
RC, UC, UD = 2, 3, 4
WR_WRITE, WR_WRITE_IMM, WR_SEND, WR_SEND_IMM, WR_READ, WR_CAS, WR_FAA = 0, 1, 2, 3, 4, 5, 6
F_SIGNALED, F_INLINE = 2, 8
A_LOCAL_WRITE, A_REMOTE_WRITE, A_REMOTE_READ, A_REMOTE_ATOMIC = 1, 2, 4, 8
# WC status codes
S_OK, S_LOC_LEN, S_LOC_QP_OP, S_LOC_PROT, S_FLUSH = 0, 1, 2, 4, 5
S_REM_INV_REQ, S_REM_ACCESS, S_REM_OP, S_RETRY_EXC, S_RNR_RETRY_EXC = 9, 10, 11, 12, 13
# WC opcodes and flags
WC_SEND, WC_RDMA_WRITE, WC_RDMA_READ, WC_COMP_SWAP, WC_FETCH_ADD = 0, 1, 2, 3, 4
WC_RECV, WC_RECV_RDMA_WITH_IMM = 128, 129
WC_GRH, WC_WITH_IMM = 1, 2

_WC_OPCODE = {
    WR_WRITE: WC_RDMA_WRITE,
    WR_WRITE_IMM: WC_RDMA_WRITE,
    WR_SEND: WC_SEND,
    WR_SEND_IMM: WC_SEND,
    WR_READ: WC_RDMA_READ,
    WR_CAS: WC_COMP_SWAP,
    WR_FAA: WC_FETCH_ADD,
}
#: Which opcodes each transport carries (IB spec table 37, "transport service types"):
#: READ and atomics only on RC, WRITE not on UD.
_ALLOWED = {
    RC: frozenset(_WC_OPCODE),
    UC: frozenset((WR_WRITE, WR_WRITE_IMM, WR_SEND, WR_SEND_IMM)),
    UD: frozenset((WR_SEND, WR_SEND_IMM)),
}
_KNOWN_OPCODES = frozenset(_WC_OPCODE)
_PSN_MASK = 0xFFFFFF
_U64 = (1 << 64) - 1
_Q = struct.Struct("<Q")  # rxe performs atomics in host byte order (x86: little-endian)
GRH_LEN = 40

#: (wr_id, opcode, signaled, sges, length, remote_addr, rkey, imm, compare_add, swap,
#:  inline data or None, UD destination or None)
Wqe = tuple[
    int, int, bool, "tuple[SgeTuple, ...]", int, int, int, int, int, int, "bytes | None",
    "UdDest | None",
]
#: (dgid, remote qpn, remote qkey, sgid index, hop limit, traffic class)
UdDest = tuple[bytes, int, int, int, int, int]
#: (wr_id, sges, total capacity)
Rqe = tuple[int, "tuple[SgeTuple, ...]", int]


class InFlight:
    """A UC/UD message held back by a fault plan until tick ``at``."""

    __slots__ = ("at", "deliver", "dst", "seq")

    def __init__(self, at: int, seq: int, dst: Machine, deliver: Callable[[], None]) -> None:
        self.at = at
        self.seq = seq
        self.dst = dst
        self.deliver = deliver


# -- completions ----------------------------------------------------------------------------


def _push(cq: CQ, wc: WC, qp: QP) -> None:
    wcs = cq._wcs
    if len(wcs) >= cq.cqe:
        # IB spec 11.4.2.1: a CQ overrun is an affiliated asynchronous error; the completion is
        # lost and the QPs feeding the CQ go to the error state.
        cq.overflowed = True
        cq._machine.cq_overflows += 1
        if qp._state != ERR:
            to_error(qp)
        return
    wcs.append(wc)
    if wc.status:
        qp._c_errors += 1
    qp._c_completions += 1


def _complete_send(qp: QP, wqe: Wqe, status: int, byte_len: int) -> None:
    """Pop the head WQE and complete it (always if it failed, else only if signaled)."""
    qp._sq.popleft()
    qp._tries = qp._rnr_tries = 0
    if status or wqe[2]:
        wc = WC(wqe[0], status, _WC_OPCODE.get(wqe[1], 0), 0, byte_len, qp.qp_num)
        held = qp._fabric._held.get(qp) if qp._fabric._held else None
        if held:
            # RC completions come in posting order: behind a completion still held back.
            held.append((wc, None, 0))
        else:
            _push(qp.scq, wc, qp)


def _fail_send(qp: QP, wqe: Wqe, status: int) -> None:
    """The head WQE failed: complete it with ``status`` and move the QP to ERR.

    RC: IB spec 10.3.1, "Error" state; o10-2.1.2.  UC/UD too, as rxe (Linux 6.1) does it, not
    SQE as the IB spec has it (10.3.1, "SQ Error"): rxe_comp.c, ``COMPST_ERROR``: "do_complete(qp,
    wqe); rxe_qp_error(qp)" for every QP type.  Measured on rxe: a UD SEND with a bad lkey
    completes with LOC_QP_OP_ERR, the next WR is flushed, and the QP queries as ERR.
    """
    if qp._fabric._streams or qp._fabric._held:
        drain_landings(qp._fabric)
    _complete_send(qp, wqe, status, 0)
    to_error(qp)


def _flush_sq(qp: QP) -> None:
    sq = qp._sq
    while sq:
        w = sq.popleft()
        _push(qp.scq, WC(w[0], S_FLUSH, _WC_OPCODE.get(w[1], 0), 0, 0, qp.qp_num), qp)
    qp._tries = qp._rnr_tries = 0


def _flush_rq(qp: QP) -> None:
    rq = qp._rq
    while rq:
        r = rq.popleft()
        _push(qp.rcq, WC(r[0], S_FLUSH, WC_RECV, 0, 0, qp.qp_num), qp)


def to_error(qp: QP) -> None:
    """Move to ERR and flush both queues (ibv_modify_qp(3): "all outstanding WRs are flushed")."""
    if qp._fabric._streams or qp._fabric._held:
        # Data already accepted lands, and its completions come first (a simplification: on
        # hardware, data of a message the responder had not finished may never land).
        drain_landings(qp._fabric)
    qp._state = ERR
    qp._fabric._unschedule(qp)
    _flush_sq(qp)
    _flush_rq(qp)


# -- local memory ---------------------------------------------------------------------------


def _gather(m: Machine, pd: PD, sges: tuple[SgeTuple, ...]) -> memoryview | bytes | int:
    """The bytes the SGEs name, or the requester's status if they cannot be read.

    As rxe (Linux 6.1) does it: the requester copies the payload with ``copy_data``, and
    ``rxe_requester`` turns its error into the WQE's status: "if (err == -EFAULT) wqe->status =
    IB_WC_LOC_PROT_ERR; else wqe->status = IB_WC_LOC_QP_OP_ERR" (rxe_req.c).  An unknown lkey or
    an MR of another PD fails ``lookup_mr`` (-EINVAL: LOC_QP_OP_ERR, measured on rxe with a bad
    lkey); a range outside the MR fails ``mr_check_range`` (-EFAULT: LOC_PROT_ERR)."""
    if len(sges) == 1:
        addr, ln, lkey = sges[0]
        if not ln:
            return b""
        mr = m.mrs.get(lkey)
        if mr is None or mr.pd is not pd:
            return S_LOC_QP_OP
        if addr < mr._base or addr + ln > mr._end:
            return S_LOC_PROT
        o = addr - mr._abase
        return mr._view[o : o + ln]
    parts: list[bytes] = []
    for addr, ln, lkey in sges:
        if not ln:
            continue
        mr = m.mrs.get(lkey)
        if mr is None or mr.pd is not pd:
            return S_LOC_QP_OP
        if addr < mr._base or addr + ln > mr._end:
            return S_LOC_PROT
        o = addr - mr._abase
        parts.append(bytes(mr._view[o : o + ln]))
    return b"".join(parts)


def _scatter(m: Machine, pd: PD, sges: tuple[SgeTuple, ...], data: bytes | memoryview) -> int:
    """Write ``data`` across the SGEs (which need LOCAL_WRITE); a WC status."""
    targets = _scatter_targets(m, pd, sges)
    if type(targets) is int:
        return targets
    pos, n = 0, len(data)
    for mr, o, ln in targets:  # type: ignore[union-attr]
        if pos >= n:
            break
        take = min(ln, n - pos)
        mr._view[o : o + take] = data[pos : pos + take]
        pos += take
    return S_OK


def _scatter_targets(
    m: Machine, pd: PD, sges: tuple[SgeTuple, ...]
) -> list[tuple[MR, int, int]] | int:
    """(MR, offset, length) for each SGE (which need LOCAL_WRITE), or a WC status."""
    targets: list[tuple[MR, int, int]] = []
    for addr, ln, lkey in sges:
        if not ln:
            continue
        mr = _mr_for(m, pd, lkey, addr, ln, A_LOCAL_WRITE)
        if mr is None:
            return S_LOC_PROT
        targets.append((mr, addr - mr._abase, ln))
    return targets


def _remote_mr(
    m: Machine, pd: PD, rkey: int, addr: int, ln: int, need: int
) -> MR | None:
    """The responder's MR for (rkey, addr, len) if the access is allowed (IB spec 9.7.5.1.3,
    o9-?: R_Key valid, in the QP's PD, range inside the region, right access right)."""
    return _mr_for(m, pd, rkey, addr, ln, need)


def _mr_for(m: Machine, pd: PD, key: int, addr: int, ln: int, need: int) -> MR | None:
    """The MR that `key` names on machine `m`, if it is in `pd`, grants `need` and holds
    [addr, addr + ln); else None (the caller picks the WC status: local or remote)."""
    mr = m.mrs.get(key)
    if (
        mr is None
        or mr.pd is not pd
        or not mr._access & need
        or addr < mr._base
        or addr + ln > mr._end
    ):
        return None
    return mr


def place(mr: MR, addr: int, data: bytes | memoryview) -> None:
    """Land an RDMA WRITE's data in the target memory, as one DMA.

    The single placement step: a placement model (chunked, out of order, completion before
    visibility) replaces this function and the point where it is called.
    """
    o = addr - mr._abase
    mr._view[o : o + len(data)] = data


# -- placement models (issue 8; nic_emu/docs/placement.md) ------------------------------------

#: One piece of a chunk: (target memory, offset, bytes).
Piece = tuple[memoryview, int, bytes]


class Landing:
    """The data of one RC message on its way into memory under a relaxed placement model.

    ``chunks`` are the message's chunks (each a list of pieces, more than one when a SEND's chunk
    straddles two receive SGEs); ``left`` the indices not placed yet; ``on_done`` the completion
    at the side that owns the memory (the responder's for WRITE WITH IMMEDIATE and SEND), run
    when this message and every earlier one of its stream are wholly placed.
    """

    __slots__ = ("chunks", "left", "on_done", "placed", "shuffle")

    def __init__(
        self, chunks: list[list[Piece]], shuffle: bool, on_done: Callable[[], None] | None
    ) -> None:
        self.chunks = chunks
        self.left = list(range(len(chunks)))
        self.placed = 0
        self.shuffle = shuffle
        self.on_done = on_done

    def place_one(self, rng: random.Random) -> None:
        left = self.left
        if self.shuffle and len(left) > 1:
            # IB spec: no order of placement within a message (nic_emu/docs/placement.md).
            i = rng.randrange(len(left))
            left[i], left[-1] = left[-1], left[i]
            idx = left.pop()
        else:
            idx = left.pop(0)
        for view, o, b in self.chunks[idx]:
            view[o : o + len(b)] = b
        self.placed += 1


def _chunks(targets: list[tuple[memoryview, int, int]], data: bytes, size: int) -> list[list[Piece]]:
    """Split ``data``, laid over ``targets`` (memory, offset, room), into chunks of ``size``
    bytes of the message, each a list of pieces (several if a chunk straddles targets)."""
    out: list[list[Piece]] = []
    n = len(data)
    pos = 0
    ti, used = 0, 0
    while pos < n:
        end = min(pos + size, n)
        pieces: list[Piece] = []
        while pos < end:
            view, o, room = targets[ti]
            take = min(room - used, end - pos)
            pieces.append((view, o + used, data[pos : pos + take]))
            pos += take
            used += take
            if used == room:
                ti, used = ti + 1, 0
        out.append(pieces)
    return out


def _start_landing(
    fabric: Fabric,
    key: tuple[QP, int],
    model: Placement,
    targets: list[tuple[memoryview, int, int]],
    data: bytes,
    on_done: Callable[[], None] | None,
) -> Landing:
    landing = Landing(_chunks(targets, data, model.chunk), model.model == "any", on_done)
    stream = fabric._streams.get(key)
    if stream is None:
        stream = fabric._streams[key] = deque()
    stream.append(landing)
    fabric._pending = True
    return landing


def _hold_send(qp: QP, wqe: Wqe, byte_len: int, landing: Landing, release_at: int) -> None:
    """Complete the head WQE once ``release_at`` chunks of ``landing`` are placed, in posting
    order with the QP's other completions."""
    qp._sq.popleft()
    qp._tries = qp._rnr_tries = 0
    if wqe[2]:
        fabric = qp._fabric
        held = fabric._held.get(qp)
        if held is None:
            held = fabric._held[qp] = deque()
        held.append((WC(wqe[0], S_OK, _WC_OPCODE[wqe[1]], 0, byte_len, qp.qp_num), landing,
                     release_at))
        _release(fabric, qp)


def _release(fabric: Fabric, qp: QP) -> None:
    held = fabric._held.get(qp)
    while held:
        wc, landing, at = held[0]
        if landing is not None and landing.placed < at:
            return
        held.popleft()
        _push(qp.scq, wc, qp)
    fabric._held.pop(qp, None)


def _fire(stream: deque[Landing]) -> None:
    """Completions at the memory's side, in order: a message completes when it and every earlier
    message of its stream are wholly placed (IB spec o9-20, as cited in docs/placement.md)."""
    while stream and not stream[0].left:
        done = stream.popleft()
        if done.on_done is not None:
            done.on_done()


def place_chunks(fabric: Fabric) -> None:
    """One tick of placement: on each stream a seeded burst of chunks (at least one), then the
    completions that became due."""
    rng = fabric._prng
    streams = fabric._streams
    for key in list(streams):
        stream = streams.get(key)
        if stream is None:
            continue
        burst = fabric.placement_of(key[0]._machine).burst
        while True:
            todo = [ln for ln in stream if ln.left]
            if not todo:
                break
            # ``ascending``: the oldest message first; ``any``: any message of the stream.
            landing = todo[rng.randrange(len(todo))] if todo[0].shuffle else todo[0]
            landing.place_one(rng)
            if rng.random() >= burst:
                break
        _fire(stream)
        if not stream:
            del streams[key]
    for qp in list(fabric._held):
        _release(fabric, qp)


def flush_stream(fabric: Fabric, key: tuple[QP, int]) -> None:
    """Place everything still landing on ``key`` (a READ or atomic at the responder executes
    after earlier WRITEs on its QP are placed: IB spec 9.5 / o9-20, see docs/placement.md)."""
    stream = fabric._streams.pop(key, None)
    if stream:
        for landing in stream:
            while landing.left:
                landing.place_one(fabric._prng)
        _fire(stream)


def drain_landings(fabric: Fabric) -> None:
    """Place everything and release every held completion (before an error flushes a QP)."""
    if fabric._draining:
        return
    fabric._draining = True
    try:
        while fabric._streams:
            flush_stream(fabric, next(iter(fabric._streams)))
        for qp in list(fabric._held):
            held = fabric._held.pop(qp)
            for wc, _, _ in held:
                _push(qp.scq, wc, qp)
    finally:
        fabric._draining = False


# -- posting --------------------------------------------------------------------------------


def post_send_one(qp: QP, wr: SendWR) -> int:
    """Checks that rxe makes at ibv_post_send time; 0 or an errno."""
    state = qp._state
    # Linux rxe_post_send: "if (unlikely(qp->req.state < QP_STATE_READY)) return -EINVAL"
    if state < RTS:
        return errno.EINVAL
    sges = wr._sges
    if len(sges) > qp._max_send_sge:
        return errno.EINVAL
    op = wr.opcode
    if op not in _KNOWN_OPCODES:
        return errno.EINVAL
    length = sges[0][1] if len(sges) == 1 else sum(s[1] for s in sges)
    raddr = wr._remote_addr
    # rxe validate_send_wr: atomics need 8 bytes of local buffer and an aligned remote address.
    if op >= WR_CAS and (length < 8 or raddr & 7):
        return errno.EINVAL
    flags = wr.send_flags
    inline: bytes | None = None
    if flags & F_INLINE:
        if length > qp._max_inline:
            return errno.EINVAL
        # ibv_post_send(3): with IBV_SEND_INLINE "the lkey won't be checked"; the bytes are
        # copied now, so the buffer may be reused as soon as the call returns.
        try:
            inline = b"".join(qp._fabric.read_address(a, ln) for a, ln, _ in sges if ln)
        except Exception:
            return errno.EFAULT
    sq = qp._sq
    if len(sq) >= qp._max_send_wr:
        return errno.ENOMEM
    ud: UdDest | None = None
    if qp.qp_type == UD:
        ah = wr.ah
        if ah is None:
            return errno.EINVAL
        a = ah._attr
        ud = (a.dgid.raw, wr.remote_qpn, wr.remote_qkey, a.sgid_index, a.hop_limit,
              a.traffic_class)
    wqe: Wqe = (
        wr.wr_id, op, bool(qp.sq_sig_all or flags & F_SIGNALED), sges, length, raddr, wr._rkey,
        wr.imm_data, wr._compare_add, wr._swap, inline, ud,
    )
    qp._c_send_wr += 1
    if state >= SQE:
        # IB spec 10.3.1: WRs posted in SQE or ERR complete with "flushed" status.
        _push(qp.scq, WC(wqe[0], S_FLUSH, _WC_OPCODE[op], 0, 0, qp.qp_num), qp)
        return 0
    sq.append(wqe)
    if not qp._scheduled and state == RTS:
        qp._fabric._schedule(qp)
    return 0


def post_recv_one(qp: QP, wr: RecvWR) -> int:
    # rxe_post_recv: "see C10-97.2.1": no receives in RESET.
    if qp._state == RESET:
        return errno.EINVAL
    sges = wr._sges
    if len(sges) > qp._max_recv_sge:
        return errno.EINVAL
    if len(qp._rq) >= qp._max_recv_wr:
        return errno.ENOMEM
    qp._c_recv_wr += 1
    if qp._state == ERR:
        _push(qp.rcq, WC(wr.wr_id, S_FLUSH, WC_RECV, 0, 0, qp.qp_num), qp)
        return 0
    qp._rq.append((wr.wr_id, sges, sum(s[1] for s in sges)))
    return 0


# -- modify ---------------------------------------------------------------------------------

_MASK_FIELDS = {
    1 << 3: "qp_access_flags",
    1 << 4: "pkey_index",
    1 << 5: "port_num",
    1 << 6: "qkey",
    1 << 8: "path_mtu",
    1 << 9: "timeout",
    1 << 10: "retry_cnt",
    1 << 11: "rnr_retry",
    1 << 12: "rq_psn",
    1 << 13: "max_rd_atomic",
    1 << 15: "min_rnr_timer",
    1 << 16: "sq_psn",
    1 << 17: "max_dest_rd_atomic",
    1 << 20: "dest_qp_num",
}
M_STATE, M_CUR_STATE, M_AV = 1, 2, 1 << 7


def modify_qp(qp: QP, attr: QPAttr, mask: int) -> int:
    """ibv_modify_qp: 0 or an errno."""
    if not qp._machine.alive:
        return errno.EIO
    cur = qp._state
    new = int(attr.qp_state) if mask & M_STATE else cur
    if mask & M_CUR_STATE and attr.cur_qp_state != cur:
        return errno.EINVAL
    if check_transition(qp.qp_type, cur, new, mask) is not None:
        return errno.EINVAL
    fabric = qp._fabric
    if mask & (1 << 5) and attr.port_num != 1:
        return errno.EINVAL
    if mask & (1 << 4) and attr.pkey_index != 0:
        return errno.EINVAL
    if mask & (1 << 8) and not 1 <= attr.path_mtu <= 5:
        return errno.EINVAL
    if mask & (1 << 13) and not 0 <= attr.max_rd_atomic <= MAX_QP_RD_ATOM:
        return errno.EINVAL
    if mask & (1 << 17) and not 0 <= attr.max_dest_rd_atomic <= MAX_QP_RD_ATOM:
        return errno.EINVAL
    if mask & (1 << 10) and not 0 <= attr.retry_cnt <= 7:
        return errno.EINVAL
    if mask & (1 << 11) and not 0 <= attr.rnr_retry <= 7:
        return errno.EINVAL
    peer: Machine | None = None
    if mask & M_AV:
        ah = attr._ah_attr
        # RoCE: the address vector must carry a GRH (the GID is the IP address).
        if not ah.is_global or not 0 <= ah.sgid_index < len(qp._machine.gids):
            return errno.EINVAL
        peer = fabric.machine_by_gid(ah.dgid.raw)
        if peer is None:
            # The neighbour (ARP) lookup for the destination never answers.
            return errno.ETIMEDOUT
    # Accepted: apply.
    for bit, name in _MASK_FIELDS.items():
        if mask & bit:
            setattr(qp._attr, name, getattr(attr, name))
    if mask & M_AV:
        qp._attr._ah_attr = attr._ah_attr.copy()
        qp._peer = peer
    if mask & (1 << 3):
        qp._access = int(attr.qp_access_flags)
    if mask & (1 << 6):
        qp._qkey = attr.qkey
    if mask & (1 << 8):
        # The path MTU cannot exceed the port's active MTU.
        qp._mtu = min(128 << attr.path_mtu, fabric.mtu)
    if mask & (1 << 12):
        qp._rq_psn = attr.rq_psn & _PSN_MASK
    if mask & (1 << 16):
        qp._sq_psn = attr.sq_psn & _PSN_MASK
    if mask & (1 << 13):
        qp._max_rd_atomic = attr.max_rd_atomic
    if mask & (1 << 17):
        qp._max_dest_rd_atomic = attr.max_dest_rd_atomic
    if mask & (1 << 10):
        qp._retry_cnt = attr.retry_cnt
    if mask & (1 << 11):
        qp._rnr_retry = attr.rnr_retry
    if qp.qp_type == UD:
        qp._mtu = fabric.mtu
    if new == RESET:
        fabric._unschedule(qp)
        qp._reset_state()
    elif new == ERR:
        if cur != ERR:
            to_error(qp)
    else:
        qp._state = new
        if new == RTS and qp._sq and not qp._scheduled:
            fabric._schedule(qp)
        if new in (RTR, RTS):
            qp._machine.note_connected()
    qp._attr.qp_state = qp._attr.cur_qp_state = qp._state
    if mask & M_STATE:
        # libibverbs' ibv_modify_qp: "if (attr_mask & IBV_QP_STATE) qp->state = attr->qp_state"
        # after the provider accepted the change; pyverbs' ``QP.qp_state`` reads that cache.
        qp.qp_state = new
    return 0


# -- execution ------------------------------------------------------------------------------


def run_send_queue(qp: QP, now: int, limit: int) -> bool:
    """Execute WQEs from the head (at most ``limit``, 0 = all); True to stay scheduled."""
    sq = qp._sq
    done = 0
    qpt = qp.qp_type
    if qpt == RC and not limit and qp._fabric._fast:
        _rc_write_burst(qp)
    while sq:
        if qp._state != RTS:
            # SQD: drained, waits for RTS again (modify_qp reschedules); ERR/SQE: flushed.
            return False
        wqe = sq[0]
        if qpt == RC:
            ok = _exec_rc(qp, wqe, now)
        elif qpt == UC:
            ok = _exec_uc(qp, wqe, now)
        else:
            ok = _exec_ud(qp, wqe, now)
        if not ok:
            return True
        done += 1
        if done == limit:
            break
    return bool(sq) and qp._state == RTS


def _rc_write_burst(qp: QP) -> None:
    """The common case of ``_exec_rc`` for a run of plain RDMA WRITEs, with everything looked up
    once: healthy path, peer ready, keys and bounds valid, PSNs in step.  It stops at the first
    WQE that is anything else and leaves it to the general path (which also reports errors).
    Same effects as ``_exec_rc`` and ``place``; a placement model turns it off (Fabric._fast).
    """
    m = qp._machine
    peer_m = qp._peer
    if peer_m is None or not (qp._fabric._healthy or qp._fabric.reachable(m, peer_m)):
        return
    peer = peer_m.qps.get(qp._attr.dest_qp_num)
    if (
        peer is None
        or peer.qp_type != RC
        or peer._state not in (RTR, RTS, SQD)
        or peer._peer is not m
        or not peer._access & A_REMOTE_WRITE
    ):
        return
    sq = qp._sq
    lmrs, rmrs = m.mrs, peer_m.mrs
    pd, ppd = qp.pd, peer.pd
    mtu = qp._mtu
    scq, qpn = qp.scq, qp.qp_num
    nbytes = done = 0
    while sq:
        w = sq[0]
        if w[1] != WR_WRITE or w[10] is not None or len(w[3]) != 1:
            break
        psn = qp._sq_psn
        if psn != peer._rq_psn:
            break
        addr, length, lkey = w[3][0]
        if length:
            lmr = lmrs.get(lkey)
            if lmr is None or lmr.pd is not pd or addr < lmr._base or addr + length > lmr._end:
                break
            raddr = w[5]
            rmr = rmrs.get(w[6])
            if (
                rmr is None
                or rmr.pd is not ppd
                or not rmr._access & A_REMOTE_WRITE
                or raddr < rmr._base
                or raddr + length > rmr._end
            ):
                break
            o, so = raddr - rmr._abase, addr - lmr._abase
            rmr._view[o : o + length] = lmr._view[so : so + length]
        sq.popleft()
        done += 1
        psn = (psn + (1 if length <= mtu else (length + mtu - 1) // mtu)) & _PSN_MASK
        qp._sq_psn = peer._rq_psn = psn
        nbytes += length
        if w[2]:
            _push(scq, WC(w[0], S_OK, WC_RDMA_WRITE, 0, length, qpn), qp)
    if done:
        qp._tries = qp._rnr_tries = 0
    qp._c_bytes_tx += nbytes
    peer._c_bytes_rx += nbytes


def _npkts(length: int, mtu: int) -> int:
    return (length + mtu - 1) // mtu if length > mtu else 1


def _retry(qp: QP, wqe: Wqe, now: int) -> bool:
    """No answer from the responder: retransmit after a timeout, up to retry_cnt times
    (IB spec 9.7.6.1.4; then IBV_WC_RETRY_EXC_ERR)."""
    qp._tries += 1
    if qp._tries > qp._retry_cnt:
        _fail_send(qp, wqe, S_RETRY_EXC)
        return True
    qp._retry_at = now + 1
    return False


def _class_c(qp: QP, peer: QP, wqe: Wqe, req_status: int) -> bool:
    """Responder-detected error on RC (IB spec 9.9.3.1.3, class C): NAK to the requester, whose
    WQE fails with ``req_status``; both QPs go to the error state (rxe: RESPST_ERROR)."""
    _fail_send(qp, wqe, req_status)
    if peer._state != ERR:
        to_error(peer)
    return True


def _exec_rc(qp: QP, wqe: Wqe, now: int) -> bool:
    op = wqe[1]
    length = wqe[4]
    m = qp._machine
    peer_m = qp._peer
    fabric = qp._fabric
    assert peer_m is not None  # RTS implies RTR implies an address vector
    # Requester side: READ and atomics need initiator depth (max_rd_atomic).  rxe stalls the
    # queue without a completion when it is 0 (softroce-facts: "it stalls with no completion").
    if op >= WR_READ and qp._max_rd_atomic < 1:
        qp._retry_at = now + 1
        return False
    if not fabric.reachable(m, peer_m):
        return _retry(qp, wqe, now)
    peer = peer_m.qps.get(qp._attr.dest_qp_num)
    # The responder drops packets for a missing QP, one not ready to receive, or one whose
    # address vector names another source (rxe check_addr); the requester then times out.
    if (
        peer is None
        or peer.qp_type != RC
        or peer._state not in (RTR, RTS, SQD)
        or peer._peer is not m
    ):
        return _retry(qp, wqe, now)
    # PSN check (IB spec 9.7.5.1.1).  A PSN ahead of the expected one is a sequence error NAK
    # (the requester retries, then gives up); one behind it is a duplicate, which the responder
    # acknowledges without executing again (9.7.5.1.2).
    mtu = qp._mtu
    npkts = _npkts(length, mtu)
    diff = (qp._sq_psn - peer._rq_psn) & _PSN_MASK
    duplicate = False
    if diff:
        if diff < 0x800000:
            return _retry(qp, wqe, now)
        duplicate = True
    # Requester local data for SEND and WRITE.
    data: memoryview | bytes | int = b""
    if op <= WR_SEND_IMM:
        data = wqe[10] if wqe[10] is not None else _gather(m, qp.pd, wqe[3])
        if type(data) is int:
            _fail_send(qp, wqe, data)
            return True
    if duplicate:
        qp._sq_psn = (qp._sq_psn + npkts) & _PSN_MASK
        qp._c_bytes_tx += length
        _complete_send(qp, wqe, S_OK, length)
        return True
    rq = peer._rq
    # Relaxed placement (issue 8): the data of this message lands chunk by chunk at later ticks.
    model = fabric.placement_of(peer_m if op <= WR_SEND_IMM else m) if fabric._relaxed else None
    if model is not None and not model.relaxed:
        model = None
    landing: Landing | None = None
    release_at = 0
    if op in (WR_WRITE, WR_WRITE_IMM):
        if op == WR_WRITE_IMM and not rq:
            return _rnr(qp, wqe, now)
        if not peer._access & A_REMOTE_WRITE:
            return _class_c(qp, peer, wqe, S_REM_INV_REQ)
        mr = None
        if length:
            mr = _remote_mr(peer_m, peer.pd, wqe[6], wqe[5], length, A_REMOTE_WRITE)
            if mr is None:
                return _class_c(qp, peer, wqe, S_REM_ACCESS)
            if model is None:
                place(mr, wqe[5], data)  # type: ignore[arg-type]  # not int: checked above
        rwc = None
        if op == WR_WRITE_IMM:
            r = rq.popleft()
            # src_qp 0: no DETH on RC (rxe_resp.c do_complete; measured on rxe)
            rwc = WC(r[0], S_OK, WC_RECV_RDMA_WITH_IMM, 0, length, peer.qp_num, 0,
                     wqe[7], WC_WITH_IMM)
        if model is not None:
            targets = [] if mr is None else [(mr._view, wqe[5] - mr._abase, length)]
            landing = _start_landing(fabric, (peer, 0), model, targets,
                                     bytes(data),
                                     None if rwc is None else _pusher(peer, rwc))
            release_at = _writer_release(fabric, model, landing)
        elif rwc is not None:
            _push(peer.rcq, rwc, peer)
    elif op in (WR_SEND, WR_SEND_IMM) and model is not None:
        if not rq:
            return _rnr(qp, wqe, now)
        r = rq.popleft()
        tg = S_LOC_QP_OP if length > r[2] else _scatter_targets(peer_m, peer.pd, r[1])
        if type(tg) is int:
            # As below (rxe send_data_in: any copy_data error is RESPST_ERR_MALFORMED_WQE).
            _push(peer.rcq, WC(r[0], S_LOC_QP_OP, WC_RECV, 0, 0, peer.qp_num), peer)
            return _class_c(qp, peer, wqe, S_REM_OP)
        imm = op == WR_SEND_IMM
        rwc = WC(r[0], S_OK, WC_RECV, 0, length, peer.qp_num, 0,
                 wqe[7] if imm else 0, WC_WITH_IMM if imm else 0)
        landing = _start_landing(
            fabric, (peer, 0), model,
            [(t[0]._view, t[1], t[2]) for t in tg],  # type: ignore[union-attr]
            bytes(data), _pusher(peer, rwc))
        release_at = _writer_release(fabric, model, landing)
    elif op in (WR_SEND, WR_SEND_IMM):
        if not rq:
            return _rnr(qp, wqe, now)
        r = rq.popleft()
        # rxe (Linux 6.1), not the IB spec's 9.9.3.1.3 (local length error / invalid request):
        # rxe_resp.c send_data_in copies with copy_data, which refuses a message longer than the
        # receive buffer with -EINVAL ("if (length > resid)"), as it refuses a bad lkey or a range
        # outside the MR; send_data_in maps every error but -ENOSPC to RESPST_ERR_MALFORMED_WQE:
        # responder LOC_QP_OP_ERR, NAK "remote operational error" (requester REM_OP_ERR), both
        # QPs to ERR.  Measured on rxe for a receive too short (tests/nic_emu test_recv_too_short).
        st = S_LOC_QP_OP if length > r[2] else _scatter(peer_m, peer.pd, r[1], data)  # type: ignore[arg-type]
        if st:
            _push(peer.rcq, WC(r[0], S_LOC_QP_OP, WC_RECV, 0, 0, peer.qp_num), peer)
            return _class_c(qp, peer, wqe, S_REM_OP)
        imm = op == WR_SEND_IMM
        # src_qp stays 0 on RC and UC: rxe's do_complete fills it only from a DETH
        # ("if (pkt->mask & RXE_DETH_MASK) uwc->src_qp = deth_sqp(pkt)"), which only UD carries.
        _push(peer.rcq, WC(r[0], S_OK, WC_RECV, 0, length, peer.qp_num, 0,
                           wqe[7] if imm else 0, WC_WITH_IMM if imm else 0), peer)
    else:
        # READ and atomics: the responder needs the right in qp_access_flags and responder
        # resources (rxe check_op_valid / check_resource: NAK invalid request).
        need = A_REMOTE_READ if op == WR_READ else A_REMOTE_ATOMIC
        if not peer._access & need or peer._max_dest_rd_atomic < 1:
            return _class_c(qp, peer, wqe, S_REM_INV_REQ)
        if fabric._streams:
            # The responder executes a READ or atomic after the earlier WRITEs of its QP are
            # placed (docs/placement.md, "between messages").
            flush_stream(fabric, (peer, 0))
        if op == WR_READ and model is not None:
            rdata = b""
            if length:
                mr = _remote_mr(peer_m, peer.pd, wqe[6], wqe[5], length, A_REMOTE_READ)
                if mr is None:
                    return _class_c(qp, peer, wqe, S_REM_ACCESS)
                o = wqe[5] - mr._abase
                # What memory holds now: a WRITE still landing there from another QP shows
                # as a mix of old and new chunks.
                rdata = bytes(mr._view[o : o + length])
            tg = _scatter_targets(m, qp.pd, wqe[3])
            if type(tg) is int:
                st = tg
            else:
                st = S_OK
                landing = _start_landing(
                    fabric, (qp, 1), model,
                    [(t[0]._view, t[1], t[2]) for t in tg],  # type: ignore[union-attr]
                    rdata, None)
                # The requester's own completion: after all of the response data is visible.
                release_at = len(landing.chunks)
        elif op == WR_READ:
            rdata = b""
            if length:
                mr = _remote_mr(peer_m, peer.pd, wqe[6], wqe[5], length, A_REMOTE_READ)
                if mr is None:
                    return _class_c(qp, peer, wqe, S_REM_ACCESS)
                o = wqe[5] - mr._abase
                rdata = bytes(mr._view[o : o + length])
            st = _scatter(m, qp.pd, wqe[3], rdata)
        else:
            mr = _remote_mr(peer_m, peer.pd, wqe[6], wqe[5], 8, A_REMOTE_ATOMIC)
            if mr is None:
                return _class_c(qp, peer, wqe, S_REM_ACCESS)
            o = wqe[5] - mr._abase
            (old,) = _Q.unpack_from(mr._mem, o)
            if op == WR_FAA:
                _Q.pack_into(mr._mem, o, (old + wqe[8]) & _U64)
            elif old == wqe[8]:
                _Q.pack_into(mr._mem, o, wqe[9] & _U64)
            # The original value returns to the local buffer; without LOCAL_WRITE the WQE
            # fails there, and the remote word has been changed all the same (measured on rxe).
            st = _scatter(m, qp.pd, wqe[3][:1], _Q.pack(old))
            length = 8
        npkts = _npkts(length, mtu)
        if st:
            qp._sq_psn = (qp._sq_psn + npkts) & _PSN_MASK
            peer._rq_psn = (peer._rq_psn + npkts) & _PSN_MASK
            _fail_send(qp, wqe, st)
            return True
    qp._sq_psn = (qp._sq_psn + npkts) & _PSN_MASK
    peer._rq_psn = (peer._rq_psn + npkts) & _PSN_MASK
    qp._c_bytes_tx += length
    peer._c_bytes_rx += length
    if landing is None:
        _complete_send(qp, wqe, S_OK, length)
    else:
        _hold_send(qp, wqe, length, landing, release_at)
    return True


def _pusher(qp: QP, wc: WC) -> Callable[[], None]:
    def push() -> None:
        _push(qp.rcq, wc, qp)

    return push


def _writer_release(fabric: Fabric, model: Placement, landing: Landing) -> int:
    """After how many placed chunks the writer's completion is released: with probability
    ``early_completion`` before the last chunk is visible (IB spec 9.7.5.1.6: the ACK means the
    data reached the responder's fault zone, not memory), else after all of it."""
    n = len(landing.chunks)
    rng = fabric._prng
    if n and rng.random() < model.early_completion:
        return rng.randrange(n)
    return n


def _rnr(qp: QP, wqe: Wqe, now: int) -> bool:
    """No receive posted at the responder: RNR NAK.  The requester waits min_rnr_timer and
    retries, rnr_retry times (7 means forever), then IBV_WC_RNR_RETRY_EXC_ERR
    (IB spec 9.7.5.2.8)."""
    qp._rnr_tries += 1
    if qp._rnr_retry != 7 and qp._rnr_tries > qp._rnr_retry:
        _fail_send(qp, wqe, S_RNR_RETRY_EXC)
        return True
    qp._retry_at = now + 1
    return False


def _exec_uc(qp: QP, wqe: Wqe, now: int) -> bool:
    op = wqe[1]
    if op not in _ALLOWED[UC]:
        _fail_send(qp, wqe, S_LOC_QP_OP)
        return True
    m = qp._machine
    data = wqe[10] if wqe[10] is not None else _gather(m, qp.pd, wqe[3])
    if type(data) is int:
        _fail_send(qp, wqe, data)
        return True
    length = wqe[4]
    npkts = _npkts(length, qp._mtu)
    psn = qp._sq_psn
    qp._sq_psn = (psn + npkts) & _PSN_MASK
    qp._c_bytes_tx += length
    # Unreliable: the requester completes once the message is on the wire.
    _complete_send(qp, wqe, S_OK, length)
    peer_m = qp._peer
    assert peer_m is not None
    payload = bytes(data)
    src_qpn = qp.qp_num

    def deliver() -> None:
        _deliver_uc(m, src_qpn, peer_m, qp._attr.dest_qp_num, wqe, payload, psn, npkts)

    _send_unreliable(qp._fabric, m, peer_m, deliver)
    return True


def _deliver_uc(
    src_m: Machine, src_qpn: int, m: Machine, qpn: int, wqe: Wqe, data: bytes, psn: int,
    npkts: int,
) -> None:
    """UC responder: anything wrong drops the message silently (IB spec 9.9.2: UC has no
    responses); a PSN gap just resynchronises on the next first/only packet."""
    peer = m.qps.get(qpn)
    if (
        peer is None
        or peer.qp_type != UC
        or peer._state not in (RTR, RTS, SQD)
        or peer._peer is not src_m
    ):
        m.messages_dropped += 1
        return
    peer._rq_psn = (psn + npkts) & _PSN_MASK
    op, length = wqe[1], len(data)
    rq = peer._rq
    if op in (WR_WRITE, WR_WRITE_IMM):
        if (op == WR_WRITE_IMM and not rq) or not peer._access & A_REMOTE_WRITE:
            m.messages_dropped += 1
            return
        if length:
            mr = _remote_mr(m, peer.pd, wqe[6], wqe[5], length, A_REMOTE_WRITE)
            if mr is None:
                m.messages_dropped += 1
                return
            place(mr, wqe[5], data)
        if op == WR_WRITE_IMM:
            r = rq.popleft()
            # src_qp 0: no DETH on UC either (rxe_resp.c do_complete)
            _push(peer.rcq, WC(r[0], S_OK, WC_RECV_RDMA_WITH_IMM, 0, length, peer.qp_num,
                               0, wqe[7], WC_WITH_IMM), peer)
    else:
        if not rq:
            m.messages_dropped += 1
            return
        r = rq.popleft()
        if length > r[2] or _scatter(m, peer.pd, r[1], data):
            # As on RC (rxe_resp.c send_data_in: RESPST_ERR_MALFORMED_WQE): LOC_QP_OP_ERR, and
            # the responder QP goes to ERR (do_class_ac_error sets goto_error for every QP
            # type).  Measured on rxe: a UC SEND into a receive too short completes it with
            # LOC_QP_OP_ERR and flushes the next receive; the sender sees success.
            _push(peer.rcq, WC(r[0], S_LOC_QP_OP, WC_RECV, 0, 0, peer.qp_num), peer)
            to_error(peer)
            return
        imm = op == WR_SEND_IMM
        _push(peer.rcq, WC(r[0], S_OK, WC_RECV, 0, length, peer.qp_num, 0,
                           wqe[7] if imm else 0, WC_WITH_IMM if imm else 0), peer)
    peer._c_bytes_rx += length


def _exec_ud(qp: QP, wqe: Wqe, now: int) -> bool:
    op = wqe[1]
    if op not in _ALLOWED[UD]:
        # softroce-facts: "RDMA WRITE posted on a UD QP is accepted by rxe and completes with
        # IBV_WC_LOC_QP_OP_ERR".
        _fail_send(qp, wqe, S_LOC_QP_OP)
        return True
    length = wqe[4]
    if length > qp._mtu:
        # A UD message is one packet.  One longer than the port's MTU is not sent, and the send
        # completes successfully: rxe_req.c (Linux 6.1), "C10-93.1.1: If the total sum of all
        # the buffer lengths specified for a UD message exceeds the MTU of the port [...] the
        # CI shall not emit any packets for this message. Further, the CI shall not generate an
        # error due to this condition", then "fake a successful UD send" (one PSN consumed).
        # The check comes before the payload is read, so a bad lkey goes unnoticed.  Measured
        # on rxe (test_ud_message_above_mtu).
        qp._sq_psn = (qp._sq_psn + 1) & _PSN_MASK
        _complete_send(qp, wqe, S_OK, length)
        return True
    m = qp._machine
    data = wqe[10] if wqe[10] is not None else _gather(m, qp.pd, wqe[3])
    if type(data) is int:
        _fail_send(qp, wqe, data)
        return True
    ud = wqe[11]
    assert ud is not None
    qp._sq_psn = (qp._sq_psn + 1) & _PSN_MASK
    qp._c_bytes_tx += length
    _complete_send(qp, wqe, S_OK, length)
    dst = qp._fabric.machine_by_gid(ud[0])
    if dst is None:
        m.messages_dropped += 1
        return True
    payload = bytes(data)
    # IB spec 10.2.5 (Q_Key): a remote qkey with the high bit set means "use the QP's own".
    qkey = qp._qkey if ud[2] & 0x80000000 else ud[2]
    imm = wqe[7] if op == WR_SEND_IMM else None
    grh = _grh(m.gids[ud[3]], ud[0], ud[4], ud[5], length, imm is not None)
    src_qpn = qp.qp_num

    def deliver() -> None:
        _deliver_ud(dst, ud[1], qkey, src_qpn, grh, payload, imm)

    _send_unreliable(qp._fabric, m, dst, deliver)
    return True


def _grh(
    sgid: bytes, dgid: bytes, hop_limit: int, tclass: int, length: int, imm: bool
) -> bytes:
    """The 40 bytes rxe writes in front of a UD receive: for RoCE v2 over IPv4, 20 zero bytes
    then the IPv4 header (softroce-facts, "UD receive")."""
    if sgid[:12] == bytes(10) + b"\xff\xff" and dgid[:12] == bytes(10) + b"\xff\xff":
        total = 20 + 8 + 12 + 8 + (4 if imm else 0) + length + 4  # IP, UDP, BTH, DETH, ImmDt, ICRC
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tclass, total, 0, 0x4000,
                                    hop_limit or 64, 17, 0, sgid[12:], dgid[12:]))
        csum = sum(struct.unpack("!10H", hdr))
        csum = (csum & 0xFFFF) + (csum >> 16)
        csum = (csum & 0xFFFF) + (csum >> 16)
        struct.pack_into("!H", hdr, 10, ~csum & 0xFFFF)
        return bytes(20) + bytes(hdr)
    # IPv6 GIDs: the GRH is the IPv6 header itself.
    return struct.pack("!IHBB16s16s", (6 << 28) | (tclass << 20), length + 28, 17, hop_limit,
                       sgid, dgid)


def _deliver_ud(
    m: Machine, qpn: int, qkey: int, src_qpn: int, grh: bytes, data: bytes, imm: int | None
) -> None:
    """UD responder: no QP, wrong qkey, no receive, all drop silently (IB spec 9.8.3)."""
    peer = m.qps.get(qpn)
    if (
        peer is None
        or peer.qp_type != UD
        or peer._state not in (RTR, RTS, SQD, SQE)
        or peer._qkey != qkey
        or not peer._rq
    ):
        m.messages_dropped += 1
        return
    r = peer._rq.popleft()
    total = GRH_LEN + len(data)
    if total > r[2] or _scatter(m, peer.pd, r[1], grh + data):
        # As on RC and UC (rxe_resp.c send_data_in, for the GRH and then the payload): the
        # receive completes with LOC_QP_OP_ERR (src_qp 0: do_complete fills it only on
        # success) and the responder QP goes to ERR.  Measured on rxe for a receive too short.
        _push(peer.rcq, WC(r[0], S_LOC_QP_OP, WC_RECV, 0, 0, peer.qp_num), peer)
        to_error(peer)
        return
    flags = WC_GRH | (WC_WITH_IMM if imm is not None else 0)
    _push(peer.rcq, WC(r[0], S_OK, WC_RECV, 0, total, peer.qp_num, src_qpn,
                       imm or 0, flags), peer)
    peer._c_bytes_rx += len(data)


def _send_unreliable(
    fabric: Fabric, src: Machine, dst: Machine, deliver: Callable[[], None]
) -> None:
    """Put a UC/UD message on the wire: unreachable or dropped messages vanish; with a fault
    plan, some are held back a few ticks (and so may overtake each other)."""
    if not fabric.reachable(src, dst):
        dst.messages_dropped += 1
        return
    faults = fabric.faults
    if faults.any:
        rng = fabric._rng
        if faults.drop and rng.random() < faults.drop:
            dst.messages_dropped += 1
            return
        at = fabric.now
        if faults.delay and rng.random() < faults.delay:
            at += rng.randint(1, faults.max_delay)
        if at > fabric.now or faults.reorder:
            fabric._seq += 1
            fabric._in_flight.append(InFlight(at + 1 if faults.reorder else at, fabric._seq,
                                              dst, deliver))
            fabric._pending = True
            return
    deliver()


def deliver_due(fabric: Fabric, now: int) -> None:
    due = [f for f in fabric._in_flight if f.at <= now]
    if not due:
        return
    fabric._in_flight = [f for f in fabric._in_flight if f.at > now]
    due.sort(key=lambda f: (f.at, f.seq))
    faults = fabric.faults
    if faults.reorder and len(due) > 1 and fabric._rng.random() < faults.reorder:
        fabric._rng.shuffle(due)
    for f in due:
        if fabric.reachable(f.dst, f.dst):
            f.deliver()
        else:
            f.dst.messages_dropped += 1
