"""Measure what a concurrent poller sees of a large RDMA WRITE on real verbs (issue 8's rxe fact).

    python -m nic_emu.softroce run --devices 2 -- /usr/bin/python3 -m nic_emu.softroce.observe_write

Two processes on one guest: a writer on rxe0 and a target on rxe1 that owns the written memory and
polls it. Round k fills the whole buffer with the byte k in one RDMA WRITE. The target samples the
last byte, then the first byte, as fast as it can, and classifies each sample:

- `whole`: both bytes from the same round;
- `ascending`: the first byte is newer than the last: the poller saw a message half placed, low
  addresses first (what HERD and FaRM rely on);
- `not_ascending`: the last byte (read first) is newer than the first byte (read after it): the end
  of a message was visible before its start, which ascending placement cannot produce.

Prints one JSON object with the counts (pyverbs only: nic_emu cannot span processes).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from nic_emu.connect import connect_rc
from nic_emu.provider import verbs

GID_INDEX = 1
os.environ.setdefault("GOSSAMER_VERBS", "pyverbs")  # two processes: only real verbs can span them


def _open(v: Any, name: str, size: int) -> tuple[Any, Any, Any, Any]:
    e = v.enums
    ctx = v.device.Context(name=name)
    pd = v.pd.PD(ctx)
    cq = v.cq.CQ(ctx, 64)
    cap = v.qp.QPCap(max_send_wr=16, max_recv_wr=16, max_send_sge=1, max_recv_sge=1)
    qp = v.qp.QP(pd, v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq, cap=cap, sq_sig_all=0))
    mr = v.mr.MR(pd, size, e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE)
    return ctx, qp, cq, mr


def _connect(v: Any, qp: Any, remote: dict[str, Any]) -> None:
    connect_rc(v, qp, dest_qpn=remote["qpn"], dest_gid=remote["gid"], sgid_index=GID_INDEX)


def target(conn: Connection, size: int) -> None:
    v = verbs()
    ctx, qp, _cq, mr = _open(v, "rxe1", size)
    conn.send({"qpn": qp.qp_num, "gid": str(ctx.query_gid(1, GID_INDEX)), "addr": mr.buf, "rkey": mr.rkey})
    _connect(v, qp, conn.recv())
    conn.send("ready")
    counts = {"samples": 0, "whole": 0, "ascending": 0, "not_ascending": 0}
    last_off = size - 1
    while not conn.poll():
        last = mr.read(1, last_off)[0]
        first = mr.read(1, 0)[0]
        counts["samples"] += 1
        if first == last:
            counts["whole"] += 1
        elif (first - last) % 256 < 128:  # first newer (rounds wrap at 256)
            counts["ascending"] += 1
        else:
            counts["not_ascending"] += 1
    conn.recv()
    conn.send(counts)


def writer(conn: Connection, size: int, rounds: int) -> dict[str, Any]:
    v = verbs()
    e = v.enums
    ctx, qp, cq, mr = _open(v, "rxe0", size)
    remote = conn.recv()
    conn.send({"qpn": qp.qp_num, "gid": str(ctx.query_gid(1, GID_INDEX))})
    _connect(v, qp, remote)
    assert conn.recv() == "ready"
    t0 = time.perf_counter()
    for k in range(1, rounds + 1):
        mr.write(bytes([k % 256]) * size, size)
        wr = v.wr.SendWR(wr_id=k, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1,
                         sg=[v.wr.SGE(mr.buf, size, mr.lkey)], send_flags=e.IBV_SEND_SIGNALED)
        wr.set_wr_rdma(remote["rkey"], remote["addr"])
        qp.post_send(wr)
        while True:
            n, wcs = cq.poll(1)
            if n:
                if wcs[0].status != 0:
                    raise SystemExit(f"WRITE {k} completed with status {wcs[0].status}")
                break
    elapsed = time.perf_counter() - t0
    conn.send("done")
    counts: dict[str, Any] = conn.recv()
    counts.update({"rounds": rounds, "size": size, "seconds": round(elapsed, 3),
                   "MB_per_s": round(rounds * size / elapsed / 1e6, 2)})
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1 << 20, help="bytes per WRITE (default 1 MiB)")
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args(argv)
    a, b = mp.Pipe()
    p = mp.Process(target=target, args=(b, args.size), daemon=True)
    p.start()
    result = writer(a, args.size, args.rounds)
    p.join(10)
    print(json.dumps({"name": "rxe_partial_write_observation", **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
