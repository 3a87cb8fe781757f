"""The reference runtime as a trustee machine that the suite (or anyone) drives over verbs.

    python -m conformance.peers.reference_trustee --port 7470 --device rxe1 [--host 0.0.0.0] [--threads 2]
                                                  [--once] [--sessions N]
    python -m conformance.mutants.live --wrong NAME ...   (a wrong trustee, `conformance/mutants/live.py`)

`ReferenceTrustee` is one session: a `gossamer.runtime.Rack` of two machines whose machine 1 is
remote (`Rack(..., remote=1)`): machine 0 is the reference trustee with the catalogue's closures
registered (`registry()`, [ADPT-10]), and machine 1 is whoever connects. All
trustee behaviour is the runtime's own (`TrusteeSide`: landing, running, answering); this module
only carries the bootstrap and calls `Rack.serve_round()`.

`Server` listens on TCP and runs one session per accepted connection ([ADPT-12]): it sends its
hello, reads the peer's, connects the QPs, exchanges `ready` ([BOOT-7]), then serves until the peer
closes the connection, and tears the session down (QPs, MRs and the device context go with it).
Until a connection's hello is accepted it is only pending: up to `PENDING` of them wait for their
hellos side by side, each for at most `READ_SECONDS` a message, so that a connector that sends
nothing, or half a hello, neither stops the server from greeting and serving the next one nor
holds its place for ever ([SEC-1]; [PROC-14]'s rule, for a trustee outside a rack).
`serve()` runs a `Server` on a device until told to stop.
The verbs provider is `nic_emu.provider.verbs()`: real pyverbs with `GOSSAMER_VERBS=pyverbs`.
"""

from __future__ import annotations

import argparse
import select
import socket
import sys
import time
from collections.abc import Mapping
from typing import Any

from gossamer.bootstrap import SUPPORTED_VERSIONS, BootstrapReader, Hello, accept_hello, check_rdma
from gossamer.closures import Registry
from gossamer.errors import GossamerError
from gossamer.runtime.rack import Rack
from gossamer.slot import SlotConfig

from ..catalogue_closures import BEHAVIOUR, STANDARD, K
from ..live_bootstrap import READY, BootstrapFailed, Channel, encode

#: how many kernel threads the reference trustee runs by default: two, so that a suite client
#: thread can seed properties through one slot and drive a case through another ([ADPT-12])
THREADS = 2
#: [SEC-1], [PROC-14]: how many accepted connections may wait for their hello at once (more stay
#: in the listen backlog), and how long each waits for a whole message before it is closed
PENDING = 4
READ_SECONDS = 10.0


def registry() -> Registry:
    """A `gossamer.closures.Registry` holding every catalogue closure with its behaviour: what a
    reference trustee (or client) registers to be driven by the suite ([ADPT-10], [ADPT-12])."""
    reg = Registry()
    for d in (*STANDARD, *K):
        fn = BEHAVIOUR.get(d.name)
        if fn is not None:
            reg.register(fn, d.name, capture=d.capture, result=d.result, param=d.param)
    return reg


