"""Fallback frames and the frame stream ([FB-3], [FB-6], [FB-7], [FB-8]).

A frame is a 20-byte header (magic `GSFB`, kind, zero, slot id, seq, index, zero, payload length),
little-endian, then the payload. `Reader` is [DEC-3]: it takes a TCP stream in pieces of any size;
a bad header (magic, kind, reserved bytes: `BAD_FRAME`; a payload above the limit: `OVERSIZE`)
breaks the stream, which cannot be resynchronised.
"""

from __future__ import annotations

import struct
from typing import Any

import attrs

from .errors import Rejected

FRAME = struct.Struct("<IBBHIHHI")
MAGIC = 0x42465347  #: the bytes G S F B
KIND_REQUEST, KIND_RESPONSE = 1, 2
CALLER = struct.Struct("<HH")  #: [FB-8] the caller hello: machine number, thread number
DEFAULT_LIMIT = 64 << 20


def forge(kind: int, slot_id: int, seq: int, index: int, payload: bytes, *, magic: int = MAGIC,
          z1: int = 0, z2: int = 0, length: int | None = None) -> bytes:
    """A frame, field by field; the overrides forge bad ones."""
    return FRAME.pack(magic, kind, z1, slot_id, seq, index, z2, len(payload) if length is None else length) + payload


@attrs.frozen
class Frame:
    kind: int
    slot_id: int
    seq: int
    index: int
    payload: bytes

    def encode(self) -> bytes:
        if self.kind not in (KIND_REQUEST, KIND_RESPONSE):
            raise Rejected("BAD_ARGUMENT", "FB-3", f"kind {self.kind}")
        if not (0 <= self.slot_id <= 0xFFFF and 0 <= self.index <= 0xFFFF and 0 <= self.seq <= 0xFFFF_FFFF):
            raise Rejected("BAD_ARGUMENT", "FB-3", "slot id, index or seq out of range")
        if len(self.payload) > 0xFFFF_FFFF:
            raise Rejected("BAD_ARGUMENT", "FB-3", "payload longer than a u32 length")
        return forge(self.kind, self.slot_id, self.seq, self.index, self.payload)

    def as_map(self) -> dict[str, Any]:
        return {"kind": self.kind, "slot_id": self.slot_id, "seq": self.seq, "index": self.index,
                "payload": self.payload}


class Reader:
    """SPEC.md [DEC-3]: frames out of a byte stream fed in pieces of any size.

    `feed` delivers the frames completed, in order. A bad header breaks the stream: `broken` holds
    the rejection (frames completed before it were still delivered), and later bytes are ignored.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._buf = bytearray()
        self.broken: Rejected | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        if self.broken is not None:  # 1
            return []
        self._buf += data  # 2
        out: list[Frame] = []
        while len(self._buf) >= FRAME.size:
            magic, kind, z1, slot_id, seq, index, z2, n = FRAME.unpack_from(self._buf)
            if magic != MAGIC:
                self.broken = Rejected("BAD_FRAME", "FB-6", f"magic {magic:#010x}")
            elif kind not in (KIND_REQUEST, KIND_RESPONSE):
                self.broken = Rejected("BAD_FRAME", "FB-6", f"kind {kind}")
            elif z1 or z2:
                self.broken = Rejected("BAD_FRAME", "FB-6", "nonzero reserved bytes")
            elif n > self.limit:
                self.broken = Rejected("OVERSIZE", "FB-6", f"payload length {n} above the limit {self.limit}")
            if self.broken is not None:  # 3
                return out
            if len(self._buf) < FRAME.size + n:  # 4
                break
            out.append(Frame(kind, slot_id, seq, index, bytes(self._buf[FRAME.size : FRAME.size + n])))
            del self._buf[: FRAME.size + n]
        return out

    def feed_all(self, data: bytes) -> list[Frame]:
        """`feed`, raising the stream's rejection if it broke (the adapter's `decode_frames`)."""
        out = self.feed(data)
        if self.broken is not None:
            raise self.broken
        return out
