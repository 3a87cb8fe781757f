"""The trustee side of a kernel thread: its properties, and running the batches that land in its
request slots (thesis 3.2.3, 3.2.4, 3.2.6).

A batch is read only after its completion ([LAND-3]), checked and decoded whole before anything
runs ([LAND-5], [REQ-6]), its requests run one at a time in entry order ([REQ-7]), and answered
with exactly one response batch ([FLOW-2]), oversize results as fallback frames ([RSP-4]).
"""

from __future__ import annotations

from typing import Any

from ..closures import Closure
from ..errors import ErrorCode, RemoteProtocolError
from ..fallback import FrameKind
from ..request import Request, attach_payload
from ..response import Response, encode_response_batch
from ..slot import make_imm
from ..slot_state import TrusteeSlot
from ..trustee import PropertyEntry, PropertyTable, Trustee
from . import context
from .env import Send, ThreadEnv


class RuntimeTrustee(Trustee):
    """The core trustee ([REQ-7], [TRUST-3] .. [TRUST-5]) with the runtime's "inside a delegated
    closure" mark, so that a blocking apply from inside a closure fails at once (NESTED_APPLY)."""

    def call(self, c: Closure, value: Any, args: tuple[Any, ...]) -> Any:
        return context.call_delegated(c.name, c.fn, value, *args)


class TrusteeSide:
    """The trustee half of one kernel thread, built from its `ThreadEnv` (no rack, no thread)."""

    def __init__(self, env: ThreadEnv) -> None:
        self.env = env
        self.core = RuntimeTrustee(env.registry, PropertyTable())
        self.core.table.on_create = env.on_entrusted
        self.core.table.on_drop = env.on_dropped
        self.slots: dict[int, TrusteeSlot] = {}
        self.batches = 0
        self.requests = 0

    @property
    def props(self) -> dict[int, PropertyEntry]:
        """Live properties of this trustee by pointer."""
        return self.core.table.live

    def on_landed(self, slot_id: int, imm: int) -> Send:
        """A request batch's completion was polled: read, run, and return the answer to send
        ([LAND-3], [FLOW-2]); the caller sends it and then calls `responded(slot_id)`."""
        env = self.env
        owner = env.smap.owner(slot_id)
        slot = self.slots.get(slot_id)
        if slot is None:
            slot = self.slots[slot_id] = TrusteeSlot(env.config, env.registry.shapes)
        image = env.net.read_slot(slot_id)
        out = slot.on_landed(image, imm & 0xFFFF)
        resp_slot = env.net.response_slot_at(owner.peer_machine, owner.peer_thread, env.thread)
        if isinstance(out, bytes):  # [RSP-5] rejected: answer with the batch-level error
            seq = int.from_bytes(out[0:4], "little")
            frames: tuple[Any, ...] = ()
            reply = out
        else:
            env.fallback.discard_stale(env.machine, int(FrameKind.REQUEST), slot_id, out.seq)
            responses = [self.run(req, slot_id, out.seq, i) for i, req in enumerate(out.requests)]
            self.batches += 1
            self.requests += len(responses)
            enc = encode_response_batch(out.seq, responses, env.config, resp_slot)
            seq, frames, reply = enc.seq, enc.frames, enc.image
        client = (owner.peer_machine, owner.peer_thread)
        # response payloads go first, like [FB-4] for requests
        return Send(tuple((frame, client, env.machine) for frame in frames), owner.peer_machine, resp_slot,
                    reply, make_imm(resp_slot, seq), slot_id)

    def responded(self, slot_id: int) -> None:
        """The answer of the batch in `slot_id` was sent: the slot may land again ([FLOW-2])."""
        self.slots[slot_id].responded()

    def run(self, req: Request, slot_id: int, seq: int, index: int) -> Response:
        """Run one request and build its response entry (never raises for a request's fault)."""
        env = self.env
        closure = env.registry.get(req.closure_id)
        if closure is not None and req.fallback_len is not None:  # [FB-5] wait for the frame first
            owner = env.smap.owner(slot_id)
            got = env.fallback.take(env.machine, (int(FrameKind.REQUEST), slot_id, seq, index),
                                    (owner.peer_machine, owner.peer_thread, env.machine))
            if isinstance(got, ErrorCode):
                return Response.error(got, f"fallback payload of entry {index} did not arrive")
            try:
                req = attach_payload(req, got, closure.shape)
            except RemoteProtocolError as exc:
                return Response.error(exc.code, exc.message)
        return self.core.run(req)
