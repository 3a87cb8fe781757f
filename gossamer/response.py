"""Response batches ([RSP-1] .. [RSP-6], [ERR-2], [ERR-4]).

A trustee answers each request batch with one response batch in the client's response slot, entries
in request order; result sizes come from the closures, so fixed results carry no length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import attrs

from . import serial
from .batch import EncodedBatch, read_header
from .buffer import HEADER, RESP_HEAD, U32, U64, align8
from .errors import BATCH_LEVEL, ENTRY_STATUSES, ErrorCode, LocalProtocolError, RemoteProtocolError, show
from .fallback import Frame, FrameKind
from .layout import ResultSpec
from .slot import FRAMING, HEADER_SIZE, MAX_COUNT, SlotConfig

_resp_head = RESP_HEAD.unpack_from


class Response(NamedTuple):
    """One response entry.

    `result` holds the fixed result bytes (status OK); `body` the variable part: the CBOR result of a
    `cbor` closure (status OK) or the CBOR detail text of an error. A decoded `FALLBACK` entry has
    `fallback_len` set until its frame arrives.
    """

    status: int
    result: bytes = b""
    body: bytes | None = None
    fallback_len: int | None = None

    @classmethod
    def error(cls, code: ErrorCode, detail: str) -> Response:
        return cls(int(code), b"", serial.dumps(detail))

    def detail(self) -> str:
        """The human-readable detail of an error entry ([ERR-3]: informative only)."""
        if self.body is None:
            return ""
        try:
            text = serial.loads(self.body)
        except RemoteProtocolError as e:
            return f"<undecodable detail: {e.message}>"
        return text if isinstance(text, str) else show(text)


@attrs.frozen(slots=True)
class ResponseBatch:
    """A decoded response batch: `status` is 0 or the batch-level error that rejected the request batch."""

    seq: int
    status: int
    responses: tuple[Response, ...]
    detail: str = ""


def _inline_size(r: Response) -> int:
    return align8(8 + len(r.result) + len(r.body or b""))


def encode_response_batch(
    seq: int, responses: Sequence[Response], config: SlotConfig, slot_id: int = 0
) -> EncodedBatch:
    """Encode the answers to an accepted batch; oversize entries become FALLBACK stubs ([RSP-4])."""
    count = len(responses)
    _check_encode_args(seq, slot_id)
    if not 1 <= count <= MAX_COUNT:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "RSP-2", f"a response batch holds 1..255 entries, not {count}")
    s = config.slot_size
    if FRAMING + 8 * count > s:  # cannot happen for a real batch: each request took >= 8 bytes
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "RSP-4", f"{count} responses cannot fit even as stubs in a {s}-byte slot"
        )
    placed: list[tuple[Response, bool]] = []
    used = FRAMING
    for i, r in enumerate(responses):
        if r.status not in ENTRY_STATUSES or r.status == ErrorCode.FALLBACK:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "RSP-4", f"entry {i}: status {r.status:#04x} is not an entry status"
            )
        if r.status != ErrorCode.OK and r.result:  # [DEC-8] step 5, [RSP-8]: only OK carries a result
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "RSP-8", f"entry {i}: an error entry ({r.status:#04x}) carries no result"
            )
        size = _inline_size(r)
        inline = used + size + 8 * (count - 1 - i) <= s  # [RSP-4]
        used += size if inline else 8
        placed.append((r, inline))
    image = bytearray(used)
    header = HEADER.pack(seq, used // 8, count, 0)
    image[0:HEADER_SIZE] = header
    off = HEADER_SIZE
    frames: list[Frame] = []
    for index, (r, inline) in enumerate(placed):
        body = r.body or b""
        if not inline:
            if r.status != ErrorCode.OK:  # [RSP-4]: an error keeps its status; only the detail goes
                RESP_HEAD.pack_into(image, off, r.status, 0)
                off += 8
                continue
            payload = r.result + body
            if len(payload) > config.fallback_limit:  # [RSP-8]: cannot travel; the entry says so
                RESP_HEAD.pack_into(image, off, int(ErrorCode.OVERSIZE), 0)
                off += 8
                continue
            RESP_HEAD.pack_into(image, off, int(ErrorCode.FALLBACK), len(payload))
            off += 8
            frames.append(Frame(kind=FrameKind.RESPONSE, slot_id=slot_id, seq=seq, index=index, payload=payload))
            continue
        start = off
        RESP_HEAD.pack_into(image, off, r.status, len(body))
        off += 8
        image[off : off + len(r.result)] = r.result
        off += len(r.result)
        image[off : off + len(body)] = body
        off = start + align8(off + len(body) - start)
    image[off : off + 8] = header
    return EncodedBatch(seq=seq, image=bytes(image), frames=tuple(frames), count=count)


def _check_encode_args(seq: int, slot_id: int) -> None:
    """[DEC-8]: a response batch's seq is 1..2^32-1 ([LAND-4]) and its slot id 16 bits ([SLOT-5])."""
    if not 1 <= seq <= 0xFFFFFFFF:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "DEC-8", f"seq {seq} must be 1..2^32-1")
    if not 0 <= slot_id <= 0xFFFF:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "DEC-8", f"slot id {slot_id} is not 16-bit")


