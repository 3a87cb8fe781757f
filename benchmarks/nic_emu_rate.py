"""Message rate, bandwidth and READ latency of the emulated NIC, on one core.

    python benchmarks/nic_emu_rate.py [--seconds S]
    python benchmarks/nic_emu_rate.py --compare OLD_TREE [--rounds N]

Prints human-readable figures, then one JSON object per line:
``{"name": ..., "value": ..., "unit": ...}``.  Only the pyverbs API is used (through
``nic_emu.provider.verbs()``), so with ``GOSSAMER_VERBS=pyverbs`` and device names the same
loops measure real verbs.

``--compare`` measures two source trees in one run: this checkout and ``OLD_TREE`` (e.g. made
with ``git worktree add /tmp/nic_before <commit>``), each in its own subprocess with the tree
first on ``sys.path``, alternating for ``--rounds`` rounds so that both see the same load; it
prints the median of each figure for both sides and the ratio new/old.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nic_emu
from nic_emu.connect import connect_rc
from nic_emu.provider import is_emulated, verbs

SIGNAL_EVERY = 16


def _setup(v: Any, names: tuple[str, str], max_send_wr: int) -> dict[str, Any]:
    e = v.enums
    nodes = []
    for name in names:
        ctx = v.device.Context(name=name)
        pd = v.pd.PD(ctx)
        cq = v.cq.CQ(ctx, 4096)
        cap = v.qp.QPCap(max_send_wr=max_send_wr, max_recv_wr=16, max_send_sge=1,
                         max_recv_sge=1)
        qp = v.qp.QP(pd, v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq, cap=cap,
                                         sq_sig_all=0))
        access = (e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE
                  | e.IBV_ACCESS_REMOTE_READ)
        mr = v.mr.MR(pd, 1 << 20, access)
        nodes.append({"ctx": ctx, "pd": pd, "cq": cq, "qp": qp, "mr": mr,
                      "gid": ctx.query_gid(1, 1)})
    for me, peer in ((nodes[0], nodes[1]), (nodes[1], nodes[0])):
        connect_rc(v, me["qp"], dest_qpn=peer["qp"].qp_num, dest_gid=peer["gid"], access=access)
    return {"a": nodes[0], "b": nodes[1]}


def write_rate(v: Any, names: tuple[str, str], size: int, seconds: float) -> tuple[float, int]:
    """Posts WRITEs of ``size`` bytes, signaling every 16th, keeping up to 64 in flight."""
    e = v.enums
    s = _setup(v, names, 128)
    a, b = s["a"], s["b"]
    qp, cq = a["qp"], a["cq"]
    sge = v.wr.SGE(a["mr"].buf, size, a["mr"].lkey)
    plain = v.wr.SendWR(wr_id=0, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge], send_flags=0)
    plain.set_wr_rdma(b["mr"].rkey, b["mr"].buf)
    signaled = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge],
                           send_flags=e.IBV_SEND_SIGNALED)
    signaled.set_wr_rdma(b["mr"].rkey, b["mr"].buf)
    post, poll = qp.post_send, cq.poll
    batches_in_flight = 0
    done = 0
    batch = 256
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(batch // SIGNAL_EVERY):
            for _ in range(SIGNAL_EVERY - 1):
                post(plain)
            post(signaled)
            batches_in_flight += 1
            # Keep at most 4 signaled groups (64 WRs) outstanding, as max_send_wr allows.
            while batches_in_flight >= 4:
                n, wcs = poll(4)
                for wc in wcs:
                    if wc.status:
                        raise RuntimeError(f"write failed: {wc}")
                batches_in_flight -= n
        done += batch
        if time.perf_counter() >= deadline:
            break
    while batches_in_flight:
        n, _ = poll(4)
        batches_in_flight -= n
    elapsed = time.perf_counter() - t0
    return done / elapsed, done


def read_latency(v: Any, names: tuple[str, str], size: int, iters: int) -> list[float]:
    e = v.enums
    s = _setup(v, names, 16)
    a, b = s["a"], s["b"]
    sge = v.wr.SGE(a["mr"].buf, size, a["mr"].lkey)
    wr = v.wr.SendWR(wr_id=2, opcode=e.IBV_WR_RDMA_READ, num_sge=1, sg=[sge],
                     send_flags=e.IBV_SEND_SIGNALED)
    wr.set_wr_rdma(b["mr"].rkey, b["mr"].buf)
    qp, cq = a["qp"], a["cq"]
    lat = []
    for _ in range(iters):
        t = time.perf_counter()
        qp.post_send(wr)
        while True:
            n, wcs = cq.poll(1)
            if n:
                break
        lat.append(time.perf_counter() - t)
        if wcs[0].status:
            raise RuntimeError(f"read failed: {wcs[0]}")
    lat.sort()
    return lat


def _run_tree(tree: Path, seconds: float) -> dict[str, float]:
    """One run of this script with ``tree`` first on the path; its figures by name."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c",
         f"import sys; sys.path.insert(0, {str(tree)!r}); import runpy; "
         f"sys.argv = ['nic_emu_rate', '--seconds', {str(seconds)!r}]; "
         f"runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')"],
        env=env, capture_output=True, text=True, check=True, cwd=tree,
    ).stdout
    figures = {}
    for line in out.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            figures[r["name"]] = r["value"]
    return figures


