"""Request entries ([REQ-1] .. [REQ-5], [FB-1], [FB-2]).

`Request` is a `NamedTuple`, not an attrs class, on purpose: the decoder builds one per entry and
must reach a million entries a second in pure Python; tuple construction is several times cheaper
than a frozen attrs `__init__`. It is still an immutable value.
"""

from __future__ import annotations

from typing import NamedTuple

from . import serial
from .buffer import align8
from .closures import ClosureShape
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .slot import FRAMING


class Request(NamedTuple):
    """One delegated request as it travels ([REQ-1] .. [REQ-4]).

    `param` holds the parameter's encoded CBOR bytes (None when the closure has none). A decoded
    fallback stub has `fallback_len` set and empty `captured` until its frame arrives ([FB-5]).
    """

    property: int
    closure_id: int
    captured: bytes
    param: bytes | None = None
    fallback_len: int | None = None


def inline_size(req: Request, shape: ClosureShape) -> int:
    """Bytes of the entry with its payload inline, closure named by table index ([REQ-4])."""
    p = shape.param.wire_size(len(req.param)) if req.param is not None else 0
    return align8(8 + shape.capture_size + p)


def needs_fallback(req: Request, shape: ClosureShape, slot_size: int) -> bool:
    """[FB-1]: fallback iff the request cannot fit in a batch that holds only itself."""
    return FRAMING + 8 + inline_size(req, shape) > slot_size


def check_request(req: Request, shape: ClosureShape) -> None:
    """Local checks before encoding: sizes match the registration ([REQ-3], [SER-3])."""
    if not 0 <= req.property < (1 << 48):
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "REQ-1", f"property pointer {req.property:#x} is not a 48-bit value"
        )
    if len(req.captured) != shape.capture_size:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "REQ-3",
            f"captured data is {len(req.captured)} bytes, the closure's layout takes {shape.capture_size}",
        )
    if shape.param.present != (req.param is not None):
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "REQ-4",
            "closure takes a serialized parameter" if shape.param.present else "closure takes no parameter",
        )
    m = shape.param.fixed_size
    if m is not None and req.param is not None and len(req.param) != m:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "SER-3",
            f"fixed parameter cbor:{m} encoded to {len(req.param)} bytes",
        )
    if req.param is not None:  # [DEC-8] step 5, [SER-1]: a sender sends one valid item ([DEC-6], UTF-8 included)
        try:
            serial.loads(req.param)
        except RemoteProtocolError as e:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "DEC-8", f"parameter is not CBOR: {e.message}") from None


def payload_of(req: Request) -> bytes:
    """Fallback payload: captured data then parameter bytes ([FB-2])."""
    return req.captured + (req.param or b"")


def attach_payload(stub: Request, payload: bytes, shape: ClosureShape) -> Request:
    """Complete a decoded stub with its frame's payload; BAD_FRAME on a size mismatch ([FB-2], [FB-6])."""
    if stub.fallback_len is None:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "FB-2", "request is not a fallback stub")
    if len(payload) != stub.fallback_len:
        raise RemoteProtocolError(
            ErrorCode.BAD_FRAME, "FB-6",
            f"frame payload is {len(payload)} bytes, its stub announced {stub.fallback_len}",
        )
    c = shape.capture_size
    if len(payload) < c:
        raise RemoteProtocolError(
            ErrorCode.BAD_FRAME, "FB-2", f"payload of {len(payload)} bytes is shorter than the capture ({c})"
        )
    m = shape.param.fixed_size
    if not shape.param.present:
        if len(payload) != c:
            raise RemoteProtocolError(
                ErrorCode.BAD_FRAME, "FB-2", "payload longer than the capture of a closure with no parameter"
            )
        param = None
    elif m is not None and len(payload) != c + m:
        raise RemoteProtocolError(ErrorCode.BAD_FRAME, "FB-2", f"payload_len must be C + M = {c + m}")
    else:
        param = payload[c:]
    return stub._replace(captured=payload[:c], param=param, fallback_len=None)