class _Channel(Channel):
    """The bootstrap channel with the reference's own reader: a message it cannot take raises the
    GossamerError whose code the server answers with ([BOOT-4], [DEC-5])."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.reader = BootstrapReader()  # type: ignore[assignment]


class ReferenceTrustee:
    """One bootstrap session with the reference trustee (machine 0) for one remote peer (machine 1)."""

    def __init__(self, v: Any, device: str, *, threads: int = THREADS, config: SlotConfig | None = None,
                 fabric: Any = None, seed: int = 0, host: str = "127.0.0.1") -> None:
        self.rack = Rack(2, threads, seed=seed, config=config or SlotConfig(), registry=registry(),
                         fabric=fabric, verbs=v, devices=[device], remote=1)
        # [FB-8]: the remote client (machine 1) opens its fallback connections to our announced
        # fallback_port, on the address we serve on
        self.rack.fallback.serve_remote(0, host, clients=[1], threads=threads)
        self.peer: Hello | None = None

    def hello(self) -> bytes:
        """Our hello ([BOOT-2], [BOOT-3], [BOOT-6]), length prefix included."""
        return self.rack.hello_for(0, 1)

    def check_peer(self, m: Any) -> Hello:
        """The peer's hello, validated ([DEC-5] steps 5 .. 17): raises GossamerError with the code
        to answer with ([BOOT-5]); a version range without ours is VERSION_MISMATCH ([BOOT-1])."""
        # [BOOT-11], [BOOT-10], [SHAPE-5]: the peer must be the machine 1 of our rack's shape (T
        # threads, all trustees: the suite omits "trustees" and offers no request slot, [BOOT-12])
        peer = self.rack.shape[1]
        hello = accept_hello(m, peer.threads, SUPPORTED_VERSIONS, peer.trustees, machine=1)
        # [SEC-2]: every RDMA value of the hello checked before connect uses it (it raised KeyError,
        # IndexError or a verbs error out of the session without an answer)
        check_rdma(hello, self.rack.threads, self.rack.config.slot_size)
        return hello

    def connect(self, peer_hello: bytes) -> Hello:
        """Bring our QPs to the peer to RTS and post receives ([BOOT-7], [FLOW-4])."""
        self.peer = self.rack.connect_remote(0, 1, peer_hello)
        return self.peer

    def step(self) -> bool:
        """One round of the runtime's poller on every trustee thread, then the fallback sockets
        (accepting callers, sending what is queued); True if anything ran."""
        ran = self.rack.serve_round()
        return self.rack.fallback.pump() or ran

    @property
    def batches(self) -> int:
        return sum(th.trustee.batches for th in self.rack.all_threads)

    def close(self) -> None:
        self.rack.close()
        for m in self.rack.machines:
            m.net.close()


class _Pending:
    """An accepted connection whose hello is not yet accepted: its session, sent our hello."""

    def __init__(self, chan: Channel, srv: ReferenceTrustee, deadline: float) -> None:
        self.chan, self.srv, self.deadline = chan, srv, deadline


class Server:
    """A bootstrap listener serving one session at a time, without threads or blocking calls.

    `poll()` does one step of everything (accept, the hello exchange of [BOOT-5] .. [BOOT-7], one
    `serve_round` of the trustee, noticing the peer's close), so the same server runs under
    `serve()`'s loop on a device and inside a test's step loop on the emulated NIC.
    """

    def __init__(self, v: Any, device: str, host: str = "127.0.0.1", port: int = 0, *, threads: int = THREADS,
                 config: SlotConfig | None = None, fabric: Any = None, log: Any = None,
                 trustee: type[ReferenceTrustee] | None = None, pending: int = PENDING,
                 read_seconds: float | None = READ_SECONDS) -> None:
        """`trustee`: the session class (a wrong trustee of `conformance.mutants.live` in tests);
        `pending`, `read_seconds`: the bound on connections awaiting their hello ([SEC-1])."""
        self.trustee_cls = trustee or ReferenceTrustee
        self.max_pending, self.read_seconds = pending, read_seconds
        self.pending: list[_Pending] = []
        self.v, self.device, self.threads, self.host = v, device, threads, host
        self.config = config or SlotConfig()
        self.fabric = fabric
        self.log = log
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, port))
        self.ls.listen(8)
        self.ls.setblocking(False)
        self.port = int(self.ls.getsockname()[1])
        self.chan: Channel | None = None
        self.srv: ReferenceTrustee | None = None
        self.phase = "idle"  # idle (connections may be pending) -> ready (accepted one's hello) -> serving
        self.sessions = 0
        self.batches = 0
        self._idle = 0

    def _say(self, text: str) -> None:
        if self.log is not None:
            print(f"reference_trustee: {text}", file=self.log, flush=True)

    def poll(self) -> bool:
        """One step; True if anything happened."""
        try:
            return self._poll()
        except Exception as e:  # [ERR-1]: whatever a session meets ends that session, not the server
            self._say(f"session {self.sessions} ended: {str(e).splitlines()[0]}")
            self._end()
            return True

    def sockets(self) -> list[socket.socket]:
        """What `serve()` waits on while no session is established: the listener and the pending."""
        return [self.ls, *(p.chan.sock for p in self.pending)]

    def _poll(self) -> bool:
        if self.phase == "idle":
            return self._accept() | self._hellos()
        assert self.chan is not None and self.srv is not None
        if self.phase == "ready":
            m = self.chan.try_recv()
            if m is None:
                return False
            if m != READY:
                raise BootstrapFailed(f"expected {{'ready': true}}, got {m!r:.80}")
            self.phase = "serving"
            return True
        if self.srv.step():
            self._idle = 0
            return True
        self._idle += 1
        if self._idle % 64 == 0:
            self.chan.try_recv()  # raises BootstrapFailed once the peer closed: the session ends
        return False

    def _accept(self) -> bool:
        if len(self.pending) >= self.max_pending:
            return False  # [SEC-1]: the rest wait in the listen backlog
        try:
            sock, _ = self.ls.accept()
        except (BlockingIOError, InterruptedError):
            return False
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        chan = _Channel(sock)
        srv = self.trustee_cls(self.v, self.device, threads=self.threads, config=self.config,
                               fabric=self.fabric, seed=self.sessions + len(self.pending), host=self.host)
        p = _Pending(chan, srv, self._deadline())
        self.pending.append(p)
        try:
            chan.send(srv.hello())  # [BOOT-5] the accepting side sends first
        except Exception as e:
            self._drop(p, e)
        return True

    def _deadline(self) -> float:
        return float("inf") if self.read_seconds is None else time.monotonic() + self.read_seconds

    def _hellos(self) -> bool:
        """One read of each pending connection; the first whose hello is accepted becomes the
        session ([BOOT-7]); a refused, closed or silent one is dropped alone ([SEC-2], [ERR-1])."""
        ran = False
        for p in list(self.pending):
            try:
                try:  # [BOOT-5] "a side that rejects the peer's hello sends {"error": code, "detail": text} and closes"
                    m = p.chan.try_recv()  # OVERSIZE ([BOOT-4]) or MALFORMED_CBOR while reading it
                    if m is None:
                        if time.monotonic() > p.deadline:  # [SEC-1]: closed without a message
                            raise BootstrapFailed(f"no hello within {self.read_seconds} s")
                        continue
                    if isinstance(m, dict) and "error" in m and "versions" not in m:  # the peer refused us
                        raise BootstrapFailed(f"the peer refused our hello: {m!r:.120}")
                    p.srv.check_peer(m)
                except GossamerError as e:
                    p.chan.send(encode({"error": int(e.code), "detail": str(e)}))
                    raise
                p.srv.connect(encode(m))
                p.chan.send(encode(READY))  # [BOOT-7]
            except Exception as e:  # [ERR-1]: whatever a pending connection meets ends it alone
                self._drop(p, e)
                ran = True
                continue
            self.pending.remove(p)
            self.chan, self.srv, self.phase = p.chan, p.srv, "ready"
            for q in self.pending:  # they wait for this session to end, their clocks stopped
                q.deadline = float("inf")
            return True
        return ran

    def _drop(self, p: _Pending, e: Exception) -> None:
        self._say(f"session {self.sessions} ended: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
        if p in self.pending:
            self.pending.remove(p)
        self.batches += p.srv.batches
        p.srv.close()
        p.chan.close()
        self.sessions += 1

    def _end(self) -> None:
        if self.srv is not None:
            self.batches += self.srv.batches
            self._say(f"session {self.sessions}: {self.srv.batches} batches answered")
            self.srv.close()
        if self.chan is not None:
            self.chan.close()
        self.srv, self.chan, self.phase = None, None, "idle"
        self.sessions += 1
        for q in self.pending:  # their clocks run again
            q.deadline = self._deadline()

    def close(self) -> None:
        if self.phase != "idle":
            self._end()
        for p in list(self.pending):
            self._drop(p, BootstrapFailed("the server closes"))
        self.ls.close()


def serve(host: str, port: int, device: str, *, threads: int = THREADS, config: SlotConfig | None = None,
          sessions: int = 0, ready_file: str | None = None, trustee: type[ReferenceTrustee] | None = None,
          pending: int = PENDING, read_seconds: float | None = READ_SECONDS) -> int:
    """Listen for bootstrap connections; serve `sessions` of them (0: forever)."""
    from nic_emu.provider import verbs

    v = verbs()
    server = Server(v, device, host, port, threads=threads, config=config, log=sys.stderr, trustee=trustee,
                    pending=pending, read_seconds=read_seconds)
    wrong = f" (WRONG trustee {trustee.__name__})" if trustee is not None else ""
    print(f"reference_trustee: {v.__name__} device {device}, {threads} threads, listening on "
          f"{host}:{server.port}{wrong}", file=sys.stderr, flush=True)
    if ready_file:
        with open(ready_file, "w") as f:
            f.write(str(server.port))
    idle = 0
    try:
        while sessions == 0 or server.sessions < sessions:
            if server.poll():
                idle = 0
                continue
            idle += 1
            if server.phase == "idle":
                select.select(server.sockets(), [], [], 0.5)
            elif idle > 2000:
                time.sleep(0.0002)  # a quiet peer: stop spinning the CPU a guest shares
    finally:
        server.close()
    return 0


def main(argv: list[str] | None = None, wrong: Mapping[str, Any] | None = None,
         prog: str = "python -m conformance.peers.reference_trustee") -> int:
    """The command line; with `wrong` (the wrong trustees by name: `ReferenceTrustee` subclasses
    with `server` options and an `active()` context, `python -m conformance.mutants.live`) it also
    takes `--wrong NAME`. The table is passed in: the reference server does not know its mutants."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=7470)
    p.add_argument("--device", required=True, help="verbs device (rxe1, mlx5_0, emu0 ...)")
    p.add_argument("--threads", type=int, default=THREADS)
    p.add_argument("--slot-size", type=int, default=1024)
    p.add_argument("--table-k", type=int, default=4)
    p.add_argument("--fallback-timeout-ms", type=int, default=5000, help="[FB-5], announced in the hello")
    p.add_argument("--sessions", type=int, default=0, help="stop after N sessions (0: serve forever)")
    p.add_argument("--ready-file", help="write the listening port here once listening")
    if wrong is not None:
        p.add_argument("--wrong", metavar="NAME", choices=sorted(wrong), required=True,
                       help="the wrong trustee to serve (the suite must fail or refuse it)")
    a = p.parse_args(argv)
    config = SlotConfig(slot_size=a.slot_size, table_k=a.table_k, fallback_timeout_ms=a.fallback_timeout_ms)
    if wrong is not None:
        cls = wrong[a.wrong]
        kw = {"threads": a.threads, "config": config, **cls.server}
        with cls.active():
            return serve(a.host, a.port, a.device, sessions=a.sessions, ready_file=a.ready_file, trustee=cls, **kw)
    return serve(a.host, a.port, a.device, threads=a.threads, config=config, sessions=a.sessions,
                 ready_file=a.ready_file)


if __name__ == "__main__":
    sys.exit(main())
