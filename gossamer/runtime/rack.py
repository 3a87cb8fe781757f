"""A rack of machines, each with kernel threads running fibers, and `launch` (thesis 3.2.2).

The rack loop is the only scheduler. Each round it visits the live kernel threads in a seeded
random order; a visited thread runs each of its ready fibers one step (again in seeded order) and
then its poller: poll the CQ, run the request batches that landed (trustee side), match the
responses that landed (client side), send one batch per idle slot with queued requests. Every
choice comes from one `random.Random(seed)` and the emulated fabric is seeded too, so a run is a
pure function of the seed: a failing run replays exactly.

Fate sharing (thesis 3.2.1): when a completion, a verb or the device reports a failure, every
pending request in the rack fails with `PEER_FAILED`, the fibers get a bounded time to see their
errors, and `run` raises `RackFailure` with a report. An uncaught exception in a fiber or a
callback brings the rack down the same way (a panicking thread kills its process).
"""

from __future__ import annotations

import functools
import random
import time
import traceback
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from .. import networks
from ..closures import Registry, default_registry
from ..errors import DelegationError, ErrorCode
from ..shape import MachineShape, RackShape
from ..slot import SlotConfig
from . import context
from .env import DEFAULT_PENDING_LIMIT, ThreadEnv
from .fibers import Fiber, Future
from .kthread import KThread
from .leaks import TrustLedger, leak_mode
from .network import Network
from .remote import RemoteSpawner
from .slotmap import SlotMap
from .tcp import FallbackHub
from .verbs import LinkFailure, MachineNet, PeerFailed

T = TypeVar("T")

#: rounds the fibers get, after a failure, to observe their errors before the rack stops
DRAIN_ROUNDS = 200
#: on real verbs, how long the rack may see no progress at all before it reports a deadlock
REAL_IDLE_SECONDS = 10.0


class RackFailure(Exception):
    """The rack program went down (fate sharing); `report` says why and what was affected."""

    def __init__(self, report: str, failure: LinkFailure | None = None,
                 errors: tuple[BaseException, ...] = ()) -> None:
        super().__init__(report)
        self.report = report
        self.failure = failure
        self.errors = errors


@attrs.frozen(slots=True)
class DropEvent:
    """A property dropped by its trustee ([TRUST-5]), in rack order."""

    machine: int
    thread: int
    pointer: int
    value: Any
    step: int


class MachineRt:
    """One machine of the rack: its NIC side and its kernel threads (built by the rack)."""

    def __init__(self, index: int, net: MachineNet, threads: list[KThread]) -> None:
        self.index = index
        self.net = net
        self.alive = True
        self.threads = threads


