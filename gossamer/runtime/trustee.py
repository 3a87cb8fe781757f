"""The trustee side of a kernel thread: its properties, and running the batches that land in its
request slots (thesis 3.2.3, 3.2.4, 3.2.6).

A batch is read only after its completion ([LAND-3]), checked and decoded whole before anything
runs ([LAND-5], [REQ-6]), its requests run one at a time in entry order ([REQ-7]), and answered
with exactly one response batch ([FLOW-2]), oversize results as fallback frames ([RSP-4]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..closures import Closure
from ..errors import ErrorCode, RemoteProtocolError
from ..fallback import FrameKind
from ..request import Request, attach_payload
from ..response import Response, encode_response_batch
from ..slot import make_imm
from ..slot_state import TrusteeSlot
from ..trustee import PropertyEntry, PropertyTable, Trustee
from . import context

if TYPE_CHECKING:
    from .rack import KThread

class RuntimeTrustee(Trustee):
    """The core trustee ([REQ-7], [TRUST-3] .. [TRUST-5]) with the runtime's "inside a delegated
    closure" mark, so that a blocking apply from inside a closure fails at once (NESTED_APPLY)."""

    def call(self, c: Closure, value: Any, args: tuple[Any, ...]) -> Any:
        prev = context._delegated
        context._delegated = c.name
        try:
            return c.fn(value, *args)
        finally:
            context._delegated = prev


class TrusteeSide:
    def __init__(self, kthread: KThread) -> None:
        self.k = kthread
        rack = kthread.rack
        self.core = RuntimeTrustee(rack.registry, PropertyTable())
        self.core.table.on_create = lambda ptr: rack.on_entrusted(kthread, ptr)
        self.core.table.on_drop = lambda ptr, value: rack.on_dropped(kthread, ptr, value)
        self.slots: dict[int, TrusteeSlot] = {}
        self.batches = 0
        self.requests = 0

    @property
    def props(self) -> dict[int, PropertyEntry]:
        """Live properties of this trustee by pointer."""
        return self.core.table.live
    def on_landed(self, slot_id: int, imm: int) -> None:
        """A request batch's completion was polled: read, run, answer ([LAND-3], [FLOW-2])."""
        k = self.k
        rack = k.rack
        owner = rack.smap.owner(slot_id)
        slot = self.slots.get(slot_id)
        if slot is None:
            slot = self.slots[slot_id] = TrusteeSlot(rack.config, rack.registry.shapes)
        image = k.machine.net.read_slot(slot_id)
        out = slot.on_landed(image, imm & 0xFFFF)
        resp_slot = k.machine.net.response_slot_at(owner.peer_machine, owner.peer_thread, k.index)
        if isinstance(out, bytes):  # [RSP-5] rejected: answer with the batch-level error
            seq = int.from_bytes(out[0:4], "little")
            frames: tuple[Any, ...] = ()
            reply = out
        else:
            rack.fallback.discard_stale(k.machine.index, int(FrameKind.REQUEST), slot_id, out.seq)
            responses = [self.run(req, slot_id, out.seq, i) for i, req in enumerate(out.requests)]
            self.batches += 1
            self.requests += len(responses)
            enc = encode_response_batch(out.seq, responses, rack.config, resp_slot)
            seq, frames, reply = enc.seq, enc.frames, enc.image
        client = (owner.peer_machine, owner.peer_thread)
        for frame in frames:  # response payloads go first, like [FB-4] for requests
            rack.fallback.send(frame, client, k.machine.index)
        k.machine.net.write(k.index, owner.peer_machine, resp_slot, reply, make_imm(resp_slot, seq), slot_id)
        slot.responded()

    def run(self, req: Request, slot_id: int, seq: int, index: int) -> Response:
        """Run one request and build its response entry (never raises for a request's fault)."""
        rack = self.k.rack
        closure = rack.registry.get(req.closure_id)
        if closure is not None and req.fallback_len is not None:  # [FB-5] wait for the frame first
            owner = rack.smap.owner(slot_id)
            got = rack.fallback.take(self.k.machine.index, (int(FrameKind.REQUEST), slot_id, seq, index),
                                     (owner.peer_machine, owner.peer_thread, self.k.machine.index))
            if isinstance(got, ErrorCode):
                return Response.error(got, f"fallback payload of entry {index} did not arrive")
            try:
                req = attach_payload(req, got, closure.shape)
            except RemoteProtocolError as exc:
                return Response.error(exc.code, exc.message)
        return self.core.run(req)
