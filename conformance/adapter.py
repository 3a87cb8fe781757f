"""The conformance codec adapter protocol (SPEC.md section 11, [ADPT-1] .. [ADPT-11]).

Framing: a `u32` little-endian length, then that many bytes of one CBOR map. The suite writes
requests `{"op": NAME, ...arguments}` to the adapter's stdin; the adapter answers each, in order, on
stdout with `{"ok": VALUE}` or `{"error": "<ERROR_CODE_NAME>"}`.

`python -m conformance.adapter` serves the reference implementation over this protocol: the model
answer for anyone writing an adapter, and a way to test the subprocess target without a compiler.
"""

from __future__ import annotations

import struct
import sys
from typing import Any, BinaryIO

import cbor2

from .model import TargetBroken

LEN = struct.Struct("<I")
MAX_FRAME = 64 << 20  # [ADPT-2]


def encode_frame(msg: Any) -> bytes:
    body = cbor2.dumps(msg, canonical=True)
    return LEN.pack(len(body)) + body


def read_exact(stream: BinaryIO, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None if not buf else _broken(f"stream ended inside a frame ({len(buf)} of {n} bytes)")
        buf += chunk
    return buf


def _broken(why: str) -> bytes:
    raise TargetBroken(why)


def read_frame(stream: BinaryIO) -> Any | None:
    """One decoded frame, or None at a clean end of stream."""
    head = read_exact(stream, 4)
    if head is None:
        return None
    (n,) = LEN.unpack(head)
    if n > MAX_FRAME:
        raise TargetBroken(f"frame of {n} bytes exceeds {MAX_FRAME}")
    body = read_exact(stream, n)
    if body is None:
        raise TargetBroken("stream ended before the frame body")
    try:
        return cbor2.loads(body)
    except Exception as e:
        raise TargetBroken(f"frame is not CBOR: {e}") from None


def serve(stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer adapter requests with the reference implementation until stdin closes."""
    from .targets.reference import ReferenceTarget

    target = ReferenceTarget()
    while True:
        msg = read_frame(stdin)
        if msg is None:
            return 0
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            reply: dict[str, Any] = {"error": "BAD_ARGUMENT"}
        else:
            op = msg.pop("op")
            reply = target.call(op, msg) if op in target.capabilities else {"error": "UNSUPPORTED"}
        stdout.write(encode_frame(reply))
        stdout.flush()


if __name__ == "__main__":
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))
