"""The programmer's API: a Python rendering of the thesis's Table II (section 3.2.4).

    trust = await entrust({})                     # the property goes to a trustee
    await trust.apply(put, 1, 2)                  # blocking: this fiber waits for the answer
    trust.apply_then(put, 3, 4, then=print)       # non-blocking: the callback gets the answer
    handle = spawn(worker, trust, machine=1)      # worker gets a fresh clone ([TRUST-6])
    trust.drop()

Closures are plain functions registered with `@gossamer.closure(capture=..., result=...,
param=...)`, called on the trustee as `fn(property, *captured[, param])`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .. import serial
from ..closures import Closure, Registry
from ..errors import ErrorCode, GossamerError, LocalProtocolError
from ..request import Request, check_request
from ..shape import MachineShape
from . import context
from .admission import ADMITTED, Admission, WaitForRoom
from .client_side import Pending
from .fibers import FiberHandle, Future, yield_now
from .kthread import KThread
from .leaks import Site, capture, collected_warning
from .remote import RemoteFiberHandle, function_name

T = TypeVar("T")


class _NoArg:
    __repr__ = lambda self: "NO_ARG"  # noqa: E731


NO_ARG: Any = _NoArg()


def _check_not_delegated(what: str) -> None:
    name = context.delegated_closure()
    if name is not None:
        # [ERR-5] "A blocking apply called while a delegated closure runs ... MUST fail at once,
        # inside the closure, with NESTED_APPLY." The thesis hangs here (3.2.6: "calling apply
        # ... from within a closure ... will cause the system to hang").
        raise LocalProtocolError(
            ErrorCode.NESTED_APPLY, "ERR-5",
            f"{what} is blocking and cannot be called inside the delegated closure {name!r}: "
            "the trustee thread would wait for itself. Use apply_then (non-blocking) instead.",
        )


def make_request(registry: Registry, pointer: int, fn: Closure, captured: tuple[Any, ...],
                 arg: Any = NO_ARG) -> Request:
    """The request `fn(property at pointer, *captured[, arg])`, checked against `registry` and
    the closure's layouts before anything is queued ([CID-1], [VT-5], [REQ-4], [SER-1])."""
    if not isinstance(fn, Closure):
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "CID-1",
            f"{fn!r} is not a registered closure: decorate it with @gossamer.closure(...)",
        )
    if registry.get(fn.id) is None:
        raise LocalProtocolError(
            ErrorCode.UNKNOWN_CLOSURE, "VT-5", f"closure {fn.name!r} is not in this rack's registry"
        )
    data = fn.capture.pack(captured)
    if fn.param.present:
        if arg is NO_ARG:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "REQ-4", f"closure {fn.name!r} takes a serialized argument: pass arg=..."
            )
        try:
            param: bytes | None = serial.dumps(arg)
        except Exception as exc:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "SER-1", f"argument of {fn.name!r} is not CBOR-serializable: {exc}"
            ) from None
    else:
        if arg is not NO_ARG:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "REQ-4", f"closure {fn.name!r} takes no serialized argument"
            )
        param = None
    req = Request(pointer, fn.id, data, param)
    check_request(req, fn.shape)
    return req


