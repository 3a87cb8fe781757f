"""The suite's own end of a verbs session with a trustee under test ([ADPT-12]).

`VerbsPeer` is a client machine written against the pyverbs API only (`nic_emu.provider.verbs()`:
the emulator, or real pyverbs with `GOSSAMER_VERBS=pyverbs`). Built from the trustee's hello
([BOOT-2], [BOOT-3], [BOOT-6]) it mirrors the trustee's thread count `T`: one RC QP per thread,
QP `i` connected to the trustee's `qpns[i]` ([BOOT-8]), and `T * T` response slots of `S` bytes in
one region registered `LOCAL_WRITE | REMOTE_WRITE` (response slot of (client c, trustee t) has id
`c * T + t`). It writes crafted batch images into the trustee's request slots, each as one RDMA
WRITE WITH IMMEDIATE of exactly the image's bytes at offset 0 ([LAND-1]) with the immediate the
case chose ([LAND-2]; hostile cases choose wrong ones), and reads a response only after polling
the receive completion whose immediate names its slot ([LAND-3], [RSP-1]). It keeps `2 * T`
receives posted on every QP and reposts one per receive completion ([FLOW-4]); its own QPs use
`rnr_retry = 0`, so a trustee that lets its receive queue run dry fails at once instead of being
retried around.

The TCP fallback side channel ([FB-3], [FB-8]): `open_fallback` opens one `FallbackLink` per client
thread to the `fallback_port` of the trustee's hello before any batch is written, each starting
with the 4-byte caller hello (our machine number, the thread number, u16 LE), then the 16-byte
`fallback_secret` our hello announced ([SEC-6]; a peer built with `fallback_secret=False` announces
none and sends the 4 bytes alone). The driver sends a
batch's request frames on its client thread's link before the WRITE ([FB-4]) and collects the
response frames (kind 2) that arrive on each link, keeping which link they came on.

Nothing here decides a verdict: the driver returns the bytes and the completion facts, and the
cases judge them.
"""

from __future__ import annotations

import secrets
import select
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import attrs

from nic_emu.connect import connect_rc

from ..oracle.bootstrap import FALLBACK_SECRET_SIZE, Hello, caller_hello
from ..oracle.frames import Frame, Reader
from ..oracle.slot import Config

_IMM_RECV = 1 << 7  # IBV_WC_RECV bit of a receive completion's opcode


class PeerError(Exception):
    """A verb or a completion failed: the session is broken (the case is an ERROR)."""


@attrs.frozen(slots=True)
class Landed:
    """A response that landed in one of our response slots: its bytes and completion facts."""

    slot_id: int
    imm: int
    byte_len: int
    image: bytes
    #: the index of our QP the completion came on ([BOOT-8]: trustee thread t answers on QP t)
    qp: int = -1
    #: seconds from our WRITE into the request slot to this completion being polled
    elapsed: float = 0.0
    #: the immediate named this slot only when read byte-swapped ([GEN-1]); `imm` is as received
    swapped: bool = False


def bswap32(x: int) -> int:
    """A 32-bit value with its bytes reversed (what htonl() does on a little-endian host)."""
    return int.from_bytes((x & 0xFFFFFFFF).to_bytes(4, "little"), "big")


def swapped_imm_message(got: int, want: int) -> str:
    return (f"immediate byte-swapped: got {got:#010x}, expected {want:#010x} (see [GEN-1]: the immediate is "
            "little-endian; libibverbs declares imm_data __be32, so assign the value as it is, without htonl())")


CALLER = struct.Struct("<HH")  # [FB-8] machine number, thread number


