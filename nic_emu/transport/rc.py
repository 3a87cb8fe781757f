"""Reliable connection, the requester's side: one WQE is request and response in one step.

``exec_rc`` runs the head WQE of an RC send queue: the requester's checks (initiator depth,
reachability, the responder QP, PSNs, local data), then the operation at the responder
(``rc_responder``), then the requester's completion.  A WQE that cannot finish now (RNR, peer
unreachable) stays at the head and is retried at a later tick.  ``rc_write_burst`` is the fused
common case of a run of plain WRITEs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nic_emu.constants import (
    A_REMOTE_WRITE,
    RC,
    RTR,
    RTS,
    S_OK,
    S_RETRY_EXC,
    SQD,
    WC_RDMA_WRITE,
    WR_READ,
    WR_SEND_IMM,
    WR_WRITE,
    WR_WRITE_IMM,
)
from nic_emu.transport.completions import complete_send, fail_send, hold_send, push
from nic_emu.transport.memory import gather
from nic_emu.transport.queues import PSN_MASK, npkts
from nic_emu.transport.rc_responder import Done, read_or_atomic, send, write

if TYPE_CHECKING:
    from nic_emu.fabric import Machine
    from nic_emu.transport.queues import QueuePair, Wqe


def responder(qp: QueuePair, m: Machine, peer_m: Machine) -> QueuePair | None:
    """The connected RC QP that answers ``qp``, or None: the responder drops packets for a
    missing QP, one not ready to receive, or one whose address vector names another source
    (rxe check_addr); the requester then times out."""
    peer = peer_m.qps.get(qp.dest_qp_num)
    if (
        peer is None
        or peer.qp_type != RC
        or peer.state not in (RTR, RTS, SQD)
        or peer.peer is not m
    ):
        return None
    return peer


def retry(qp: QueuePair, now: int) -> bool:
    """No answer from the responder: retransmit after a timeout, up to retry_cnt times
    (IB spec 9.7.6.1.4; then IBV_WC_RETRY_EXC_ERR)."""
    qp.tries += 1
    if qp.tries > qp.retry_cnt:
        fail_send(qp, S_RETRY_EXC)
        return True
    qp.retry_at = now + 1
    return False


def exec_rc(qp: QueuePair, wqe: Wqe, now: int) -> bool:
    """Run the head WQE; True when it ended (completed or failed), False when it waits."""
    _, op, _, sges, length, raddr, rkey, imm, compare_add, swap, inline, _ = wqe
    m = qp.machine
    peer_m = qp.peer
    fabric = qp.fabric
    assert peer_m is not None  # RTS implies RTR implies an address vector
    # Requester side: READ and atomics need initiator depth (max_rd_atomic).  rxe stalls the
    # queue without a completion when it is 0 (softroce-facts: "it stalls with no completion").
    if op >= WR_READ and qp.max_rd_atomic < 1:
        qp.retry_at = now + 1
        return False
    # Requester local data for SEND and WRITE: gathered to build the packet, so a local error
    # ends the WQE whether the peer answers or not (rxe_req.c; trace oracle, seed 469).
    data: memoryview | bytes | int = b""
    if op <= WR_SEND_IMM:
        data = inline if inline is not None else gather(m, qp.pd, sges)
        if type(data) is int:
            fail_send(qp, data)
            return True
    if peer_m.wire is not None:  # the peer runs in another process (nic_emu.procwire)
        return bool(peer_m.wire.send_rc(qp, wqe, data, now))  # type: ignore[arg-type]  # not int
    if not fabric.reachable(m, peer_m):
        return retry(qp, now)
    peer = responder(qp, m, peer_m)
    if peer is None:
        return retry(qp, now)
    # PSN check (IB spec 9.7.5.1.1).  A PSN ahead of the expected one is a sequence error NAK
    # (the requester retries, then gives up); one behind it is a duplicate, which the responder
    # acknowledges without executing again (9.7.5.1.2).
    n = npkts(length, qp.mtu)
    diff = (qp.sq_psn - peer.rq_psn) & PSN_MASK
    if diff and diff < 0x800000:
        return retry(qp, now)
    if diff:  # a duplicate
        qp.sq_psn = (qp.sq_psn + n) & PSN_MASK
        qp.bytes_sent += length
        complete_send(qp, S_OK, length)
        return True
    # Relaxed placement (issue 8): the data of this message lands chunk by chunk at later ticks.
    model = fabric.placement_of(peer_m if op <= WR_SEND_IMM else m) if fabric.relaxed else None
    if model is not None and not model.relaxed:
        model = None
    done: Done | bool
    if op <= WR_WRITE_IMM:
        done = write(qp, peer, op, length, raddr, rkey, imm, data, model, now)  # type: ignore[arg-type]  # not int
    elif op <= WR_SEND_IMM:
        done = send(qp, peer, op, length, imm, data, model, now)  # type: ignore[arg-type]  # not int
    else:
        done = read_or_atomic(qp, peer, op, length, sges, raddr, rkey, compare_add, swap, model)
    if type(done) is bool:
        return done
    landing, release_at, moved = done
    if fabric.pcap is not None and op <= WR_SEND_IMM:
        fabric.pcap.message(m.ipv4, peer_m.ipv4, src_qpn=qp.qp_num, dest_qp=peer.qp_num,
                            psn=qp.sq_psn, write=op <= WR_WRITE_IMM, data=bytes(data),
                            raddr=raddr, rkey=rkey,
                            imm=imm if op in (WR_WRITE_IMM, WR_SEND_IMM) else None, mtu=qp.mtu)
    if moved != length:  # an atomic moves 8 bytes, whatever the local buffer's length
        length, n = moved, npkts(moved, qp.mtu)
    qp.sq_psn = (qp.sq_psn + n) & PSN_MASK
    peer.rq_psn = (peer.rq_psn + n) & PSN_MASK
    qp.bytes_sent += length
    peer.bytes_received += length
    if landing is None:
        complete_send(qp, S_OK, length)
    else:
        hold_send(qp, length, landing, release_at)
    return True


def rc_write_burst(qp: QueuePair) -> None:
    """The common case of ``exec_rc`` for a run of plain RDMA WRITEs, with everything looked up
    once: healthy path, peer ready, keys and bounds valid, PSNs in step.  It stops at the first
    WQE that is anything else and leaves it to the general path (which also reports errors).
    Same effects as ``exec_rc`` and ``place``; a placement model turns it off (``Fabric.fast``).
    """
    sq = qp.sq
    if not sq:
        return
    _, op, _, _, _, _, _, _, _, _, _, _ = sq[0]
    if op != WR_WRITE or qp.fabric.pcap is not None:  # nothing to fuse, or a capture: exec_rc
        return
    m = qp.machine
    peer_m = qp.peer
    if peer_m is None or not (qp.fabric.healthy or qp.fabric.reachable(m, peer_m)):
        return
    peer = responder(qp, m, peer_m)
    if peer is None or not peer.access & A_REMOTE_WRITE:
        return
    psn = qp.sq_psn
    if psn != peer.rq_psn:
        return
    lmrs, rmrs = m.mrs, peer_m.mrs
    pd, ppd = qp.pd, peer.pd
    mtu = qp.mtu
    scq, qpn = qp.scq, qp.qp_num
    nbytes = done = 0
    # The last keys looked up, and their regions' bounds and memory (a run of WRITEs mostly
    # reuses both, so each is looked up and checked once per key).
    lkey0 = rkey0 = -1
    lbase = lend = labase = rbase = rend = rabase = 0
    lview = rview = memoryview(b"")
    while sq:
        # Unpacked once (named, and cheaper than one attribute read per field).
        wr_id, op, signaled, sges, length, raddr, rkey, _, _, _, inline, _ = sq[0]
        if op != WR_WRITE or inline is not None or len(sges) != 1:
            break
        addr, length, lkey = sges[0]
        if length:
            if lkey != lkey0:
                lmr = lmrs.get(lkey)
                if lmr is None or lmr.pd is not pd:
                    break
                lkey0, lbase, lend, labase, lview = lkey, lmr.base, lmr.end, lmr.abase, lmr.view
            if rkey != rkey0:
                rmr = rmrs.get(rkey)
                if rmr is None or rmr.pd is not ppd or not rmr.access & A_REMOTE_WRITE:
                    break
                rkey0, rbase, rend, rabase, rview = rkey, rmr.base, rmr.end, rmr.abase, rmr.view
            if addr < lbase or addr + length > lend or raddr < rbase or raddr + length > rend:
                break
            o, so = raddr - rabase, addr - labase
            rview[o : o + length] = lview[so : so + length]
        sq.popleft()
        done += 1
        psn = (psn + (1 if length <= mtu else (length + mtu - 1) // mtu)) & PSN_MASK
        nbytes += length
        if signaled:
            qp.sq_psn = peer.rq_psn = psn  # as each WQE completes (a CQ overrun may flush)
            push(scq, (wr_id, S_OK, WC_RDMA_WRITE, 0, length, qpn, 0, 0, 0), qp)
    if done:
        qp.sq_psn = peer.rq_psn = psn
        qp.tries = qp.rnr_tries = 0
    qp.bytes_sent += nbytes
    peer.bytes_received += nbytes