def compare(old: Path, rounds: int, seconds: float) -> None:
    """Both trees, alternating, ``rounds`` times; medians side by side."""
    new = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for i in range(rounds):
        for side, tree in (("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old)):
            runs[side].append(_run_tree(tree, seconds))
    print(f"old: {old}\nnew: {new}\n{rounds} rounds each, medians")
    print(f"{'figure':28} {'old':>12} {'new':>12} {'new/old':>8}")
    for name in runs["new"][0]:
        o = statistics.median(r[name] for r in runs["old"])
        n = statistics.median(r[name] for r in runs["new"])
        print(f"{name:28} {o:12,.1f} {n:12,.1f} {n / o:8.3f}")
        print(json.dumps({"name": name, "old": o, "new": n, "ratio": round(n / o, 3)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time per rate measurement")
    ap.add_argument("--devices", default=os.environ.get("GOSSAMER_DEVICES", "emu0,emu1"))
    ap.add_argument("--compare", type=Path, help="another source tree to measure side by side")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per side with --compare")
    args = ap.parse_args()
    if args.compare is not None:
        compare(args.compare.resolve(), args.rounds, args.seconds)
        return
    v = verbs()
    names = tuple(args.devices.split(","))[:2]
    assert len(names) == 2
    if is_emulated():
        nic_emu.set_fabric(nic_emu.Fabric(seed=0, machines=2))
    results = []
    rate, n = write_rate(v, names, 32, args.seconds)
    print(f"RDMA WRITE 32 B, signaled 1/{SIGNAL_EVERY}: {rate:,.0f} msg/s ({n:,} writes)")
    results.append({"name": "write_32B_rate", "value": round(rate), "unit": "msg/s"})
    if is_emulated():
        nic_emu.set_fabric(nic_emu.Fabric(seed=0, machines=2))
    rate64k, n = write_rate(v, names, 64 * 1024, args.seconds)
    bw = rate64k * 64 * 1024 / 1e6
    print(f"RDMA WRITE 64 KiB: {bw:,.0f} MB/s ({rate64k:,.0f} msg/s, {n:,} writes)")
    results.append({"name": "write_64KiB_bandwidth", "value": round(bw, 1), "unit": "MB/s"})
    if is_emulated():
        nic_emu.set_fabric(nic_emu.Fabric(seed=0, machines=2))
    lat = read_latency(v, names, 32, 20000)
    med, p99 = lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6
    print(f"RDMA READ 32 B latency: median {med:.2f} us, p99 {p99:.2f} us")
    results.append({"name": "read_32B_latency_median", "value": round(med, 3), "unit": "us"})
    results.append({"name": "read_32B_latency_p99", "value": round(p99, 3), "unit": "us"})
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
