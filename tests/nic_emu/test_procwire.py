"""nic_emu.procwire: two emulated NICs in two fabrics (as in two processes) joined by Unix
datagrams: WRITE WITH IMMEDIATE lands, a responder error comes back as a NAK that moves the
requester's QP to ERR, a peer whose process is gone fails the WQE with RETRY_EXC_ERR."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from nic_emu import fabric as emu_fabric
from nic_emu import procwire
from nic_emu.connect import connect_rc
from nic_emu.provider import verbs
from tests.nic_emu.helpers import emulator_only

pytestmark = emulator_only  # the emulator's own wire: nothing to check on real devices
v = verbs("emu")
e = v.enums


class Side:
    """One 'process': its own fabric of two machines, machine `local` real, the other a stand-in."""

    def __init__(self, directory: Path, local: int) -> None:
        self.fabric = emu_fabric.Fabric(seed=local, machines=2)
        self.wire = procwire.join(self.fabric, str(directory), local)
        with emu_fabric.use_fabric(self.fabric):
            self.ctx = v.device.Context(name=f"emu{local}")
            self.pd = v.pd.PD(self.ctx)
            self.cq = v.cq.CQ(self.ctx, 64)
            cap = v.qp.QPCap(max_send_wr=16, max_recv_wr=16, max_send_sge=1, max_recv_sge=1)
            self.qp = v.qp.QP(self.pd, v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=self.cq, rcq=self.cq, cap=cap))
            self.mr = v.mr.MR(self.pd, 4096, e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE)
        self.gid = self.ctx.query_gid(1, 1)

    def connect(self, peer: Side) -> None:
        connect_rc(v, self.qp, dest_qpn=peer.qp.qp_num, dest_gid=peer.gid, rnr_retry=7)
        for i in range(4):
            self.qp.post_recv(v.wr.RecvWR(wr_id=i, num_sge=1, sg=[v.wr.SGE(self.mr.buf, 8, self.mr.lkey)]))

    def write(self, peer: Side, data: bytes, *, imm: int, rkey: int | None = None) -> None:
        self.mr.write(data, len(data), 0)
        wr = v.wr.SendWR(wr_id=7, opcode=e.IBV_WR_RDMA_WRITE_WITH_IMM, num_sge=1,
                         sg=[v.wr.SGE(self.mr.buf, len(data), self.mr.lkey)], imm_data=imm,
                         send_flags=e.IBV_SEND_SIGNALED)
        wr.set_wr_rdma(peer.mr.rkey if rkey is None else rkey, peer.mr.buf + 64)
        self.qp.post_send(wr)

    def poll(self, seconds: float = 5.0) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            n, wcs = self.cq.poll(1)
            if n:
                return wcs[0]
            self.wire.wait(0.01)
        raise AssertionError("no completion")


@pytest.fixture
def pair(tmp_path: Path) -> Any:
    a, b = Side(tmp_path, 0), Side(tmp_path, 1)
    a.connect(b)
    b.connect(a)
    yield a, b
    a.wire.close()
    b.wire.close()


def test_write_with_immediate_lands_in_the_other_process(pair: Any) -> None:
    a, b = pair
    a.write(b, b"gossamer", imm=0x1234_0001)
    sent = a.poll()
    assert (sent.status, sent.opcode) == (e.IBV_WC_SUCCESS, e.IBV_WC_RDMA_WRITE)
    got = b.poll()
    assert (got.status, got.opcode, got.imm_data, got.byte_len) == (e.IBV_WC_SUCCESS,
                                                                  e.IBV_WC_RECV_RDMA_WITH_IMM, 0x1234_0001, 8)
    assert b.mr.read(8, 64) == b"gossamer"
    assert (a.wire.sent, b.wire.received) == (1, 1)


def test_a_bad_rkey_is_nacked_and_both_qps_go_to_error(pair: Any) -> None:
    a, b = pair
    a.write(b, b"x" * 16, imm=1, rkey=b.mr.rkey ^ 0xFF00)
    # the WQE completes once its datagram is on the wire (procwire's model: no ACK round trip) ...
    assert a.poll().status == e.IBV_WC_SUCCESS
    assert b.poll().status == e.IBV_WC_WR_FLUSH_ERR  # ... the responder refuses it: ERR, receives flushed
    wc = a.poll()  # the NAK: the requester's QP fails with the responder's status, after the fact
    assert wc.status == e.IBV_WC_REM_ACCESS_ERR
    assert a.qp.query(e.IBV_QP_STATE)[0].qp_state == e.IBV_QPS_ERR
    assert b.qp.query(e.IBV_QP_STATE)[0].qp_state == e.IBV_QPS_ERR


def test_a_peer_whose_process_is_gone_fails_the_write(pair: Any) -> None:
    a, b = pair
    b.wire.close()  # its socket is gone, as when the process died
    a.write(b, b"late", imm=2)
    assert a.poll().status == e.IBV_WC_RETRY_EXC_ERR
    assert not a.fabric.machines[1].alive  # the stand-in is marked crashed
