"""Deliberately broken implementations: the reference with one realistic bug each.

Every mutant names the cases expected to catch it; `tests/conformance/test_mutants.py` checks that
each is caught by at least one of them, and that the reference passes those same cases.
A mutant is a `ReferenceTarget` subclass that overrides one op, or patches one function of
`gossamer/` for the duration of each call (so the bug sits where a real one would).
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

import gossamer.batch
import gossamer.response
import gossamer.serial
import gossamer.slot
import gossamer.slot_state
from gossamer.buffer import HEADER, RESP_HEAD, align8
from gossamer.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from gossamer.fallback import Frame, FrameKind
from gossamer.request import inline_size
from gossamer.response import Response

from ..model import Outcome
from ..targets import reference
from ..targets.reference import ReferenceTarget, config_of, request_of, shapes_of


class Mutant(ReferenceTarget):
    """The reference with `patches` ((object, attribute) -> replacement) in force during each call."""

    description = ""
    caught_by: tuple[str, ...] = ()

    def __init__(self, name: str) -> None:
        self.name = f"mutant:{name}"

    def patches(self) -> dict[tuple[object, str], Any]:
        return {}

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        with patched(self.patches()):
            return super().call(op, args)


@contextlib.contextmanager
def patched(patches: dict[tuple[object, str], Any]) -> Iterator[None]:
    saved = {k: getattr(k[0], k[1]) for k in patches}
    try:
        for (obj, attr), new in patches.items():
            setattr(obj, attr, new)
        yield
    finally:
        for (obj, attr), old in saved.items():
            setattr(obj, attr, old)


class OffByOneCapacity(Mutant):
    description = "a batch may not fill the slot to the last byte (`<` where [SLOT-4] allows `<=`)"
    caught_by = ("req.encode.exactly-full", "req.decode.exactly-full", "fb.threshold-at")

    def _fits(self, a: Mapping[str, Any], reqs: list[dict[str, Any]]) -> bool:
        image = super().op_encode_request_batch({**a, "seq": 1, "requests": reqs})["image"]
        return bool(len(image) < config_of(a).slot_size)

    def op_encode_request_batch(self, a: Mapping[str, Any]) -> Any:
        out = super().op_encode_request_batch(a)
        if len(out["image"]) >= config_of(a).slot_size:
            raise LocalProtocolError(ErrorCode.OVERSIZE, "SLOT-4", "batch does not fit")
        return out

    def op_decode_request_batch(self, a: Mapping[str, Any]) -> Any:
        if len(a["image"]) >= 8 and struct.unpack_from("<H", a["image"], 4)[0] * 8 >= config_of(a).slot_size:
            raise LocalProtocolError(ErrorCode.BAD_HEADER, "SLOT-4", "header claims the whole slot")
        return super().op_decode_request_batch(a)

    def op_pack_requests(self, a: Mapping[str, Any]) -> Any:
        counts: list[int] = []
        cur: list[dict[str, Any]] = []
        for r in a["requests"]:
            if cur and (len(cur) == 255 or not self._fits(a, [*cur, r])):
                counts.append(len(cur))
                cur = []
            cur.append(r)
        if cur:
            counts.append(len(cur))
        return {"counts": counts}


class BigEndianHeader(Mutant):
    description = "the batch header and trailer are written big-endian ([GEN-1])"
    caught_by = ("req.encode.single",)

    def op_encode_request_batch(self, a: Mapping[str, Any]) -> Any:
        out = super().op_encode_request_batch(a)
        img = bytearray(out["image"])
        seq, words, count, tl = HEADER.unpack_from(img, 0)
        h = struct.pack(">IHBB", seq, words, count, tl)
        img[0:8] = h
        img[-8:] = h
        return {**out, "image": bytes(img)}


class TableOverflow(Mutant):
    description = "the vtable keeps growing past K instead of sending ids inline, and table_len > K is accepted"
    caught_by = ("req.encode.table-one-over", "hostile.table-over-k")

    def op_encode_request_batch(self, a: Mapping[str, Any]) -> Any:
        return super().op_encode_request_batch({**a, "config": {**a["config"], "table_k": 32}})

    def op_decode_request_batch(self, a: Mapping[str, Any]) -> Any:
        return super().op_decode_request_batch({**a, "config": {**a["config"], "table_k": 32}})


class IntegerRefcount(Mutant):
    description = "a reference count (clone +1, drop -1) instead of the trust-id set ([TRUST-7])"
    caught_by = ("trust.drop-overtakes-clone",)

    def op_toggle(self, a: Mapping[str, Any]) -> Any:
        count, seen, emptied = 1, {a["first"]}, []
        for t in a["toggles"]:
            if count == 0:
                raise LocalProtocolError(ErrorCode.BAD_PROPERTY, "TRUST-5", "property already dropped")
            why = t.get("why")
            inc = why == "clone" if why in ("clone", "drop") else t["id"] not in seen
            seen.add(t["id"])
            count += 1 if inc else -1
            emptied.append(count == 0)
        return {"emptied": emptied}


class FallbackReordered(Mutant):
    description = "requests that need the fallback are moved after the inline ones ([FB-5], [REQ-7])"
    caught_by = ("fb.stub-keeps-place",)

    def op_encode_request_batch(self, a: Mapping[str, Any]) -> Any:
        shapes, cfg = shapes_of(a["closures"]), config_of(a)

        def big(r: dict[str, Any]) -> bool:
            req = request_of(r)
            shape = shapes.get(req.closure_id)
            return shape is not None and 24 + inline_size(req, shape) > cfg.slot_size

        reqs = [r for r in a["requests"] if not big(r)] + [r for r in a["requests"] if big(r)]
        return super().op_encode_request_batch({**a, "requests": reqs})


def _no_seq_check(real: Any) -> Any:
    def decode(image: Any, shapes: Any, config: Any, expected_seq: Any = None, imm_seq16: Any = None) -> Any:
        return real(image, shapes, config, None, imm_seq16)

    return decode


class SequenceUnchecked(Mutant):
    description = "the trustee does not compare the header's seq with the one it expects ([LAND-5])"
    caught_by = ("hostile.stale-seq", "land.replay", "exec.replay-runs-nothing")

    def patches(self) -> dict[tuple[object, str], Any]:
        return {(reference, "decode_request_batch"): _no_seq_check(gossamer.batch.decode_request_batch),
                (gossamer.slot_state, "decode_request_batch"): _no_seq_check(gossamer.batch.decode_request_batch)}


class ImmUnchecked(Mutant):
    description = "the immediate's low 16 bits are not compared with the header's seq ([LAND-5])"
    caught_by = ("hostile.imm-mismatch", "land.imm-names-other-seq")

    def patches(self) -> dict[tuple[object, str], Any]:
        real = gossamer.batch.decode_request_batch

        def decode(image: Any, shapes: Any, config: Any, expected_seq: Any = None, imm_seq16: Any = None) -> Any:
            return real(image, shapes, config, expected_seq, None)

        return {(reference, "decode_request_batch"): decode, (gossamer.slot_state, "decode_request_batch"): decode}


class TrailerUnchecked(Mutant):
    description = "the trailer is never compared with the header ([SLOT-7])"
    caught_by = ("hostile.torn", "land.rejected-consumes-seq")

    def patches(self) -> dict[tuple[object, str], Any]:
        real = gossamer.batch.decode_request_batch

        def decode(image: Any, *rest: Any) -> Any:
            img = bytearray(image)
            if len(img) >= 8:
                end = struct.unpack_from("<H", img, 4)[0] * 8
                if 16 <= end <= len(img):
                    img[end - 8 : end] = img[0:8]
            return real(bytes(img), *rest)

        return {(reference, "decode_request_batch"): decode, (gossamer.slot_state, "decode_request_batch"): decode}


class FallbackThreshold(Mutant):
    description = "a request that exactly fills a batch of its own is sent by fallback (`>=` in [FB-1])"
    caught_by = ("fb.threshold-at",)

    def patches(self) -> dict[tuple[object, str], Any]:
        def needs_fallback(req: Any, shape: Any, slot_size: int) -> bool:
            return bool(24 + inline_size(req, shape) >= slot_size)

        return {(gossamer.batch, "needs_fallback"): needs_fallback}


class CborTrailingAccepted(Mutant):
    description = "a parameter followed by trailing bytes is accepted ([SER-2])"
    caught_by = ("cbor.trailing", "exec.malformed-param")

    def patches(self) -> dict[tuple[object, str], Any]:
        real = gossamer.serial.loads

        def loads(data: Any) -> Any:
            return real(bytes(data)[: gossamer.serial.item_end(data)])

        return {(gossamer.serial, "loads"): loads}


class SeqWrapsToZero(Mutant):
    description = "the sequence number wraps from 0xFFFFFFFF to 0 ([LAND-4])"
    caught_by = ("land.seq-wrap",)

    def patches(self) -> dict[tuple[object, str], Any]:
        return {(reference, "next_seq"): lambda seq: (seq + 1) & 0xFFFFFFFF}


class ResponseNoReservation(Mutant):
    description = "response entries are placed inline greedily, without reserving 8 bytes per later entry ([RSP-4])"
    caught_by = ("rsp.encode.fallback-placement",)

    def op_encode_response_batch(self, a: Mapping[str, Any]) -> Any:
        s = config_of(a).slot_size
        rs = [Response(r["status"], bytes(r["result"]), r.get("body")) for r in a["responses"]]
        used, placed = 16, []
        for r in rs:
            size = align8(8 + len(r.result) + len(r.body or b""))
            inline = used + size <= s  # the bug: no 8 * (count - 1 - i)
            used += size if inline else 8
            placed.append((r, inline))
        image, frames = bytearray(), []
        for i, (r, inline) in enumerate(placed):
            body = r.body or b""
            if inline:
                image += RESP_HEAD.pack(r.status, len(body)) + r.result + body
                image += bytes(-len(image) % 8)
            else:
                image += RESP_HEAD.pack(1, len(r.result) + len(body))
                frames.append(Frame(kind=FrameKind.RESPONSE, slot_id=a.get("slot_id", 0), seq=a["seq"], index=i,
                                    payload=r.result + body).encode())
        h = HEADER.pack(a["seq"], (len(image) + 16) // 8, len(rs), 0)
        return {"image": h + bytes(image) + h, "frames": frames}


# -- client mutants: the reference client with one bug, judged by the client cases ([ADPT-17]) ----


class ClientMutant(Mutant):
    """The reference client (in process, the suite playing the trustee machine, [ADPT-14]) with
    one bug patched into `gossamer/` while each client case runs."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._client: Any = None

    @property
    def capabilities(self) -> frozenset[str]:
        from ..targets.client_role import CLIENT_OPS

        return super().capabilities | CLIENT_OPS

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        from ..targets.client_role import CLIENT_OPS, ClientRoleTarget

        if op not in CLIENT_OPS:
            return super().call(op, args)
        if self._client is None:
            self._client = ClientRoleTarget.in_process(self.name)
        with patched(self.patches()):
            got: Outcome = self._client.call(op, args)
            return got

    def close(self) -> None:
        super().close()
        if self._client is not None:
            self._client.close()


