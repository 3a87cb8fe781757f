"""Request batches: packing, encoding into a slot image, and decoding it back.

Implements [SLOT-4] .. [SLOT-10], [REQ-2] .. [REQ-6], [LAND-5], [FB-1], [FB-2]; the closure lookup
table ([VT-2] .. [VT-5]) is vtable.py's, called from here.
Pure code over bytes: no slot, NIC or socket here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence

import attrs

from .buffer import HEADER, MASK48, STUB_TAIL, U32, U64, align8
from .closures import ClosureShape
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .fallback import Frame, FrameKind
from .request import Request, check_request, inline_size, needs_fallback, payload_of
from .slot import (
    FLAG_FALLBACK,
    FRAMING,
    HEADER_SIZE,
    INLINE_REF,
    MAX_COUNT,
    SEQ_MASK,
    SlotConfig,
)
from .vtable import ENTRY_SIZE, assign_ref, check_table_len, read_table, write_table

_unpack_u64 = U64.unpack_from
_unpack_u32 = U32.unpack_from
_unpack_stub = STUB_TAIL.unpack_from


@attrs.frozen(slots=True)
class EncodedBatch:
    """A slot image ready for one RDMA WRITE WITH IMMEDIATE, and the fallback frames to send first ([FB-4])."""

    seq: int
    image: bytes
    frames: tuple[Frame, ...]
    count: int


@attrs.frozen(slots=True)
class RequestBatch:
    """A decoded request batch. Fallback stubs have `fallback_len` set ([FB-5])."""

    seq: int
    table: tuple[int, ...]
    requests: tuple[Request, ...]


class BatchBuilder:
    """Adds requests in order while they fit ([SLOT-10]); assigns table refs per [VT-3]."""

    __slots__ = ("_config", "_entries", "_shapes", "_table", "_used", "requests")

    def __init__(self, config: SlotConfig, shapes: Mapping[int, ClosureShape]) -> None:
        self._config = config
        self._shapes = shapes
        self._table: dict[int, int] = {}  # closure id -> index, insertion ordered
        self._entries: list[tuple[Request, int, bool]] = []  # request, ref, fallback
        self._used = FRAMING
        self.requests: list[Request] = []

    @property
    def used(self) -> int:
        """Bytes the batch image takes so far."""
        return self._used

    def __len__(self) -> int:
        return len(self._entries)

    def shape_of(self, req: Request) -> ClosureShape:
        shape = self._shapes.get(req.closure_id)
        if shape is None:
            raise LocalProtocolError(
                ErrorCode.UNKNOWN_CLOSURE, "VT-5", f"closure id {req.closure_id:#018x} is not registered"
            )
        return shape

    def try_add(self, req: Request) -> bool:
        """Add `req` if it fits in the slot ([SLOT-4]); False when a new batch is needed."""
        shape = self.shape_of(req)
        check_request(req, shape)
        if len(self._entries) >= MAX_COUNT:  # [LIM-1]
            return False
        fallback = needs_fallback(req, shape, self._config.slot_size)  # [FB-1]
        size = 16 if fallback else inline_size(req, shape)
        cid = req.closure_id
        ref = self._table.get(cid)
        extra = 0
        if ref is None:
            extra = ENTRY_SIZE  # a new table entry, or the inline id ([VT-3])
            ref = assign_ref(self._table, self._config.table_k)
        if self._used + extra + size > self._config.slot_size:
            return False
        if ref != INLINE_REF and cid not in self._table:
            self._table[cid] = ref
        self._used += extra + size
        self._entries.append((req, ref, fallback))
        self.requests.append(req)
        return True

    def finish(self, seq: int, slot_id: int = 0) -> EncodedBatch:
        """Encode the slot image (header, table, entries, trailer) for batch `seq`."""
        if not self._entries:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SLOT-6", "a batch holds at least one request")
        if not 1 <= seq <= SEQ_MASK:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "LAND-4", f"seq {seq} must be 1..2^32-1")
        if not 0 <= slot_id <= 0xFFFF:  # [DEC-8], [SLOT-5]
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SLOT-5", f"slot id {slot_id} is not 16-bit")
        length = self._used
        image = bytearray(length)
        header = HEADER.pack(seq, length // 8, len(self._entries), len(self._table))
        image[0:HEADER_SIZE] = header
        off = write_table(image, HEADER_SIZE, self._table)
        frames: list[Frame] = []
        for index, (req, ref, fallback) in enumerate(self._entries):
            start = off
            U64.pack_into(image, off, req.property | (ref << 48) | ((FLAG_FALLBACK if fallback else 0) << 56))
            off += 8
            if ref == INLINE_REF:
                U64.pack_into(image, off, req.closure_id)
                off += 8
            if fallback:
                payload = payload_of(req)
                STUB_TAIL.pack_into(image, off, len(payload), 0)
                off += 8
                frames.append(
                    Frame(kind=FrameKind.REQUEST, slot_id=slot_id, seq=seq, index=index, payload=payload)
                )
                continue
            c = len(req.captured)
            image[off : off + c] = req.captured
            off += c
            if req.param is not None:
                if self._shapes[req.closure_id].param.fixed_size is None:
                    U32.pack_into(image, off, len(req.param))
                    off += 4
                image[off : off + len(req.param)] = req.param
                off += len(req.param)
            off = start + align8(off - start)  # zero padding already in place ([GEN-2])
        image[off : off + 8] = header  # trailer ([SLOT-7])
        if off + 8 != length:  # pragma: no cover - internal invariant of try_add's accounting
            raise AssertionError(f"batch accounting: wrote {off + 8} of {length} bytes")
        return EncodedBatch(seq=seq, image=bytes(image), frames=tuple(frames), count=len(self._entries))


def pack_requests(
    requests: Iterable[Request], shapes: Mapping[int, ClosureShape], config: SlotConfig
) -> list[list[Request]]:
    """Split requests, in order, into batches that each fill their slot as far as they can ([SLOT-10])."""
    out: list[list[Request]] = []
    builder = BatchBuilder(config, shapes)
    for req in requests:
        if not builder.try_add(req):
            out.append(builder.requests)
            builder = BatchBuilder(config, shapes)
            if not builder.try_add(req):  # pragma: no cover - [FB-1] guarantees a lone request fits
                raise AssertionError("a lone request did not fit an empty batch")
    if len(builder):
        out.append(builder.requests)
    return out


def encode_request_batch(
    seq: int,
    requests: Sequence[Request],
    shapes: Mapping[int, ClosureShape],
    config: SlotConfig,
    slot_id: int = 0,
) -> EncodedBatch:
    """Encode exactly these requests as one batch, or fail with SLOT-4 if they do not fit.

    The argument checks run in [DEC-8]'s order: seq, slot id, no requests, then each request.
    """
    if not 1 <= seq <= SEQ_MASK:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "LAND-4", f"seq {seq} must be 1..2^32-1")
    if not 0 <= slot_id <= 0xFFFF:  # [DEC-8], [SLOT-5]
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SLOT-5", f"slot id {slot_id} is not 16-bit")
    if not requests:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SLOT-6", "a batch holds at least one request")
    builder = BatchBuilder(config, shapes)
    for i, req in enumerate(requests):
        shape = builder.shape_of(req)
        check_request(req, shape)
        payload = len(req.captured) + len(req.param or b"")
        if needs_fallback(req, shape, config.slot_size) and payload > config.fallback_limit:
            raise LocalProtocolError(  # [DEC-8] step 5: a payload the peer would refuse ([FB-2])
                ErrorCode.OVERSIZE, "FB-2", f"request {i}: fallback payload of {payload} bytes exceeds the limit"
            )
        if not builder.try_add(req):
            raise LocalProtocolError(
                ErrorCode.OVERSIZE, "SLOT-4",
                f"request {i} does not fit: {builder.used} of {config.slot_size} bytes used, "
                f"count {len(builder)}",
            )
    return builder.finish(seq, slot_id)


_NO_RUN = struct.Struct("<Q")
_RUN_STRUCTS: dict[int, struct.Struct] = {}


def _run_struct(c: int, step: int) -> struct.Struct:
    """`<Q{c}s` plus the entry's zero padding, so that `size == step` ([GEN-2])."""
    st = _RUN_STRUCTS.get(c)
    if st is None:
        st = _RUN_STRUCTS[c] = struct.Struct(f"<Q{c}s{step - 8 - c}x")  # "0x" is no padding
    return st


