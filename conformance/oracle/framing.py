"""A `u32` little-endian length, then that many bytes: the framing of bootstrap messages
([BOOT-4]) and of adapter requests and answers ([ADPT-2]), written once on the suite's side.

Bodies only: what a body must be (one CBOR map, in deterministic encoding or not) is the reader's
own business (`bootstrap.body_map`, the adapter's `cbor2.loads`). `Unframer` is sans-I/O: bytes
in, whole bodies out, and `wanted` says how many more bytes finish the next one, so a blocking
reader asks a stream for exactly that and never reads past a frame.
"""

from __future__ import annotations

from collections.abc import Callable

from .slot import U32


def frame(body: bytes) -> bytes:
    """`body` with its length prefix."""
    return U32.pack(len(body)) + body


class Unframer:
    """Whole bodies out of a byte stream fed in pieces. A length above `limit` is refused on the
    prefix alone, before its body arrives: `feed` raises what `oversize(n)` returns."""

    def __init__(self, limit: int, oversize: Callable[[int], Exception]) -> None:
        self.limit = limit
        self._oversize = oversize
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held of a frame not yet whole."""
        return len(self._buf)

    @property
    def wanted(self) -> int:
        """Bytes still missing before the next whole body: the prefix's first, then the body's."""
        if len(self._buf) < 4:
            return 4 - len(self._buf)
        n: int = U32.unpack_from(self._buf)[0]
        return 4 + n - len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= 4:
            n = U32.unpack_from(self._buf)[0]
            if n > self.limit:
                raise self._oversize(n)
            if len(self._buf) < 4 + n:
                break
            out.append(bytes(self._buf[4 : 4 + n]))
            del self._buf[: 4 + n]
        return out
