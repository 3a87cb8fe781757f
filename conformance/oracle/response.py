"""Response batches, written from SPEC.md section 5 ([RSP-1] .. [RSP-6], [ERR-2] .. [ERR-4]).

Forging writers (`entry`, `image`, `error_image`), the encoder a trustee must follow (`encode`, with
[RSP-4]'s placement and `FALLBACK` frames, and `encode_error`, [RSP-5]), and the client's decoder
(`decode`: SPEC.md [DEC-2] step by step; an unknown entry status rejects the whole response,
[ERR-4]), and [DEC-4]'s attachment of a `FALLBACK` entry's frame. Statuses are wire values (`u8`),
named only through `codes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from . import codes
from .cbor import dumps, loads
from .errors import Rejected
from .frames import KIND_RESPONSE, Frame
from .layout import Result
from .slot import HDR, MAX_COUNT, SEQ_MAX, SLOT_ID_MAX, U32, Config, align8, pad8, read_header

ENTRY_HEAD = 8  #: u8 status, three zero bytes, u32 n


# -- forging writers -----------------------------------------------------------------------------


def entry(status: int, result: bytes = b"", body: bytes = b"", n: int | None = None) -> bytes:
    """One response entry: status, three zero bytes, `n`, then the body, padded ([GEN-2])."""
    return pad8(bytes([status, 0, 0, 0]) + U32.pack(len(body) if n is None else n) + result + body)


def image(seq: int, entries: Sequence[bytes], *, count: int | None = None, status: int = 0,
          trailer: bytes | None = None) -> bytes:
    body = b"".join(entries)
    h = HDR.pack(seq, (16 + len(body)) // 8, len(entries) if count is None else count, status)
    return h + body + (h if trailer is None else trailer)


def raw_image(seq: int, count: int, status: int, body: bytes) -> bytes:
    h = HDR.pack(seq, (16 + len(body)) // 8, count, status)
    return h + body + h


def error_image(seq: int, code: int, detail: str) -> bytes:
    """[RSP-5]: count 0, status = the code, `u32 n` and a CBOR text detail, padded."""
    d = dumps(detail)
    return raw_image(seq, 0, code, pad8(U32.pack(len(d)) + d))


# -- values --------------------------------------------------------------------------------------


@attrs.frozen
class Response:
    status: int
    result: bytes = b""
    body: bytes | None = None
    fallback_len: int | None = None

    def as_map(self) -> dict[str, Any]:
        return {"status": self.status, "result": self.result, "body": self.body, "fallback_len": self.fallback_len}


@attrs.frozen
class Batch:
    seq: int
    status: int
    responses: tuple[Response, ...]
    detail: str = ""


# -- encoding ------------------------------------------------------------------------------------


def encode(seq: int, responses: Sequence[Mapping[str, Any]], config: Config,
           slot_id: int = 0) -> tuple[bytes, list[bytes]]:
    """[DEC-8], [RSP-4], [RSP-8]: the response image and response frames of an accepted batch."""
    slot_size = config.slot_size
    if not 1 <= seq <= SEQ_MAX:  # 2
        raise Rejected("BAD_ARGUMENT", "RSP-1", f"seq {seq} names no batch")
    if not 0 <= slot_id <= SLOT_ID_MAX:  # 3
        raise Rejected("BAD_ARGUMENT", "SLOT-5", f"slot id {slot_id} is not 16 bits")
    count = len(responses)
    if not responses or count > MAX_COUNT or 16 + 8 * count > slot_size:  # 4
        raise Rejected("BAD_ARGUMENT", "RSP-2", f"{count} responses for a slot of {slot_size}")
    for i, r in enumerate(responses):  # 5
        status = int(r["status"])
        if status == codes.FALLBACK or status not in codes.ENTRY_VALUES:
            raise Rejected("BAD_ARGUMENT", "RSP-4", f"entry {i}: status {status:#04x} is not an entry code")
        if status != codes.OK and r.get("result"):
            raise Rejected("BAD_ARGUMENT", "RSP-8", f"entry {i}: an error status with a result")
    placed = 0
    entries: list[bytes] = []
    frames: list[bytes] = []
    for i, r in enumerate(responses):
        status = int(r["status"])
        result = bytes(r.get("result") or b"")
        body = bytes(r["body"]) if r.get("body") is not None else b""
        inline = entry(status, result, body)
        # [RSP-4] inline iff 16 + (bytes so far, with entry i inline) + 8 * (count - 1 - i) <= S
        if 16 + placed + len(inline) + 8 * (count - 1 - i) <= slot_size:
            e = inline
        elif status == codes.OK and len(result) + len(body) <= config.fallback_limit:
            payload = result + body
            e = entry(codes.FALLBACK, n=len(payload))
            frames.append(Frame(KIND_RESPONSE, slot_id, seq, i, payload).encode())
        elif status == codes.OK:  # [RSP-8] a payload over the fallback limit cannot be sent
            e = entry(codes.value("OVERSIZE"), n=0)
        else:
            e = entry(status, n=0)  # the status is never lost; the detail is
        entries.append(e)
        placed += len(e)
    return image(seq, entries), frames


def encode_error(seq: int, code: str, detail: str | None, slot_size: int) -> bytes:
    """[RSP-5] the answer to a rejected batch (any u32 seq: that of the header it rejects); no
    detail (None) is `n = 0`; a text too long for the slot is dropped (how to cut it is free)."""
    if not 0 <= seq <= SEQ_MAX:
        raise Rejected("BAD_ARGUMENT", "DEC-8", f"seq {seq} is not a u32")
    if detail is not None and not isinstance(detail, str):
        raise Rejected("BAD_ARGUMENT", "ADPT-7", "a detail is a text or absent")
    if code not in codes.BATCH_LEVEL:
        raise Rejected("BAD_ARGUMENT", "RSP-5", f"{code} is not a batch-level code")
    empty = raw_image(seq, 0, codes.value(code), pad8(U32.pack(0)))
    if detail is None:
        return empty
    out = error_image(seq, codes.value(code), detail)
    return out if len(out) <= slot_size else empty


# -- decoding ------------------------------------------------------------------------------------


def decode(data: bytes, results: Sequence[Result], config: Config, expected_seq: int | None = None,
           imm_seq16: int | None = None) -> Batch:
    """SPEC.md [DEC-2], step by step: the client's reading of one response image; `results` are the
    result layouts of the requests of the batch in flight (their number is the count expected)."""
    b = bytes(data)
    size = config.slot_size
    # 1: steps 1 to 6 of [DEC-1], with [RSP-6] for the seq checks
    seq, words, count, status = read_header(b, size, expected_seq, imm_seq16, decoder="DEC-2",
                                            seq_clause="RSP-6", imm_clause="RSP-1")
    length = 8 * words
    # 2
    if b[length - 8 : length] != b[:8]:
        raise Rejected("TORN", "RSP-6", "trailer differs from header")
    end = length - 8
    # 3 [RSP-5] a batch-level error response
    if status:
        if status not in codes.BATCH_VALUES:
            raise Rejected("BAD_HEADER", "ERR-4", f"header status {status:#04x} is not a batch code")
        if count:
            raise Rejected("BAD_HEADER", "RSP-5", f"an error response with count {count}")
        if end < 12:
            raise Rejected("TRUNCATED", "DEC-2", "no room for the detail length")
        n = U32.unpack_from(b, 8)[0]
        if 12 + n > end:
            raise Rejected("TRUNCATED", "DEC-2", "the detail runs into the trailer")
        if 8 + align8(4 + n) != end:
            raise Rejected("BAD_HEADER", "DEC-2", "bytes left between the detail and the trailer")
        return Batch(seq, status, (), detail_text(b[12 : 12 + n]))
    # 4
    if count != len(results):
        raise Rejected("BAD_HEADER", "RSP-6", f"{count} entries for {len(results)} requests")
    off = 8
    out: list[Response] = []
    # 5
    for i in range(count):
        start = off
        if off + ENTRY_HEAD > end:
            raise Rejected("TRUNCATED", "DEC-2", f"entry {i} runs into the trailer")
        st, n = b[off], U32.unpack_from(b, off + 4)[0]
        if b[off + 1 : off + 4] != b"\0\0\0":
            raise Rejected("BAD_HEADER", "DEC-2", f"entry {i}: nonzero bytes after the status")
        off += ENTRY_HEAD
        if st == codes.FALLBACK:
            if n > config.fallback_limit:
                raise Rejected("OVERSIZE", "DEC-2", f"entry {i}: a fallback payload of {n} bytes")
            out.append(Response(st, b"", None, n))
            continue
        if st not in codes.ENTRY_VALUES:
            raise Rejected("BAD_HEADER", "ERR-4", f"entry {i}: status {st:#04x} is not an entry code")
        spec = results[i]
        if st == codes.OK and not spec.cbor and n:
            raise Rejected("BAD_HEADER", "RSP-3", f"entry {i}: a fixed result with n = {n}")
        if n > size:
            raise Rejected("OVERSIZE", "DEC-2", f"entry {i}: n = {n} > S")
        r = spec.fixed_size if st == codes.OK else 0
        if off + r + n > end:
            raise Rejected("TRUNCATED", "DEC-2", f"entry {i}: its body runs into the trailer")
        result, body = b[off : off + r], b[off + r : off + r + n]
        off = start + align8(8 + r + n)
        if off > end:
            raise Rejected("TRUNCATED", "DEC-2", f"entry {i}: its padding runs into the trailer")
        # [ADPT-7] body null exactly for an OK entry with a fixed result (and for FALLBACK)
        out.append(Response(st, result, None if st == codes.OK and not spec.cbor else body, None))
    # 6
    if off != end:
        raise Rejected("BAD_HEADER", "DEC-2", f"{end - off} bytes left between the last entry and the trailer")
    return Batch(seq, 0, tuple(out), "")


def detail_text(d: bytes) -> str:
    """[ERR-3] the detail's text when it is exactly one CBOR text string, else the empty text."""
    try:
        v = loads(d)
    except Rejected:
        return ""
    return v if isinstance(v, str) else ""


def attach(fallback_len: int, result: Result, payload: bytes) -> tuple[bytes, bytes | None]:
    """[DEC-4] a FALLBACK entry's frame: (result, body) of the OK result it stands for."""
    if len(payload) != fallback_len:
        raise Rejected("BAD_FRAME", "DEC-4", f"a frame of {len(payload)} bytes for n = {fallback_len}")
    if not result.cbor:
        if len(payload) != result.fixed_size:
            raise Rejected("BAD_FRAME", "DEC-4", f"a frame of {len(payload)} bytes for R = {result.fixed_size}")
        return payload, None
    return b"", payload