class Trust:
    """A handle on a property held by a trustee (thesis 3.2.3). Not shareable between threads:
    hand it to another fiber with `spawn` (which passes a fresh clone, [TRUST-6])."""

    __slots__ = ("_cloned", "_dropped", "_holder", "id", "machine", "pointer", "thread")

    def __init__(self, machine: int, thread: int, pointer: int, tid: int, holder: KThread,
                 site: Site | None = None) -> None:
        """`site`: where the program asked for this Trust (entrust, clone, spawn), for leak
        reports (`gossamer.runtime.leaks`); by default the caller of this constructor."""
        self.machine = machine
        self.thread = thread
        self.pointer = pointer
        self.id = tid
        self._holder = holder
        self._dropped = False
        self._cloned = False
        ledger = holder.ledger
        ledger.created(tid, (machine, thread, pointer), holder.label, site or capture(1, ledger.stacks))

    def __del__(self) -> None:
        # Like an unclosed file: a Trust nobody dropped keeps its property alive ([TRUST-5]).
        if self._dropped:
            return
        holder = self._holder
        if holder.halted:  # fate sharing: the property went down with the rack
            return
        rec = holder.ledger.collected(self.id)
        text = collected_warning(rec, repr(self))
        if rec is None:
            warnings.warn(text, ResourceWarning, stacklevel=2, source=self)
        else:  # reported at the creation site, where the fix goes
            warnings.warn_explicit(text, ResourceWarning, rec.site.filename, rec.site.lineno, source=self)

    def __repr__(self) -> str:
        state = " dropped" if self._dropped else ""
        return (f"<Trust {self.id:#x} -> property {self.pointer:#x} on m{self.machine}.t{self.thread}, "
                f"held by {self._holder.label}{state}>")

    @property
    def trustee(self) -> tuple[int, int]:
        return self.machine, self.thread

    @property
    def dropped(self) -> bool:
        return self._dropped

    def _check(self, what: str) -> KThread:
        if self._dropped:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "TRUST-5", f"{what} on a dropped Trust {self.id:#x}")
        th = context.current_thread()
        if th is not self._holder:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "TRUST-6",
                f"{what}: Trust {self.id:#x} is held by {self._holder.label}, not {th.label}; "
                "give other threads access with spawn(fn, trust), which hands over a fresh clone",
            )
        if th.halted:
            raise LocalProtocolError(ErrorCode.PEER_FAILED, "ERR-1", "the rack is going down")
        return th

    def apply(self, fn: Closure, *captured: Any, arg: Any = NO_ARG) -> Future[Any]:
        """Delegate `fn(property, *captured[, arg])`; `await` it for the result (blocking apply)."""
        _check_not_delegated("apply")
        th = self._check("apply")
        req = make_request(th.env.registry, self.pointer, fn, captured, arg)
        fut: Future[Any] = Future()

        def done(value: Any, error: GossamerError | None) -> None:
            if error is not None:
                fut.set_error(error)
            else:
                fut.set_result(value)

        th.client.submit(self.machine, self.thread, Pending(req, fn, done))
        return fut

    def apply_then(
        self,
        fn: Closure,
        *captured: Any,
        then: Callable[[Any], Any] | None = None,
        on_error: Callable[[GossamerError], Any] | None = None,
        arg: Any = NO_ARG,
    ) -> Admission:
        """Delegate without waiting; `then(result)` runs on this thread when the answer comes.

        A failed request calls `on_error(error)`; with no `on_error` the error is uncaught and
        brings the rack down, like an exception nobody handles.

        Backpressure (thesis 3.2.4): `await trust.apply_then(...)` yields the fiber when this
        thread's pending queue is full (the rack's `pending_limit`), until the poller has sent
        enough of it; with room, awaiting does not yield. The request is queued either way. See
        `gossamer.runtime.admission`.
        """
        th = self._check("apply_then")
        req = make_request(th.env.registry, self.pointer, fn, captured, arg)

        def done(value: Any, error: GossamerError | None) -> None:
            if error is not None:
                if on_error is None:
                    raise error
                on_error(error)
            elif then is not None:
                then(value)

        client = th.client
        client.submit(self.machine, self.thread, Pending(req, fn, done))
        if client.full and context.current_fiber() is not None:  # only a fiber can yield
            return WaitForRoom(client, th.label, client.pending_limit or 0, sys._getframe(1))
        return ADMITTED

    def clone(self) -> Trust:
        """A new Trust to the same property: mints an id and sends its toggle ([TRUST-4])."""
        th = self._check("clone")
        return self._clone_on(th, th, capture(1, th.ledger.stacks))

    def _clone_on(self, th: KThread, new_holder: KThread, site: Site) -> Trust:
        tid = th.minter.mint()
        self._cloned = True
        self._toggle(th, tid)
        return Trust(self.machine, self.thread, self.pointer, tid, new_holder, site)

    def drop(self) -> None:
        """Give this Trust up: toggles its own id ([TRUST-4]); the last drop drops the property."""
        th = self._check("drop")
        self._dropped = True
        th.ledger.dropped(self.id)
        self._toggle(th, self.id)

    def _toggle(self, th: KThread, tid: int) -> None:
        toggle = th.env.registry.toggle
        req = Request(self.pointer, toggle.id, toggle.capture.pack((tid,)), None)

        def done(value: Any, error: GossamerError | None) -> None:
            if error is not None and error.code is not ErrorCode.PEER_FAILED:
                raise error  # a toggle cannot fail in a correct rack: report it loudly

        th.client.submit(self.machine, self.thread, Pending(req, toggle, done))

    def __enter__(self) -> Trust:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._dropped:
            self.drop()


def entrust(value: Any, *, machine: int | None = None, thread: int | None = None) -> Future[Trust]:
    """Entrust `value` (CBOR-serializable) to a trustee; `await` it for the Trust ([TRUST-3]).

    By default the trustee is the calling thread; `machine` / `thread` place it anywhere.
    """
    _check_not_delegated("entrust")
    th = context.current_thread()
    rack = context.current_rack()
    if th.halted:
        raise LocalProtocolError(ErrorCode.PEER_FAILED, "ERR-1", "the rack is going down")
    m = th.machine if machine is None else machine
    t = th.index if thread is None else thread
    if not (0 <= m < rack.machines_n and 0 <= t < rack.shape[m].threads):
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "API", f"no thread m{m}.t{t} in this rack")
    if not rack.shape.is_trustee(m, t):  # [SHAPE-1]: properties live on trustee threads only
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SHAPE-1",
                                 f"m{m}.t{t} is not a trustee thread (machine {m}: {rack.shape[m].describe()}); "
                                 "pass machine= and thread= of a trustee")
    builtin = rack.registry.entrust
    tid = th.minter.mint()
    req = make_request(rack.registry, 0, builtin, (tid,), value)  # [TRUST-3]: pointer 0
    fut: Future[Trust] = Future()
    site = capture(1, rack.ledger.stacks)  # the Trust is made later, by the poller

    def done(ptr: Any, error: GossamerError | None) -> None:
        if error is not None:
            fut.set_error(error)
        else:
            fut.set_result(Trust(m, t, int(ptr), tid, th, site))

    th.client.submit(m, t, Pending(req, builtin, done))
    return fut


