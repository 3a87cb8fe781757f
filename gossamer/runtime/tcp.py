"""The TCP fallback side channel, over real sockets ([FB-3] .. [FB-8]).

One TCP connection per (client thread, remote machine) pair ([FB-3]), opened by the client, whose
first 4 bytes are its machine and thread number ([FB-8]): the client end sends request payloads
(kind 1), the trustee end sends response payloads back on the same connection (kind 2). Frames are
parsed by the codec's sans-I/O `FrameReader`; this module only moves bytes.

Every connection a listener accepts is identified by its caller hello alone, so a client in another
process or host (`serve_remote`) is served like a local one; a hello naming no client of this
machine closes that connection and nothing else ([FB-9]). [SEC-6]: when the named client machine's
bootstrap hello carried a `fallback_secret`, the caller hello is followed by those 16 bytes, and a
connection without them is closed the same way (`refusals` keeps the typed errors, `BAD_FRAME`).

The whole rack lives in one OS thread, so sockets are non-blocking and `pump` moves whatever can
move. A receiver that needs a frame ([FB-5]) pumps, and waits in `select`, until the frame is
there or the fallback timeout passes: the wait happens inside one scheduler step, so a run stays
a pure function of its seed (TCP timing cannot reorder anything the scheduler decides).
Same-machine pairs never touch a socket: their frames are encoded and parsed in memory.
"""

from __future__ import annotations

import hmac
import secrets
import select
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import ErrorCode, RemoteProtocolError
from ..fallback import Frame, FrameKind, FrameReader

FrameKey = tuple[int, int, int, int]  # kind, slot id, seq, index
LinkKey = tuple[int, int, int]  # client machine, client thread, trustee machine ([FB-3])
_ID = struct.Struct("<HH")
#: frames kept per slot before their batch lands ([FB-10]): a batch has at most 255 entries ([LIM-1])
MAX_KEPT = 255


class _End:
    __slots__ = ("link", "machine", "out", "reader", "sock")

    def __init__(self, sock: socket.socket, machine: int, limit: int, link: LinkKey) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.machine = machine  # the machine this end belongs to (receives into its store)
        self.link = link  # the (client thread, trustee machine) pair this connection serves
        self.out = bytearray()
        self.reader = FrameReader(limit)


class _Caller:
    """An accepted connection whose 4-byte caller hello ([FB-8]) has not fully arrived."""

    __slots__ = ("got", "machine", "since", "sock")

    def __init__(self, sock: socket.socket, machine: int) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.machine = machine  # the trustee machine whose listener accepted it
        self.got = b""
        self.since = time.monotonic()


