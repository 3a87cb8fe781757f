"""Differential traces: small generated verbs programs, run on nic_emu and on rxe, compared.

A *program* (a JSON-able dict) is drawn from a seed (``program(seed)``, ``random.Random``) or by
Hypothesis (``programs()``, the same generator behind a ``draw`` adapter).  It sets up one or
two devices (node A and node B; with one device both nodes open it), two MRs per node (the second
with drawn access flags, so registration may fail), an optional SRQ on B, and one to three
connections (RC, UC or UD; qp[0] on A, qp[1] on B, B's taking receives from the SRQ if drawn),
then runs *epochs*, each: state changes (to ERR, back through RESET to RTS, illegal transitions,
queries, destroy, SRQ limit), receives, sends (every opcode, 0..max+1 SGEs, inline, zero
lengths, bad keys, ranges across an MR's end, unaligned atomics, chained lists with a bad WR),
then a *drain* that polls both CQs until they are quiet.

``run(prog, v, devices)`` records the *trace*: the errno of every call (0 when it worked), every
completion field (QPs named by their index in the program, never by number), QP states when
queried and at the end, SRQ limits, and a digest of every MR's bytes at the end.

Determinism on real devices: within an epoch receives are posted before sends (a send racing a
later receive is timing, not semantics), RNR and transport retries are short, and a drain's
completions are grouped per QP (stable: each QP's own order is kept, the interleaving of QPs
sharing a CQ is timing on a real device), and ``racy`` names the programs whose trace still
depends on timing (``REASONS``; e.g. a receive posted right after its QP's modify to ERR races
rxe's responder tasklet).  The 40-byte GRH area of each UD receive is zeroed
before the MRs are digested (its IPv4 header carries an IP ID that varies).

``python -m tests.nic_emu.difftrace record --seeds A-B --out DIR`` records (on the provider
``GOSSAMER_VERBS`` names); ``tests/nic_emu/test_difftrace.py`` replays the checked-in rxe
traces on nic_emu (all of them) and on rxe (a sample, in ``tox -e rxe``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

#: bump when the generator or the trace format changes: recorded traces then must be re-recorded
VERSION = 2
MR_LEN = 256
TYPES = ("RC", "UC", "UD")
OPS = ("SEND", "SEND_WITH_IMM", "RDMA_WRITE", "RDMA_WRITE_WITH_IMM", "RDMA_READ",
       "ATOMIC_CMP_AND_SWP", "ATOMIC_FETCH_AND_ADD")
MAX_SEND_SGE = 2
MAX_RECV_SGE = 2
QKEY = 0x11111111
#: seconds without a completion that end a drain on a real device, and a drain's upper bound
QUIET_S = 0.12
DRAIN_MAX_S = 3.0
#: the local ACK timeout code (4.096 us * 2^12: 17 ms, 4 jiffies at HZ=250) and the minimum RNR
#: timer (code 1: 10 us, one jiffy).  With the ACK timeout no longer than the RNR delay in
#: jiffies (timeout 8 was tried), rxe's retransmit timer races the RNR timer: RETRY_EXC_ERR or
#: not, run to run.  Longer ACK timeouts make transport retries too slow for QUIET_S.
ACK_TIMEOUT = 12
#: consecutive empty polls that end a drain on the emulator (each poll is a tick)
QUIET_POLLS = 300
#: ibv_wc_status IBV_WC_WR_FLUSH_ERR
WR_FLUSH_ERR = 5

TRACES = Path(os.environ.get("GOSSAMER_DIFFTRACE_DIR") or Path(__file__).with_name("traces"))


class Rng:
    """What the generator draws with: ``random.Random`` or a Hypothesis ``draw``."""

    def __init__(self, randint: Callable[[int, int], int]) -> None:
        self.randint = randint

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[self.randint(0, len(seq) - 1)]

    def chance(self, percent: int) -> bool:
        return self.randint(0, 99) < percent


def _sge(r: Rng, *, allow_bad: bool = True) -> list[int]:
    """[mr index, offset, length, bad key]: mostly inside MR 0, sometimes across the end."""
    mr = 1 if r.chance(20) else 0
    if r.chance(10):
        off, ln = r.randint(200, 255), r.randint(1, 120)  # across the MR's end
    else:
        off, ln = r.randint(0, 31) * 8, r.choice((0, 1, 4, 8, 16, 24, 40, 64))
        ln = min(ln, MR_LEN - off)
    return [mr, off, ln, 1 if allow_bad and r.chance(6) else 0]


def _send(r: Rng, qtype: str) -> dict[str, Any]:
    op = r.choice(OPS) if r.chance(85) else r.choice(OPS[:2])
    atomic = op.startswith("ATOMIC")
    n = r.choice((0, 1, 1, 1, 2, 2, MAX_SEND_SGE + 1)) if not atomic else (1 if r.chance(90) else 2)
    sges = [_sge(r) for _ in range(n)]
    if atomic and sges and r.chance(85):
        sges[0][2] = 8
        sges[0][1] = r.randint(0, 31) * 8
    w: dict[str, Any] = {"op": op, "sg": sges, "sig": r.chance(80), "inl": r.chance(12),
                         "imm": r.randint(0, 0xFFFF)}
    if "RDMA" in op or atomic:
        raddr = r.randint(0, 31) * 8
        if atomic and r.chance(12):
            raddr += r.choice((1, 4))  # unaligned
        elif not atomic and r.chance(8):
            raddr = r.randint(200, 255)  # may run past the remote MR's end
        w["rmr"] = 1 if r.chance(15) else 0
        w["raddr"] = raddr
        w["rbad"] = r.chance(8)
        w["cmp"], w["swap"] = r.randint(0, 3), r.randint(0, 0xFFFF)
    return w


def _recv(r: Rng) -> list[list[int]]:
    n = r.choice((1, 1, 1, 2, MAX_RECV_SGE + 1)) if r.chance(95) else 1
    out = []
    for _ in range(n):
        mr, off, ln, bad = _sge(r)
        out.append([mr, off, max(ln, r.choice((0, 8, 64, 128))) if r.chance(70) else ln, bad])
    return out


def generate(r: Rng) -> dict[str, Any]:
    access_choices = (1, 3, 5, 7, 9, 15, 0, 2, 6)  # LOCAL_WRITE=1 REMOTE_WRITE=2 READ=4 ATOMIC=8
    conns = []
    for _ in range(r.randint(1, 3)):
        t = r.choice(TYPES)
        conns.append({
            "type": t,
            "srq": t != "UC" and r.chance(35),
            "access": r.choice((15, 15, 15, 1, 3, 5, 9)),
            "rnr": r.choice((0, 1, 7)),
            "retry": r.choice((0, 1)),
            "rd": r.choice((0, 1, 1, 2)),
            "drd": r.choice((0, 1, 1, 3)),
        })
    prog: dict[str, Any] = {
        "v": VERSION,
        "devs": r.choice((1, 2, 2)),
        "mr1": [r.choice(access_choices), r.choice(access_choices)],
        "srq": ({"max_wr": r.choice((1, 2, 4, 8)), "limit": r.choice((0, 0, 1, 2, 3))}
                if any(c["srq"] for c in conns) else None),
        "conns": conns,
        "epochs": [],
    }
    nconn = len(conns)
    wr_id = 1
    for _ in range(r.randint(1, 6)):
        pre: list[list[Any]] = []
        for _ in range(r.choice((0, 0, 0, 1, 2))):
            c = r.randint(0, nconn - 1)
            side = r.randint(0, 1)
            kind = r.choice(("err", "reconnect", "query", "illegal", "destroy", "query", "srq_limit"))
            if kind == "illegal":
                pre.append([kind, c, side, r.choice(("RESET>RTS", "RTS>RTR", "RTS>INIT", "INIT>RTS"))])
            elif kind == "srq_limit":
                pre.append([kind, r.choice((0, 1, 2, 3, 20))])
            else:
                pre.append([kind, c, side])
        recvs: list[list[Any]] = []
        for _ in range(r.choice((0, 1, 1, 2, 3))):
            c = r.randint(0, nconn - 1)
            side = r.randint(0, 1)
            if side == 1 and conns[c]["srq"]:
                recvs.append(["srq_recv", wr_id, _recv(r)])
            else:
                recvs.append(["recv", c, side, wr_id, _recv(r)])
            wr_id += 1
        sends: list[list[Any]] = []
        for _ in range(r.choice((0, 1, 1, 2, 3))):
            c = r.randint(0, nconn - 1)
            side = 0 if r.chance(80) else 1
            chain = []
            for _ in range(1 if r.chance(80) else r.randint(2, 3)):
                w = _send(r, conns[c]["type"])
                w["id"] = wr_id
                wr_id += 1
                chain.append(w)
            sends.append(["send", c, side, chain])
        prog["epochs"].append(pre + recvs + sends)
    return prog


def program(seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    return generate(Rng(rnd.randint))


def programs() -> Any:
    """A Hypothesis strategy of programs."""
    from hypothesis import strategies as st

    @st.composite
    def _progs(draw: Any) -> dict[str, Any]:
        return generate(Rng(lambda a, b: draw(st.integers(a, b))))

    return _progs()


def digest(prog: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(prog, sort_keys=True).encode()).hexdigest()[:12]


# -- running ---------------------------------------------------------------------------------


def _errno(ex: BaseException) -> int:
    code = getattr(ex, "error_code", None)
    return int(code) if code else -1


class _Runner:
    def __init__(self, prog: dict[str, Any], v: ModuleType, devices: tuple[str, str]) -> None:
        from nic_emu.provider import is_emulated, roce_v2_gid_index

        self.prog = prog
        self.v = v
        self.e = v.enums
        self.err = v.pyverbs_error.PyverbsError
        self.emulated = is_emulated()
        self.trace: list[Any] = []
        names = (devices[0], devices[1] if prog["devs"] == 2 else devices[0])
        self.ctx = [v.device.Context(name=n) for n in names]
        self.gidx = [roce_v2_gid_index(n) for n in names]
        self.pd = [v.pd.PD(c) for c in self.ctx]
        self.cq = [v.cq.CQ(c, 256) for c in self.ctx]
        self.mrs: list[list[Any]] = [[], []]
        full = 15
        for n in range(2):
            for i, access in enumerate((full, prog["mr1"][n])):
                try:
                    mr = v.mr.MR(self.pd[n], MR_LEN, access)
                    mr.write(bytes((n * 97 + i * 31 + k) & 0xFF for k in range(MR_LEN)), MR_LEN, 0)
                    self.mrs[n].append(mr)
                    self.trace.append(["mr", n, i, 0])
                except self.err as ex:
                    self.mrs[n].append(None)
                    self.trace.append(["mr", n, i, _errno(ex)])
        self.srq = None
        if prog["srq"] is not None:
            s = prog["srq"]
            self.srq = v.srq.SRQ(self.pd[1], v.srq.SrqInitAttr(
                v.srq.SrqAttr(max_wr=s["max_wr"], max_sge=MAX_RECV_SGE, srq_limit=s["limit"])))
        self.qps: list[list[Any]] = []
        self.qpidx: dict[int, str] = {}
        self.ud_recv: dict[tuple[int, int], tuple[int, int, int]] = {}  # (node, wr_id) -> sge
        #: GRH areas of UD receives that completed: (node, mr index, offset, length), zeroed
        #: before the final digest (the IPv4 header's ID differs from run to run on rxe)
        self.grh: list[tuple[int, int, int, int]] = []
        self.ah: list[Any] = [None, None]
        for ci, c in enumerate(prog["conns"]):
            pair = []
            for side in range(2):
                t = getattr(self.e, f"IBV_QPT_{c['type']}")
                cap = v.qp.QPCap(8, 8, MAX_SEND_SGE, MAX_RECV_SGE, 0)
                init = v.qp.QPInitAttr(qp_type=t, scq=self.cq[side], rcq=self.cq[side], cap=cap,
                                       srq=self.srq if side == 1 and c["srq"] else None)
                qp = v.qp.QP(self.pd[side], init)
                self.qpidx[(side, qp.qp_num)] = f"{ci}{'ab'[side]}"  # type: ignore[index]
                pair.append(qp)
            self.qps.append(pair)
            self._connect(ci)

    # -- setup -------------------------------------------------------------------------------

    def _connect(self, ci: int) -> None:
        from nic_emu.connect import connect_rc

        v, e = self.v, self.e
        c = self.prog["conns"][ci]
        pair = self.qps[ci]
        if c["type"] == "UD":
            for side in range(2):
                attr = v.qp.QPAttr(port_num=1)
                attr.qkey = QKEY
                attr.pkey_index = 0
                attr.sq_psn = 0
                pair[side].to_rts(attr)
            return
        for side in range(2):
            other = 1 - side
            gid = self.ctx[other].query_gid(1, self.gidx[other])
            connect_rc(v, pair[side], dest_qpn=pair[other].qp_num, dest_gid=gid,
                       access=c["access"] if c["type"] == "RC" else c["access"] & 3,
                       sgid_index=self.gidx[side],
                       max_rd_atomic=c["rd"] if c["type"] == "RC" else 0,
                       max_dest_rd_atomic=c["drd"] if c["type"] == "RC" else 0,
                       min_rnr_timer=1, timeout=ACK_TIMEOUT, retry_cnt=c["retry"],
                       rnr_retry=c["rnr"])
        _ = e

    def _ah(self, side: int) -> Any:
        if self.ah[side] is None:
            v = self.v
            other = 1 - side
            gr = v.addr.GlobalRoute(dgid=self.ctx[other].query_gid(1, self.gidx[other]),
                                    sgid_index=self.gidx[side], hop_limit=64)
            self.ah[side] = v.addr.AH(self.pd[side], attr=v.addr.AHAttr(port_num=1, is_global=1,
                                                                        gr=gr))
        return self.ah[side]

    # -- ops ---------------------------------------------------------------------------------

    def _sges(self, node: int, spec: list[list[int]]) -> list[Any] | None:
        out = []
        for mri, off, ln, bad in spec:
            mr = self.mrs[node][mri] or self.mrs[node][0]
            out.append(self.v.wr.SGE(mr.buf + off, ln, mr.lkey ^ 0x80 if bad else mr.lkey))
        return out

    def _qp(self, c: int, side: int) -> Any:
        return self.qps[c][side]

    def op(self, o: list[Any]) -> None:
        kind = o[0]
        v, e, t = self.v, self.e, self.trace
        if kind in ("err", "reconnect", "query", "illegal", "destroy", "recv", "send"):
            qp = self._qp(o[1], o[2])
            if qp is None:
                t.append([kind, o[1], o[2], "gone"])
                return
        if kind == "err":
            t.append([kind, o[1], o[2], self._call(lambda: qp.modify(
                v.qp.QPAttr(qp_state=e.IBV_QPS_ERR), e.IBV_QP_STATE))])
        elif kind == "query":
            attr, _ = qp.query(e.IBV_QP_STATE)
            t.append([kind, o[1], o[2], int(attr.qp_state)])
        elif kind == "illegal":
            src, dst = o[3].split(">")
            t.append([kind, o[1], o[2], o[3], self._call(lambda: self._illegal(qp, src, dst))])
        elif kind == "destroy":
            t.append([kind, o[1], o[2], self._call(qp.close)])
            self.qps[o[1]][o[2]] = None
        elif kind == "reconnect":
            pair = self.qps[o[1]]
            if None in pair:
                t.append([kind, o[1], "gone"])
                return
            for q in pair:
                q.modify(v.qp.QPAttr(qp_state=e.IBV_QPS_RESET), e.IBV_QP_STATE)
            t.append([kind, o[1], self._call(lambda: self._connect(o[1]))])
        elif kind == "srq_limit":
            if self.srq is None:
                return
            res = self._call(lambda: self.srq.modify(v.srq.SrqAttr(srq_limit=o[1]),
                                                     e.IBV_SRQ_LIMIT))
            t.append([kind, o[1], res, self.srq.query().srq_limit])
        elif kind == "recv":
            _, c, side, wr_id, spec = o
            wr = v.wr.RecvWR(wr_id=wr_id, num_sge=len(spec), sg=self._sges(side, spec))
            res = self._call(lambda: qp.post_recv(wr))
            if self.prog["conns"][c]["type"] == "UD":
                self.ud_recv[(side, wr_id)] = tuple(spec[0][:3])  # type: ignore[assignment]
            t.append([kind, c, side, wr_id, res])
        elif kind == "srq_recv":
            _, wr_id, spec = o
            wr = v.wr.RecvWR(wr_id=wr_id, num_sge=len(spec), sg=self._sges(1, spec))
            if any(c["srq"] and c["type"] == "UD" for c in self.prog["conns"]):
                self.ud_recv[(1, wr_id)] = tuple(spec[0][:3])  # type: ignore[assignment]
            t.append([kind, wr_id, self._call(lambda: self.srq.post_recv(wr))])
        elif kind == "send":
            self._send(o[1], o[2], o[3])
        else:
            raise ValueError(kind)

    def _illegal(self, qp: Any, src: str, dst: str) -> None:
        e, v = self.e, self.v
        attr = v.qp.QPAttr(qp_state=getattr(e, f"IBV_QPS_{dst}"))
        attr.cur_qp_state = getattr(e, f"IBV_QPS_{src}")
        qp.modify(attr, e.IBV_QP_STATE | e.IBV_QP_CUR_STATE)

    def _call(self, fn: Callable[[], Any]) -> int:
        try:
            fn()
        except self.err as ex:
            return _errno(ex)
        return 0

    def _send(self, c: int, side: int, chain: list[dict[str, Any]]) -> None:
        v, e = self.v, self.e
        conn = self.prog["conns"][c]
        peer = 1 - side
        wrs: list[Any] = []
        nxt = None
        for w in reversed(chain):  # built last first: each WR is given its next one
            op = getattr(e, f"IBV_WR_{w['op']}")
            sg = self._sges(side, w["sg"])
            flags = (e.IBV_SEND_SIGNALED if w["sig"] else 0) | (e.IBV_SEND_INLINE if w["inl"] else 0)
            mr0 = self.mrs[side][0]
            wr = v.wr.SendWR(wr_id=w["id"], opcode=op, num_sge=max(len(sg), 1),
                             sg=sg or [v.wr.SGE(mr0.buf, 0, mr0.lkey)], send_flags=flags,
                             imm_data=w["imm"], next_wr=nxt)
            if not sg:
                wr.num_sge = 0  # pyverbs refuses to build a WR without SGEs, C does not
            if "rmr" in w:
                rmr = self.mrs[peer][w["rmr"]] or self.mrs[peer][0]
                rkey = rmr.rkey ^ 0x80 if w["rbad"] else rmr.rkey
                if w["op"].startswith("ATOMIC"):
                    wr.set_wr_atomic(rkey, rmr.buf + w["raddr"], w["cmp"], w["swap"])
                else:
                    wr.set_wr_rdma(rkey, rmr.buf + w["raddr"])
            if conn["type"] == "UD":
                dest = self.qps[c][peer]
                # a destroyed peer: send to a QPN nobody has (dropped on both)
                wr.set_wr_ud(self._ah(side), dest.qp_num if dest is not None else 0xFFFFF0, QKEY)
            wrs.append(wr)
            nxt = wr
        qp = self._qp(c, side)
        res = self._call(lambda: qp.post_send(wrs[-1]))
        self.trace.append(["send", c, side, [w["id"] for w in chain], res])

    def drain(self) -> None:
        got: list[list[Any]] = [[], []]
        if self.emulated:
            for n in range(2):
                misses = 0
                while misses < QUIET_POLLS:
                    k, wcs = self.cq[n].poll(16)
                    if k:
                        got[n].extend(wcs)
                        misses = 0
                    else:
                        misses += 1
        else:
            start = last = time.monotonic()
            while True:
                now = time.monotonic()
                if now - last >= QUIET_S or now - start >= DRAIN_MAX_S:
                    break
                for n in range(2):
                    k, wcs = self.cq[n].poll(16)
                    if k:
                        got[n].extend(wcs)
                        last = time.monotonic()
        rows = []
        for n in range(2):
            for wc in got[n]:
                who = self.qpidx.get((n, wc.qp_num), "?")  # type: ignore[call-overload]
                row = [n, who, wc.wr_id, wc.status, wc.opcode, wc.byte_len, wc.imm_data,
                       wc.wc_flags, wc.vendor_err]
                if wc.src_qp:
                    row.append(self.qpidx.get((1 - n, wc.src_qp), "src?"))  # type: ignore[call-overload]
                key = (n, wc.wr_id)
                ok = wc.status == 0 and wc.opcode == self.e.IBV_WC_RECV
                # a failed UD receive (not a flushed one) may hold the GRH too: rxe writes it
                # before the payload that does not fit
                if key in self.ud_recv and (ok or wc.status not in (0, self.e.IBV_WC_WR_FLUSH_ERR)):
                    mri, off, ln = self.ud_recv[key]
                    if self.mrs[n][mri] is None:
                        mri = 0
                    self.grh.append((n, mri, off, min(40, ln)))
                rows.append(row)
        # each QP's completions keep their order; QPs sharing a CQ are grouped (timing)
        order = {id(r): i for i, r in enumerate(rows)}
        rows.sort(key=lambda r: (r[0], str(r[1]), order[id(r)]))
        self.trace.append(["drain", rows])

    def finish(self) -> list[Any]:
        e = self.e
        states = []
        for pair in self.qps:
            for qp in pair:
                states.append(-1 if qp is None else int(qp.query(e.IBV_QP_STATE)[0].qp_state))
        self.trace.append(["states", states])
        if self.srq is not None:
            self.trace.append(["srq", self.srq.query().srq_limit])
        mems = []
        for n in range(2):
            for i, mr in enumerate(self.mrs[n]):
                if mr is None:
                    mems.append(None)
                    continue
                data = bytearray(mr.read(MR_LEN, 0))
                for gn, gi, off, ln in self.grh:
                    if (gn, gi) == (n, i):
                        data[off:off + ln] = bytes(len(data[off:off + ln]))
                mems.append(hashlib.sha256(bytes(data)).hexdigest()[:10])
        self.trace.append(["mem", mems])
        return self.trace

    def close(self) -> None:
        for ctx in reversed(self.ctx):
            close = getattr(ctx, "close", None)
            if close is not None:
                close()


def run(prog: dict[str, Any], v: ModuleType, devices: tuple[str, str]) -> list[Any]:
    """Run ``prog`` on ``devices`` (the emulator needs a current fabric with them) -> trace."""
    r = _Runner(prog, v, devices)
    try:
        for epoch in prog["epochs"]:
            for o in epoch:
                r.op(o)
            r.drain()
        return r.finish()
    finally:
        r.close()


def run_on_emulator(prog: dict[str, Any], seed: int = 0) -> list[Any]:
    import nic_emu
    from nic_emu.provider import verbs

    with nic_emu.use_fabric(nic_emu.Fabric(seed=seed, machines=2)):
        return run(prog, verbs("emu"), ("emu0", "emu1"))


def normalize(trace: Any) -> Any:
    """JSON round trip (tuples to lists), so a fresh trace compares with a recorded one."""
    return json.loads(json.dumps(trace))


def canonical(prog: dict[str, Any], trace: list[Any]) -> list[Any]:
    """``trace`` with each drain's completions grouped by node, QP and queue (send or receive),
    each group in its own order: how a QP's send and receive completions (or those of QPs
    sharing a CQ) interleave is timing on a real device, e.g. flushes of both queues after an
    error come from two kernel tasks on rxe."""
    recv_ids = {o[3] if o[0] == "recv" else o[1]
                for ep in prog["epochs"] for o in ep if o[0] in ("recv", "srq_recv")}
    out = []
    for step in trace:
        if step and step[0] == "drain":
            rows = step[1]
            order = {id(r): i for i, r in enumerate(rows)}
            rows = sorted(rows, key=lambda r: (r[0], str(r[1]), r[2] in recv_ids, order[id(r)]))
            step = ["drain", rows]
        out.append(step)
    return out


# -- recorded traces -------------------------------------------------------------------------


def trace_files() -> list[Path]:
    return sorted(TRACES.glob("rxe-*.jsonl.gz"))


def load(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


#: why a recorded program's trace differs on nic_emu; each reason is a row of nic_emu/README.md's
#: known-differences table ("Found by the trace oracle")
REASONS = {
    "rnr-timer": "rxe's retransmit timer keeps running through RNR waits (RC, rnr_retry 1 or 7): "
                 "RETRY_EXC_ERR, or not, by timing",
    "grh-mask": "a UD receive whose first SGE is shorter than the 40-byte GRH: the trace zeroes "
                "the GRH area in that SGE only, so the IPv4 header's varying ID reaches rxe's "
                "MR digest",
    "two-way": "both sides of one connection send in the same epoch and one side fails: "
               "whether the other side's message arrives before the error is timing",
    "inline-past-mr": "an inline send whose SGE runs past its MR's end: rxe copies whatever "
                      "the process's memory holds there; nic_emu's memory ends at the "
                      "allocation (a guard page): EFAULT at post",
    "recv-after-err": "a receive posted, in the same epoch, after its QP was moved to ERR: "
                      "rxe_qp_error only schedules the responder's tasklet and a user-space "
                      "post_recv rings no doorbell, so the receive is flushed if the tasklet "
                      "runs after the post and stays queued if it ran before: timing",
}


def _two_way(prog: dict[str, Any]) -> bool:
    for ep in prog["epochs"]:
        sides: dict[int, set[int]] = {}
        for o in ep:
            if o[0] == "send":
                sides.setdefault(o[1], set()).add(o[2])
        if any(len(v) == 2 for v in sides.values()):
            return True
    return False


def _inline_past_mr(prog: dict[str, Any]) -> bool:
    return any(w["inl"] and any(off + ln > MR_LEN for _, off, ln, _ in w["sg"])
               for ep in prog["epochs"] for o in ep if o[0] == "send" for w in o[3])


def _grh_unmasked(prog: dict[str, Any]) -> bool:
    ud_srq = any(c["type"] == "UD" and c["srq"] for c in prog["conns"])
    for ep in prog["epochs"]:
        for o in ep:
            if o[0] == "recv" and prog["conns"][o[1]]["type"] == "UD" and o[4][0][2] < 40:
                return True
            if o[0] == "srq_recv" and ud_srq and o[2][0][2] < 40:
                return True
    return False


def recvs_after_err(prog: dict[str, Any]) -> set[tuple[str, int]]:
    """(QP name as in a drain row, wr_id) of every receive that ``REASONS['recv-after-err']``
    makes timing: posted on a QP that an ``err`` op moved to ERR earlier in the same epoch.

    On rxe (Linux 6.1) the modify to ERR returns before the responder has looked at the receive
    queue: ``rxe_qp_error`` (rxe_qp.c) sets the states and calls
    ``rxe_sched_task(&qp->resp.task)``, a ``tasklet_schedule``, and returns.  The tasklet runs
    later (ksoftirqd, or the next interrupt exit on that CPU); in ERR ``get_req`` goes to
    ``check_resource`` (rxe_resp.c), which flushes whatever ``queue_head(qp->rq.queue)`` holds
    *then*, and exits when it is empty.  librxe's ``post_recv`` only writes the WQE into the
    mmapped queue (no system call, unlike ``post_send``'s ``post_send_db``), so nothing runs the
    responder again for it: a receive posted before the tasklet runs is flushed in this drain,
    one posted after it stays queued (until something runs the responder again, e.g. a later
    modify to ERR).  A destroyed QP takes no receive (the op is ``gone``); a ``reconnect`` between
    the two resets the QP (``rxe_qp_reset`` runs the responder itself) and the receive lands on
    an RTS QP.  A receive with more than ``MAX_RECV_SGE`` SGEs is refused at post (EINVAL), and
    SRQ receives are never flushed by a QP (``check_resource`` exits)."""
    out: set[tuple[str, int]] = set()
    gone: set[tuple[int, int]] = set()
    for ep in prog["epochs"]:
        erred: set[tuple[int, int]] = set()
        for o in ep:
            kind = o[0]
            if kind == "destroy":
                gone.add((o[1], o[2]))
            elif kind == "err" and (o[1], o[2]) not in gone:
                erred.add((o[1], o[2]))
            elif kind == "reconnect" and not {(o[1], 0), (o[1], 1)} & gone:
                erred -= {(o[1], 0), (o[1], 1)}
            elif (kind == "recv" and (o[1], o[2]) in erred - gone
                  and len(o[4]) <= MAX_RECV_SGE):
                out.add((f"{o[1]}{'ab'[o[2]]}", o[3]))
    return out


def racy(prog: dict[str, Any]) -> bool:
    """A program whose rxe trace is not a function of the program: an RC connection that may
    wait out RNR NAKs (rnr_retry 1 or 7) races rxe's retransmit timer
    (``REASONS['rnr-timer']``), a GRH that the digest does not mask (``'grh-mask'``), both
    sides of a connection sending in one epoch (``'two-way'``), an inline SGE past its MR
    (``'inline-past-mr'``), or a receive posted after its QP's modify to ERR in the same epoch
    (``'recv-after-err'``)."""
    return (any(c["type"] == "RC" and c["rnr"] != 0 for c in prog["conns"]) or _grh_unmasked(prog)
            or _two_way(prog) or _inline_past_mr(prog) or bool(recvs_after_err(prog)))


def _only_racing_flushes(prog: dict[str, Any], x: list[Any], y: list[Any]) -> bool:
    """Two drains that differ only by flushed receives of ``recvs_after_err``."""
    racing = recvs_after_err(prog)
    if not racing:
        return False
    a = Counter(json.dumps(r) for r in x[1])
    b = Counter(json.dumps(r) for r in y[1])
    extra = [json.loads(r) for r in ((a - b) + (b - a)).elements()]
    return bool(extra) and all(r[3] == WR_FLUSH_ERR and (r[1], r[2]) in racing for r in extra)


def classify(prog: dict[str, Any], want: list[Any], got: list[Any]) -> str | None:
    """The reason (a ``REASONS`` key) for a divergence, when it is a known one."""
    for x, y in zip(want, got, strict=False):
        if x == y:
            continue
        if x[0] == "mem" and y[0] == "mem" and _grh_unmasked(prog):
            return "grh-mask"
        if x[0] == "send" and y[0] == "send" and x[-1] == 0 and y[-1] == 14 and _inline_past_mr(prog):
            return "inline-past-mr"
        if x[0] == "drain" and y[0] == "drain" and any(
                c["type"] == "RC" and c["rnr"] != 0 for c in prog["conns"]):
            statuses = {r[3] for r in x[1]} ^ {r[3] for r in y[1]}
            if statuses & {12, 13} or len(x[1]) != len(y[1]):
                return "rnr-timer"
        if x[0] == "drain" and y[0] == "drain" and _two_way(prog):
            return "two-way"
        if x[0] == "drain" and y[0] == "drain" and _only_racing_flushes(prog, x, y):
            return "recv-after-err"
        return None
    return None


def first_difference(a: list[Any], b: list[Any]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"step {i}: recorded {json.dumps(x)}\n        now      {json.dumps(y)}"
    return f"lengths {len(a)} != {len(b)}"


def record(seeds: range, out: Path, chunk: int) -> int:
    from nic_emu.provider import verbs

    v = verbs()
    devices = tuple(os.environ.get("GOSSAMER_DEVICES", "rxe0,rxe1").split(","))[:2]
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    t0 = time.monotonic()
    for lo in range(seeds.start, seeds.stop, chunk):
        hi = min(lo + chunk, seeds.stop) - 1
        path = out / f"rxe-{lo:05d}-{hi:05d}.jsonl.gz"
        lines = []
        for seed in range(lo, hi + 1):
            prog = program(seed)
            try:
                trace = normalize(run(prog, v, devices))  # type: ignore[arg-type]
            except Exception as ex:  # a runner bug: recorded as such, reported
                failures += 1
                trace = [["crash", f"{type(ex).__name__}: {ex}"]]
            lines.append(json.dumps({"seed": seed, "prog": digest(prog), "trace": trace},
                                    separators=(",", ":")))
        with gzip.open(path, "wt") as f:
            f.write("\n".join(lines) + "\n")
        print(f"difftrace: {path.name} ({time.monotonic() - t0:.0f} s)", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="run seeds on this provider and write trace files")
    rec.add_argument("--seeds", default="0-999")
    rec.add_argument("--out", default=str(TRACES))
    rec.add_argument("--chunk", type=int, default=250)
    cmp_ = sub.add_parser("compare", help="replay recorded traces on nic_emu; list divergences")
    cmp_.add_argument("files", nargs="*")
    cmp_.add_argument("-v", action="store_true")
    a = ap.parse_args(argv)
    if a.cmd == "record":
        lo, hi = (int(x) for x in a.seeds.split("-"))
        return 1 if record(range(lo, hi + 1), Path(a.out), a.chunk) else 0
    files = [Path(f) for f in a.files] or trace_files()
    total = bad = 0
    known: dict[str, int] = {}
    for path in files:
        for rec_ in load(path):
            total += 1
            prog = program(rec_["seed"])
            got = canonical(prog, normalize(run_on_emulator(prog)))
            want = canonical(prog, rec_["trace"])
            if got != want:
                why = classify(prog, want, got)
                if why is not None:
                    known[why] = known.get(why, 0) + 1
                    if not a.v:
                        continue
                bad += 1
                print(f"seed {rec_['seed']} ({why or 'unexplained'}): {first_difference(want, got)}")
                if a.v:
                    print(json.dumps(prog))
    print(f"difftrace: {total} programs, {bad} unexplained divergences, known: {known}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
