"""Precompiled structs shared by the codec ([GEN-1]: little-endian everywhere).

All byte work goes through these `struct.Struct` objects with `pack_into` / `unpack_from` over
`memoryview`s; this is where the codec's speed lives (aioquic's lesson).
"""

from __future__ import annotations

import struct

U8 = struct.Struct("<B")
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
#: request/response batch header and trailer: seq, words, count, table_len|status ([SLOT-7])
HEADER = struct.Struct("<IHBB")
#: response entry head: status, 3 zero bytes, body length n ([RSP-4])
RESP_HEAD = struct.Struct("<B3xI")
#: fallback stub tail: payload_len, zero ([FB-2])
STUB_TAIL = struct.Struct("<II")
#: fallback frame header ([FB-3])
FRAME_HEADER = struct.Struct("<IBBHIHHI")

MASK48 = (1 << 48) - 1


def align8(n: int) -> int:
    """The least multiple of 8 that is >= n ([GEN-2])."""
    return (n + 7) & ~7


ZERO_PAD = bytes(8)
