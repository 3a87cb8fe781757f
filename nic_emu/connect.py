"""Connecting an RC (or UC) QP the way every verbs program does: RESET -> INIT -> RTR -> RTS with
the QPN, PSN and GID the peer sent out of band. Provider-neutral: it uses only the pyverbs API, so
the runtime, the conformance suite's verbs peer, the benchmarks and the tests share it on the
emulator and on real devices alike."""

from __future__ import annotations

from types import ModuleType
from typing import Any

PORT = 1


def connect_rc(
    v: ModuleType,
    qp: Any,
    *,
    dest_qpn: int,
    dest_gid: Any,
    sq_psn: int = 0,
    rq_psn: int = 0,
    access: int | None = None,
    sgid_index: int = 1,
    max_rd_atomic: int = 1,
    max_dest_rd_atomic: int = 1,
    min_rnr_timer: int = 12,
    timeout: int = 14,
    retry_cnt: int = 7,
    rnr_retry: int = 7,
) -> None:
    """Bring `qp` to RTS against the peer's `dest_qpn` / `dest_gid` (a GID or its text).

    Path MTU 1024 (rxe's active MTU); the GID index is the RoCE v2 one
    (`nic_emu.provider.roce_v2_gid_index`). `access` defaults to local write and remote write.
    """
    e = v.enums
    if access is None:
        access = e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE
    if isinstance(dest_gid, str):
        dest_gid = v.addr.GID(dest_gid)
    attr = v.qp.QPAttr(port_num=PORT, path_mtu=e.IBV_MTU_1024)
    attr.qp_access_flags = access
    attr.pkey_index = 0
    qp.to_init(attr)
    gr = v.addr.GlobalRoute(dgid=dest_gid, sgid_index=sgid_index, hop_limit=64)
    attr.ah_attr = v.addr.AHAttr(port_num=PORT, is_global=1, gr=gr)
    attr.dest_qp_num = dest_qpn
    attr.rq_psn = rq_psn
    attr.max_dest_rd_atomic = max_dest_rd_atomic
    attr.min_rnr_timer = min_rnr_timer
    qp.to_rtr(attr)
    attr.sq_psn = sq_psn
    attr.timeout = timeout
    attr.retry_cnt = retry_cnt
    attr.rnr_retry = rnr_retry
    attr.max_rd_atomic = max_rd_atomic
    qp.to_rts(attr)