def spawn(
    fn: Callable[..., Coroutine[Any, Any, T]],
    *args: Any,
    machine: int | None = None,
    thread: int | None = None,
    name: str | None = None,
) -> FiberHandle[T] | RemoteFiberHandle[T]:
    """Start fiber `fn(*args)` on (machine, thread); None means any (chosen by the seeded rack).

    Every Trust in `args` is handed over as a fresh clone owned by the new fiber ([TRUST-6]): the
    caller keeps (and must drop) its own. Other arguments crossing machines travel as CBOR, like
    anything that leaves a machine.
    """
    th = context.current_thread()
    rack = context.current_rack()
    if machine is None:
        machine = rack.rng.randrange(rack.machines_n)
    if thread is None:
        thread = rack.rng.randrange(rack.shape[machine].threads) if 0 <= machine < rack.machines_n else 0
    if not (0 <= machine < rack.machines_n and 0 <= thread < rack.shape[machine].threads):
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "API", f"no thread m{machine}.t{thread} in this rack")
    if not rack.hosts(machine):  # [PROC-7]: a machine of another process
        return _spawn_remote(fn, args, machine, thread)
    target = rack.machine(machine).threads[thread]
    moved: list[Any] = []
    for a in args:
        if isinstance(a, Trust):
            holder = a._check("spawn")
            moved.append(a._clone_on(holder, target, capture(1, rack.ledger.stacks)))
        elif machine != th.machine:
            try:
                moved.append(serial.loads(serial.dumps(a)))
            except Exception as exc:
                raise LocalProtocolError(
                    ErrorCode.NOREF, "LAYOUT-3",
                    f"spawn argument {a!r} cannot leave machine {th.machine}: {exc}; pass "
                    "Trusts or CBOR-serializable values",
                ) from None
        else:
            moved.append(a)
    coro = fn(*moved)
    if not isinstance(coro, Coroutine):
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "API", f"spawn needs an async function, got {fn!r}")
    f = rack.new_fiber(coro, target, name or str(getattr(fn, "__qualname__", "fiber")))
    return FiberHandle(f)


def _spawn_remote(fn: Callable[..., Coroutine[Any, Any, T]], args: tuple[Any, ...], machine: int,
                  thread: int) -> RemoteFiberHandle[T]:
    """[PROC-7]: the function by name, the arguments as [kind, value] pairs: `["v", value]` for a
    CBOR value, `["t", [machine, thread, pointer, trust id]]` for a Trust, handed over as a clone
    minted and toggled in here ([TRUST-6]) and held by the new fiber there."""
    rack = context.current_rack()
    spawner = rack.remote_spawner
    if spawner is None:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "PROC-7",
                                 f"machine {machine} runs in another process that this rack cannot reach")
    name = function_name(fn)
    wire: list[list[Any]] = []
    for a in args:
        if isinstance(a, Trust):
            holder = a._check("spawn")
            tid = holder.minter.mint()
            a._cloned = True
            a._toggle(holder, tid)
            wire.append(["t", [a.machine, a.thread, a.pointer, tid]])
            continue
        try:
            serial.dumps(a)
        except Exception as exc:
            raise LocalProtocolError(
                ErrorCode.NOREF, "LAYOUT-3",
                f"spawn argument {a!r} cannot leave this process: {exc}; pass Trusts or CBOR-serializable values",
            ) from None
        wire.append(["v", a])
    return RemoteFiberHandle(spawner(name, wire, machine, thread), (machine, thread))


def here() -> tuple[int, int]:
    """(machine, thread) of the running fiber."""
    th = context.current_thread()
    return th.machine, th.index


def rack_shape() -> tuple[int, int]:
    """(machines, threads per machine) of the running rack; in a mixed rack ([SHAPE-1]) the
    largest thread count (`machine_shape(m)` gives each machine's)."""
    rack = context.current_rack()
    return rack.machines_n, rack.threads


def machine_shape(machine: int | None = None) -> MachineShape:
    """Threads and trustee threads of `machine` (default: the running fiber's) ([SHAPE-1])."""
    rack = context.current_rack()
    m = context.current_thread().machine if machine is None else machine
    return rack.shape[m]


__all__ = ["NO_ARG", "Pending", "Trust", "entrust", "here", "machine_shape", "make_request", "rack_shape", "spawn",
           "yield_now"]