class FallbackHub:
    """Every fallback connection of the rack, and the frames each machine has received."""

    def __init__(self, machines: int, limit: int, timeout_ms: int) -> None:
        self.limit = limit
        self.timeout_ms = timeout_ms
        self.listeners: list[socket.socket] = []
        for _ in range(machines):
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", 0))
            ls.listen(64)
            ls.setblocking(False)
            self.listeners.append(ls)
        self.machines = machines
        #: client machines in other processes: their response frames go only on the connection
        #: they opened ([FB-8]); `threads` bounds a valid caller's thread number: one count for
        #: every machine, or each machine's `T_m` by machine number ([FB-9]: the caller's machine's
        #: count, not this machine's)
        self.remote: frozenset[int] = frozenset()
        self.threads: int | Sequence[int] = 0x10000
        #: (client machine, client thread, trustee machine) -> (client end, trustee end), local pairs
        self.links: dict[tuple[int, int, int], tuple[_End, _End]] = {}
        #: (client machine, client thread, trustee machine) -> the trustee end of the connection
        #: that client opened ([FB-8])
        self.callers: dict[tuple[int, int, int], _End] = {}
        self.pending: list[_Caller] = []
        self.refused = 0  # connections closed for a caller hello naming no client ([FB-9], [SEC-6])
        #: why the latest refused connections were closed, as typed errors (BAD_FRAME; bounded)
        self.refusals: deque[RemoteProtocolError] = deque(maxlen=64)
        #: (client machine, trustee machine) -> the fallback secret of the client machine's hello to
        #: the trustee machine ([SEC-6]): drawn here for a local client machine (`secret_for`),
        #: read from its hello for a remote one (`expect_secret`); absent: 4-byte caller hellos
        self.secrets: dict[tuple[int, int], bytes] = {}
        self.undelivered = 0  # response frames for a remote client that never connected
        self.ends: list[_End] = []
        #: trustee machines in other processes or hosts: (host, port) of their fallback listener
        #: ([BOOT-3]); a local client's connection to one is opened by `open_remote` ([FB-8])
        self.remote_trustees: dict[int, tuple[str, int]] = {}
        self.store: list[dict[FrameKey, bytes]] = [{} for _ in range(machines)]
        #: links whose stream broke ([FB-6]); entries waiting on that link fail with its code,
        #: other links are untouched ([ERR-1]); cleared when the client connects again
        self.broken: dict[LinkKey, RemoteProtocolError] = {}
        self.discarded = 0  # [FB-7]
        #: (machine, slot id) -> its SlotOwner (None for no slot), set by the rack: a frame is kept only when
        #: its slot belongs to the caller of the connection it came on ([SEC-6])
        self.slot_owner: Callable[[int, int], Any] | None = None
        self.frames_sent = 0
        self.bytes_sent = 0

    def secret_for(self, cm: int, tm: int) -> bytes:
        """The fallback secret local client machine `cm` announces in its hello to `tm` and then
        presents after each caller hello to `tm` ([SEC-6]): 16 bytes from the OS's secure random
        source, drawn once per machine pair."""
        got = self.secrets.get((cm, tm))
        if got is None:
            got = self.secrets[(cm, tm)] = secrets.token_bytes(16)
        return got

    def expect_secret(self, cm: int, tm: int, secret: bytes | None) -> None:
        """Local trustee machine `tm` has read client machine `cm`'s hello ([SEC-6]): a fallback
        connection naming `cm` must present `secret` after its caller hello (None: the hello
        carried none, and the caller hello is 4 bytes as in [FB-8])."""
        if secret is None:
            self.secrets.pop((cm, tm), None)
        else:
            self.secrets[(cm, tm)] = bytes(secret)

    def _threads_of(self, machine: int) -> int:
        """[FB-9]: `T_m` of client machine `machine` (0 for a machine the shape does not have)."""
        t = self.threads
        if isinstance(t, int):
            return t
        return t[machine] if 0 <= machine < len(t) else 0

    def _want(self, c: _Caller) -> int:
        """How many bytes the caller hello on `c` has: 4 ([FB-8]), then the 16 of the secret the
        machine it names announced to this one, if it did ([SEC-6])."""
        if len(c.got) < _ID.size:
            return _ID.size
        cm, _ = _ID.unpack_from(c.got)
        return _ID.size + len(self.secrets.get((cm, c.machine), b""))

    def port(self, machine: int) -> int:
        return int(self.listeners[machine].getsockname()[1])

    def serve_remote(self, machine: int, host: str, clients: Iterable[int], threads: int | Sequence[int]) -> None:
        """Let client machines `clients` in other processes or hosts reach local `machine`: its
        listener moves to `host` (e.g. 0.0.0.0 or the device's address; the port announced in the
        hello, [BOOT-3], is `port(machine)` after this), and their response frames go only on the
        connections they open ([FB-8])."""
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, 0))
        ls.listen(64)
        ls.setblocking(False)
        self.listeners[machine].close()
        self.listeners[machine] = ls
        self.remote = self.remote | frozenset(clients)
        self.threads = threads

    def reach_remote(self, machine: int, host: str, port: int) -> None:
        """Trustee machine `machine` runs elsewhere: its fallback listener is `host:port` ([BOOT-3])."""
        self.remote_trustees[machine] = (host, port)

    def open_remote(self, cm: int, ct: int, tm: int) -> None:
        """[FB-8]: open local client (cm, ct)'s connection to remote trustee machine `tm` now, before
        its first batch, so that response frames have a connection to come back on."""
        self._link(cm, ct, tm)

    def close(self) -> None:
        for end in self.ends:
            end.sock.close()
        for c in self.pending:
            c.sock.close()
        for ls in self.listeners:
            ls.close()
        self.ends.clear()
        self.links.clear()
        self.callers.clear()
        self.pending.clear()

    def _accept(self) -> bool:
        """Accept waiting connections and read their caller hellos ([FB-8]); True if any moved."""
        moved = False
        for tm, ls in enumerate(self.listeners):
            while True:
                try:
                    sock, _ = ls.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # pragma: no cover - a listener closed under us
                    break
                self.pending.append(_Caller(sock, tm))
                moved = True
        keep: list[_Caller] = []
        for c in self.pending:
            try:
                data = c.sock.recv(self._want(c) - len(c.got))
            except BlockingIOError:
                if time.monotonic() - c.since < self.timeout_ms / 1000.0:
                    keep.append(c)
                else:
                    self._refuse(c)  # no hello within the fallback timeout
                continue
            except OSError:
                data = b""
            moved = True
            if not data:
                c.sock.close()
                continue
            c.got += data
            if len(c.got) < self._want(c):
                keep.append(c)
                continue
            cm, ct = _ID.unpack_from(c.got)
            if not (0 <= cm < self.machines and cm != c.machine and ct < self._threads_of(cm)):
                self._refuse(c, "FB-9", f"the caller hello names machine {cm} thread {ct}: no client of "
                                        f"machine {c.machine}")
                continue
            secret = self.secrets.get((cm, c.machine))
            if secret is not None and not hmac.compare_digest(bytes(c.got[_ID.size :]), secret):
                self._refuse(c, "SEC-6", f"the caller hello names machine {cm} thread {ct} but is not followed "
                                         f"by the fallback secret machine {cm} announced in its hello")
                continue
            end = _End(c.sock, c.machine, self.limit, (cm, ct, c.machine))
            old = self.callers.get((cm, ct, c.machine))
            if old is not None:  # the newest connection of a client wins; the older one is closed
                self._closed(old)  # (one connection per pair, [FB-3]: a bound on what a caller holds)
            self.callers[(cm, ct, c.machine)] = end
            self.broken.pop(end.link, None)
            self.ends.append(end)
        self.pending = keep
        return moved

    def _refuse(self, c: _Caller, clause: str = "FB-9",
                why: str = "no whole caller hello within the fallback timeout") -> None:
        self.refused += 1
        self.refusals.append(RemoteProtocolError(ErrorCode.BAD_FRAME, clause, why))
        c.sock.close()

    def _link(self, cm: int, ct: int, tm: int) -> tuple[_End, _End]:
        """The loopback connection of local client (cm, ct) to local machine tm, opened as [FB-8] says."""
        link = self.links.get((cm, ct, tm))
        if link is None and tm in self.remote_trustees:
            # a trustee in another process: only our end exists here; its response frames
            # (kind 2) arrive on it and go to our store
            cs = socket.create_connection(self.remote_trustees[tm], timeout=10.0)
            cs.sendall(_ID.pack(cm, ct) + self.secrets.get((cm, tm), b""))  # [FB-8], [SEC-6]
            end = _End(cs, cm, self.limit, (cm, ct, tm))
            link = (end, end)
            self.links[(cm, ct, tm)] = link
            self.ends.append(end)
        if link is None:
            host = self.listeners[tm].getsockname()[0]
            cs = socket.create_connection(("127.0.0.1" if host == "0.0.0.0" else host, self.port(tm)))
            # who is calling ([FB-8]), and its secret ([SEC-6]): the trustee end learns its peer
            cs.sendall(_ID.pack(cm, ct) + self.secrets.get((cm, tm), b""))
            deadline = time.monotonic() + 5.0
            while (cm, ct, tm) not in self.callers:
                if not self._accept():
                    if time.monotonic() > deadline:  # pragma: no cover - loopback to ourselves
                        raise RuntimeError("fallback connection handshake did not complete")
                    select.select([self.listeners[tm]] + [c.sock for c in self.pending], [], [], 0.05)
            link = (_End(cs, cm, self.limit, (cm, ct, tm)), self.callers[(cm, ct, tm)])
            self.links[(cm, ct, tm)] = link
            self.ends.append(link[0])
        return link

    def _caller(self, cm: int, ct: int, tm: int) -> _End | None:
        """The trustee end of the connection remote client (cm, ct) opened, waiting for it to be
        accepted up to the fallback timeout; None if it never came ([FB-8])."""
        deadline = time.monotonic() + self.timeout_ms / 1000.0
        while (cm, ct, tm) not in self.callers:
            if self._accept():
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            select.select([self.listeners[tm]] + [c.sock for c in self.pending], [], [], min(left, 0.05))
        return self.callers[(cm, ct, tm)]

    def send(self, frame: Frame, client: tuple[int, int], trustee_machine: int) -> None:
        """Queue a frame on the connection of (client thread, trustee machine) ([FB-3], [FB-4])."""
        cm, ct = client
        data = frame.encode()
        self.frames_sent += 1
        self.bytes_sent += len(data)
        if cm == trustee_machine:
            # same machine: no socket, but the same bytes through the same parser
            dst = cm
            for f in FrameReader(self.limit).feed(data):
                self.store[dst].setdefault((int(f.kind), f.slot_id, f.seq, f.index), f.payload)  # [FB-10]
            return
        if frame.kind is FrameKind.RESPONSE and cm in self.remote:
            end = self._caller(cm, ct, trustee_machine)  # only where that client called from
            if end is None:
                self.undelivered += 1
                return
        else:
            client_end, trustee_end = self._link(cm, ct, trustee_machine)
            end = client_end if frame.kind is FrameKind.REQUEST else trustee_end
        end.out += data
        self.pump()

    def pump(self) -> bool:
        """Move what can move without blocking; True if any byte moved."""
        moved = self._accept()
        for end in list(self.ends):
            if end.out:
                try:
                    n = end.sock.send(end.out)
                except BlockingIOError:
                    n = 0
                except OSError:  # the peer went away: what it has not read is lost
                    end.out.clear()
                    n = 0
                if n:
                    del end.out[:n]
                    moved = True
            while True:
                try:
                    data = end.sock.recv(1 << 20)
                except BlockingIOError:
                    break
                except OSError:
                    data = b""
                if not data:
                    self._closed(end)
                    break
                moved = True
                try:
                    frames = end.reader.feed(data)
                except RemoteProtocolError as exc:
                    # [FB-6] "the stream cannot be resynchronised: the receiver MUST close the
                    # connection and fail the entries still waiting on it with that code";
                    # [DEC-3]: frames completed before the bad header are still delivered
                    for f in getattr(exc, "frames", ()):
                        if self._owned(end, f):
                            self._keep(end.machine, f)  # [FB-10]
                    self.broken[end.link] = exc
                    self._closed(end)
                    break
                for f in frames:
                    if self._owned(end, f):
                        self._keep(end.machine, f)  # [FB-10] first wins
        return moved

    def _keep(self, machine: int, f: Frame) -> None:
        """Keep a frame until its batch lands ([FB-10]; the first frame for a stub wins), unless its
        slot already holds MAX_KEPT frames: then it is discarded and counted ([FB-7], [SEC-1])."""
        store = self.store[machine]
        key = (int(f.kind), f.slot_id, f.seq, f.index)
        if key not in store and sum(1 for k in store if k[0] == key[0] and k[1] == key[1]) >= MAX_KEPT:
            self.discarded += 1
            return
        store.setdefault(key, f.payload)

    def _owned(self, end: _End, f: Frame) -> bool:
        """[SEC-6] "a trustee machine MUST take a request frame only from the fallback connection whose
        caller hello names the client machine and thread that own the frame's slot": a request frame
        on a trustee end must name a request slot of its caller; a response frame on a client end a
        response slot of that client thread for that trustee machine. Any other is discarded ([FB-7])."""
        if self.slot_owner is None:
            return True
        cm, ct, tm = end.link
        o = self.slot_owner(end.machine, f.slot_id)  # ids are the receiving machine's ([SHAPE-2])
        if o is None:
            ok = False
        elif f.kind is FrameKind.REQUEST:
            ok = end.machine == tm and o.is_request and (o.peer_machine, o.peer_thread) == (cm, ct)
        else:
            ok = end.machine == cm and not o.is_request and (o.local_thread, o.peer_machine) == (ct, tm)
        if not ok:
            self.discarded += 1
        return ok

    def take(self, machine: int, key: FrameKey, link: LinkKey) -> bytes | ErrorCode:
        """The payload of frame `key` for `machine`, arriving over `link`, waiting up to the
        fallback timeout ([FB-5]).

        Returns FALLBACK_TIMEOUT when it never came, or the code of `link`'s broken stream ([FB-6]).
        """
        store = self.store[machine]
        deadline = time.monotonic() + self.timeout_ms / 1000.0
        while True:
            payload = store.pop(key, None)
            if payload is not None:
                return payload
            exc = self.broken.get(link)
            if exc is not None:
                return exc.code
            if self.pump():
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return ErrorCode.FALLBACK_TIMEOUT
            socks = [e.sock for e in self.ends]
            writers = [e.sock for e in self.ends if e.out]
            if not socks and not self.remote:
                return ErrorCode.FALLBACK_TIMEOUT
            socks += [self.listeners[machine]] + [c.sock for c in self.pending]
            select.select(socks, writers, [], min(left, 0.05))

    def _closed(self, end: _End) -> None:
        """The other side closed this connection: forget it (a remote client may open a new one)."""
        if end in self.ends:
            self.ends.remove(end)
        end.sock.close()
        for key in [k for k, e in self.callers.items() if e is end]:
            del self.callers[key]
        for key in [k for k, pair in self.links.items() if end in pair]:
            del self.links[key]

    def discard_stale(self, machine: int, kind: int, slot_id: int, seq: int) -> None:
        """Drop and count frames of this slot that name any batch but `seq` ([FB-7])."""
        store = self.store[machine]
        if not store:
            return
        stale = [k for k in store if k[0] == kind and k[1] == slot_id and k[2] != seq]
        for k in stale:
            del store[k]
        self.discarded += len(stale)