def _write_ahead(self: Any, specs: Any) -> int:
    self.last_seq = gossamer.slot.next_seq(self.last_seq)  # the bug: the slot never leaves IDLE
    self._specs = tuple(specs)
    return int(self.last_seq)


class ClientWritesAhead(ClientMutant):
    description = "a client that writes the next batch into a slot before the response to the last ([FLOW-1])"
    caught_by = ("client.flow-one-batch-in-flight",)

    def patches(self) -> dict[tuple[object, str], Any]:
        return {(gossamer.slot_state.ClientSlot, "begin_write"): _write_ahead}


def _seq_skips(self: Any, specs: Any) -> int:
    self._fire(gossamer.slot_state.Event.WRITE)
    nxt = gossamer.slot.next_seq
    self.last_seq = nxt(nxt(self.last_seq))  # the bug: seq advances twice per batch
    self._specs = tuple(specs)
    return int(self.last_seq)


class ClientSeqSkips(ClientMutant):
    description = "a client whose seqs on a slot go 2, 4, ... instead of 1, 2, ... ([LAND-4])"
    caught_by = ("client.batches", "client.flow-one-batch-in-flight")

    def patches(self) -> dict[tuple[object, str], Any]:
        return {(gossamer.slot_state.ClientSlot, "begin_write"): _seq_skips}


