"""The TCP fallback side channel, over real sockets on loopback ([FB-3] .. [FB-7]).

One TCP connection per (client thread, remote machine) pair ([FB-3]): the client end sends request
payloads (kind 1), the trustee end sends response payloads back on the same connection (kind 2).
Frames are parsed by the codec's sans-I/O `FrameReader`; this module only moves bytes.

The whole rack lives in one OS thread, so sockets are non-blocking and `pump` moves whatever can
move. A receiver that needs a frame ([FB-5]) pumps, and waits in `select`, until the frame is
there or the fallback timeout passes: the wait happens inside one scheduler step, so a run stays
a pure function of its seed (TCP timing cannot reorder anything the scheduler decides).
Same-machine pairs never touch a socket: their frames are encoded and parsed in memory.
"""

from __future__ import annotations

import select
import socket
import struct
import time

from ..errors import ErrorCode, RemoteProtocolError
from ..fallback import Frame, FrameKind, FrameReader

FrameKey = tuple[int, int, int, int]  # kind, slot id, seq, index
_ID = struct.Struct("<HH")


class _End:
    __slots__ = ("machine", "out", "reader", "sock")

    def __init__(self, sock: socket.socket, machine: int, limit: int) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.machine = machine  # the machine this end belongs to (receives into its store)
        self.out = bytearray()
        self.reader = FrameReader(limit)


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
            self.listeners.append(ls)
        #: (client machine, client thread, trustee machine) -> (client end, trustee end)
        self.links: dict[tuple[int, int, int], tuple[_End, _End]] = {}
        self.ends: list[_End] = []
        self.store: list[dict[FrameKey, bytes]] = [{} for _ in range(machines)]
        self.broken: dict[int, RemoteProtocolError] = {}
        self.discarded = 0  # [FB-7]
        self.frames_sent = 0
        self.bytes_sent = 0

    def port(self, machine: int) -> int:
        return int(self.listeners[machine].getsockname()[1])

    def close(self) -> None:
        for end in self.ends:
            end.sock.close()
        for ls in self.listeners:
            ls.close()
        self.ends.clear()
        self.links.clear()

    def _link(self, cm: int, ct: int, tm: int) -> tuple[_End, _End]:
        link = self.links.get((cm, ct, tm))
        if link is None:
            cs = socket.create_connection(("127.0.0.1", self.port(tm)))
            cs.sendall(_ID.pack(cm, ct))  # who is calling: the trustee end learns its peer
            ts, _ = self.listeners[tm].accept()
            ts.settimeout(5.0)
            got = b""
            while len(got) < _ID.size:
                got += ts.recv(_ID.size - len(got))
            if _ID.unpack(got) != (cm, ct):  # pragma: no cover - loopback to ourselves
                raise RuntimeError("fallback connection handshake mismatch")
            link = (_End(cs, cm, self.limit), _End(ts, tm, self.limit))
            self.links[(cm, ct, tm)] = link
            self.ends.extend(link)
        return link

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
                self.store[dst][(int(f.kind), f.slot_id, f.seq, f.index)] = f.payload
            return
        client_end, trustee_end = self._link(cm, ct, trustee_machine)
        end = client_end if frame.kind is FrameKind.REQUEST else trustee_end
        end.out += data
        self.pump()

    def pump(self) -> bool:
        """Move what can move without blocking; True if any byte moved."""
        moved = False
        for end in self.ends:
            if end.out:
                try:
                    n = end.sock.send(end.out)
                except BlockingIOError:
                    n = 0
                if n:
                    del end.out[:n]
                    moved = True
            while True:
                try:
                    data = end.sock.recv(1 << 20)
                except BlockingIOError:
                    break
                if not data:
                    break
                moved = True
                if id(end) in self.broken:
                    continue
                try:
                    frames = end.reader.feed(data)
                except RemoteProtocolError as exc:  # [FB-6]: cannot resynchronise
                    self.broken[id(end)] = exc
                    continue
                store = self.store[end.machine]
                for f in frames:
                    store[(int(f.kind), f.slot_id, f.seq, f.index)] = f.payload
        return moved

    def take(self, machine: int, key: FrameKey) -> bytes | ErrorCode:
        """The payload of frame `key` for `machine`, waiting up to the fallback timeout ([FB-5]).

        Returns FALLBACK_TIMEOUT when it never came, or the code of a broken stream ([FB-6]).
        """
        store = self.store[machine]
        deadline = time.monotonic() + self.timeout_ms / 1000.0
        while True:
            payload = store.pop(key, None)
            if payload is not None:
                return payload
            if self.broken:
                return next(iter(self.broken.values())).code
            if self.pump():
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return ErrorCode.FALLBACK_TIMEOUT
            socks = [e.sock for e in self.ends]
            writers = [e.sock for e in self.ends if e.out]
            if not socks:
                return ErrorCode.FALLBACK_TIMEOUT
            select.select(socks, writers, [], min(left, 0.05))

    def discard_stale(self, machine: int, kind: int, slot_id: int, seq: int) -> None:
        """Drop and count frames of this slot that name any batch but `seq` ([FB-7])."""
        store = self.store[machine]
        if not store:
            return
        stale = [k for k in store if k[0] == kind and k[1] == slot_id and k[2] != seq]
        for k in stale:
            del store[k]
        self.discarded += len(stale)
