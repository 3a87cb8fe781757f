"""Unreliable connection (UC) and unreliable datagram (UD): send, wire, delivery.

The requester completes as soon as the message leaves; delivery happens now or, with faults,
later (``wire``).  A problem at the responder drops the message silently (IB spec 9.9.2 for
UC, 9.8.3 for UD), except a receive that cannot take it (too short, bad lkey), which fails with
LOC_QP_OP_ERR and takes the responder QP to ERR, as on rxe.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from nic_emu.constants import (
    A_REMOTE_WRITE,
    RTR,
    RTS,
    S_LOC_QP_OP,
    S_OK,
    SQD,
    SQE,
    UC,
    UD,
    WC_GRH,
    WC_RECV,
    WC_RECV_RDMA_WITH_IMM,
    WC_WITH_IMM,
    WR_SEND,
    WR_SEND_IMM,
    WR_WRITE,
    WR_WRITE_IMM,
)
from nic_emu.transport.completions import complete_send, fail_recv, fail_send, push, to_error
from nic_emu.transport.memory import gather, mr_for, place, scatter
from nic_emu.transport.queues import PSN_MASK, completion, npkts
from nic_emu.transport.wire import send_unreliable

if TYPE_CHECKING:
    from nic_emu.fabric import Machine
    from nic_emu.transport.queues import QueuePair, Wqe

GRH_LEN = 40
#: Which opcodes each transport carries (IB spec table 37, "transport service types"):
#: WRITE not on UD (READ and atomics only on RC).
UC_OPCODES = frozenset((WR_WRITE, WR_WRITE_IMM, WR_SEND, WR_SEND_IMM))
UD_OPCODES = frozenset((WR_SEND, WR_SEND_IMM))


def exec_uc(qp: QueuePair, wqe: Wqe, now: int) -> bool:
    _, op, _, sges, length, raddr, rkey, imm, _, _, inline, _ = wqe
    if op not in UC_OPCODES:
        fail_send(qp, S_LOC_QP_OP)
        return True
    m = qp.machine
    data = inline if inline is not None else gather(m, qp.pd, sges)
    if type(data) is int:
        fail_send(qp, data)
        return True
    n = npkts(length, qp.mtu)
    psn = qp.sq_psn
    qp.sq_psn = (psn + n) & PSN_MASK
    qp.bytes_sent += length
    # Unreliable: the requester completes once the message is on the wire.
    complete_send(qp, S_OK, length)
    peer_m = qp.peer
    assert peer_m is not None
    payload = bytes(data)

    def deliver() -> None:
        _deliver_uc(m, peer_m, qp.dest_qp_num, op, raddr, rkey, imm, payload, psn, n)

    send_unreliable(qp.fabric, m, peer_m, deliver)
    return True


def _deliver_uc(
    src_m: Machine, m: Machine, qpn: int, op: int, raddr: int, rkey: int, imm: int, data: bytes,
    psn: int, n: int,
) -> None:
    """UC responder: anything wrong drops the message silently (IB spec 9.9.2: UC has no
    responses); a PSN gap just resynchronises on the next first/only packet."""
    peer = m.qps.get(qpn)
    if (
        peer is None
        or peer.qp_type != UC
        or peer.state not in (RTR, RTS, SQD)
        or peer.peer is not src_m
    ):
        m.messages_dropped += 1
        return
    peer.rq_psn = (psn + n) & PSN_MASK
    length = len(data)
    rq = peer.rq
    if op in (WR_WRITE, WR_WRITE_IMM):
        if (op == WR_WRITE_IMM and not rq) or not peer.access & A_REMOTE_WRITE:
            m.messages_dropped += 1
            return
        if length:
            mr = mr_for(m, peer.pd, rkey, raddr, length, A_REMOTE_WRITE)
            if mr is None:
                m.messages_dropped += 1
                return
            place(mr, raddr, data)
        if op == WR_WRITE_IMM:
            r_id, _, _ = rq.popleft()
            # src_qp 0: no DETH on UC either (rxe_resp.c do_complete)
            push(peer.rcq, completion(r_id, S_OK, WC_RECV_RDMA_WITH_IMM, length, peer.qp_num,
                                      0, imm, WC_GRH | WC_WITH_IMM), peer)
    else:
        if not rq:
            m.messages_dropped += 1
            return
        r_id, r_sges, capacity = rq.popleft()
        if length > capacity or scatter(m, peer.pd, r_sges, data):
            # As on RC (rxe_resp.c send_data_in: RESPST_ERR_MALFORMED_WQE): LOC_QP_OP_ERR, and
            # the responder QP goes to ERR (do_class_ac_error sets goto_error for every QP
            # type).  Measured on rxe: a UC SEND into a receive too short completes it with
            # LOC_QP_OP_ERR and flushes the next receive; the sender sees success.
            fail_recv(peer, r_id, S_LOC_QP_OP)
            to_error(peer)
            return
        with_imm = op == WR_SEND_IMM
        push(peer.rcq, completion(r_id, S_OK, WC_RECV, length, peer.qp_num, 0,
                                  imm if with_imm else 0,
                                  WC_GRH | WC_WITH_IMM if with_imm else WC_GRH), peer)
    peer.bytes_received += length


def exec_ud(qp: QueuePair, wqe: Wqe, now: int) -> bool:
    _, op, _, sges, length, _, _, imm_data, _, _, inline, ud = wqe
    if op not in UD_OPCODES:
        # softroce-facts: "RDMA WRITE posted on a UD QP is accepted by rxe and completes with
        # IBV_WC_LOC_QP_OP_ERR".
        fail_send(qp, S_LOC_QP_OP)
        return True
    if length > qp.mtu:
        # A UD message is one packet.  One longer than the port's MTU is not sent, and the send
        # completes successfully: rxe_req.c (Linux 6.1), "C10-93.1.1: If the total sum of all
        # the buffer lengths specified for a UD message exceeds the MTU of the port [...] the
        # CI shall not emit any packets for this message. Further, the CI shall not generate an
        # error due to this condition", then "fake a successful UD send" (one PSN consumed).
        # The check comes before the payload is read, so a bad lkey goes unnoticed.  Measured
        # on rxe (test_ud_message_above_mtu).
        qp.sq_psn = (qp.sq_psn + 1) & PSN_MASK
        complete_send(qp, S_OK, length)
        return True
    m = qp.machine
    data = inline if inline is not None else gather(m, qp.pd, sges)
    if type(data) is int:
        fail_send(qp, data)
        return True
    assert ud is not None
    qp.sq_psn = (qp.sq_psn + 1) & PSN_MASK
    qp.bytes_sent += length
    complete_send(qp, S_OK, length)
    fabric = qp.fabric
    dst = fabric.machine_by_gid(ud.dgid)
    if dst is None:
        m.messages_dropped += 1
        return True
    payload = bytes(data)
    # IB spec 10.2.5 (Q_Key): a remote qkey with the high bit set means "use the QP's own".
    qkey = qp.qkey if ud.qkey & 0x80000000 else ud.qkey
    imm = imm_data if op == WR_SEND_IMM else None
    header = grh(m.gids[ud.sgid_index], ud.dgid, ud.hop_limit, ud.traffic_class, length,
                 imm is not None)
    src_qpn = qp.qp_num

    def deliver() -> None:
        _deliver_ud(dst, ud.qpn, qkey, src_qpn, header, payload, imm)

    send_unreliable(fabric, m, dst, deliver)
    return True


def grh(sgid: bytes, dgid: bytes, hop_limit: int, tclass: int, length: int, imm: bool) -> bytes:
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
    m: Machine, qpn: int, qkey: int, src_qpn: int, header: bytes, data: bytes, imm: int | None
) -> None:
    """UD responder: no QP, wrong qkey, no receive, all drop silently (IB spec 9.8.3)."""
    peer = m.qps.get(qpn)
    if (
        peer is None
        or peer.qp_type != UD
        or peer.state not in (RTR, RTS, SQD, SQE)
        or peer.qkey != qkey
        or not peer.rq
    ):
        m.messages_dropped += 1
        return
    r_id, r_sges, capacity = peer.rq.popleft()
    total = GRH_LEN + len(data)
    if total > capacity or scatter(m, peer.pd, r_sges, header + data):
        # As on RC and UC (rxe_resp.c send_data_in, for the GRH and then the payload): the
        # receive completes with LOC_QP_OP_ERR (src_qp 0: do_complete fills it only on
        # success) and the responder QP goes to ERR.  Measured on rxe for a receive too short.
        fail_recv(peer, r_id, S_LOC_QP_OP)
        to_error(peer)
        return
    flags = WC_GRH | (WC_WITH_IMM if imm is not None else 0)
    push(peer.rcq, completion(r_id, S_OK, WC_RECV, total, peer.qp_num, src_qpn, imm or 0,
                              flags), peer)
    peer.bytes_received += len(data)
