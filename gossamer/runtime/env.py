"""What a kernel thread's client and trustee sides are built from, and what they hand back.

`ThreadEnv` is a small frozen environment (config, registry, slot map, the slot side of the
network, the fallback hub, callbacks): the sides hold no kernel thread and no rack, so ownership
runs one way (Rack -> MachineRt -> KThread -> sides) and each side can be built and driven in a
test without a Rack. The sides do not send: they return `Send` actions (fallback frames first,
then the WRITE WITH IMMEDIATE), which the poller carries out, the way aioquic's streams answer
`get_frame()` instead of sending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import attrs

from ..closures import Registry
from ..fallback import Frame
from ..slot import SlotConfig
from .slotmap import SlotMap


class SlotNet(Protocol):
    """The slot side of a machine's network: where peers' slots are, and landed images."""

    def request_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int: ...

    def response_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int: ...

    def read_slot(self, slot_id: int) -> memoryview: ...


class Fallback(Protocol):
    """The receive side of the fallback hub (sending is a `Send` action)."""

    def take(self, machine: int, key: tuple[int, int, int, int], link: tuple[int, int, int]) -> Any: ...

    def discard_stale(self, machine: int, kind: int, slot_id: int, seq: int) -> None: ...


class Send(NamedTuple):
    """One batch to send: its fallback frames (in entry order, [FB-4]) and then its image, one
    WRITE WITH IMMEDIATE into slot `slot_id` of machine `dst` ([LAND-1], [LAND-2])."""

    #: (frame, (client machine, client thread), trustee machine) per frame
    frames: tuple[tuple[Frame, tuple[int, int], int], ...]
    dst: int
    slot_id: int
    image: bytes
    imm: int
    #: the local slot of the same pair: where the outgoing image is staged
    stage_slot: int


def _ignore(*_: Any) -> None:
    return None


#: requests a kernel thread's pending queue holds (queued, not yet sent, over all its trustees)
#: before `apply_then` makes its fiber yield (thesis 3.2.4: the async fiber "will yield the
#: runtime when the pending queue is full"); local to the runtime, not protocol-visible.
#: Chosen with benchmarks/runtime_rate.py: the rate of an apply_then flood stops improving well
#: below it, and it is many full batches per trustee in a default (1024-byte) slot.
DEFAULT_PENDING_LIMIT = 1024


@attrs.frozen(slots=True, kw_only=True)
class ThreadEnv:
    """Everything a kernel thread's sides read; the callbacks are how they report upward."""

    config: SlotConfig
    registry: Registry
    smap: SlotMap
    net: SlotNet
    fallback: Fallback
    machine: int
    thread: int
    #: (what, exception): a callback raised or a peer broke the protocol: fate sharing
    on_crash: Callable[[str, BaseException], None] = _ignore
    #: (pointer): the trustee created a property ([TRUST-3])
    on_entrusted: Callable[[int], None] = _ignore
    #: (pointer, value): the trustee dropped a property ([TRUST-5])
    on_dropped: Callable[[int, Any], None] = _ignore
    #: the bound of the client side's pending queue (None: unbounded); see DEFAULT_PENDING_LIMIT
    pending_limit: int | None = DEFAULT_PENDING_LIMIT

    @property
    def label(self) -> str:
        return f"m{self.machine}.t{self.thread}"