class Rack:
    """A Gossamer process spread over `machines` machines of `threads` kernel threads each."""

    def __init__(
        self,
        machines: int = 1,
        threads: int = 1,
        *,
        trustees: int | Iterable[int] | None = None,
        shape: RackShape | Sequence[MachineShape | int | tuple[int, Any]] | None = None,
        seed: int = 0,
        config: SlotConfig | None = None,
        registry: Registry | None = None,
        network: Network | None = None,
        fabric: Any = None,
        lag: float = 0.0,
        verbs: Any = None,
        devices: list[str] | None = None,
        remote: int = 0,
        hosted: list[int] | None = None,
        pending_limit: int | None = DEFAULT_PENDING_LIMIT,
        leaks: str | None = None,
    ) -> None:
        """`network`: the NIC layer (`gossamer.networks.emulated(...)` or `.on_verbs(...)`);
        without one, `verbs`, `fabric`, `devices` and `lag` choose it (`networks.from_arguments`:
        the provider `GOSSAMER_VERBS` names, the emulator by default).

        `remote`: how many machines (the highest indices) run in other processes; this rack
        hosts the others, and reaches a remote one through `hello_for` / `connect_remote` (the
        bootstrap of SPEC.md section 10, carried by whoever owns the socket).

        `trustees`: which threads of every machine are trustees (SPEC.md [SHAPE-1]): None for all,
        an int `r` for threads `0 .. r-1`, or the indices. `shape`: a mixed rack instead of
        `machines` x `threads`, one entry per machine: a `MachineShape`, a thread count (all
        trustees) or `(threads, trustees)`. A shape whose slot ids do not fit 16 bits fails here
        ([LIM-3]), naming the limit, the shape and the largest shape like it that fits.

        `pending_limit`: how many requests each kernel thread's pending queue holds before
        `await trust.apply_then(...)` yields its fiber (thesis 3.2.4; None: unbounded).

        `leaks`: what a run that ends quietly does about properties that undropped Trusts keep
        alive: "warn" (a TrustLeakWarning listing them with their Trusts' creation sites),
        "error" (raise TrustLeakError, for tests) or "ignore"; None: the GOSSAMER_LEAKS
        environment variable, else "warn" (`gossamer.runtime.leaks`)."""
        if pending_limit is not None and pending_limit < 1:
            raise ValueError(f"pending_limit must be at least 1 (or None for unbounded), not {pending_limit}")
        self.pending_limit = pending_limit
        #: every undropped Trust of this process and where it was created (leak reports)
        self.ledger = TrustLedger(leak_mode(leaks))
        if shape is None:
            if not (1 <= machines <= 0xFFFF and 1 <= threads <= 0xFFFF):
                raise ValueError("machines and threads must be 1..65535")
            shape = RackShape.uniform(machines, threads, trustees)
            what = f"Rack({machines}, {threads}{'' if trustees is None else f', trustees={trustees!r}'})"
        else:
            shape = as_shape(shape)
            machines, threads = len(shape), max(m.threads for m in shape.machines)
            what = "Rack(shape=...)"
        shape.check(what)  # [LIM-3] before anything is allocated
        #: every machine's threads and trustee threads ([SHAPE-1]); `threads` is the largest count
        self.shape = shape
        if not 0 <= remote < machines:
            raise ValueError("remote must leave at least one local machine")
        # `hosted`: the machines this process runs (a rack of processes, SPEC.md 10.1); by default
        # the lowest `machines - remote`
        self.hosted = list(range(machines - remote)) if hosted is None else list(hosted)
        if not self.hosted or sorted(set(self.hosted)) != self.hosted or not 0 <= self.hosted[-1] < machines:
            raise ValueError(f"hosted must be distinct increasing machine ids of 0..{machines - 1}, not {hosted}")
        local = len(self.hosted)
        self.local_n = local
        self.machines_n = machines
        self.threads = threads
        self.seed = seed
        self.rng = random.Random(seed)
        self.config = config or SlotConfig()
        self.registry = registry or default_registry
        #: machine 0's slot ids; in a rack of equal machines, every machine's ([SHAPE-2])
        self.smap = SlotMap.of(shape, 0)
        if network is None:
            network = networks.from_arguments(verbs=verbs, fabric=fabric, devices=devices, seed=seed,
                                               machines=machines, lag=lag)
        self.network = network
        devices = network.device_names(local)
        if len(devices) < local:
            raise ValueError(f"{local} machines need {local} devices, found {devices}")
        self.fallback = FallbackHub(machines, self.config.fallback_limit, self.config.fallback_timeout_ms)
        self.fallback.slot_owner = shape.slot_use  # [SEC-6]: (machine, slot id) -> its use, or None
        self.fallback.threads = [m.threads for m in shape.machines]  # [FB-9]: a caller's T_m
        with network.activate():
            nets = [
                MachineNet(network, devices[i], m, machines, shape[m].threads, self.config,
                           psn=self.rng.randrange(1 << 24), shape=shape)
                for i, m in enumerate(self.hosted)
            ]
            # [BOOT-1] .. [BOOT-3]: every pair exchanges hellos (through the codec) and connects
            for a, na in zip(self.hosted, nets, strict=True):
                for b, nb in zip(self.hosted, nets, strict=True):
                    if a != b:  # [SEC-6] b learns the fallback secret a's callers will present
                        h = nb.connect(a, na.hello_for(b, self.fallback.port(a), self.fallback.secret_for(a, b)))
                        self.fallback.expect_secret(a, b, h.rdma.get("fallback_secret"))
        self.machines = [MachineRt(m, net, [self._kthread(net, t) for t in range(net.threads)])
                         for m, net in zip(self.hosted, nets, strict=True)]
        self._by_index = {m.index: m for m in self.machines}
        self.all_threads = [t for m in self.machines for t in m.threads]
        self.next_fiber = 0
        self.live_fibers = 0
        self.rounds = 0
        self.failure: LinkFailure | None = None
        self.crashes: list[tuple[str, BaseException]] = []
        self.stopping = False
        self.drops: list[DropEvent] = []
        self.entrusted = 0
        #: test hooks: called with (rack) at the start of every round
        self.round_hooks: list[Callable[[Rack], None]] = []
        #: test hooks: called with the DropEvent the moment a trustee drops a property
        self.drop_hooks: list[Callable[[DropEvent], None]] = []
        #: starts a fiber on a machine of another process ([PROC-7]); set by `gossamer.procrack`
        self.remote_spawner: RemoteSpawner | None = None
        self.failed_requests = 0
        self._idle = 0
        self._idle_since = 0.0
        self._drain = 0

    def _kthread(self, net: MachineNet, index: int) -> KThread:
        """Kernel thread `index` of the machine `net` serves: built from its `ThreadEnv`, handed
        what it uses (its NIC side, the fallback hub, the leak ledger), never the rack."""
        m = net.index
        env = ThreadEnv(
            config=self.config, registry=self.registry, smap=net.smap, net=net, fallback=self.fallback,
            machine=m, thread=index, on_crash=self.crash, on_entrusted=self.on_entrusted,
            on_dropped=functools.partial(self.on_dropped, m, index), pending_limit=self.pending_limit,
        )
        return KThread(env, net, self.fallback, self.ledger)

    # -- machines in other processes ([BOOT-3], [BOOT-6]) ------------------------------------

    def machine(self, index: int) -> MachineRt:
        """The local machine with id `index` (LookupError when it runs in another process)."""
        try:
            return self._by_index[index]
        except KeyError:
            raise LookupError(f"machine {index} runs in another process (this one hosts {self.hosted})") from None

    def hosts(self, index: int) -> bool:
        """Whether machine `index` runs in this process."""
        return index in self._by_index

    def hello_for(self, machine: int, peer: int) -> bytes:
        """The encoded hello local `machine` sends to remote machine `peer`."""
        return self.machine(machine).net.hello_for(peer, self.fallback.port(machine),
                                                  self.fallback.secret_for(machine, peer))  # [SEC-6]

    def connect_remote(self, machine: int, peer: int, encoded_hello: bytes) -> Any:
        """Connect local `machine`'s QPs to remote `peer` from the peer's hello."""
        with self.network.activate():
            h = self.machine(machine).net.connect(peer, encoded_hello)
        # [SEC-6] the peer's client threads present this secret on their fallback connections
        self.fallback.expect_secret(peer, machine, h.rdma.get("fallback_secret"))
        return h

    @property
    def fabric(self) -> Any:
        """The emulated fabric under the rack (fault injection in tests), None on real verbs."""
        return self.network.fabric

    @property
    def answered(self) -> int:
        """Requests finished so far (answered or failed), over every client thread."""
        return sum(th.client.answered for th in self.all_threads)

    def serve_round(self) -> bool:
        """One round without a gsm-main, for a rack that serves remote clients: run the ready
        fibers, poll every thread (run landed batches, answer them). True if anything happened;
        raises RackFailure when the rack goes down (fate sharing, as in `step`)."""
        with context.running(self) as run:
            progressed = False
            for th in self.all_threads:
                if th.ready and self._run_fibers(th, run):
                    progressed = True
                if self.stopping:
                    break
                run.thread = th
                run.fiber = None
                try:
                    if th.poll():
                        progressed = True
                except PeerFailed as pf:
                    self.peer_failed(pf.failure)
            if self.stopping:
                raise self._failure_report(None)
            return progressed

    # -- fibers ---------------------------------------------------------------------------

    def new_fiber(self, coro: Coroutine[Any, Any, Any], thread: KThread, name: str) -> Fiber:
        self.next_fiber += 1
        f = Fiber(self.next_fiber, coro, thread, name)
        self.live_fibers += 1
        thread.fibers += 1
        thread.wake(f)
        return f

    def _run_fibers(self, th: KThread, run: context.RunContext) -> bool:
        """Step each ready fiber of `th` once, in seeded order."""
        batch = th.take_ready()
        if not batch:
            return False
        if len(batch) > 1:
            self.rng.shuffle(batch)
        for f in batch:
            self.step_fiber(f, run)
        return True

    def step_fiber(self, f: Fiber, run: context.RunContext) -> None:
        th = f.thread
        if not self._by_index[th.machine].alive:
            return
        run.thread = th
        run.fiber = f
        try:
            y = f.step()
        except StopIteration as stop:
            self._fiber_done(f)
            f.done.set_result(stop.value)
            return
        except BaseException as exc:
            self._fiber_done(f)
            f.error = exc
            f.done.set_error(exc)
            self.crash(f"fiber {f.id} ({f.name}) on {th.label} raised", exc)
            return
        finally:
            run.fiber = None
        if y is None:
            th.wake(f)
        elif isinstance(y, Future):
            y.add_done_callback(lambda: th.wake(f))
        else:
            f.coro.close()
            self._fiber_done(f)
            self.crash(f"fiber {f.id} ({f.name}) awaited {y!r}", TypeError(
                "a Gossamer fiber may only await Gossamer futures (apply, entrust, a spawn "
                "handle, yield_now), not asyncio objects"))

    def _fiber_done(self, f: Fiber) -> None:
        self.live_fibers -= 1
        f.thread.fibers -= 1

    # -- events ---------------------------------------------------------------------------

    def on_entrusted(self, pointer: int) -> None:
        self.entrusted += 1

    def on_dropped(self, machine: int, thread: int, pointer: int, value: Any) -> None:
        ev = DropEvent(machine, thread, pointer, value, self.rounds)
        self.drops.append(ev)
        for hook in self.drop_hooks:
            hook(ev)

    def crash(self, what: str, exc: BaseException) -> None:
        """An uncaught error: the rack goes down (fate sharing)."""
        self.crashes.append((what, exc))
        self._go_down()

    def peer_failed(self, failure: LinkFailure) -> None:
        if self.failure is None:
            self.failure = failure
        if failure.peer is None:
            self.machine(failure.machine).alive = False
        self._go_down()

    def _go_down(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        detail = self.failure.describe() if self.failure else "the rack is going down"
        err = DelegationError(ErrorCode.PEER_FAILED, "ERR-1", detail)
        self.failed_requests = 0
        for th in self.all_threads:  # every thread stops before any callback of a failed request runs
            th.halted = True
        for th in self.all_threads:
            self.failed_requests += th.client.fail_all(err)

    def outstanding(self) -> int:
        return sum(th.client.outstanding for th in self.all_threads)

    # -- the loop -------------------------------------------------------------------------

    def run(self, main: Callable[..., Coroutine[Any, Any, T]], *args: Any,
            machine: int = 0, thread: int = 0) -> T:
        """Run `main(*args)` as gsm-main on (machine, thread) until the rack is quiet.

        Quiet means: gsm-main and every fiber finished and every request was answered. Raises
        RackFailure when the rack goes down (a failed peer, an uncaught error, a deadlock).
        """
        main_fiber = self.start(main, *args, machine=machine, thread=thread)
        while not self.step():
            pass
        result: T = main_fiber.done.result()
        self.ledger.end_of_run()  # every Trust dropped? (warns or raises, per `leaks`)
        return result

    def start(self, main: Callable[..., Coroutine[Any, Any, Any]], *args: Any,
              machine: int = 0, thread: int = 0) -> Fiber:
        """Start gsm-main; drive the rack with `step()` (tests do this to interleave checks)."""
        self.failed_requests = 0
        self._idle = 0
        self._drain = 0
        self.main_fiber = self.new_fiber(main(*args), self.machine(machine).threads[thread], "gsm-main")
        return self.main_fiber

    def spawn_external(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any,
                       machine: int, thread: int, name: str = "external") -> Fiber:
        """Start a fiber from outside the rack (tests and harnesses)."""
        return self.new_fiber(fn(*args), self.machine(machine).threads[thread], name)

    def step(self) -> bool:
        """One round of the rack loop; True when the rack is quiet (see `run`)."""
        with context.running(self) as run:
            return self._round(run)

    def _round(self, run: context.RunContext) -> bool:
        self.rounds += 1
        for hook in self.round_hooks:
            hook(self)
        progressed = False
        order = [th for m in self.machines if m.alive for th in m.threads]
        self.rng.shuffle(order)
        for th in order:
            if th.ready and self._run_fibers(th, run):
                progressed = True
            if self.stopping:
                continue
            run.thread = th
            run.fiber = None
            try:
                if th.poll():
                    progressed = True
            except PeerFailed as pf:
                self.peer_failed(pf.failure)
        if not self.stopping:
            for m in self.machines:  # the daemon's view: a dead device is a crashed process
                try:
                    m.net.check_alive(0)
                except PeerFailed as pf:
                    self.peer_failed(pf.failure)
        if self.stopping:
            self._drain += 1
            if self._drain > DRAIN_ROUNDS or not any(th.ready for th in self.all_threads):
                raise self._failure_report(self.main_fiber)
            return False
        if self.main_fiber.done.done and self.live_fibers == 0 and self.outstanding() == 0:
            return True
        if progressed or self.network.busy():
            self._idle = 0
            return False
        self._idle += 1
        if not self.network.settles:  # real verbs: the network takes real time; judge idleness by the clock
            now = time.monotonic()
            if self._idle == 1:
                self._idle_since = now
            stuck = now - self._idle_since > REAL_IDLE_SECONDS
        else:  # the emulated fabric is idle and nothing ran: nothing ever will
            stuck = self._idle > 3
        if stuck:
            self.crashes.append(("deadlock", RuntimeError(
                f"nothing can progress: {self.live_fibers} fibers wait, "
                f"{self.outstanding()} requests outstanding")))
            raise self._failure_report(self.main_fiber)
        return False

    def _failure_report(self, main_fiber: Fiber | None) -> RackFailure:
        lines = ["Gossamer rack failed (fate sharing: the whole program stops)"]
        if self.failure is not None:
            lines.append(f"  cause: {self.failure.describe()}")
        for what, exc in self.crashes:
            lines.append(f"  cause: {what}: {type(exc).__name__}: {exc}")
            tb = "".join(traceback.format_exception(exc)).rstrip().splitlines()
            lines.extend("    " + line for line in tb[-6:])
        lines.append(f"  requests failed with PEER_FAILED: {self.failed_requests}")
        lines.append(f"  fibers still alive: {self.live_fibers}; gsm-main "
                     f"{'finished' if main_fiber is None or main_fiber.done.done else 'did not finish'}")
        lines.append(f"  rounds: {self.rounds}, requests answered: {self.answered}")
        errors = tuple(exc for _, exc in self.crashes)
        return RackFailure("\n".join(lines), self.failure, errors)

    def close(self) -> None:
        self.fallback.close()
        if self.network.releases_on_collect():  # real verbs: give the devices back now (MachineNet.__del__)
            for m in self.machines:
                m.net.close()

    # -- counters -------------------------------------------------------------------------

    def qp_counts(self) -> list[int]:
        """RC QPs per machine: `threads * (machines - 1)` (one per thread and remote machine) in a
        rack of equal machines; `max(T, T_peer)` per remote machine in general ([SHAPE-5])."""
        out = []
        for m in self.machines:
            c = m.net.counters()
            out.append(c.qps_open if c else m.net.qp_count())
        return out


def as_shape(shape: RackShape | Sequence[MachineShape | int | tuple[int, Any]]) -> RackShape:
    """A `RackShape` from one entry per machine: a `MachineShape`, a thread count (every thread a
    trustee) or `(threads, trustees)` with trustees as `MachineShape.of` takes them."""
    if isinstance(shape, RackShape):
        return shape
    out: list[MachineShape] = []
    for m in shape:
        if isinstance(m, MachineShape):
            out.append(m)
        elif isinstance(m, int):
            out.append(MachineShape.of(m))
        else:
            out.append(MachineShape.of(m[0], m[1]))
    return RackShape(out)


def launch(
    main: Callable[..., Coroutine[Any, Any, T]],
    *args: Any,
    machines: int = 1,
    threads: int = 1,
    trustees: int | Iterable[int] | None = None,
    shape: RackShape | Sequence[MachineShape | int | tuple[int, Any]] | None = None,
    seed: int = 0,
    slot_size: int = 1024,
    table_k: int = 4,
    registry: Registry | None = None,
    lag: float = 0.0,
    fallback_timeout_ms: int = 5000,
    pending_limit: int | None = DEFAULT_PENDING_LIMIT,
    leaks: str | None = None,
) -> T:
    """Start a rack and run `main(*args)` as its gsm-main on machine 0, thread 0.

    Returns main's result once main and every fiber it spawned have finished and every request
    is answered; raises `RackFailure` when the rack goes down. `trustees` and `shape` as for
    `Rack`: a shape that breaks a limit fails before anything starts ([LIM-3]).
    """
    config = SlotConfig(slot_size=slot_size, table_k=table_k, fallback_timeout_ms=fallback_timeout_ms)
    rack = Rack(machines, threads, trustees=trustees, shape=shape, seed=seed, config=config, registry=registry,
                lag=lag, pending_limit=pending_limit, leaks=leaks)
    try:
        return rack.run(main, *args)
    finally:
        rack.close()
