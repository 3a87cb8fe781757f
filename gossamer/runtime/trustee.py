"""The trustee side of a kernel thread: its properties, and running the batches that land in its
request slots (thesis 3.2.3, 3.2.4, 3.2.6).

A batch is read only after its completion ([LAND-3]), checked and decoded whole before anything
runs ([LAND-5], [REQ-6]), its requests run one at a time in entry order ([REQ-7]), and answered
with exactly one response batch ([FLOW-2]), oversize results as fallback frames ([RSP-4]).
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from .. import serial
from ..buffer import MASK48
from ..closures import Closure
from ..errors import ErrorCode, RemoteProtocolError
from ..fallback import FrameKind
from ..request import Request, attach_payload
from ..response import Response, encode_response_batch
from ..slot import make_imm
from ..slot_state import TrusteeSlot
from ..trust_ids import TrustIdSet
from . import context

if TYPE_CHECKING:
    from .rack import KThread

#: The property pointer an entrust request carries: no property has it (pointers come from a
#: counter that never gets near 2^48 - 1), and the trustee ignores it for the built-in entrust.
ENTRUST_POINTER = MASK48


#: Error details are informative only ([ERR-3]); kept short so that error entries stay inline
#: (a FALLBACK stub cannot say that its entry was an error: see the runtime's notes).
MAX_DETAIL = 160


def _error(code: ErrorCode, detail: str) -> Response:
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 3] + "..."
    return Response.error(code, detail)


class Property:
    """An entrusted value and its trust-id set ([TRUST-2])."""

    __slots__ = ("ids", "pointer", "value")

    def __init__(self, pointer: int, value: Any, first_id: int) -> None:
        self.pointer = pointer
        self.value = value
        self.ids = TrustIdSet.entrusted(first_id)


class TrusteeSide:
    def __init__(self, kthread: KThread) -> None:
        self.k = kthread
        self.props: dict[int, Property] = {}
        self.next_pointer = 1
        self.slots: dict[int, TrusteeSlot] = {}
        self.batches = 0
        self.requests = 0

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
        resp_slot = rack.smap.response_slot(owner.peer_thread, k.machine.index, k.index)
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
        if closure is None:  # pragma: no cover - the decoder already rejected it ([VT-5])
            return _error(ErrorCode.BAD_HEADER, "unknown closure")
        if req.fallback_len is not None:  # [FB-5] wait for the frame before running it
            got = rack.fallback.take(self.k.machine.index, (int(FrameKind.REQUEST), slot_id, seq, index))
            if isinstance(got, ErrorCode):
                return _error(got, f"fallback payload of entry {index} did not arrive")
            try:
                req = attach_payload(req, got, closure.shape)
            except RemoteProtocolError as exc:
                return _error(exc.code, exc.message)
        try:
            captured = closure.capture.unpack(req.captured)
        except RemoteProtocolError as exc:  # [LAYOUT-4]
            return _error(ErrorCode.BAD_CAPTURE, exc.message)
        param: Any = None
        if req.param is not None:
            try:
                param = serial.loads(req.param)
            except RemoteProtocolError as exc:  # [SER-2]
                return _error(ErrorCode.MALFORMED_CBOR, exc.message)
        registry = rack.registry
        if closure.id == registry.entrust.id:
            return self._entrust(int(captured[0]), param)
        prop = self.props.get(req.property)
        if prop is None:  # [REQ-1], [TRUST-5]
            return _error(
                ErrorCode.BAD_PROPERTY,
                f"no live property {req.property:#x} on trustee {self.k.label}",
            )
        if closure.id == registry.toggle.id:
            return self._toggle(prop, int(captured[0]))
        return self._call(closure, prop, captured, param)

    def _entrust(self, first_id: int, value: Any) -> Response:
        """[TRUST-3]: create the property with the set {id}; answer a fresh nonzero 48-bit pointer."""
        ptr = self.next_pointer
        self.next_pointer += 1
        self.props[ptr] = Property(ptr, value, first_id)
        self.k.rack.on_entrusted(self.k, ptr)
        return Response(int(ErrorCode.OK), ptr.to_bytes(8, "little"))

    def _toggle(self, prop: Property, tid: int) -> Response:
        """[TRUST-2], [TRUST-5]: toggle the id; drop the property exactly when the set empties."""
        emptied = prop.ids.toggle(tid)
        if emptied:
            del self.props[prop.pointer]
            self.k.rack.on_dropped(self.k, prop.pointer, prop.value)
        return Response(int(ErrorCode.OK), b"\x01" if emptied else b"\x00")

    def _call(self, closure: Closure, prop: Property, captured: tuple[Any, ...], param: Any) -> Response:
        args: list[Any] = [prop.value, *captured]
        if closure.param.present:
            args.append(param)
        prev = context._delegated
        context._delegated = closure.name
        try:
            ret = closure.fn(*args)
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""
            return _error(
                ErrorCode.CLOSURE_RAISED, f"{closure.name} raised {type(exc).__name__}: {exc}{where}"
            )
        finally:
            context._delegated = prev
        try:
            if closure.result.layout is None:
                return Response(int(ErrorCode.OK), b"", serial.dumps(ret))
            layout = closure.result.layout
            if not layout.kinds:
                return Response(int(ErrorCode.OK), b"")
            values = ret if isinstance(ret, tuple) else (ret,)
            return Response(int(ErrorCode.OK), layout.pack(values))
        except Exception as exc:  # cbor2 and struct raise several types; all mean BAD_RESULT
            return _error(
                ErrorCode.BAD_RESULT,
                f"{closure.name} returned {type(ret).__name__}, which does not fit result "
                f"{closure.result.spec!r}: {exc}",
            )
