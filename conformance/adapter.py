"""The conformance codec adapter protocol (SPEC.md section 11, [ADPT-1] .. [ADPT-11]).

Framing: a `u32` little-endian length, then that many bytes of one CBOR map (`oracle.framing`,
the suite's one home of it). The suite writes
requests `{"op": NAME, ...arguments}` to the adapter's stdin; the adapter answers each, in order, on
stdout with `{"ok": VALUE}` or `{"error": "<ERROR_CODE_NAME>"}`.

`python -m conformance.adapter` serves the reference implementation over this protocol: the model
answer for anyone writing an adapter, and a way to test the subprocess target without a compiler.
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import cbor2

from .model import TargetBroken
from .oracle.framing import Unframer, frame

MAX_FRAME = 64 << 20  # [ADPT-2]


def encode_frame(msg: Any) -> bytes:
    return frame(cbor2.dumps(msg, canonical=True))


def oversize(n: int) -> TargetBroken:
    return TargetBroken(f"frame of {n} bytes exceeds {MAX_FRAME}")


def decode_body(body: bytes, what: str = "frame") -> Any:
    try:
        return cbor2.loads(body)
    except Exception as e:
        raise TargetBroken(f"{what} is not CBOR: {e}") from None


def read_frame(stream: BinaryIO) -> Any | None:
    """One decoded frame, or None at a clean end of stream (never reads past the frame)."""
    frames = Unframer(MAX_FRAME, oversize)
    while True:
        chunk = stream.read(frames.wanted)
        if not chunk:
            if frames.buffered:
                raise TargetBroken(f"stream ended inside a frame ({frames.buffered} bytes of it read)")
            return None
        bodies = frames.feed(chunk)
        if bodies:
            return decode_body(bodies[0])


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
