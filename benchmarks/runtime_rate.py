"""Delegation rate and latency of the reference runtime on the emulated NIC, against a lock, and the
thesis's Figure 11 key-value store in its own shape.

What it compares, first: one shared counter updated by delegation (requests per second and mean /
p99 latency against the batch size, driven by how many requests each thread has outstanding, and
against fibers per thread) and the same counter behind a lock instead (an RDMA spin lock:
compare-and-swap to take it, READ, WRITE, WRITE to release: what a rack without delegation must
do). This is no thesis figure: Figure 4 is eRPC alone, Figures 5 and 6 put Gossamer against eRPC
on 2 machines of 14 and 28 threads, and this rack is 2 emulated machines of 2 threads.

Then the one sweep in a thesis figure's shape, Figure 11: throughput of the key-value store
(examples/kvstore.py) against the number of server machines, each with 6 dedicated trustee threads
and 26 query threads, with 4 client-only machines of 192 threads (768 in all). These are EMULATOR
figures: one Python process plays every machine and NIC, so throughput cannot grow with servers as
on Figure 11's CloudLab r6515 nodes; what they show is what this shape costs the protocol (ops per
second of one process, batch sizes, QPs and slot ids per machine). `--quick` scales the client
machines down to 24 threads each.

All figures are wall-clock on this machine's Python over the emulated fabric: they compare the
designs, they are not RDMA hardware numbers. Human-readable lines first, then one JSON object per
line: {"name": ..., "value": ..., "unit": ...}.

Also backpressure: the rate and the longest pending queue of a flood of awaited apply_then calls
against the pending-queue bound (none, small, the default), and the peak memory of a shorter
flood with and without the bound. `--million` floods a million calls (over all threads) with the default
bound only (unbounded, a million queued requests would take about 450 MB). And leak reports'
cost: the time to record a Trust's creation site (one frame; the whole stack in debug mode)
against the rate of clone + drop.

Run: python benchmarks/runtime_rate.py [--quick] [--million] [--figure-11-only]
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from types import ModuleType
from typing import Any

import gossamer
from gossamer.runtime import Rack, Trust, entrust, spawn, yield_now
from gossamer.runtime.env import DEFAULT_PENDING_LIMIT
from gossamer.runtime.leaks import capture
from nic_emu import Fabric
from nic_emu.connect import connect_rc
from nic_emu.provider import verbs

MACHINES = 2
THREADS = 2


@gossamer.closure(capture="u64", result="u64", name="benchmarks.runtime_rate:add")
def add(counter: list[int], k: int) -> int:
    counter[0] += k
    return counter[0]


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def delegation(fibers: int, window: int, per_fiber: int, seed: int = 1) -> dict[str, float]:
    """Client fibers on every thread of machine 0 increment a counter on machine 1, thread 0.

    `window` = 1: blocking apply (one outstanding request per fiber); `window` > 1: apply_then,
    `window` outstanding per fiber (the thesis's async style).
    """
    lat: list[float] = []

    async def client(t: Trust) -> None:
        done = 0
        inflight = 0
        clock = time.perf_counter
        if window == 1:
            for _ in range(per_fiber):
                t0 = clock()
                await t.apply(add, 1)
                lat.append(clock() - t0)
        else:
            def answered(t0: float) -> Any:
                def cb(_: int) -> None:
                    nonlocal inflight
                    inflight -= 1
                    lat.append(clock() - t0)
                return cb

            while done < per_fiber or inflight:
                while done < per_fiber and inflight < window:
                    t.apply_then(add, 1, then=answered(clock()))
                    inflight += 1
                    done += 1
                await yield_now()
        t.drop()

    async def main() -> int:
        counter = await entrust([0], machine=1, thread=0)
        hs = [spawn(client, counter, machine=0, thread=th) for th in range(THREADS) for _ in range(fibers)]
        for h in hs:
            await h
        total: int = await counter.apply(add, 0)
        counter.drop()
        return total

    rack = Rack(MACHINES, THREADS, seed=seed)
    try:
        t0 = time.perf_counter()
        total = rack.run(main)
        wall = time.perf_counter() - t0
        n = THREADS * fibers * per_fiber
        assert total == n, (total, n)
        clients = [th.client for th in rack.machines[0].threads]
        batches = sum(c.batches_sent for c in clients)
        reqs = sum(c.requests_sent for c in clients)
        return {
            "rate": n / wall, "mean_us": statistics.fmean(lat) * 1e6, "p99_us": _pct(lat, 0.99) * 1e6,
            "batch": reqs / batches, "qps": float(rack.qp_counts()[0]),
        }
    finally:
        rack.close()


def lock_baseline(fibers: int, per_fiber: int, seed: int = 1) -> dict[str, float]:
    """The same counter behind an RDMA spin lock on machine 1; client threads on machine 0.

    Each increment: CAS(lock, 0 -> me) until it succeeds, READ the counter, WRITE counter + 1,
    WRITE the lock back to 0. Fibers of a thread share its QP (one per thread, as Gossamer's).
    """
    v = verbs("emu")
    e = v.enums
    fabric = Fabric(seed=seed, machines=2)
    from nic_emu import fabric as fab
    prev = fab.set_fabric(fabric)
    try:
        ctx = [v.device.Context(name=m.name) for m in fabric.machines]
        pd = [v.pd.PD(c) for c in ctx]
        acc = e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE | e.IBV_ACCESS_REMOTE_READ | \
            e.IBV_ACCESS_REMOTE_ATOMIC
        home = v.mr.MR(pd[1], 16, acc)  # [0:8] lock word, [8:16] counter
        qps: list[Any] = []
        cqs: list[Any] = []
        bufs: list[Any] = []
        for _ in range(THREADS):
            cqa = v.cq.CQ(ctx[0], 1024)
            cqb = v.cq.CQ(ctx[1], 1024)
            cap = v.qp.QPCap(max_send_wr=256, max_recv_wr=4, max_send_sge=1, max_recv_sge=1)
            qa = v.qp.QP(pd[0], v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cqa, rcq=cqa, cap=cap))
            qb = v.qp.QP(pd[1], v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cqb, rcq=cqb, cap=cap))
            for q, peer, pctx in ((qa, qb, ctx[1]), (qb, qa, ctx[0])):
                connect_rc(v, q, dest_qpn=peer.qp_num, dest_gid=pctx.query_gid(1, 1), access=acc,
                           max_rd_atomic=16, max_dest_rd_atomic=16)
            qps.append(qa)
            cqs.append(cqa)
            bufs.append(v.mr.MR(pd[0], 16 * fibers, e.IBV_ACCESS_LOCAL_WRITE))
    finally:
        fab.set_fabric(prev)

    lat: list[float] = []
    # per (thread, fiber): state, ops done, start time
    state: dict[tuple[int, int], list[Any]] = {
        (th, f): ["cas", 0, 0.0] for th in range(THREADS) for f in range(fibers)
    }
    me = {key: i + 1 for i, key in enumerate(state)}

    def post(th: int, f: int, op: str) -> None:
        buf = bufs[th]
        sge = v.wr.SGE(buf.buf + 16 * f, 8, buf.lkey)
        wid = th << 16 | f
        if op == "cas":
            wr = v.wr.SendWR(wr_id=wid, opcode=e.IBV_WR_ATOMIC_CMP_AND_SWP, num_sge=1, sg=[sge])
            wr.set_wr_atomic(home.rkey, home.buf, 0, me[(th, f)])
        elif op == "read":
            wr = v.wr.SendWR(wr_id=wid, opcode=e.IBV_WR_RDMA_READ, num_sge=1, sg=[sge])
            wr.set_wr_rdma(home.rkey, home.buf + 8)
        elif op == "write":
            val = int.from_bytes(buf.read(8, 16 * f), "little") + 1
            buf.write(val.to_bytes(8, "little"), 8, 16 * f + 8)
            sge = v.wr.SGE(buf.buf + 16 * f + 8, 8, buf.lkey)
            wr = v.wr.SendWR(wr_id=wid, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge])
            wr.set_wr_rdma(home.rkey, home.buf + 8)
        else:
            buf.write(bytes(8), 8, 16 * f + 8)
            sge = v.wr.SGE(buf.buf + 16 * f + 8, 8, buf.lkey)
            wr = v.wr.SendWR(wr_id=wid, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[sge])
            wr.set_wr_rdma(home.rkey, home.buf)
        qps[th].post_send(wr)

    t0 = time.perf_counter()
    for (th, f), st in state.items():
        st[2] = time.perf_counter()
        post(th, f, "cas")
    remaining = len(state)
    nxt = {"cas": "read", "read": "write", "write": "release"}
    while remaining:
        for th in range(THREADS):
            _, wcs = cqs[th].poll(64)
            for wc in wcs:
                assert wc.status == 0, wc
                f = wc.wr_id & 0xFFFF
                st = state[(th, f)]
                if st[0] == "cas":
                    old = int.from_bytes(bufs[th].read(8, 16 * f), "little")
                    if old != 0:  # lock taken: spin
                        post(th, f, "cas")
                        continue
                if st[0] == "release":
                    lat.append(time.perf_counter() - st[2])
                    st[1] += 1
                    if st[1] == per_fiber:
                        remaining -= 1
                        continue
                    st[0] = "cas"
                    st[2] = time.perf_counter()
                    post(th, f, "cas")
                    continue
                st[0] = nxt[st[0]]
                post(th, f, st[0])
    wall = time.perf_counter() - t0
    n = THREADS * fibers * per_fiber
    assert int.from_bytes(home.read(8, 8), "little") == n
    return {"rate": n / wall, "mean_us": statistics.fmean(lat) * 1e6, "p99_us": _pct(lat, 0.99) * 1e6}


def flood(limit: int | None, per_thread: int, seed: int = 1, traced: bool = False) -> dict[str, float]:
    """Backpressure (thesis 3.2.4): one fiber on every thread of machine 0 issues `per_thread`
    `await trust.apply_then(add, 1)` calls with no other yield, to the counter on machine 1,
    thread 0, on a rack whose pending queues hold `limit` requests (None: unbounded, so the fiber
    queues everything before the poller sends anything). Rate, longest pending queue, and with
    `traced` the peak memory tracemalloc saw (tracemalloc slows the run about tenfold)."""

    answers = [0]

    def answered(_: int) -> None:
        answers[0] += 1

    async def client(t: Trust) -> None:
        for _ in range(per_thread):
            await t.apply_then(add, 1, then=answered)
        t.drop()

    async def main() -> None:
        counter = await entrust([0], machine=1, thread=0)
        hs = [spawn(client, counter, machine=0, thread=th) for th in range(THREADS)]
        counter.drop()
        for h in hs:
            await h

    rack = Rack(MACHINES, THREADS, seed=seed, pending_limit=limit)
    try:
        if traced:
            tracemalloc.start()
        t0 = time.perf_counter()
        rack.run(main)  # returns once every request was answered
        wall = time.perf_counter() - t0
        peak_mem = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        if traced:
            tracemalloc.stop()
        rack.close()
    n = THREADS * per_thread
    assert answers[0] == n, (answers[0], n)
    return {"rate": n / wall, "peak_queue": max(th.client.peak_queued for th in rack.machines[0].threads),
            "peak_kib": peak_mem / 1024}


def trust_churn(pairs: int, stacks: bool, seed: int = 1) -> float:
    """Leak reports' cost: one fiber clones and drops a Trust `pairs` times (each clone records
    its creation site: one frame, or with `stacks` the whole stack as in debug mode); pairs/s."""

    async def main() -> None:
        t = await entrust([0], machine=1)
        for i in range(pairs):
            t.clone().drop()
            if i % 32 == 0:
                await yield_now()
        t.drop()

    rack = Rack(MACHINES, 1, seed=seed)
    rack.ledger.stacks = stacks
    try:
        t0 = time.perf_counter()
        rack.run(main)
        return pairs / (time.perf_counter() - t0)
    finally:
        rack.close()


def site_capture_ns(stacks: bool, n: int = 20_000) -> float:
    """Nanoseconds to capture one creation site (`leaks.capture`), from a few frames deep."""

    def deep(k: int) -> float:
        if k:
            return deep(k - 1)
        t0 = time.perf_counter_ns()
        for _ in range(n):
            capture(1, stacks)
        return (time.perf_counter_ns() - t0) / n

    return deep(8)


def _kvstore() -> ModuleType:
    """examples/kvstore.py, the workload of the Figure 11 sweep."""
    path = Path(__file__).resolve().parents[1] / "examples" / "kvstore.py"
    spec = importlib.util.spec_from_file_location("examples.kvstore", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def figure_11(servers: int, client_threads: int = 192, ops: int = 10, seed: int = 1) -> dict[str, float]:
    """One point of Figure 11 on the emulator: `servers` machines of 6 dedicated trustees + 26 query
    threads, 4 client-only machines of `client_threads` threads; every query and client thread puts
    `ops` keys (apply_then) and gets them back (apply). Ops/s of the run (the rack built first)."""
    kv = _kvstore()
    f = kv.FIGURE_11
    t0 = time.perf_counter()
    rack = Rack(shape=kv.shape(servers, f["trustees"], f["query"], f["client_machines"], client_threads), seed=seed)
    build = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        sizes = rack.run(kv.gsm_main, servers, f["client_machines"], ops)
        wall = time.perf_counter() - t0
        callers = servers * f["query"] + f["client_machines"] * client_threads
        assert sum(sizes) == callers * ops, (sum(sizes), callers * ops)
        clients = [th.client for m in rack.machines for th in m.threads]
        batches = sum(c.batches_sent for c in clients)
        qps = rack.qp_counts()
        return {"rate": 2 * callers * ops / wall, "batch": sum(c.requests_sent for c in clients) / batches,
                "qps_server": float(qps[0]), "qps_client": float(qps[-1]), "build_s": build,
                "slots_server": float(rack.shape.slot_count(0)), "slots_client": float(rack.shape.slot_count(servers))}
    finally:
        rack.close()


def figure_11_sweep(results: list[dict[str, Any]], quick: bool) -> None:
    ct = 24 if quick else 192
    print(f"-- Figure 11's shape (EMULATOR figures, one process): servers of 6 trustees + 26 query threads, "
          f"4 client machines x {ct} threads{' (--quick: scaled down from 192)' if quick else ''}")
    for servers in (1, 2, 4):
        r = figure_11(servers, ct)
        name = f"figure11.servers{servers}{'.quick' if quick else ''}"
        print(f"{name:38s} {r['rate']:9.0f} ops/s  mean batch {r['batch']:5.1f}  QPs server/client "
              f"{int(r['qps_server'])}/{int(r['qps_client'])}  slot ids server/client "
              f"{int(r['slots_server'])}/{int(r['slots_client'])}  (rack built in {r['build_s']:.1f} s)")
        results.append({"name": f"{name}.rate", "value": round(r["rate"], 1), "unit": "ops/s (emulator)"})
        results.append({"name": f"{name}.mean_batch", "value": round(r["batch"], 2), "unit": "requests"})
        results.append({"name": f"{name}.qps_server", "value": int(r["qps_server"]), "unit": "QPs"})
        results.append({"name": f"{name}.qps_client", "value": int(r["qps_client"]), "unit": "QPs"})


def main() -> None:
    quick = "--quick" in sys.argv
    if "--figure-11-only" in sys.argv:
        out: list[dict[str, Any]] = []
        figure_11_sweep(out, quick)
        for obj in out:
            print(json.dumps(obj))
        return
    per = 100 if quick else 400
    results: list[dict[str, Any]] = []

    def emit(name: str, r: dict[str, float]) -> None:
        extra = f"  mean batch {r['batch']:.1f}" if "batch" in r else ""
        print(f"{name:38s} {r['rate']:9.0f} req/s  mean {r['mean_us']:8.0f} us  p99 {r['p99_us']:8.0f} us{extra}")
        results.append({"name": f"{name}.rate", "value": round(r["rate"], 1), "unit": "req/s"})
        results.append({"name": f"{name}.mean_latency", "value": round(r["mean_us"], 1), "unit": "us"})
        results.append({"name": f"{name}.p99_latency", "value": round(r["p99_us"], 1), "unit": "us"})
        if "batch" in r:
            results.append({"name": f"{name}.mean_batch", "value": round(r["batch"], 2), "unit": "requests"})

    print(f"rack: {MACHINES} machines x {THREADS} threads; clients on machine 0, the counter on machine 1")
    print("-- blocking apply, against fibers per thread (batch size follows the fibers)")
    for fibers in (1, 2, 4, 8, 16, 32):
        emit(f"delegation.apply.fibers{fibers}", delegation(fibers, 1, max(per // fibers, 20)))
    print("-- apply_then, one fiber per thread, against requests in flight (the batch size)")
    for window in (2, 8, 32, 128):
        emit(f"delegation.apply_then.window{window}", delegation(1, window, per * 4))
    print("-- the same counter behind an RDMA spin lock (CAS, READ, WRITE, WRITE per increment)")
    for fibers in (1, 4, 16):
        emit(f"lock.fibers{fibers}", lock_baseline(fibers, max(per // fibers, 20)))
    n = 1_000_000 // THREADS if "--million" in sys.argv else per * 25
    print(f"-- apply_then flood, one fiber per thread, {n} awaited calls each, against the pending-queue "
          f"bound (default {DEFAULT_PENDING_LIMIT}; none: the fiber never yields)")
    million = n >= 1_000_000 // THREADS
    for limit in ((DEFAULT_PENDING_LIMIT,) if million else (None, 16, 64, 256, DEFAULT_PENDING_LIMIT)):
        name = f"flood{'.million' if million else ''}.bound{limit or 'none'}"
        f = flood(limit, n)
        print(f"{name:38s} {f['rate']:9.0f} req/s  longest pending queue {int(f['peak_queue']):8d}")
        results.append({"name": f"{name}.rate", "value": round(f["rate"], 1), "unit": "req/s"})
        results.append({"name": f"{name}.peak_queue", "value": int(f["peak_queue"]), "unit": "requests"})
    small = per * 5  # tracemalloc slows the run tenfold; below a bound the bound changes nothing
    for limit in (None, 64, DEFAULT_PENDING_LIMIT):
        name = f"flood.bound{limit or 'none'}.n{small}"
        f = flood(limit, small, traced=True)
        print(f"{name:38s} peak memory (tracemalloc) {f['peak_kib']:8.0f} KiB, longest queue {int(f['peak_queue'])}")
        results.append({"name": f"{name}.peak_memory", "value": round(f["peak_kib"], 1), "unit": "KiB"})
    print("-- leak reports: the cost of recording where each Trust was created")
    pairs = per * 10
    for stacks in (False, True):
        label = "stacks" if stacks else "one_frame"
        ns = site_capture_ns(stacks, 2_000 if stacks else 20_000)
        rate = trust_churn(pairs, stacks)
        print(f"{'trusts.site.' + label:38s} {ns / 1000:9.2f} us a capture; clone+drop {rate:9.0f} pairs/s "
              f"({1e6 / rate:.1f} us a pair)")
        results.append({"name": f"trusts.site.{label}.capture", "value": round(ns / 1000, 3), "unit": "us"})
        results.append({"name": f"trusts.site.{label}.clone_drop_rate", "value": round(rate, 1), "unit": "pairs/s"})
    figure_11_sweep(results, quick)
    r = delegation(1, 1, 20)
    print(f"RC QPs per machine: {int(r['qps'])} (threads x remote machines = {THREADS * (MACHINES - 1)})")
    results.append({"name": "qps_per_machine", "value": int(r["qps"]), "unit": "QPs"})
    for obj in results:
        print(json.dumps(obj))


if __name__ == "__main__":
    main()