class FallbackLink:
    """One fallback connection the suite opened to the trustee machine ([FB-3], [FB-8]).

    Non-blocking after the caller hello; `poll` moves what arrived into `frames`; `closed` is set
    when the trustee closed the connection (or reset it), `broken` when its bytes stopped parsing
    as frames ([FB-6]).
    """

    def __init__(self, host: str, port: int, hello: bytes, limit: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if hello:
            self.sock.sendall(hello)
        self.sock.setblocking(False)
        self.reader = Reader(limit)  # the oracle's [DEC-3] reader
        self.frames: list[Frame] = []
        self.closed = False
        self.broken: str | None = None
        self.sent = 0

    def send(self, data: bytes, pump: Callable[[], object] | None, timeout: float) -> bool:
        """Send all of `data`, pumping an in-process trustee while the socket is full; False when
        the trustee has closed the connection."""
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            if self.closed:
                return False
            try:
                n = self.sock.send(view)
            except BlockingIOError:
                n = 0
            except OSError:
                self.closed = True
                return False
            view = view[n:]
            self.sent += n
            if view:
                if time.monotonic() > deadline:
                    raise PeerError(f"fallback connection: {len(view)} bytes not taken within {timeout:.0f} s")
                if pump is not None:
                    pump()
                self.poll()
                select.select([], [self.sock], [], 0.01)
        return True

    def poll(self) -> bool:
        """Read what arrived (never blocks); True if any byte came."""
        moved = False
        while not self.closed:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            moved = True
            if self.broken is None:
                self.frames.extend(self.reader.feed(data))
                if self.reader.broken is not None:
                    self.broken = str(self.reader.broken)
        return moved

    def take(self, slot_id: int, seq: int, index: int) -> Frame | None:
        for i, f in enumerate(self.frames):
            if (f.kind, f.slot_id, f.seq, f.index) == (2, slot_id, seq, index):
                return self.frames.pop(i)
        return None

    def wait_closed(self, timeout: float, pump: Callable[[], object] | None) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            if pump is not None:
                pump()
            if not self.poll():
                select.select([self.sock], [], [], 0.0 if pump is not None else 0.01)
        return self.closed

    def close(self) -> None:
        self.sock.close()


def _gid_bytes(g: Any) -> bytes:
    raw = getattr(g, "raw", None)
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    return bytes.fromhex(str(g.gid).replace(":", ""))


def _gid_text(raw: bytes) -> str:
    return ":".join(f"{raw[i]:02x}{raw[i + 1]:02x}" for i in range(0, 16, 2))


class RcEndpoint:
    """What both of the suite's machine roles hold: a device, one CQ, a `T x T` slot region
    (LOCAL_WRITE | REMOTE_WRITE, [SLOT-1]) with a staging copy to write from, and `T` RC QPs
    with `2T` receives each ([FLOW-4], [BOOT-8])."""

    v: Any  # the verbs provider (nic_emu or real pyverbs), set by the subclass

    def _open(self, v: Any, device: str, t: int, size: int, gid_index: int) -> None:
        from nic_emu.provider import mr_view

        e = v.enums
        self.ctx = v.device.Context(name=device)
        self.pd = v.pd.PD(self.ctx)
        self.cq = v.cq.CQ(self.ctx, max(64, 8 * t * t + 4 * t + 16))
        region = t * t * size
        self.mr = v.mr.MR(self.pd, region, e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE)
        self.mem: memoryview = mr_view(self.mr)
        self.stage = v.mr.MR(self.pd, region, e.IBV_ACCESS_LOCAL_WRITE)
        self.stage_mem: memoryview = mr_view(self.stage)
        self.scratch = v.mr.MR(self.pd, 64, e.IBV_ACCESS_LOCAL_WRITE)
        self.gid = _gid_bytes(self.ctx.query_gid(1, gid_index))
        self.recv_depth = 2 * t  # [FLOW-4]
        self.qps: list[Any] = []
        for _ in range(t):
            cap = v.qp.QPCap(max_send_wr=2 * t * t + 8, max_recv_wr=self.recv_depth + 4, max_send_sge=1,
                             max_recv_sge=1)
            init = v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=self.cq, rcq=self.cq, cap=cap, sq_sig_all=0)
            self.qps.append(v.qp.QP(self.pd, init))
        self.qp_index = {qp.qp_num: i for i, qp in enumerate(self.qps)}

    def _post_recv(self, qp: Any) -> None:
        v = self.v
        qp.post_recv(v.wr.RecvWR(wr_id=0, num_sge=1, sg=[v.wr.SGE(self.scratch.buf, 8, self.scratch.lkey)]))

    def _completions(self, hint: Callable[[str], str] = lambda _: "") -> list[Any]:
        """Poll the CQ once; a failed completion is a PeerError naming its status (plus `hint`)."""
        v = self.v
        try:
            n, wcs = self.cq.poll(64)
        except v.pyverbs_error.PyverbsError as exc:
            raise PeerError(f"poll failed: {exc}") from None
        got = list(wcs[:n]) if n else []
        for wc in got:
            if wc.status != 0:
                try:
                    what = v.enums.ibv_wc_status(wc.status).name
                except (ValueError, AttributeError):
                    what = f"status {wc.status}"
                raise PeerError(f"completion error {what} on QP {wc.qp_num}{hint(what)}")
        return got


