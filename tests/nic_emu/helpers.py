"""Provider-neutral helpers: they use only the pyverbs API, so they run on the emulator and on
real Soft-RoCE alike.  Provider-specific setup (which devices, which fabric) is in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from nic_emu.connect import connect_rc
from nic_emu.provider import is_emulated, roce_v2_gid_index

#: for tests of what only the emulator has (its fabric, seeds, faults, placement models): they
#: skip on real devices (``GOSSAMER_VERBS=pyverbs``), where there is nothing to configure
emulator_only = pytest.mark.skipif(not is_emulated(), reason="needs the emulated fabric")

GID_INDEX = 1  # RoCE v2 IPv4-mapped GID on rxe's usual table (and the emulator's); see Node.gid_index
PORT = 1


@dataclass
class Node:
    """One opened device with a PD and a CQ for sends and one for receives."""

    v: ModuleType
    name: str
    ctx: Any
    pd: Any
    scq: Any
    rcq: Any
    #: RoCE v2, IPv4-mapped, read from the device's GID table (``roce_v2_gid_index``)
    gid_index: int = GID_INDEX

    def gid(self) -> Any:
        return self.ctx.query_gid(PORT, self.gid_index)

    def mr(self, length: int, access: int | None = None) -> Any:
        e = self.v.enums
        if access is None:
            access = (
                e.IBV_ACCESS_LOCAL_WRITE
                | e.IBV_ACCESS_REMOTE_WRITE
                | e.IBV_ACCESS_REMOTE_READ
                | e.IBV_ACCESS_REMOTE_ATOMIC
            )
        return self.v.mr.MR(self.pd, length, access)


#: every node opened and not yet closed, oldest first (see ``close_nodes``)
OPENED: list[Node] = []


def open_node(v: ModuleType, name: str, cqe: int = 1024) -> Node:
    ctx = v.device.Context(name=name)
    pd = v.pd.PD(ctx)
    node = Node(v, name, ctx, pd, v.cq.CQ(ctx, cqe), v.cq.CQ(ctx, cqe), roce_v2_gid_index(name))
    OPENED.append(node)
    return node


def close_nodes(since: int = 0) -> None:
    """Close the nodes opened since ``OPENED[since]``, newest first.

    On real pyverbs this must happen before the garbage collector meets them: objects kept alive
    by a reference cycle (a failed test's traceback holds its frames) are torn down in arbitrary
    order, and a QP freed after its context segfaults the interpreter (seen on rxe). Closing the
    context closes its PDs, CQs, QPs and MRs in the right order; what the collector finds later
    is inert.
    """
    while len(OPENED) > since:
        node = OPENED.pop()
        close = getattr(node.ctx, "close", None)
        if close is not None:
            close()


def make_qp(
    node: Node,
    qp_type: int,
    *,
    max_send_wr: int = 64,
    max_recv_wr: int = 64,
    max_send_sge: int = 4,
    max_recv_sge: int = 4,
    max_inline_data: int = 64,
    sq_sig_all: int = 0,
) -> Any:
    v = node.v
    cap = v.qp.QPCap(max_send_wr, max_recv_wr, max_send_sge, max_recv_sge, max_inline_data)
    init = v.qp.QPInitAttr(
        qp_type=qp_type, scq=node.scq, rcq=node.rcq, cap=cap, sq_sig_all=sq_sig_all
    )
    return v.qp.QP(node.pd, init)


@dataclass
class Endpoint:
    """What two sides exchange out of band to connect: QPN, PSN, GID."""

    qpn: int
    psn: int
    gid: Any


def connect(
    node: Node,
    qp: Any,
    remote: Endpoint,
    *,
    my_psn: int = 0,
    access: int | None = None,
    max_rd_atomic: int = 1,
    max_dest_rd_atomic: int = 1,
    retry_cnt: int = 7,
    rnr_retry: int = 7,
    timeout: int = 14,
) -> None:
    """RESET -> INIT -> RTR -> RTS for an RC or UC QP, the way real code does it."""
    e = node.v.enums
    if access is None:
        access = (
            e.IBV_ACCESS_LOCAL_WRITE
            | e.IBV_ACCESS_REMOTE_WRITE
            | e.IBV_ACCESS_REMOTE_READ
            | e.IBV_ACCESS_REMOTE_ATOMIC
        )
    connect_rc(node.v, qp, dest_qpn=remote.qpn, dest_gid=remote.gid, sq_psn=my_psn, rq_psn=remote.psn,
               access=access, sgid_index=node.gid_index, max_rd_atomic=max_rd_atomic,
               max_dest_rd_atomic=max_dest_rd_atomic, timeout=timeout, retry_cnt=retry_cnt, rnr_retry=rnr_retry)


def connect_pair(a: Node, qa: Any, b: Node, qb: Any, **kw: Any) -> None:
    ea = Endpoint(qa.qp_num, kw.pop("psn_a", 0), a.gid())
    eb = Endpoint(qb.qp_num, kw.pop("psn_b", 0), b.gid())
    connect(a, qa, eb, my_psn=ea.psn, **kw)
    connect(b, qb, ea, my_psn=eb.psn, **kw)


def ud_ready(node: Node, qp: Any, qkey: int = 0x11111111) -> None:
    v = node.v
    attr = v.qp.QPAttr(port_num=PORT)
    attr.qkey = qkey
    attr.pkey_index = 0
    qp.to_rts(attr)


def ud_ah(node: Node, remote_gid: Any) -> Any:
    v = node.v
    gr = v.addr.GlobalRoute(dgid=remote_gid, sgid_index=node.gid_index, hop_limit=64)
    return v.addr.AH(node.pd, attr=v.addr.AHAttr(port_num=PORT, is_global=1, gr=gr))


def sge(mr: Any, length: int | None = None, offset: int = 0) -> Any:
    import sys

    mod = sys.modules[type(mr).__module__.rsplit(".", 1)[0] + ".wr"]
    return mod.SGE(mr.buf + offset, mr.length - offset if length is None else length, mr.lkey)


#: on real devices, each allowed empty poll also buys this much wall-clock time (a device works
#: while we are not polling; under QEMU TCG a completion takes up to tens of milliseconds)
REAL_SECONDS_PER_POLL = 0.002


def poll(cq: Any, n: int, *, max_polls: int = 2000) -> list[Any]:
    """Poll until ``n`` completions arrived or ``max_polls`` polls found nothing more (on real
    devices: and at least ``max_polls * REAL_SECONDS_PER_POLL`` seconds passed without one)."""
    import time

    out: list[Any] = []
    misses = 0
    patience = 0.0 if is_emulated() else max_polls * REAL_SECONDS_PER_POLL
    since = time.monotonic()
    while len(out) < n:
        got, wcs = cq.poll(n - len(out))
        if got:
            out.extend(wcs)
            misses = 0
            since = time.monotonic()
        else:
            misses += 1
            if misses >= max_polls and time.monotonic() - since >= patience:
                break
    return out


def qp_state(qp: Any) -> int:
    """The QP's state as the device has it (``ibv_query_qp``). ``QP.qp_state`` is libibverbs'
    cached ``ibv_qp.state``, the state of the last modify/query: it stays RTS after an error
    completion moved the QP to ERR, on real devices and on nic_emu alike (test_rc.py
    ``test_qp_state_attribute_is_the_cached_state``)."""
    import sys

    enums = sys.modules[type(qp).__module__.rsplit(".", 1)[0] + ".enums"]
    attr, _ = qp.query(enums.IBV_QP_STATE)
    return int(attr.qp_state)
