"""Request batches, written from SPEC.md sections 1, 3, 4 and 7 ([SLOT-*], [VT-*], [REQ-*], [FB-1], [FB-2]).

Three layers:
- *forging writers* (`word`, `entry`, `stub`, `image`): bytes field by field, with overrides for the
  hostile cases (a wrong count, a wrong trailer, ...). They check nothing.
- `encode`: the one encoding a sender must produce for a list of requests ([VT-3], [FB-1], [SLOT-4]),
  and `pack`, the batch sizes of [SLOT-10].
- `decode`: SPEC.md [DEC-1] step by step; the first failing step decides the code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .cbor import well_formed
from .errors import Rejected
from .frames import KIND_REQUEST, Frame
from .layout import Shape
from .slot import HDR, MASK48, MAX_COUNT, SEQ_MAX, SLOT_ID_MAX, U32, U64, Config, align8, pad8, read_header

INLINE = 0xFF  #: [VT-4] the closure id follows the request word
FLAG_FALLBACK = 0x01  #: [REQ-2]


# -- forging writers -----------------------------------------------------------------------------


def word(prop: int, ref: int, flags: int = 0) -> bytes:
    """The request word: bits 0-47 pointer, 48-55 ref, 56-63 flags (section 4)."""
    return U64.pack(prop | (ref << 48) | (flags << 56))


def entry(prop: int, ref: int, captured: bytes = b"", param: bytes | None = None, *,
          variable: bool = True, inline_id: int | None = None, flags: int = 0) -> bytes:
    """One request entry (section 4 table), padded to 8 ([GEN-2])."""
    b = word(prop, INLINE if inline_id is not None else ref, flags)
    if inline_id is not None:
        b += U64.pack(inline_id)
    b += captured
    if param is not None:
        b += (U32.pack(len(param)) if variable else b"") + param
    return pad8(b)


def stub(prop: int, ref: int, payload_len: int, *, inline_id: int | None = None, reserved: int = 0) -> bytes:
    """A fallback stub ([FB-2]): the word with FALLBACK set, the inline id, payload_len, u32 zero."""
    b = word(prop, INLINE if inline_id is not None else ref, FLAG_FALLBACK)
    if inline_id is not None:
        b += U64.pack(inline_id)
    return b + U32.pack(payload_len) + U32.pack(reserved)


def image(seq: int, table: Sequence[int], entries: Sequence[bytes], *, count: int | None = None,
          words: int | None = None, table_len: int | None = None, trailer: bytes | None = None,
          byte7: int | None = None) -> bytes:
    """A request batch image (section 1.1): header, table, entries, trailer; overrides forge it."""
    body = b"".join(U64.pack(c) for c in table) + b"".join(entries)
    length = 16 + len(body)
    h = HDR.pack(seq, length // 8 if words is None else words, len(entries) if count is None else count,
                 (len(table) if table_len is None else table_len) if byte7 is None else byte7)
    return h + body + (h if trailer is None else trailer)


# -- values --------------------------------------------------------------------------------------


@attrs.frozen
class Request:
    """A request as the adapter carries it ([ADPT-5]); `fallback_len` is set on a decoded stub."""

    property: int
    closure_id: int
    captured: bytes = b""
    param: bytes | None = None
    fallback_len: int | None = None

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> Request:
        p = r.get("param")
        return cls(int(r["property"]), int(r["closure_id"]), bytes(r.get("captured") or b""),
                   None if p is None else bytes(p), r.get("fallback_len"))

    def as_map(self) -> dict[str, Any]:
        return {"property": self.property, "closure_id": self.closure_id, "captured": self.captured,
                "param": self.param, "fallback_len": self.fallback_len}


@attrs.frozen
class Batch:
    seq: int
    table: tuple[int, ...]
    requests: tuple[Request, ...]


# -- encoding ------------------------------------------------------------------------------------


def needs_fallback(shape: Shape, param: bytes | None, slot_size: int) -> bool:
    """[FB-1] iff `24 + align8(8 + C + p) > S`."""
    return 24 + align8(8 + shape.capture + shape.param.wire_size(param)) > slot_size


def _check_request(r: Request, shapes: Mapping[int, Shape]) -> Shape:
    """[DEC-8] step 5, the argument checks of one request."""
    shape = shapes.get(r.closure_id)
    if shape is None:
        raise Rejected("UNKNOWN_CLOSURE", "VT-5", f"closure {r.closure_id:#x} is not registered")
    if not 0 <= r.property <= MASK48:
        raise Rejected("BAD_ARGUMENT", "REQ-1", f"pointer {r.property:#x} is not 48 bits")
    if len(r.captured) != shape.capture:
        raise Rejected("BAD_ARGUMENT", "REQ-3", f"{len(r.captured)} captured bytes for C = {shape.capture}")
    if (r.param is not None) != shape.param.present:
        raise Rejected("BAD_ARGUMENT", "REQ-4", "a parameter given for none, or none given for one")
    if shape.param.fixed is not None and len(r.param or b"") != shape.param.fixed:
        raise Rejected("BAD_ARGUMENT", "SER-3", f"{len(r.param or b'')} parameter bytes for cbor:{shape.param.fixed}")
    if r.param is not None and not well_formed(r.param):
        raise Rejected("BAD_ARGUMENT", "SER-1", "the parameter is not one well-formed CBOR item")
    return shape


def _table(requests: Sequence[Request], k: int) -> list[int]:
    """[VT-3] distinct ids in order of first appearance, until K are in."""
    table: list[int] = []
    for r in requests:
        if len(table) >= k:
            break
        if r.closure_id not in table:
            table.append(r.closure_id)
    return table


def encode(seq: int, requests: Sequence[Request], shapes: Mapping[int, Shape], config: Config,
           slot_id: int = 0) -> tuple[bytes, list[bytes]]:
    """[DEC-8]: the image and the request frames ([FB-4], entry order) of one batch, checks in order."""
    if not 1 <= seq <= SEQ_MAX:  # 2
        raise Rejected("BAD_ARGUMENT", "LAND-4", f"seq {seq} names no batch")
    if not 0 <= slot_id <= SLOT_ID_MAX:  # 3
        raise Rejected("BAD_ARGUMENT", "SLOT-5", f"slot id {slot_id} is not 16 bits")
    if not requests:  # 4
        raise Rejected("BAD_ARGUMENT", "SLOT-6", "a batch holds at least one request")
    for i, r in enumerate(requests):  # 5, each request in order
        shape = _check_request(r, shapes)
        if needs_fallback(shape, r.param, config.slot_size) and \
                len(r.captured) + len(r.param or b"") > config.fallback_limit:
            raise Rejected("OVERSIZE", "FB-2", f"request {i}: a fallback payload above the limit")
        if i >= MAX_COUNT:
            raise Rejected("OVERSIZE", "LIM-1", f"request {i}: more than {MAX_COUNT} requests in one batch")
        size = len(_build(seq, requests[: i + 1], shapes, config, slot_id)[0])
        if size > config.slot_size:
            raise Rejected("OVERSIZE", "SLOT-4", f"request {i}: {size} bytes do not fit a slot of {config.slot_size}")
    return _build(seq, requests, shapes, config, slot_id)


def _build(seq: int, requests: Sequence[Request], shapes: Mapping[int, Shape], config: Config,
           slot_id: int) -> tuple[bytes, list[bytes]]:
    table = _table(requests, config.table_k)
    entries: list[bytes] = []
    frames: list[bytes] = []
    for i, r in enumerate(requests):
        shape = shapes[r.closure_id]
        ref = table.index(r.closure_id) if r.closure_id in table else INLINE
        inline_id = r.closure_id if ref == INLINE else None
        if needs_fallback(shape, r.param, config.slot_size):
            payload = r.captured + (r.param or b"")
            entries.append(stub(r.property, ref, len(payload), inline_id=inline_id))
            frames.append(Frame(KIND_REQUEST, slot_id, seq, i, payload).encode())
        else:
            entries.append(entry(r.property, ref, r.captured, r.param, variable=shape.param.fixed is None,
                                 inline_id=inline_id))
    return image(seq, table, entries), frames


def pack(requests: Sequence[Request], shapes: Mapping[int, Shape], config: Config) -> list[int]:
    """[SLOT-10] batch sizes: add requests in order while the next one fits and count < 255."""
    counts: list[int] = []
    current: list[Request] = []
    for r in requests:
        _check_request(r, shapes)
        trial = [*current, r]
        if current and (len(current) >= MAX_COUNT or _size(trial, shapes, config) > config.slot_size):
            counts.append(len(current))
            trial = [r]
        current = trial
    if current:
        counts.append(len(current))
    return counts


def _size(requests: Sequence[Request], shapes: Mapping[int, Shape], config: Config) -> int:
    """The image size alone (packing is about sizes: the fallback limit is the encoder's business)."""
    return len(_build(1, requests, shapes, config, 0)[0])


# -- decoding ------------------------------------------------------------------------------------


def decode(data: bytes, shapes: Mapping[int, Shape], config: Config, expected_seq: int | None = None,
           imm_seq16: int | None = None) -> Batch:
    """SPEC.md [DEC-1], step by step: a trustee's reading of one landed image. `Rejected` carries the
    code of the first failing step ([LAND-5]'s order, then the table and the entries in order)."""
    b = bytes(data)
    size = config.slot_size
    # 1 .. 6 ([LAND-5]'s seq checks, then the claimed length)
    seq, words, count, table_len = read_header(b, size, expected_seq, imm_seq16, decoder="DEC-1",
                                               seq_clause="LAND-5", imm_clause="LAND-5")
    length = 8 * words
    # 7, 8
    if count == 0:
        raise Rejected("BAD_HEADER", "SLOT-6", "count 0")
    if table_len > config.table_k:
        raise Rejected("BAD_HEADER", "VT-2", f"table_len {table_len} > K = {config.table_k}")
    # 9
    if b[length - 8 : length] != b[:8]:
        raise Rejected("TORN", "SLOT-7", "trailer differs from header")
    # 10
    end = length - 8
    off = 8 + 8 * table_len
    if off > end:
        raise Rejected("TRUNCATED", "DEC-1", "the table runs into the trailer")
    # 11 [VT-5] every table id registered (distinctness binds the sender only)
    table = tuple(U64.unpack_from(b, 8 + 8 * j)[0] for j in range(table_len))
    for j, cid in enumerate(table):
        if cid not in shapes:
            raise Rejected("UNKNOWN_CLOSURE", "VT-5", f"table entry {j}: closure {cid:#x} is not registered")
    out: list[Request] = []

    def need(n: int, what: str, i: int) -> None:
        if off + n > end:
            raise Rejected("TRUNCATED", "DEC-1", f"entry {i}: {what} runs into the trailer")

    # 12
    for i in range(count):
        start = off
        need(8, "the request word", i)
        w = U64.unpack_from(b, off)[0]
        off += 8
        prop, ref, flags = w & MASK48, (w >> 48) & 0xFF, w >> 56
        if ref < table_len:
            cid = table[ref]
        elif ref == INLINE:
            need(8, "the inline closure id", i)
            cid = U64.unpack_from(b, off)[0]
            off += 8
            if cid not in shapes:
                raise Rejected("UNKNOWN_CLOSURE", "VT-5", f"entry {i}: closure {cid:#x} is not registered")
        else:
            raise Rejected("BAD_HEADER", "VT-4", f"entry {i}: ref {ref} with table_len {table_len}")
        shape = shapes[cid]
        if flags:
            if flags != FLAG_FALLBACK:
                raise Rejected("BAD_HEADER", "REQ-2", f"entry {i}: reserved flag bits {flags:#04x}")
            need(8, "the stub", i)
            plen, reserved = U32.unpack_from(b, off)[0], U32.unpack_from(b, off + 4)[0]
            if reserved:
                raise Rejected("BAD_HEADER", "FB-2", f"entry {i}: nonzero reserved stub word")
            if plen > config.fallback_limit:
                raise Rejected("OVERSIZE", "FB-6", f"entry {i}: payload_len {plen} above the fallback limit")
            off += 8
            out.append(Request(prop, cid, b"", None, plen))
            continue
        need(shape.capture, "captured data", i)
        captured = b[off : off + shape.capture]
        off += shape.capture
        param: bytes | None = None
        if shape.param.present:
            if shape.param.fixed is None:
                need(4, "the parameter length", i)
                n = U32.unpack_from(b, off)[0]
                off += 4
                if n > size:  # [REQ-5] OVERSIZE beats TRUNCATED
                    raise Rejected("OVERSIZE", "REQ-5", f"entry {i}: parameter length {n} > S")
            else:
                n = shape.param.fixed
            need(n, "the parameter", i)
            param = b[off : off + n]
            off += n
        off = start + align8(off - start)  # [GEN-2] padding is not read
        if off > end:
            raise Rejected("TRUNCATED", "DEC-1", f"entry {i}: its padding runs into the trailer")
        out.append(Request(prop, cid, captured, param, None))
    # 13
    if off != end:
        raise Rejected("BAD_HEADER", "SLOT-8", f"{end - off} bytes left between the last entry and the trailer")
    return Batch(seq, table, tuple(out))


def attach(shape: Shape, fallback_len: int, payload: bytes) -> tuple[bytes, bytes | None]:
    """[DEC-4]: (captured, param) of a stub's payload; BAD_FRAME when it does not fit the stub."""
    if len(payload) != fallback_len:
        raise Rejected("BAD_FRAME", "FB-6", f"payload of {len(payload)} bytes for payload_len {fallback_len}")
    c = shape.capture
    if len(payload) < c:
        raise Rejected("BAD_FRAME", "FB-2", f"payload of {len(payload)} bytes for C = {c}")
    if not shape.param.present:
        if len(payload) != c:
            raise Rejected("BAD_FRAME", "FB-2", f"payload of {len(payload)} bytes for C = {c} and no parameter")
        return payload, None
    if shape.param.fixed is not None and len(payload) != c + shape.param.fixed:
        raise Rejected("BAD_FRAME", "FB-2", f"payload_len {len(payload)} != C + M = {c + shape.param.fixed}")
    return payload[:c], payload[c:]