def _bad(code: ErrorCode, clause: str, msg: str) -> RemoteProtocolError:
    return RemoteProtocolError(code, clause, msg)


def read_header(
    image: bytes | memoryview,
    config: SlotConfig,
    expected_seq: int | None,
    imm_seq16: int | None,
    *,
    response: bool = False,
) -> tuple[int, int, int, int]:
    """Checks of [LAND-5] / [RSP-6] in their order; returns (seq, length, count, last byte byte7)."""
    if len(image) < HEADER_SIZE:
        raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"image of {len(image)} bytes has no header")
    seq, words, count, byte7 = HEADER.unpack_from(image, 0)
    if expected_seq is not None and seq != expected_seq:
        raise _bad(ErrorCode.STALE_SEQUENCE, "RSP-6" if response else "LAND-5",
                   f"seq {seq} is not the expected {expected_seq}")
    if imm_seq16 is not None and (seq & 0xFFFF) != imm_seq16:
        raise _bad(ErrorCode.STALE_SEQUENCE, "LAND-5",
                   f"seq {seq} does not match the immediate's {imm_seq16:#06x}")
    length = words * 8
    if length > config.slot_size:
        raise _bad(ErrorCode.BAD_HEADER, "SLOT-4", f"header claims {length} bytes, slot is {config.slot_size}")
    if length < 16:
        raise _bad(ErrorCode.BAD_HEADER, "SLOT-8", f"header claims {length} bytes, less than header and trailer")
    if length > len(image):
        raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"header claims {length} bytes, only {len(image)} given")
    return seq, length, count, byte7