class VerbsPeer(RcEndpoint):
    """A client machine of `T` threads facing one trustee machine (see the module docstring)."""

    def __init__(self, v: Any, device: str, trustee: Hello, *, machine: int = 1, gid_index: int = 1,
                 psn: int = 0x1234, rnr_retry: int = 0, fallback_secret: bool = True) -> None:
        self.v = v
        self.trustee = trustee
        self.machine = machine
        #: [SEC-6] the secret our hello announces and our fallback connections present (None: none)
        self.fallback_secret = secrets.token_bytes(FALLBACK_SECRET_SIZE) if fallback_secret else None
        self.config: Config = trustee.config  # [BOOT-2] S and K of the accepting side
        self.threads = t = trustee.threads
        self.gid_index = gid_index
        self.psn = psn & 0xFFFFFF
        self.rnr_retry = rnr_retry
        rdma = trustee.rdma
        try:
            self.qpns = [int(q) for q in rdma["qpns"]]
            slots = rdma["slots"]
            self.base, self.rkey = int(slots["base"]), int(slots["rkey"])
            self.slot_ids = [int(i) for i in slots["ids"]]
            self.request_slots = [[int(i) for i in row] for row in rdma["request_slots"]]
            self.peer_gid = bytes(rdma["gid"])
            self.peer_psn = int(rdma["psn"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PeerError(f"the trustee's hello lacks [BOOT-3]/[BOOT-6] keys: {exc!r}") from None
        if len(self.qpns) != t or len(self.request_slots) != t or any(len(r) != t for r in self.request_slots):
            raise PeerError(f"[BOOT-6]/[BOOT-8]: {t} threads need {t} qpns and a {t}x{t} request_slots table")
        self._open(v, device, t, self.config.slot_size, gid_index)
        self.landed: dict[int, Landed] = {}
        self.links: dict[int, FallbackLink] = {}  # client thread -> its fallback connection
        self.fallback_error: str | None = None
        self.sends_done = 0
        self.receives = 0
        self.reposts = 0
        #: response slot id -> (seq16 of the response it awaits, when the request was written)
        self.awaiting: dict[int, tuple[int, float]] = {}
        #: byte-swapped immediates seen ([GEN-1]), as messages
        self.imm_faults: list[str] = []
        #: responses that landed with no batch of ours waiting for them ([FLOW-2]): (slot, imm)
        self.unsolicited: list[tuple[int, int]] = []

    # -- bootstrap -------------------------------------------------------------------------

    def response_slot(self, client_thread: int, trustee_thread: int) -> int:
        return client_thread * self.threads + trustee_thread

    def hello(self) -> Hello:
        """Our hello: a client machine hosting response slots only ([BOOT-3], [BOOT-6])."""
        t = self.threads
        return Hello(
            machine=self.machine, threads=t, config=self.config,
            rdma={
                "gid": self.gid,
                "qpns": [qp.qp_num for qp in self.qps],
                "psn": self.psn,
                "slots": {"base": self.mr.buf, "rkey": self.mr.rkey, "ids": list(range(t * t))},
                "request_slots": [[] for _ in range(t)],  # we run no trustee threads
                "response_slots": [[self.response_slot(c, tt) for tt in range(t)] for c in range(t)],
                "fallback_port": 0,
                **({} if self.fallback_secret is None else {"fallback_secret": self.fallback_secret}),
            },
        )

    def connect(self) -> None:
        """QP `i` to RTS against the trustee's `qpns[i]`, then `2 * T` receives each ([BOOT-8])."""
        gid = _gid_text(self.peer_gid)
        for i, qp in enumerate(self.qps):
            connect_rc(self.v, qp, dest_qpn=self.qpns[i], dest_gid=gid, sq_psn=self.psn, rq_psn=self.peer_psn,
                       sgid_index=self.gid_index, min_rnr_timer=1, rnr_retry=self.rnr_retry)
            for _ in range(self.recv_depth):
                self._post_recv(qp)

    def open_fallback(self, host: str, timeout: float = 10.0) -> None:
        """[FB-8]: one connection per client thread to the trustee's `fallback_port`, each opened
        with the caller hello, before any batch is written. A trustee that cannot be reached is
        noted in `fallback_error` (the cases that need the channel then error out)."""
        try:
            port = int(self.trustee.rdma["fallback_port"])
        except (KeyError, TypeError, ValueError):
            self.fallback_error = "the trustee's hello has no fallback_port ([BOOT-3])"
            return
        try:
            for c in range(self.threads):
                self.links[c] = FallbackLink(host, port, caller_hello(self.machine, c, self.fallback_secret),
                                             self.config.fallback_limit, timeout)
        except OSError as e:
            self.fallback_error = f"cannot open the fallback connection to {host}:{port}: {e}"

    def link(self, client_thread: int) -> FallbackLink:
        got = self.links.get(client_thread)
        if got is None:
            raise PeerError(self.fallback_error or f"no fallback connection for client thread {client_thread}")
        return got

    # -- data path -------------------------------------------------------------------------

    def write(self, client_thread: int, trustee_thread: int, image: bytes, imm: int,
              slot_id: int | None = None, length: int | None = None, *, qp: int | None = None,
              awaited: bool = True) -> int:
        """One RDMA WRITE WITH IMMEDIATE of `image` at offset 0 of the request slot of
        (client_thread, trustee_thread) (or of `slot_id`), on QP `client_thread` (or `qp`,
        [LAND-1]); `length` < len(image) writes only that many of its bytes (a WRITE shorter than
        its header claims; 0 is a WRITE of no bytes, [FLOW-7]). `awaited=False`: no response is
        owed ([LAND-8]), so one that lands is unsolicited. Returns the slot id written."""
        v = self.v
        e = v.enums
        size = self.config.slot_size
        if slot_id is None:
            slot_id = self.request_slots[client_thread][trustee_thread]
        n = len(image) if length is None else length
        if not 0 <= n <= size or n > len(image):
            raise PeerError(f"an image of {n} bytes does not fit a slot of {size} ([SLOT-4])")
        soff = (client_thread * self.threads + trustee_thread) * size
        self.stage_mem[soff : soff + n] = image[:n]
        # [RSP-1]: the response names the seq of the header we wrote ([FLOW-7]: 0 under 4 bytes)
        seq16 = int.from_bytes(image[0:4], "little") & 0xFFFF if n >= 4 else 0
        if awaited:
            self.awaiting[self.response_slot(client_thread, trustee_thread)] = (seq16, time.monotonic())
        sge = v.wr.SGE(self.stage.buf + soff, n, self.stage.lkey)
        wr = v.wr.SendWR(wr_id=slot_id, opcode=e.IBV_WR_RDMA_WRITE_WITH_IMM, num_sge=1, sg=[sge],
                         imm_data=imm & 0xFFFFFFFF, send_flags=e.IBV_SEND_SIGNALED)
        wr.set_wr_rdma(self.rkey, self.base + slot_id * size)
        try:
            self.qps[client_thread if qp is None else qp].post_send(wr)
        except v.pyverbs_error.PyverbsError as exc:
            raise PeerError(f"post_send failed: {exc}") from None
        return slot_id

    def send(self, qp: int, data: bytes, imm: int | None = None) -> None:
        """A plain SEND (or SEND WITH IMMEDIATE) of `data` (at most 8 bytes; the live cases send
        none, which fits any receive) on our QP `qp`: a completion that names no batch ([LAND-8])."""
        v = self.v
        e = v.enums
        n = len(data)
        if n > 8:
            raise PeerError(f"a SEND of {n} bytes may not fit the trustee's receive buffers")
        self.stage_mem[0:n] = data
        sge = v.wr.SGE(self.stage.buf, n, self.stage.lkey)
        if imm is None:
            wr = v.wr.SendWR(wr_id=0, opcode=e.IBV_WR_SEND, num_sge=1, sg=[sge], send_flags=e.IBV_SEND_SIGNALED)
        else:
            wr = v.wr.SendWR(wr_id=0, opcode=e.IBV_WR_SEND_WITH_IMM, num_sge=1, sg=[sge],
                             imm_data=imm & 0xFFFFFFFF, send_flags=e.IBV_SEND_SIGNALED)
        try:
            self.qps[qp].post_send(wr)
        except v.pyverbs_error.PyverbsError as exc:
            raise PeerError(f"post_send failed: {exc}") from None

    def poll(self) -> bool:
        """Poll our CQ once; landed responses go to `landed` by slot id. True if anything came."""
        wcs = self._completions(lambda what: " (the trustee had no receive posted: [FLOW-4])" if "RNR" in what else "")
        for wc in wcs:
            if wc.opcode & _IMM_RECV:
                self.receives += 1
                i = self.qp_index.get(wc.qp_num)
                if i is not None:
                    self._post_recv(self.qps[i])  # [FLOW-4]
                    self.reposts += 1
                imm = wc.imm_data & 0xFFFFFFFF
                slot_id, swapped = self._slot_of(imm)
                asked = self.awaiting.pop(slot_id, None)
                if asked is None:  # [FLOW-2]: no request of ours is waiting for this response
                    self.unsolicited.append((slot_id, imm))
                since = asked[1] if asked is not None else time.monotonic()
                self.landed[slot_id] = Landed(slot_id, imm, wc.byte_len, self._read(slot_id),
                                              qp=-1 if i is None else i, elapsed=time.monotonic() - since,
                                              swapped=swapped)
            else:
                self.sends_done += 1
        return bool(wcs)

    def _slot_of(self, imm: int) -> tuple[int, bool]:
        """The response slot a completion's immediate names, and whether it names it only when
        read byte-swapped ([GEN-1]: a peer that wrote htonl(imm))."""
        slot_id, seq16 = imm >> 16, imm & 0xFFFF
        ours = self.threads * self.threads
        want = self.awaiting.get(slot_id)
        if slot_id < ours and (want is None or want[0] == seq16):
            return slot_id, False
        sw = bswap32(imm)
        want_sw = self.awaiting.get(sw >> 16)
        if sw >> 16 < ours and want_sw is not None and want_sw[0] == sw & 0xFFFF:
            self.imm_faults.append(swapped_imm_message(imm, sw))
            return sw >> 16, True
        return slot_id, False

    def _read(self, slot_id: int) -> bytes:
        """The response image in our slot `slot_id`, read after its completion ([LAND-3])."""
        size = self.config.slot_size
        if slot_id >= self.threads * self.threads:
            return b""
        off = slot_id * size
        words = int.from_bytes(self.mem[off + 4 : off + 6], "little")
        n = 8 * words if 16 <= 8 * words <= size else size
        return bytes(self.mem[off : off + n])

    def wait(self, slot_id: int, timeout: float, pump: Callable[[], object] | None = None) -> Landed | None:
        """The response landing in our response slot `slot_id`, or None after `timeout` seconds
        (with `pump`, the in-process trustee's step, at most `timeout * 10000` rounds), or at once
        when, meanwhile, a response lands in a slot of ours that no batch is waiting on (a trustee
        answering into the wrong response slot: `misdirected` says where)."""
        deadline = time.monotonic() + timeout
        spins = 0
        stray = len(self.unsolicited)
        while True:
            got = self.landed.pop(slot_id, None)
            if got is not None:
                return got
            if pump is not None:
                pump()
            progressed = self.poll()
            if len(self.unsolicited) > stray and slot_id not in self.landed:
                return None
            spins += 1
            if not progressed and time.monotonic() > deadline:
                return None
            if pump is not None and spins > timeout * 10000:
                return None

    def misdirected(self, slot_id: int) -> str:
        """Why no response came to our slot `slot_id`, when responses landed in slots nobody asked
        ([BOOT-6], [FLOW-2]); "" otherwise."""
        if not self.unsolicited:
            return ""
        where = ", ".join(f"slot {s} (immediate {imm:#010x})" for s, imm in self.unsolicited[-3:])
        return (f"; instead a response landed in {where}, which no batch of ours was waiting on: our hello's "
                f"response_slots[c][t] names the slot trustee thread t answers client thread c in, here "
                f"{slot_id} ([BOOT-6]), and each batch gets exactly one response ([FLOW-2])")

    def close(self) -> None:
        for lk in self.links.values():
            lk.close()
        self.links.clear()
        close = getattr(self.ctx, "close", None)
        if close is not None:
            close()
