"""Reading a response image the way SPEC.md section 5 lays it out, for the live cases' checks.

Written from the spec's tables alone (nothing here imports `gossamer`): `walk_response` splits an
image into its header, entries and trailer and reports, byte for byte, what [GEN-2] and section
5's entry layout say must be zero. It does not judge; the checks in `cases/live.py` do.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import attrs

from .oracle import codes
from .oracle.layout import Result
from .oracle.slot import HDR

ENTRY = struct.Struct("<B3sI")  # status, three zero bytes, n
OK, FALLBACK = codes.OK, codes.FALLBACK


def fixed_size(layout: str) -> int:
    """`R` of a result layout ([LAYOUT-1], [LAYOUT-2]); 0 for `cbor` (its body is `n` bytes)."""
    return Result.parse(layout).fixed_size


@attrs.frozen
class Entry:
    index: int
    status: int
    n: int
    offset: int
    #: the three bytes after the status ("three zero bytes", section 5)
    reserved: bytes
    #: the padding after the body up to the next multiple of 8 ([GEN-2])
    padding: bytes
    body: bytes


@attrs.frozen
class Walked:
    seq: int
    words: int
    count: int
    status: int
    entries: tuple[Entry, ...]
    #: bytes between the batch-level error's detail and the trailer ([RSP-5], [GEN-2])
    padding: bytes
    trailer_ok: bool
    problem: str | None


def walk_response(image: bytes, results: Sequence[str] = ()) -> Walked:
    """Split a response image; `results` are the result layouts of the batch's requests."""
    if len(image) < 16:
        return Walked(0, 0, 0, 0, (), b"", False, f"a response image of {len(image)} bytes")
    seq, words, count, status = HDR.unpack_from(image)
    end = 8 * words
    if not 16 <= end <= len(image):
        return Walked(seq, words, count, status, (), b"", False, f"words = {words} for an image of {len(image)} bytes")
    trailer_ok = image[end - 8 : end] == image[0:8]
    if status:  # [RSP-5]: u32 n, n bytes of CBOR detail, padding
        n = struct.unpack_from("<I", image, 8)[0]
        if 12 + n > end - 8:
            return Walked(seq, words, count, status, (), b"", trailer_ok, f"detail of {n} bytes past the trailer")
        return Walked(seq, words, count, status, (), image[12 + n : end - 8], trailer_ok, None)
    entries: list[Entry] = []
    off = 8
    for i in range(count):
        if off + 8 > end - 8:
            return Walked(seq, words, count, status, tuple(entries), b"", trailer_ok,
                          f"entry {i} runs into the trailer")
        st, reserved, n = ENTRY.unpack_from(image, off)
        if st == FALLBACK:
            body_len = 0
        elif st == OK:
            body_len = (fixed_size(results[i]) if i < len(results) else 0) + n
        else:
            body_len = n
        body_end = off + 8 + body_len
        nxt = off + 8 + -(-body_len // 8) * 8
        if nxt > end - 8:
            return Walked(seq, words, count, status, tuple(entries), b"", trailer_ok,
                          f"entry {i} runs into the trailer")
        entries.append(Entry(i, st, n, off, reserved, image[body_end:nxt], image[off + 8 : body_end]))
        off = nxt
    problem = None if off == end - 8 else f"{end - 8 - off} bytes between the last entry and the trailer"
    return Walked(seq, words, count, status, tuple(entries), b"", trailer_ok, problem)