def _accept_stale(self: Any, image: Any, imm_seq16: int | None = None) -> Any:
    if self.state is not gossamer.slot_state.State.AWAITING:
        raise RemoteProtocolError(ErrorCode.STALE_SEQUENCE, "RSP-6", "nothing unanswered")
    rb = gossamer.response.decode_response_batch(image, self._specs, self.config)  # the bug: no seq checks
    self._fire(gossamer.slot_state.Event.RESPONSE)
    return rb


class ClientAcceptsStale(ClientMutant):
    description = "a client that takes a response whatever seq its header or immediate names ([RSP-6])"
    caught_by = ("client.stale-response", "client.stale-imm")

    def patches(self) -> dict[tuple[object, str], Any]:
        return {(gossamer.slot_state.ClientSlot, "on_response"): _accept_stale}


@attrs.frozen
class MutantInfo:
    name: str
    cls: type[Mutant]

    @property
    def description(self) -> str:
        return self.cls.description

    @property
    def caught_by(self) -> tuple[str, ...]:
        return self.cls.caught_by


MUTANTS: dict[str, type[Mutant]] = {
    "off-by-one-capacity": OffByOneCapacity,
    "big-endian-header": BigEndianHeader,
    "table-overflow": TableOverflow,
    "integer-refcount": IntegerRefcount,
    "fallback-reordered": FallbackReordered,
    "sequence-unchecked": SequenceUnchecked,
    "imm-unchecked": ImmUnchecked,
    "trailer-unchecked": TrailerUnchecked,
    "fallback-threshold": FallbackThreshold,
    "cbor-trailing-accepted": CborTrailingAccepted,
    "seq-wraps-to-zero": SeqWrapsToZero,
    "response-no-reservation": ResponseNoReservation,
    "client-writes-ahead": ClientWritesAhead,
    "client-seq-skips": ClientSeqSkips,
    "client-accepts-stale": ClientAcceptsStale,
}


def make_mutant(name: str) -> Mutant:
    cls = MUTANTS.get(name)
    if cls is None:
        raise ValueError(f"unknown mutant {name!r}; known: {', '.join(MUTANTS)}")
    return cls(name)
