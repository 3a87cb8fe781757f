"""The suite's own end of a session with a client under test: a trustee machine ([ADPT-14]).

`SuiteTrustee` is a trustee machine of `T` threads written against the pyverbs API only (the
emulator, or real pyverbs with `GOSSAMER_VERBS=pyverbs`). It hosts the `T x T` request slots the
client writes (slot of (client c, trustee t) has id `c * T + t`) in one region registered
`LOCAL_WRITE | REMOTE_WRITE` ([SLOT-1]), one RC QP per thread (QP `i` connected to the client's
`qpns[i]`, [BOOT-8]), `2 * T` receives posted on each and one reposted per receive completion
([FLOW-4]). A batch is read only after the receive completion whose immediate names its slot
([LAND-3]); the suite writes crafted response images into the client's response slots with one
RDMA WRITE WITH IMMEDIATE each, on the QP of the answering trustee thread ([RSP-1], [BOOT-8]).

`FallbackListener` is its side of the TCP fallback channel ([FB-3], [FB-8]): it accepts the client's
connections, reads each caller hello (and the `fallback_secret` after it when the client's hello
announced one, [SEC-6]), collects the request frames (kind 1) and sends response frames (kind 2) on
the connection the client thread opened.

Nothing here decides a verdict: the driver (`client_role.py`) returns the bytes and completion
facts, and the cases judge them.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import attrs

from nic_emu.connect import connect_rc

from ..oracle.bootstrap import Hello
from ..oracle.frames import Frame, Reader
from ..oracle.slot import Config
from .suite_client import CALLER, PeerError, RcEndpoint, _gid_text

_IMM_RECV = 1 << 7


@attrs.frozen(slots=True)
class Arrival:
    """A request batch that landed in one of our request slots: its bytes and completion facts."""

    slot_id: int
    qp_index: int
    imm: int
    byte_len: int
    image: bytes
    at: float


class SuiteTrustee(RcEndpoint):
    """A trustee machine of `threads` threads facing one client machine (module docstring)."""

    def __init__(self, v: Any, device: str, threads: int, config: Config, *, machine: int = 1,
                 gid_index: int = 1, psn: int = 0x2345) -> None:
        self.v = v
        self.machine = machine
        self.config = config
        self.threads = t = threads
        self.gid_index = gid_index
        self.psn = psn & 0xFFFFFF
        self._open(v, device, t, config.slot_size, gid_index)
        self.client: Hello | None = None
        self.arrivals: list[Arrival] = []
        self.stray_imms: list[int] = []

    def request_slot(self, client_thread: int, trustee_thread: int) -> int:
        return client_thread * self.threads + trustee_thread

    def hello(self, fallback_port: int) -> Hello:
        """Our hello: a trustee machine hosting request slots only ([BOOT-3], [BOOT-6], [ADPT-14])."""
        t = self.threads
        return Hello(
            machine=self.machine, threads=t, config=self.config,
            rdma={
                "gid": self.gid,
                "qpns": [qp.qp_num for qp in self.qps],
                "psn": self.psn,
                "slots": {"base": self.mr.buf, "rkey": self.mr.rkey, "ids": list(range(t * t))},
                "request_slots": [[self.request_slot(c, tt) for tt in range(t)] for c in range(t)],
                "response_slots": [[] for _ in range(t)],  # we run no client threads
                "fallback_port": fallback_port,
            },
        )

    def connect(self, client: Hello) -> None:
        """QP `i` to RTS against the client's `qpns[i]`, then `2 * T` receives each ([BOOT-8])."""
        rdma = client.rdma
        try:
            qpns = [int(q) for q in rdma["qpns"]]
            self.peer_base = int(rdma["slots"]["base"])
            self.peer_rkey = int(rdma["slots"]["rkey"])
            self.response_slots = [[int(i) for i in row] for row in rdma["response_slots"]]
            gid, psn = _gid_text(bytes(rdma["gid"])), int(rdma["psn"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PeerError(f"the client's hello lacks [BOOT-3]/[BOOT-6] keys: {exc!r}") from None
        t = self.threads
        if len(qpns) != t or len(self.response_slots) != t or any(len(r) != t for r in self.response_slots):
            raise PeerError(f"[BOOT-6]/[BOOT-8]: {t} threads need {t} qpns and a {t}x{t} response_slots table")
        self.client = client
        for i, qp in enumerate(self.qps):
            connect_rc(self.v, qp, dest_qpn=qpns[i], dest_gid=gid, sq_psn=self.psn, rq_psn=psn,
                       sgid_index=self.gid_index, min_rnr_timer=1, rnr_retry=0)
            for _ in range(self.recv_depth):
                self._post_recv(qp)

    def poll(self) -> bool:
        """Poll our CQ once; landed batches go to `arrivals`. True if anything came."""
        wcs = self._completions()
        for wc in wcs:
            if wc.opcode & _IMM_RECV:
                i = self.qp_index.get(wc.qp_num, -1)
                if i >= 0:
                    self._post_recv(self.qps[i])  # [FLOW-4]
                slot_id = (wc.imm_data >> 16) & 0xFFFF
                if slot_id >= self.threads * self.threads:
                    self.stray_imms.append(wc.imm_data)
                    continue
                self.arrivals.append(Arrival(slot_id, i, wc.imm_data, wc.byte_len, self._read(slot_id, wc.byte_len),
                                             time.monotonic()))
        return bool(wcs)

    def _read(self, slot_id: int, byte_len: int) -> bytes:
        """The batch in request slot `slot_id`, read after its completion ([LAND-3]): the bytes the
        WRITE carried (`byte_len`, bounded by S)."""
        size = self.config.slot_size
        off = slot_id * size
        n = byte_len if 0 < byte_len <= size else size
        return bytes(self.mem[off : off + n])

    def respond(self, client_thread: int, trustee_thread: int, image: bytes, imm: int) -> int:
        """One RDMA WRITE WITH IMMEDIATE of `image` into the client's response slot of
        (client_thread, trustee_thread), on our QP `trustee_thread` ([RSP-1], [BOOT-8])."""
        v = self.v
        e = v.enums
        size = self.config.slot_size
        slot_id = self.response_slots[client_thread][trustee_thread]
        n = len(image)
        if not 0 < n <= size:
            raise PeerError(f"a response of {n} bytes does not fit a slot of {size}")
        soff = self.request_slot(client_thread, trustee_thread) * size
        self.stage_mem[soff : soff + n] = image
        sge = v.wr.SGE(self.stage.buf + soff, n, self.stage.lkey)
        wr = v.wr.SendWR(wr_id=slot_id, opcode=e.IBV_WR_RDMA_WRITE_WITH_IMM, num_sge=1, sg=[sge],
                         imm_data=imm & 0xFFFFFFFF, send_flags=e.IBV_SEND_SIGNALED)
        wr.set_wr_rdma(self.peer_rkey, self.peer_base + slot_id * size)
        try:
            self.qps[trustee_thread].post_send(wr)
        except v.pyverbs_error.PyverbsError as exc:
            raise PeerError(f"post_send failed: {exc}") from None
        return slot_id

    def close(self) -> None:
        close = getattr(self.ctx, "close", None)
        if close is not None:
            close()


class _Conn:
    __slots__ = ("caller", "closed", "got", "reader", "secret_ok", "sock")

    def __init__(self, sock: socket.socket, limit: int) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.got = b""
        self.caller: tuple[int, int] | None = None
        #: [SEC-6] whether the bytes after the caller hello were the client's fallback secret
        self.secret_ok: bool | None = None
        self.reader = Reader(limit)
        self.closed = False


class FallbackListener:
    """The suite's fallback port ([FB-3], [FB-8]): caller hellos, request frames in, response
    frames out on the connection of the client thread they answer."""

    def __init__(self, host: str, limit: int) -> None:
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, 0))
        self.ls.listen(16)
        self.ls.setblocking(False)
        self.port = int(self.ls.getsockname()[1])
        self.limit = limit
        self.conns: list[_Conn] = []
        #: (caller, frame) in arrival order; caller is the (machine, thread) of its connection
        self.frames: list[tuple[tuple[int, int] | None, Frame]] = []
        self.broken: list[str] = []
        #: [SEC-6] the fallback secret the client's hello announced (set by the driver; None: none)
        self.secret: bytes | None = None

    def poll(self) -> bool:
        moved = False
        while True:
            try:
                sock, _ = self.ls.accept()
            except (BlockingIOError, InterruptedError):
                break
            self.conns.append(_Conn(sock, self.limit))
            moved = True
        for c in self.conns:
            while not c.closed:
                try:
                    data = c.sock.recv(1 << 20)
                except BlockingIOError:
                    break
                except OSError:
                    data = b""
                if not data:
                    c.closed = True
                    break
                moved = True
                if c.caller is None:
                    secret = self.secret or b""
                    need = CALLER.size + len(secret) - len(c.got)
                    c.got += data[:need]
                    data = data[need:]
                    if len(c.got) < CALLER.size + len(secret):
                        continue
                    m, t = CALLER.unpack_from(c.got)
                    c.caller = (m, t)
                    c.secret_ok = c.got[CALLER.size :] == secret
                for f in c.reader.feed(data):  # the oracle's [DEC-3] reader
                    self.frames.append((c.caller, f))
                if c.reader.broken is not None:
                    self.broken.append(str(c.reader.broken))
                    c.closed = True
        return moved

    def callers(self) -> list[tuple[int, int]]:
        return [c.caller for c in self.conns if c.caller is not None]

    def callers_secret(self) -> list[bool]:
        """For each of `callers()`: whether its connection presented the client's secret ([SEC-6])."""
        return [bool(c.secret_ok) for c in self.conns if c.caller is not None]

    def take(self, slot_id: int, seq: int, index: int) -> tuple[tuple[int, int] | None, Frame] | None:
        for i, (_, f) in enumerate(self.frames):
            if (f.kind, f.slot_id, f.seq, f.index) == (1, slot_id, seq, index):
                return self.frames.pop(i)
        return None

    def send(self, caller: tuple[int, int], data: bytes, timeout: float = 10.0) -> bool:
        """Send `data` on the connection whose caller hello named `caller` ([FB-8])."""
        for c in self.conns:
            if c.caller == caller and not c.closed:
                c.sock.setblocking(True)
                c.sock.settimeout(timeout)
                try:
                    c.sock.sendall(data)
                except OSError:
                    return False
                finally:
                    c.sock.setblocking(False)
                return True
        return False

    def close(self) -> None:
        for c in self.conns:
            c.sock.close()
        self.ls.close()