def encode_error_response(seq: int, code: ErrorCode, detail: str | None, config: SlotConfig) -> bytes:
    """The answer to a rejected batch: count 0, status = the batch-level code, a detail ([RSP-5]).

    `seq` is the rejected header's seq, any u32 (0 included: a header that said 0, [DEC-8]).
    """
    if not 0 <= seq <= 0xFFFFFFFF:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "DEC-8", f"seq {seq} is not a u32")
    if code not in BATCH_LEVEL:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "RSP-5", f"{code.name} is not a batch-level code")
    room = config.slot_size - FRAMING - 4  # u32 n and the detail fit the slot: kept exactly (section 13)
    text = detail or ""
    body = serial.dumps(text) if detail is not None else b""  # no detail: n = 0 ([RSP-5])
    while len(body) > room:  # keep the detail inside the slot; it is informative only ([ERR-3])
        text = text[: max(0, len(text) - (len(body) - room) - 1)]
        body = serial.dumps(text)
    length = FRAMING + align8(4 + len(body))
    image = bytearray(length)
    header = HEADER.pack(seq, length // 8, 0, int(code))
    image[0:8] = header
    U32.pack_into(image, 8, len(body))
    image[12 : 12 + len(body)] = body
    image[length - 8 : length] = header
    return bytes(image)


def _bad(code: ErrorCode, clause: str, msg: str) -> RemoteProtocolError:
    return RemoteProtocolError(code, clause, msg)


def detail_text(data: bytes | memoryview) -> str:
    """A detail as text ([ERR-3]): the string when `data` is one CBOR text string, else ""."""
    if not data:
        return ""
    try:
        text = serial.loads(data)
    except RemoteProtocolError:
        return ""
    return text if isinstance(text, str) else ""


def decode_response_batch(
    image: bytes | memoryview,
    specs: Sequence[ResultSpec],
    config: SlotConfig,
    expected_seq: int | None = None,
    imm_seq16: int | None = None,
) -> ResponseBatch:
    """Decode a response image for a batch whose requests had result layouts `specs` ([RSP-6])."""
    mv = memoryview(image)
    seq, length, count, status = read_header(mv, config, expected_seq, imm_seq16, response=True)
    end = length - 8
    if U64.unpack_from(mv, end)[0] != U64.unpack_from(mv, 0)[0]:
        raise _bad(ErrorCode.TORN, "RSP-6", "response trailer differs from header")
    if status:
        if status not in BATCH_LEVEL:
            raise _bad(ErrorCode.BAD_HEADER, "RSP-5", f"response status {status:#04x} is not a batch-level code")
        if count:
            raise _bad(ErrorCode.BAD_HEADER, "RSP-5", "error response with count != 0")
        if end < 12:
            raise _bad(ErrorCode.TRUNCATED, "RSP-5", "error response without its detail length")
        (n,) = U32.unpack_from(mv, 8)
        if 12 + n > end:
            raise _bad(ErrorCode.TRUNCATED, "RSP-5", "error detail runs past the trailer")
        if 8 + align8(4 + n) != end:
            raise _bad(ErrorCode.BAD_HEADER, "SLOT-8", "bytes left after the error detail")
        # [ERR-3]: the detail never rejects a response; n = 0 is an empty detail
        return ResponseBatch(seq=seq, status=status, responses=(), detail=detail_text(mv[12 : 12 + n]))
    if count != len(specs):
        raise _bad(ErrorCode.BAD_HEADER, "RSP-6", f"response has {count} entries, the batch had {len(specs)} requests")
    off = HEADER_SIZE
    out: list[Response] = []
    for i, spec in enumerate(specs):
        start = off
        if off + 8 > end:
            raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"response entry {i} starts past the trailer")
        st, n = _resp_head(mv, off)
        if bytes(mv[off + 1 : off + 4]) != b"\0\0\0":
            raise _bad(ErrorCode.BAD_HEADER, "RSP-4", f"response entry {i}: nonzero reserved bytes")
        off += 8
        if st == ErrorCode.FALLBACK:
            if n > config.fallback_limit:  # [DEC-2] step 5.3, as for a request stub ([FB-2])
                raise _bad(ErrorCode.OVERSIZE, "DEC-2", f"response entry {i}: fallback length {n} over the limit")
            out.append(Response(st, b"", None, n))
            continue
        if st not in ENTRY_STATUSES:  # [ERR-4]
            raise _bad(ErrorCode.BAD_HEADER, "ERR-4", f"response entry {i}: unknown status {st:#04x}")
        r = spec.fixed_size if st == ErrorCode.OK else 0
        if st == ErrorCode.OK and not spec.is_cbor and n:
            raise _bad(ErrorCode.BAD_HEADER, "RSP-3", f"response entry {i}: fixed result with n = {n}")
        if n > config.slot_size:
            raise _bad(ErrorCode.OVERSIZE, "REQ-5", f"response entry {i}: length {n} exceeds the slot")
        if off + r + n > end:
            raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"response entry {i} runs past the trailer")
        result = bytes(mv[off : off + r])
        off += r
        body = bytes(mv[off : off + n]) if (n or spec.is_cbor or st != ErrorCode.OK) else None
        off += n
        off = start + align8(off - start)
        if off > end:
            raise _bad(ErrorCode.TRUNCATED, "SLOT-8", f"response entry {i}: padding runs into the trailer")
        out.append(Response(st, result, body, None))
    if off != end:
        raise _bad(ErrorCode.BAD_HEADER, "SLOT-8", f"{end - off} bytes left after the last response entry")
    return ResponseBatch(seq=seq, status=0, responses=tuple(out))


def attach_response_payload(stub: Response, payload: bytes, spec: ResultSpec) -> Response:
    """Complete a FALLBACK response entry with its frame ([RSP-4], [FB-6])."""
    if stub.fallback_len is None or len(payload) != stub.fallback_len:
        raise _bad(ErrorCode.BAD_FRAME, "FB-6", "response frame payload does not match its stub")
    r = spec.fixed_size
    if len(payload) < r or (not spec.is_cbor and len(payload) != r):
        raise _bad(
            ErrorCode.BAD_FRAME, "FB-2", f"response payload of {len(payload)} bytes does not fit the result layout"
        )
    return Response(int(ErrorCode.OK), payload[:r], payload[r:] if spec.is_cbor else None, None)
