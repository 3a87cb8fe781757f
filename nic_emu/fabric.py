"""The emulated fabric: machines (one NIC each), their addresses, and a seeded scheduler.

The fabric is the only global state of the emulator: ``pyverbs.device.get_device_list()`` and
``Context(name=...)`` look machines up in the *current* fabric, which tests replace with
``set_fabric`` / ``use_fabric``.  Objects keep the machine (and so the fabric) they were created
on, so replacing the current fabric never changes live objects.

Nothing runs in the background.  Work posted to a send queue is carried out when the fabric
*progresses*: on every ``CQ.poll`` and ``MR.read``, and on explicit ``step()`` /
``run_until_idle()``.  One progress call is one tick of virtual time; retries (RNR, transport
timeout) wait at least one tick, so that code polling in a loop sees them in a realistic order.
With ``lag > 0`` each queue is held back at a tick with that probability and queues are served in
a seeded random order, which explores interleavings between connections; a run is a pure function
of the seed and the program.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import attrs

from nic_emu import capture as _capture
from nic_emu.constants import ERR, MTU_CODES, RTR, RTS, SQD, UD
from nic_emu.errors import NicError
from nic_emu.transport.execute import tick

if TYPE_CHECKING:
    from nic_emu.procwire import SocketWire
    from nic_emu.transport.placement import Landing, StreamKey
    from nic_emu.transport.queues import Completion, QueuePair, Region
    from nic_emu.transport.wire import InFlight

#: Where emulated memory starts, and how far apart machines' address spaces are (so that an
#: address names its machine, which SGE.read needs; real processes may overlap, nothing relies
#: on overlap).
_ADDR_BASE = 0x7F00_0000_0000
_ADDR_STRIDE = 1 << 36
_PAGE = 4096
_FIRST_QPN = 17  # rxe hands out QPNs from 17 (0 and 1 are the special QPs)



@attrs.frozen(kw_only=True)
class FaultPlan:
    """Faults for unreliable transports (UD, UC): each message independently.

    ``drop``: probability a message is lost.  ``delay``: probability it is held for 1 to
    ``max_delay`` ticks.  ``reorder``: probability that messages due at the same tick are
    delivered in a shuffled order.  RC never loses a message silently; to hurt RC use
    ``Fabric.set_link`` / ``Fabric.cut`` / ``Fabric.crash``.
    """

    drop: float = attrs.field(default=0.0, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.le(1.0)))
    delay: float = attrs.field(default=0.0, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.le(1.0)))
    max_delay: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    reorder: float = attrs.field(default=0.0, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.le(1.0)))

    @property
    def any(self) -> bool:
        return self.drop > 0 or self.delay > 0 or self.reorder > 0


#: The placement models (nic_emu/docs/placement.md): how the data of one message reaches memory.
PLACEMENT_MODELS = ("whole", "ascending", "any")


@attrs.frozen(kw_only=True)
class Placement:
    """How a NIC places the data of an RC message (RDMA WRITE, SEND, READ response) in memory.

    ``whole``: all bytes at once, in the tick the message executes (the emulator's old behaviour).
    ``ascending``: in chunks of ``chunk`` bytes, lowest address first, messages of one QP in
    order (what most NICs do, and what HERD-style last-byte polling needs).  ``any``: the chunks
    of a message in any order the seed picks, and a later message's chunks before an earlier
    one's on the same QP, limited only by what the IB spec guarantees (nic_emu/docs/placement.md).
    In both relaxed models the fabric places a seeded burst of chunks per QP per tick, so a
    poller that reads memory between ticks sees exactly the chunks placed so far, and the
    writer's completion comes before the last chunk is visible with probability
    ``early_completion``.  A completion at the side whose memory receives the data (the
    responder's for WRITE WITH IMMEDIATE and SEND, the requester's for READ) always comes after
    all of that message's data, and all earlier messages' data on the QP, is visible.
    """

    model: str = attrs.field(default="whole", validator=attrs.validators.in_(PLACEMENT_MODELS))
    chunk: int = attrs.field(default=64, validator=attrs.validators.ge(1))
    early_completion: float = attrs.field(default=0.5, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.le(1.0)))
    #: Probability that the fabric places one more chunk on a QP in the same tick.
    burst: float = attrs.field(default=0.5, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.lt(1.0)))

    @property
    def relaxed(self) -> bool:
        return self.model != "whole"


@attrs.frozen(kw_only=True)
class QPCounters:
    """Per-QP counters (a snapshot)."""

    send_wrs: int
    recv_wrs: int
    bytes_sent: int
    bytes_received: int
    completions: int
    error_completions: int


@attrs.frozen(kw_only=True)
class NicCounters:
    """Per-NIC counters (a snapshot): totals over all QPs ever created on the machine."""

    send_wrs: int
    recv_wrs: int
    bytes_sent: int
    bytes_received: int
    completions: int
    error_completions: int
    qps_created: int
    qps_open: int
    #: RC/UC QPs now in RTR, RTS or SQD, and the most there ever were at once.
    connected_qps: int
    peak_connected_qps: int
    messages_dropped: int
    cq_overflows: int


class HoldsQueuePair(Protocol):
    """A verbs QP (``nic_emu.pyverbs.qp.QP``): it holds the NIC's queue pair."""

    @property
    def nic_qp(self) -> QueuePair: ...


def qp_counters(qp: HoldsQueuePair) -> QPCounters:
    c = qp.nic_qp
    return QPCounters(
        send_wrs=c.send_wrs,
        recv_wrs=c.recv_wrs,
        bytes_sent=c.bytes_sent,
        bytes_received=c.bytes_received,
        completions=c.completions,
        error_completions=c.error_completions,
    )


class Machine:
    """One host with one RoCE NIC (device ``emuN``, port 1, GID 0 link-local, GID 1 IPv4)."""

    def __init__(self, fabric: Fabric, index: int, name: str) -> None:
        self.fabric = fabric
        self.index = index
        self.name = name
        self.guid = 0x0200_5EFF_FE00_0000 | (index + 1)
        n = index + 1
        #: RoCE v2 address 198.18.x.y (the benchmarking range, as on the Soft-RoCE rig).
        self.ipv4 = bytes((198, 18, n >> 8, n & 0xFF))
        link_local = bytes.fromhex("fe800000000000000200 5eff fe00".replace(" ", "")) + bytes(
            (n >> 8, n & 0xFF)
        )
        self.gids: list[bytes] = [link_local, bytes(10) + b"\xff\xff" + self.ipv4]
        #: This NIC's placement model for data landing in its memory; None: the fabric's.
        self.placement: Placement | None = None
        self.alive = True
        self.link_up = True
        #: the wire to this machine's own process when it runs in another one (a stand-in here,
        #: ``nic_emu.procwire``), None when it is this process's
        self.wire: SocketWire | None = None
        self.qps: dict[int, QueuePair] = {}
        #: The key table: MRs and bound memory windows by key (lkey == rkey).
        self.mrs: dict[int, Region] = {}
        self._next_qpn = _FIRST_QPN
        self._next_handle = 1
        self._mr_index = 0
        self._next_addr = _ADDR_BASE + index * _ADDR_STRIDE
        self._allocs: list[tuple[int, bytearray]] = []
        # Counters of QPs already destroyed, and machine-wide ones.
        self._retired = [0, 0, 0, 0, 0, 0]
        self.qps_created = 0
        self.peak_connected = 0
        self.messages_dropped = 0
        self.cq_overflows = 0
        #: Affiliated async events not yet read (``Context.get_async_event``): (type, object).
        self.async_events: collections.deque[tuple[int, object]] = collections.deque()

    def __repr__(self) -> str:
        return f"<Machine {self.name} alive={self.alive} link_up={self.link_up}>"

    # -- resources -------------------------------------------------------------------------

    def check_alive(self, what: str) -> None:
        if not self.alive:
            # After a crash the device is gone: every verb fails, as after IBV_EVENT_DEVICE_FATAL.
            raise NicError(f"Failed to {what}: {self.name} has crashed", errno.EIO)

    def next_handle(self) -> int:
        self._next_handle += 1
        return self._next_handle

    def alloc(self, length: int) -> tuple[int, bytearray]:
        """Page-aligned zeroed memory, with a guard page after it."""
        base = self._next_addr
        mem = bytearray(length)
        self._next_addr += (length + 2 * _PAGE - 1) // _PAGE * _PAGE
        self._allocs.append((base, mem))
        return base, mem

    def find_allocation(self, addr: int, length: int) -> tuple[int, bytearray] | None:
        for base, mem in self._allocs:
            if base <= addr and addr + length <= base + len(mem):
                return base, mem
        return None

    def new_key(self) -> int:
        """A fresh MR / MW key.  rxe keys are (index << 8) | variant; the low byte comes from the
        seed so that a key from an earlier run or another machine is unlikely to be valid by
        accident."""
        self._mr_index += 1
        return (self._mr_index << 8) | self.fabric.rng.randrange(256)

    def register(self, region: Region, key: int | None = None) -> int:
        """Put ``region`` in the key table under ``key`` (a new one if None); the key."""
        if key is None:
            key = self.new_key()
        region.key = key
        self.mrs[key] = region
        return key

    def deregister(self, region: Region) -> None:
        """Take ``region`` out of the key table (if its key still names it)."""
        if self.mrs.get(region.key) is region:
            del self.mrs[region.key]

    def add_qp(self, qp: QueuePair) -> int:
        qpn = self._next_qpn
        self._next_qpn += 1
        qp.qp_num = qpn
        self.qps[qpn] = qp
        self.qps_created += 1
        return qpn

    def remove_qp(self, qp: QueuePair) -> None:
        if self.qps.pop(qp.qp_num, None) is not None:
            r = self._retired
            for i, n in enumerate(qp.counts()):
                r[i] += n
            self.fabric.unschedule(qp)
            self.fabric.held.pop(qp, None)

    # -- counters ---------------------------------------------------------------------------

    def connected_qps(self) -> int:
        return sum(
            1 for q in self.qps.values() if q.qp_type != UD and q.state in (RTR, RTS, SQD)
        )

    def note_connected(self) -> None:
        self.peak_connected = max(self.peak_connected, self.connected_qps())

    def counters(self) -> NicCounters:
        r = list(self._retired)
        for q in self.qps.values():
            for i, n in enumerate(q.counts()):
                r[i] += n
        return NicCounters(
            send_wrs=r[0],
            recv_wrs=r[1],
            bytes_sent=r[2],
            bytes_received=r[3],
            completions=r[4],
            error_completions=r[5],
            qps_created=self.qps_created,
            qps_open=len(self.qps),
            connected_qps=self.connected_qps(),
            peak_connected_qps=self.peak_connected,
            messages_dropped=self.messages_dropped,
            cq_overflows=self.cq_overflows,
        )


class Fabric:
    """A set of machines joined by one switch, with a seeded scheduler and fault injection."""

    def __init__(
        self,
        seed: int = 0,
        machines: int = 2,
        *,
        mtu: int = 1024,
        lag: float = 0.0,
        faults: FaultPlan | None = None,
        placement: Placement | None = None,
        name_prefix: str = "emu",
    ) -> None:
        if mtu not in MTU_CODES:
            raise ValueError(f"mtu must be one of {sorted(MTU_CODES)}")
        if not 0.0 <= lag < 1.0:
            raise ValueError("lag must be in [0, 1)")
        self.seed = seed
        self.mtu = mtu
        self.mtu_code = MTU_CODES[mtu]
        self.lag = lag
        self.faults = faults if faults is not None else FaultPlan()
        self._prefix = name_prefix
        self.rng = random.Random(seed)
        self.machines: list[Machine] = []
        self._by_name: dict[str, Machine] = {}
        self._by_gid: dict[bytes, Machine] = {}
        self._cuts: set[frozenset[int]] = set()
        self.now = 0
        #: The QPs whose send queues the next tick serves.
        self.active: list[QueuePair] = []
        #: UC/UD messages held back by the fault plan, and their sequence numbers.
        self.in_flight: list[InFlight] = []
        self.seq = 0
        #: No link down, cut or crash anywhere (lets the hot path skip reachability checks).
        self.healthy = True
        #: Whether transport may use its fused fast path for RDMA WRITE runs; a placement model
        #: that splits or delays data placement must turn it off.
        self.fast = True
        #: True while anything is queued or in flight (checked by poll before progressing).
        self.pending = False
        #: Placement (issue 8): the fabric-wide model, its own random stream (so that a relaxed
        #: model never changes the other seeded choices of a run), messages whose data is still
        #: landing per (QP, direction), and requester completions held back in posting order.
        self.placement = placement if placement is not None else Placement()
        self.placement_rng = random.Random(f"placement:{seed}")
        self.relaxed = False
        self.streams: dict[StreamKey, collections.deque[Landing]] = {}
        self.held: dict[QueuePair, collections.deque[tuple[Completion, Landing | None, int]]] = {}
        self.draining = False
        #: The wire to machines in other processes (``nic_emu.procwire``), or None.
        self.wire: SocketWire | None = None
        #: Where RC data messages are written as RoCE v2 packets (``capture``), or None.
        self.pcap: _capture.PcapWriter | None = _capture.default_sink()
        for _ in range(machines):
            self.add_machine()
        self._update_placement()

    def __repr__(self) -> str:
        return f"<Fabric seed={self.seed} machines={len(self.machines)} now={self.now}>"

    # -- topology ---------------------------------------------------------------------------

    def add_machine(self, name: str | None = None) -> Machine:
        index = len(self.machines)
        m = Machine(self, index, name or f"{self._prefix}{index}")
        if m.name in self._by_name:
            raise ValueError(f"duplicate machine name {m.name}")
        self.machines.append(m)
        self._by_name[m.name] = m
        for gid in m.gids:
            self._by_gid[gid] = m
        return m

    def machine(self, name: str) -> Machine:
        return self._by_name[name]

    def machine_or_none(self, name: str) -> Machine | None:
        return self._by_name.get(name)

    def machine_by_gid(self, gid: bytes) -> Machine | None:
        return self._by_gid.get(gid)

    # -- placement ---------------------------------------------------------------------------

    def capture(self, path: str) -> _capture.PcapWriter:
        """Write this fabric's RC data messages from now on as RoCE v2 packets to a new pcap
        at ``path`` (``nic_emu.capture``); returns the writer (close it when done)."""
        self.pcap = _capture.PcapWriter(path)
        return self.pcap

    def set_placement(self, placement: Placement, machine: Machine | str | None = None) -> None:
        """Choose the placement model of the whole fabric, or of one NIC (for data landing in
        that machine's memory: WRITE and SEND it receives, READ responses it asked for)."""
        if machine is None:
            self.placement = placement
        else:
            self._m(machine).placement = placement
        self._update_placement()

    def placement_of(self, machine: Machine) -> Placement:
        return machine.placement if machine.placement is not None else self.placement

    def _update_placement(self) -> None:
        self.relaxed = any(self.placement_of(m).relaxed for m in self.machines)
        # The fused WRITE fast path lands data inline: only the whole model may use it.
        self.fast = not self.relaxed

    # -- faults -----------------------------------------------------------------------------

    def set_link(self, machine: Machine | str, up: bool) -> None:
        """Take a machine's link down (or back up): nothing gets in or out while it is down."""
        self._m(machine).link_up = up
        self._update_health()

    def cut(self, a: Machine | str, b: Machine | str) -> None:
        """Partition two machines from each other (both directions)."""
        self._cuts.add(frozenset((self._m(a).index, self._m(b).index)))
        self.healthy = False

    def heal(self, a: Machine | str, b: Machine | str) -> None:
        self._cuts.discard(frozenset((self._m(a).index, self._m(b).index)))
        self._update_health()

    def crash(self, machine: Machine | str) -> None:
        """The machine stops dead: its queues vanish without completions, its memory is gone
        for everyone, peers' RC QPs time out (RETRY_EXC_ERR), and its own verbs fail (EIO)."""
        m = self._m(machine)
        m.alive = False
        self.healthy = False
        for qp in list(m.qps.values()):
            self.unschedule(qp)
            qp.sq.clear()
            qp.rq.clear()
            qp.state = ERR  # silently: nobody is left to poll
        self.in_flight = [f for f in self.in_flight if f.dst is not m]
        for key in [k for k in self.streams if k[0].machine is m]:
            del self.streams[key]
        for qp in [q for q in self.held if q.machine is m]:
            del self.held[qp]

    def _update_health(self) -> None:
        self.healthy = not self._cuts and all(m.alive and m.link_up for m in self.machines)

    def reachable(self, a: Machine, b: Machine) -> bool:
        return (
            a.alive
            and b.alive
            and a.link_up
            and b.link_up
            and (not self._cuts or frozenset((a.index, b.index)) not in self._cuts)
        )

    def _m(self, machine: Machine | str) -> Machine:
        return self._by_name[machine] if isinstance(machine, str) else machine

    # -- memory by address (for SGE.read) ---------------------------------------------------

    def read_address(self, addr: int, length: int) -> bytes:
        idx = (addr - _ADDR_BASE) // _ADDR_STRIDE
        if 0 <= idx < len(self.machines):
            found = self.machines[idx].find_allocation(addr, length)
            if found is not None:
                base, mem = found
                return bytes(mem[addr - base : addr - base + length])
        raise NicError(f"Address {addr:#x} is not mapped", errno.EFAULT)

    # -- scheduling -------------------------------------------------------------------------

    def schedule(self, qp: QueuePair) -> None:
        """Serve ``qp``'s send queue from the next tick on."""
        qp.scheduled = True
        self.active.append(qp)
        self.pending = True

    def unschedule(self, qp: QueuePair) -> None:
        if qp.scheduled:
            qp.scheduled = False
            self.active = [q for q in self.active if q is not qp]

    @property
    def _pending(self) -> bool:
        """The old name of ``pending`` (gossamer/runtime reads it through ``getattr``)."""
        return self.pending

    #: One tick: deliver what is due, place data, then serve every send queue that may run
    #: (``nic_emu.transport.execute.tick``, bound as the method itself: no extra call per poll).
    progress = tick

    def step(self) -> bool:
        """One progress tick; True if work remains."""
        self.progress()
        return self.pending

    def run_until_idle(self, max_steps: int = 10_000) -> bool:
        """Progress until nothing is queued or in flight.  False if ``max_steps`` ran out first
        (a QP stalled for good, e.g. a READ with max_rd_atomic 0, or infinite RNR retry)."""
        for _ in range(max_steps):
            if not self.pending:
                return True
            self.progress()
        return not self.pending


# -- the current fabric (the emulator's only global) ---------------------------------------

_current: Fabric | None = None


def current_fabric() -> Fabric:
    """The fabric verbs calls resolve against; a 2-machine fabric with seed 0 if none was set."""
    global _current
    if _current is None:
        _current = Fabric()
    return _current


def set_fabric(fabric: Fabric | None) -> Fabric | None:
    """Make ``fabric`` current; returns the previous one."""
    global _current
    prev, _current = _current, fabric
    return prev


@contextlib.contextmanager
def use_fabric(fabric: Fabric) -> Iterator[Fabric]:
    prev = set_fabric(fabric)
    try:
        yield fabric
    finally:
        set_fabric(prev)