def decode_request_batch(
    image: bytes | memoryview,
    shapes: Mapping[int, ClosureShape],
    config: SlotConfig,
    expected_seq: int | None = None,
    imm_seq16: int | None = None,
) -> RequestBatch:
    """Decode a request batch image, checking [LAND-5] first; every failure is a typed error.

    Implements [SLOT-4], [SLOT-6], [SLOT-7], [SLOT-8], [VT-2], [VT-4], [VT-5], [REQ-2], [REQ-5],
    [REQ-6] (all entries decoded before anything runs), [LIM-2] (no read outside the image).
    """
    mv = memoryview(image)
    seq, length, count, table_len = read_header(mv, config, expected_seq, imm_seq16)
    if count == 0:
        raise _bad(ErrorCode.BAD_HEADER, "SLOT-6", "request batch with count 0")
    check_table_len(table_len, config.table_k)
    end = length - 8
    if _unpack_u64(mv, end)[0] != _unpack_u64(mv, 0)[0]:
        raise _bad(ErrorCode.TORN, "SLOT-7", "trailer differs from header")
    table, table_shapes, off = read_table(mv, table_len, end, shapes)
    slot_size = config.slot_size
    requests: list[Request] = []
    append = requests.append
    new = tuple.__new__
    # Fast path: a run of entries naming the same table closure, with no parameter and no flags,
    # is decoded with one precompiled struct per entry (word and captured bytes in one call).
    # `(word >> 48) == run_ref` proves both the ref and that the flag byte is zero.
    run_ref = -1
    run_struct = _NO_RUN
    run_step = 0
    run_cid = 0
    for i in range(count):
        if off + run_step <= end and run_ref >= 0:
            word, captured = run_struct.unpack_from(mv, off)
            if (word >> 48) == run_ref:
                append(new(Request, (word & MASK48, run_cid, captured, None, None)))
                off += run_step
                continue
        start = off
        if off + 8 > end:
            raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"entry {i} starts past the trailer")
        (word,) = _unpack_u64(mv, off)
        off += 8
        ref = (word >> 48) & 0xFF
        flags = word >> 56
        if ref < table_len:
            cid = table[ref]
            shape = table_shapes[ref]
        elif ref == INLINE_REF:
            if off + 8 > end:
                raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"entry {i}: inline closure id runs past the trailer")
            (cid,) = _unpack_u64(mv, off)
            off += 8
            got = shapes.get(cid)
            if got is None:
                raise _bad(ErrorCode.UNKNOWN_CLOSURE, "VT-5", f"entry {i} names unregistered closure {cid:#018x}")
            shape = got
        else:
            raise _bad(ErrorCode.BAD_HEADER, "VT-4", f"entry {i}: ref {ref} with table_len {table_len}")
        if flags:
            if flags != FLAG_FALLBACK:
                raise _bad(ErrorCode.BAD_HEADER, "REQ-2", f"entry {i}: reserved flag bits {flags:#04x}")
            if off + 8 > end:
                raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"entry {i}: fallback stub runs past the trailer")
            plen, zero = _unpack_stub(mv, off)
            off += 8
            if zero:
                raise _bad(ErrorCode.BAD_HEADER, "FB-2", f"entry {i}: nonzero reserved word in stub")
            if plen > config.fallback_limit:
                raise _bad(ErrorCode.OVERSIZE, "FB-6", f"entry {i}: fallback payload {plen} over the limit")
            append(Request(word & MASK48, cid, b"", None, plen))
            continue
        c = shape.capture_size
        cend = off + c
        if cend > end:
            raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"entry {i}: captured data runs past the trailer")
        captured = bytes(mv[off:cend])
        off = cend
        param = None
        p = shape.param
        if p.present:
            m = p.fixed_size
            if m is None:
                if off + 4 > end:
                    raise _bad(ErrorCode.TRUNCATED, "REQ-5", f"entry {i}: parameter length runs past the trailer")
                (m,) = _unpack_u32(mv, off)
                off += 4
                if m > slot_size:
                    raise _bad(ErrorCode.OVERSIZE, "REQ-5", f"entry {i}: parameter length {m} exceeds the slot")
            if off + m > end:
                raise _bad(ErrorCode.TRUNCATED, "REQ-5", f"entry {i}: parameter runs past the trailer")
            param = bytes(mv[off : off + m])
            off += m
        off = start + ((off - start + 7) & ~7)
        if off > end:
            raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"entry {i}: padding runs into the trailer")
        append(new(Request, (word & MASK48, cid, captured, param, None)))
        if ref < table_len and not p.present:
            run_ref, run_cid, run_step = ref, cid, off - start
            run_struct = _run_struct(c, run_step)
            rest = count - 1 - i
            if rest and end - off == rest * run_step:
                # The rest of the image is exactly `rest` entries of this shape: decode them in one
                # C-level pass, then prove every word names this closure with no flags.
                rows = list(run_struct.iter_unpack(mv[off:end]))
                if all(w >> 48 == run_ref for w, _ in rows):
                    requests.extend([new(Request, (w & MASK48, cid, cap, None, None)) for w, cap in rows])
                    off = end
                    break
    if off != end:
        raise _bad(ErrorCode.BAD_HEADER, "SLOT-8", f"{end - off} bytes left between the last entry and the trailer")
    return RequestBatch(seq=seq, table=table, requests=tuple(requests))
