"""A wire between emulated NICs in different processes: RC messages as Unix datagrams.

rxe puts RoCE v2 packets in UDP datagrams; this module puts the emulator's RC messages in
Unix-domain datagrams, so that a rack of processes on one host (`gossamer launch --local N`)
runs on nic_emu without an RDMA-capable kernel. Each process has its own `Fabric` holding every
machine of the rack; only its own machine is real there, the others are stand-ins whose `wire` is
the process's `SocketWire`. A WQE whose peer is a stand-in is sent, as one datagram, to the
socket `emu<m>.sock` in the wire's directory; the process of machine `m` reads it at its next
fabric tick and runs the responder's side there.

What is modelled, and what is not:

* RDMA WRITE and WRITE WITH IMMEDIATE, in order per QP (Unix datagram sockets are reliable and
  keep order between two sockets). The requester's WQE completes when the datagram is on the
  wire; a responder error (no REMOTE_WRITE, a bad rkey or range) comes back as a NAK that moves
  the requester's QP to ERR with that status, after the fact. A WRITE WITH IMMEDIATE finding no
  receive posted waits at the responder (RNR forever) until one is.
* A peer whose process is gone (its socket refuses, or is missing) fails the WQE with
  RETRY_EXC_ERR, as a peer that no longer answers does, and the stand-in is marked crashed.
* SEND, READ and atomics between processes are not carried (they fail with REM_INV_REQ); the
  Gossamer runtime uses WRITE WITH IMMEDIATE only. No placement model, no capture, no fault plan
  applies across processes.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING

from nic_emu.constants import (
    A_REMOTE_WRITE,
    RC,
    RTR,
    RTS,
    S_OK,
    S_REM_ACCESS,
    S_REM_INV_REQ,
    S_RETRY_EXC,
    SQD,
    WC_GRH,
    WC_RECV_RDMA_WITH_IMM,
    WC_WITH_IMM,
    WR_WRITE,
    WR_WRITE_IMM,
)
from nic_emu.transport.completions import complete_send, fail_send, push, to_error
from nic_emu.transport.memory import mr_for, place
from nic_emu.transport.queues import PSN_MASK, npkts

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric, Machine
    from nic_emu.transport.queues import QueuePair, Wqe

#: kind, src machine, dst machine, src qpn, dst qpn, opcode (or NAK status), imm, rkey, raddr
_HEAD = struct.Struct("<BHHIIBIIQ")
_DATA, _NAK = 0, 1
_BUF = 4 << 20


def socket_path(directory: str, machine: int) -> str:
    return os.path.join(directory, f"emu{machine}.sock")


class SocketWire:
    """This process's end of the wire: machine `local` of `fabric` is real, the others are reached
    through their processes' sockets in `directory`."""

    def __init__(self, fabric: Fabric, directory: str, local: int) -> None:
        self.fabric = fabric
        self.directory = directory
        self.local = local
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = socket_path(directory, local)
        if os.path.exists(path):
            os.unlink(path)
        self.sock.bind(path)
        for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            self.sock.setsockopt(socket.SOL_SOCKET, opt, _BUF)
        self.sock.setblocking(False)
        #: messages read but not yet delivered (a WRITE WITH IMMEDIATE waiting for a receive)
        self.backlog: deque[bytes] = deque()
        self.sent = 0
        self.received = 0
        self.naks = 0
        for m in fabric.machines:
            if m.index != local:
                m.wire = self
        fabric.wire = self
        fabric.pending = True  # polls progress the fabric, and every progress reads the wire

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(socket_path(self.directory, self.local))
        except OSError:
            pass

    def fileno(self) -> int:
        return self.sock.fileno()

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for a datagram; True if one is waiting."""
        if self.backlog:
            return True
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    # -- the requester ----------------------------------------------------------------------

    def send_rc(self, qp: QueuePair, wqe: Wqe, data: memoryview | bytes, now: int) -> bool:
        """Carry the head WQE of `qp` (whose peer is a stand-in) to the peer's process; True
        when the WQE ended (sent, or failed), False when it waits (the peer's buffer is full)."""
        _, op, _, _, length, raddr, rkey, imm, _, _, _, _ = wqe
        peer_m = qp.peer
        assert peer_m is not None
        if op not in (WR_WRITE, WR_WRITE_IMM):
            fail_send(qp, S_REM_INV_REQ)
            return True
        if not peer_m.alive:
            fail_send(qp, S_RETRY_EXC)
            return True
        head = _HEAD.pack(_DATA, qp.machine.index, peer_m.index, qp.qp_num, qp.dest_qp_num, op, imm, rkey, raddr)
        try:
            self.sock.sendto(head + bytes(data), socket_path(self.directory, peer_m.index))
        except BlockingIOError:
            qp.retry_at = now + 1
            return False
        except OSError as exc:
            if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
                raise
            self.fabric.crash(peer_m)  # nobody answers there any more
            fail_send(qp, S_RETRY_EXC)
            return True
        self.sent += 1
        qp.sq_psn = (qp.sq_psn + npkts(length, qp.mtu)) & PSN_MASK
        qp.bytes_sent += length
        complete_send(qp, S_OK, length)
        return True

    # -- the responder ----------------------------------------------------------------------

    def pump(self) -> None:
        """Read what arrived and deliver it in order (called at every fabric tick)."""
        while True:
            try:
                msg = self.sock.recv(_BUF)
            except (BlockingIOError, InterruptedError):
                break
            self.received += 1
            self.backlog.append(msg)
        while self.backlog:
            if not self._deliver(self.backlog[0]):
                break  # RNR: wait for a receive, keeping the order
            self.backlog.popleft()
        if self.backlog:
            self.fabric.pending = True

    def _deliver(self, msg: bytes) -> bool:
        kind, src, dst, src_qpn, dst_qpn, op, imm, rkey, raddr = _HEAD.unpack_from(msg)
        fabric = self.fabric
        if dst >= len(fabric.machines) or src >= len(fabric.machines):
            return True
        m: Machine = fabric.machines[dst]
        src_m: Machine = fabric.machines[src]
        qp = m.qps.get(dst_qpn)
        if kind == _NAK:
            if qp is not None and qp.state in (RTR, RTS, SQD):
                self.naks += 1
                push(qp.scq, (0, op, 0, 0, 0, qp.qp_num, 0, 0, 0), qp)
                to_error(qp)
            return True
        if (qp is None or qp.qp_type != RC or qp.state not in (RTR, RTS, SQD) or qp.peer is not src_m
                or qp.dest_qp_num != src_qpn):
            m.messages_dropped += 1  # rxe drops a packet for a QP not connected to its sender
            return True
        data = memoryview(msg)[_HEAD.size:]
        length = len(data)
        if not qp.access & A_REMOTE_WRITE:
            return self._nak(qp, src_m, S_REM_INV_REQ)
        if op == WR_WRITE_IMM and not qp.rq:
            return False
        if length:
            mr = mr_for(m, qp.pd, rkey, raddr, length, A_REMOTE_WRITE)
            if mr is None:
                return self._nak(qp, src_m, S_REM_ACCESS)
            place(mr, raddr, data)
        if op == WR_WRITE_IMM:
            r_id, _, _ = qp.rq.popleft()
            push(qp.rcq, (r_id, S_OK, WC_RECV_RDMA_WITH_IMM, 0, length, qp.qp_num, 0, imm, WC_GRH | WC_WITH_IMM), qp)
        qp.rq_psn = (qp.rq_psn + npkts(length, qp.mtu)) & PSN_MASK
        qp.bytes_received += length
        return True

    def _nak(self, qp: QueuePair, src_m: Machine, status: int) -> bool:
        """A class C error at the responder: both QPs go to ERR (the requester's by a NAK)."""
        head = _HEAD.pack(_NAK, qp.machine.index, src_m.index, qp.qp_num, qp.dest_qp_num, status, 0, 0, 0)
        try:
            self.sock.sendto(head, socket_path(self.directory, src_m.index))
        except OSError:
            pass
        to_error(qp)
        return True


def join(fabric: Fabric, directory: str, local: int) -> SocketWire:
    """Make machine `local` of `fabric` the real one, reaching the others through `directory`."""
    return SocketWire(fabric, directory, local)
