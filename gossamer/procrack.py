"""One process of a rack of processes (SPEC.md 10.1): its bootstrap, its loop, fate sharing.

`run_process(target, info)` is what each process started by `gossamer launch`, `mpirun` or `srun`
runs: it builds its machine of the rack (`Rack(..., hosted=[m])`), bootstraps to every other
machine over TCP as section 10 says (the lower id accepts, [PROC-2]; the connector names itself
in a `caller` message, then hello, RC QPs, ready), and then

* on machine 0 runs `target` (a `module:function` coroutine function) as gsm-main, as the thesis
  does, and tells every peer `done` when the rack is quiet;
* on every other machine serves (its trustee threads answer, its fibers run) until machine 0
  says `done`.

Fate sharing ([PROC-5]): the bootstrap connections stay open. A peer's connection closing before
its `done`, a `down` message, an uncaught error here or a failed QP brings this machine's rack
down (pending requests fail with PEER_FAILED); the process sends `down` naming the machine that
went first on every connection still open, prints the report and exits with `EXIT_DOWN`.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from . import networks
from .bootstrap import (
    BootstrapReader,
    accept_hello,
    check_rdma,
    decode_message,
    encode_message,
)
from .errors import DelegationError, ErrorCode, RemoteProtocolError
from .launch_env import Address, LaunchInfo, parse_rendezvous, rendezvous_line
from .rack_bootstrap import (
    DONE,
    SessionEnd,
    caller,
    check_caller,
    check_joined,
    check_spawn,
    down,
    error_message,
    joined_message,
    read_at,
    read_end,
    read_message,
    spawn_message,
    with_app,
)
from .runtime.api import Trust
from .runtime.fibers import Future
from .runtime.rack import Rack, RackFailure
from .runtime.verbs import LinkFailure
from .shape import MachineShape
from .slot import SlotConfig

EXIT_DOWN = 3  #: the application went down (fate sharing)
EXIT_BOOTSTRAP = 4  #: the rack never formed (a peer refused us, or never came)
#: how long a process waits for the whole rack to bootstrap (its start-up timeout, [PROC-14])
BOOTSTRAP_SECONDS = 60.0
#: [PROC-14]: how long the acceptor waits for each message of a connection whose hello it has not
#: yet accepted, before it drops that connection and goes on accepting
READ_SECONDS = 10.0


class BootstrapFailed(Exception):
    """The rack of processes did not form."""


def resolve(target: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """`module:function` -> the function (its module imported: its closures registered)."""
    mod, sep, name = target.partition(":")
    if not sep or not mod or not name:
        raise ValueError(f"target {target!r} is not module:function")
    obj: Any = importlib.import_module(mod)
    for part in name.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{target} is not callable")
    return obj  # type: ignore[no-any-return]


class _Conn:
    """An open bootstrap connection to one peer machine."""

    def __init__(self, peer: int, sock: socket.socket) -> None:
        self.peer = peer
        self.sock = sock
        self.reader = BootstrapReader()
        self.queue: list[Any] = []
        self.done = False

    def send(self, item: Any) -> None:
        self.sock.sendall(encode_message(item))

    def read(self, deadline: float) -> Any:
        """The next message, waiting until `deadline` (blocking bootstrap phase)."""
        while not self.queue:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BootstrapFailed(f"machine {self.peer} sent nothing in time")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not data:
                raise BootstrapFailed(f"machine {self.peer} closed the bootstrap connection")
            self.queue.extend(self.reader.feed(data))
        return self.queue.pop(0)


class ProcessRack:
    """This process's machine of a rack of processes."""

    def __init__(self, info: LaunchInfo, *, threads: int = 1, shape: list[MachineShape] | None = None, seed: int = 0,
                 config: SlotConfig | None = None, wire_dir: str | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        """`shape`: every machine's threads and trustee threads ([SHAPE-1]), the same list in every
        process; without it, `threads` threads on every machine, all of them trustees."""
        self.info = info
        self.m = info.machine
        self.log = log or (lambda s: print(f"gossamer[m{info.machine}]: {s}", file=sys.stderr, flush=True))
        self.network = networks.for_process(machine=self.m, machines=info.machines, wire_dir=wire_dir, seed=seed)
        if shape is not None and len(shape) != info.machines:
            raise ValueError(f"a shape of {len(shape)} machines for a rack of {info.machines}")
        self.rack = Rack(info.machines, threads, shape=shape, seed=seed + self.m, config=config, network=self.network,
                         hosted=[self.m])
        self.conns: dict[int, _Conn] = {}
        #: [PROC-7]: fibers this process spawned on other machines, by spawn id, until joined
        self.spawned: dict[int, Future[Any]] = {}
        self.next_spawn = 0
        self.zero_done = False  #: machine 0 said `done`: gsm-main returned ([PROC-5])
        self.rack.remote_spawner = self._spawn_remote
        self.network.pending_elsewhere = lambda: bool(self.spawned)
        self.first: int | None = None  #: the machine that went down first, once one did
        self.why = ""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        own = info.address(self.m)
        self.listener.bind((info.bind_host, own[1] if own else 0))
        self.listener.listen(64)
        self.host = own[0] if own else info.bind_host
        # [FB-3]: the fallback listener where the other machines' clients reach this machine
        self.rack.fallback.serve_remote(self.m, info.bind_host,
                                        [p for p in range(info.machines) if p != self.m],
                                        [s.threads for s in self.rack.shape.machines])  # [FB-9]: T_m

    # -- bootstrap ([PROC-2], section 10) -------------------------------------------------------

    def addresses(self, deadline: float) -> dict[int, Address]:
        """Every machine's bootstrap address: the port rule, or the rendezvous file ([PROC-2])."""
        info = self.info
        if info.peers is not None:
            return dict(enumerate(info.peers))
        assert info.rendezvous is not None
        port = self.listener.getsockname()[1]
        host = self.host if self.host != "0.0.0.0" else socket.gethostname()
        fd = os.open(info.rendezvous, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, rendezvous_line(info.app, self.m, (host, port)).encode())
        finally:
            os.close(fd)
        while True:
            with open(info.rendezvous, encoding="utf-8") as f:
                found = parse_rendezvous(f.read(), info.app, info.machines)
            if len(found) == info.machines:
                return found
            if time.monotonic() > deadline:
                missing = sorted(set(range(info.machines)) - set(found))
                raise BootstrapFailed(f"machines {missing} never wrote their address to {info.rendezvous}")
            time.sleep(0.02)

    def bootstrap(self) -> None:
        deadline = time.monotonic() + BOOTSTRAP_SECONDS
        addrs = self.addresses(deadline)
        for p in range(self.m):  # the lower id accepts: connect to every lower machine
            self._connect(p, addrs[p], deadline)
        for _ in range(self.m + 1, self.info.machines):
            self._accept(deadline)
        for c in self.conns.values():
            c.sock.setblocking(False)

    def _refuse(self, sock: socket.socket, exc: RemoteProtocolError) -> None:
        try:
            sock.settimeout(1.0)
            sock.sendall(encode_message(error_message(exc)))
        except OSError:
            pass  # it went away: nothing more to say to it
        finally:
            sock.close()

    def _connect(self, p: int, addr: Address, deadline: float) -> None:
        while True:
            try:
                sock = socket.create_connection(addr, timeout=2.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BootstrapFailed(f"machine {p} at {addr[0]}:{addr[1]} never accepted") from None
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = _Conn(p, sock)
        # [PROC-13] step 5: this connection is machine p's from the first message on; any failure
        # on it means the rack did not form (BootstrapFailed: exit non-zero, no retry)
        try:
            c.send(caller(self.m, self.info.app))
            theirs = self._expect(c, "hello", deadline)  # [PROC-4] before any QP moves
            # [DEC-5] steps 6 to 12: the connector makes step 12 too ([SHAPE-5] MAY), in its place
            peer = self.rack.shape[p]
            h = accept_hello(theirs, peer.threads, (1, 1), peer.trustees, machine=p)
            self._check_rdma(h)
        except RemoteProtocolError as exc:
            self._refuse(sock, exc)
            raise BootstrapFailed(f"machine {p}'s hello: {exc}") from None
        except OSError as exc:
            sock.close()
            raise BootstrapFailed(f"the bootstrap connection to machine {p} broke: {exc}") from None
        c.send(with_app(decode_message(self.rack.hello_for(self.m, p)), self.info.app))
        self.rack.connect_remote(self.m, p, encode_message(theirs))
        self.rack.fallback.reach_remote(p, addr[0], int(theirs["fallback_port"]))
        c.send({"ready": True})
        self._expect_ready(c, deadline)
        self.conns[p] = c

    def _accept(self, deadline: float) -> None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BootstrapFailed("the higher machines never all connected")
            self.listener.settimeout(left)
            try:
                sock, peer_addr = self.listener.accept()
            except TimeoutError:
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._admit(_Conn(-1, sock), peer_addr[0], deadline):
                return

    def _admit(self, c: _Conn, host: str, deadline: float) -> bool:
        """One accepted connection, up to its `ready`. [PROC-13] step 4: until its hello is
        accepted the connection is nobody's: a failure on it (refused, closed, silent for
        READ_SECONDS, [PROC-14]) drops it and answers False, and this side goes on accepting. Step
        5: after it, a failure is machine `c.peer`'s (BootstrapFailed)."""
        try:
            first = self._expect(c, "caller", min(deadline, time.monotonic() + READ_SECONDS))
            p = check_caller(first, self.info.app, self.m, self.info.machines)  # [PROC-2] range
            if p in self.conns:  # open, and its hello accepted ([PROC-2] "connected already")
                raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-2", f"machine {p} is connected already")
            c.peer = p
            c.send(with_app(decode_message(self.rack.hello_for(self.m, p)), self.info.app))
            theirs = self._expect(c, "hello", min(deadline, time.monotonic() + READ_SECONDS))
            peer = self.rack.shape[p]
            h = accept_hello(theirs, peer.threads, trustees=peer.trustees, machine=p)  # [BOOT-10], [BOOT-11]
            self._check_rdma(h)
        except RemoteProtocolError as exc:
            self.log(f"refused a bootstrap connection from {host}: {exc}")
            self._refuse(c.sock, exc)
            return False
        except (BootstrapFailed, OSError) as exc:
            self.log(f"dropped a bootstrap connection from {host}: {exc}")
            c.sock.close()
            return False
        self.rack.connect_remote(self.m, p, encode_message(theirs))
        self.rack.fallback.reach_remote(p, host, int(theirs["fallback_port"]))
        c.send({"ready": True})
        self._expect_ready(c, deadline)
        self.conns[p] = c
        return True

    def _expect(self, c: _Conn, kind: str, deadline: float) -> Any:
        """[PROC-13]: the next message of `c`, which must be of `kind`: read by [DEC-5] steps 1 to
        5 and [PROC-11] (their code), an `error` or `down` ends the connection (BootstrapFailed),
        any other kind is BAD_HEADER."""
        msg = c.read(deadline)
        got = read_message(msg, self.info.app)
        if read_at(got, kind)["kind"] == "closes":  # BAD_HEADER for another kind
            if got["kind"] == "error":
                raise BootstrapFailed(f"machine {c.peer} refused us: code {got['code']:#x}: {msg.get('detail', '')}")
            raise BootstrapFailed(f"machine {c.peer} is going down: machine {got['first']} went down first")
        return msg

    def _check_rdma(self, h: Any) -> None:
        """[SEC-2]: the peer's RDMA keys against this machine's shape, before any is used."""
        own = self.rack.shape[self.m]
        check_rdma(h, own.threads, self.rack.config.slot_size, len(own.trustees))

    def _expect_ready(self, c: _Conn, deadline: float) -> None:
        """[PROC-13] step 5: the peer's `ready`; anything else means the rack did not form."""
        try:
            self._expect(c, "ready", deadline)
        except RemoteProtocolError as exc:
            self._refuse(c.sock, exc)
            raise BootstrapFailed(f"machine {c.peer} sent no ready: {exc}") from None
        except OSError as exc:
            raise BootstrapFailed(f"the bootstrap connection to machine {c.peer} broke: {exc}") from None

    # -- the session ([PROC-5]) ---------------------------------------------------------------

    def watch(self) -> None:
        """Read what the peers sent, without blocking (machine 0's `done` sets `zero_done`). A
        closed connection without `done`, or a `down`, brings the rack down."""
        for c in list(self.conns.values()):
            if c.done:
                continue
            try:
                data = c.sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.conns.pop(c.peer)
                c.sock.close()
                self._peer_down(c.peer, c.peer, "its bootstrap connection closed before it said done")
                continue
            if data:
                try:
                    c.queue.extend(c.reader.feed(data))
                except RemoteProtocolError as exc:
                    self._peer_down(c.peer, c.peer, f"its bootstrap connection broke the protocol: {exc}")
                    continue
            for msg in c.queue:
                try:  # [PROC-11]; on an established connection only done, down, spawn, joined ([PROC-5] step 2)
                    got = read_message(msg, self.info.app)
                    kind = got["kind"]
                    if kind not in ("done", "down", "spawn", "joined"):
                        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-5",
                                                  f"a {kind} message on an established connection")
                    if kind == "down" and got["first"] >= self.info.machines:
                        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-5",
                                                  f"down names machine {got['first']}, not one of this rack's")
                except RemoteProtocolError as exc:
                    self._peer_down(c.peer, c.peer, f"its bootstrap connection broke the protocol: {exc}")
                    break
                if kind in ("spawn", "joined"):
                    self._on_spawn_message(c, msg)
                    continue
                end: SessionEnd | None = read_end(msg)
                if end is None:
                    continue
                if end.done:
                    c.done = True
                    self.zero_done = self.zero_done or c.peer == 0
                else:
                    assert end.first is not None
                    self._peer_down(c.peer, end.first, end.detail)
            c.queue.clear()

    def _peer_down(self, peer: int, first: int, why: str) -> None:
        if self.first is None:
            self.first, self.why = first, why
            self.log(f"machine {first} went down first ({why}); seen on the connection to machine {peer}")
        self.rack.peer_failed(LinkFailure(self.m, 0, peer, f"machine {first} went down first: {why}"))
        spawned, self.spawned = self.spawned, {}
        for fut in spawned.values():  # their joiners see what every pending request sees
            fut.set_error(DelegationError(ErrorCode.PEER_FAILED, "PROC-5", f"machine {first} went down first: {why}"))

    # -- spawn and join across processes ([PROC-7]) -------------------------------------------

    def _spawn_remote(self, name: str, args: list[list[Any]], machine: int, thread: int) -> Future[Any]:
        fut: Future[Any] = Future()
        c = self.conns.get(machine)
        if c is None:
            fut.set_error(DelegationError(ErrorCode.PEER_FAILED, "PROC-7", f"no connection to machine {machine}"))
            return fut
        self.next_spawn += 1
        sid = self.next_spawn
        self.spawned[sid] = fut
        try:
            c.sock.setblocking(True)
            c.send(spawn_message(sid, name, args, thread))
        except OSError as exc:
            self._peer_down(machine, machine, f"its bootstrap connection broke: {exc}")
        finally:
            c.sock.setblocking(False)
        return fut

    def _on_spawn_message(self, c: _Conn, msg: dict[str, Any]) -> None:
        try:
            if "joined" in msg:
                sid, result = check_joined(msg)
                fut = self.spawned.pop(sid, None)
                if fut is None:
                    raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-7", f"joined names no spawn of ours: {sid}")
                fut.set_result(result)
                return
            sid, name, args, thread = check_spawn(msg, self.rack.shape[self.m].threads)
            fn = resolve(name)
        except (RemoteProtocolError, ImportError, AttributeError, ValueError) as exc:
            self._peer_down(c.peer, c.peer, f"its spawn message broke the protocol: {exc}")
            return
        holder = self.rack.machine(self.m).threads[thread]
        moved = [Trust(v[0], v[1], v[2], v[3], holder) if kind == "t" else v for kind, v in args]
        fiber = self.rack.spawn_external(fn, *moved, machine=self.m, thread=thread, name=f"{name} (from m{c.peer})")

        def joined() -> None:
            if fiber.error is None and c.peer in self.conns:  # an error: the rack is going down
                try:
                    c.sock.setblocking(True)
                    c.send(joined_message(sid, fiber.done.result()))
                    c.sock.setblocking(False)
                except (OSError, ValueError) as exc:
                    self.rack.crash(f"the result of {name} could not go back to machine {c.peer}", exc)

        fiber.done.add_done_callback(joined)

    def finish(self) -> None:
        """Every machine said `done` ([PROC-5]): close."""
        self.close()

    def go_down(self, failure: RackFailure) -> None:
        """[PROC-5]: `down` naming the machine that went first on every connection still open."""
        if self.first is None:
            self.first, self.why = self.m, failure.report.splitlines()[1].strip() if failure.report else "failed"
        for c in self.conns.values():
            try:
                c.sock.setblocking(True)
                c.sock.settimeout(1.0)
                c.send(down(self.first, self.why[:1000]))
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        for c in self.conns.values():
            c.sock.close()
        self.conns.clear()
        self.listener.close()
        self.rack.close()
        closer = getattr(self.network, "close", None)
        if closer is not None:
            closer()

    # -- the loop -----------------------------------------------------------------------------

    def run(self, main: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """gsm-main on machine 0; serve elsewhere. Raises RackFailure when the application goes down.

        This machine's part is finished when gsm-main has returned and the rack is quiet (machine
        0), or when machine 0 said `done` and this rack is quiet (the others); it then says `done`
        ([PROC-5]) and goes on serving until every peer has said it too, so that no request of a
        peer still finishing (a Trust's last drop, a spawned fiber's) is left unanswered."""
        rack = self.rack
        result = None
        if self.m == 0:
            fiber = rack.start(main, *args)
            while True:
                quiet = rack.step()
                self.watch()
                if quiet and not self.spawned:
                    result = fiber.done.result()
                    break
        else:
            while True:
                self.watch()
                if (self.zero_done and rack.outstanding() == 0 and rack.live_fibers == 0
                        and not self.spawned):
                    break
                if not rack.serve_round():
                    self.network.busy()
        self._say_done()
        while not all(c.done for c in self.conns.values()):
            self.watch()
            if not rack.serve_round():
                self.network.busy()
        rack.ledger.end_of_run()  # this process's Trusts all dropped? (warns or raises, per `leaks`)
        return result

    def _say_done(self) -> None:
        for c in self.conns.values():
            try:
                c.sock.setblocking(True)
                c.send(DONE)
                c.sock.setblocking(False)
            except OSError:
                pass  # it went away: its own report says why


def run_process(target: str, info: LaunchInfo, *args: Any, threads: int = 1, seed: int = 0,
                wire_dir: str | None = None, shape: list[MachineShape] | None = None) -> int:
    """The body of one process: the exit status ([PROC-5]: non-zero when the application went down)."""
    main = resolve(target)
    proc = ProcessRack(info, threads=threads, shape=shape, seed=seed, wire_dir=wire_dir)
    try:
        proc.bootstrap()
    except (BootstrapFailed, OSError) as exc:  # [PROC-13] step 5
        proc.log(f"the rack did not form: {exc}")
        proc.close()
        return EXIT_BOOTSTRAP
    try:
        result = proc.run(main, *args)
    except RackFailure as failure:
        proc.go_down(failure)
        proc.log(f"application {info.app} went down: machine {proc.first} went down first\n{failure.report}")
        return EXIT_DOWN
    proc.finish()
    if info.machine == 0 and result is not None:
        print(result, flush=True)
    return 0
