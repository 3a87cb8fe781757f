"""A hello's map header in every width ([DEC-5] steps 4 and 5, [DEC-6]), and version ranges ([BOOT-1]).

A receiver accepts non-preferred lengths ([DEC-6]): the hello map's pair count may be given in the
initial byte, or in a 1-, 2-, 4- or 8-byte argument, or the map may be indefinite. Whatever the
width, a key that occurs twice is `MALFORMED_CBOR` ([DEC-5] step 5): the count of pairs on the wire
is compared with the keys, so a decoder must read the count in the width the header gives.
`negotiate`: the highest version in both ranges, each range read as [min, max]; a range that
starts below 0 is `BAD_ARGUMENT`, whichever side it is on ([ADPT-19]).
"""

from __future__ import annotations

import struct
from typing import Any

from ..model import Case, err, ok
from ._wire import case, cbor
from .bootstrap import hello

#: the map header of `n` pairs with the count in the initial byte (None) or a 1/2/4/8-byte argument
WIDTHS: dict[str, int | None] = {"direct": None, "count-1-byte": 1, "count-2-byte": 2, "count-4-byte": 4,
                                 "count-8-byte": 8}


def _header(n: int, width: int | None) -> bytes:
    if width is None:
        return bytes([0xA0 + n])
    return bytes([0xA0 + {1: 24, 2: 25, 4: 26, 8: 27}[width]]) + n.to_bytes(width, "big")


def _msg(h: dict[str, Any], width: int | None, extra: bytes = b"", extra_pairs: int = 0) -> bytes:
    body = _header(len(h) + extra_pairs, width) + b"".join(cbor(k) + cbor(v) for k, v in h.items()) + extra
    return struct.pack("<I", len(body)) + body


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Any) -> None:
        out.append(case(f"hello_enc.{cid}", title, clauses, op, args, expect, tags=("codec", "bootstrap", "cbor")))

    h = hello()
    again = cbor("slot_size") + cbor(2048)
    for name, width in WIDTHS.items():
        add(name, f"a hello map whose pair count is {name.replace('-', ' ')}: accepted", ["DEC-5", "DEC-6"],
            "decode_hello", {"data": _msg(h, width)}, ok(h))
        add(f"{name}-duplicate", f"the same with slot_size given twice ({name.replace('-', ' ')}): MALFORMED_CBOR",
            ["DEC-5"], "decode_hello", {"data": _msg(h, width, again, 1)}, err("MALFORMED_CBOR"))
    body = b"\xbf" + b"".join(cbor(k) + cbor(v) for k, v in h.items()) + again + b"\xff"
    add("indefinite-duplicate", "an indefinite-length hello map with slot_size twice: MALFORMED_CBOR", ["DEC-5"],
        "decode_hello", {"data": struct.pack("<I", len(body)) + body}, err("MALFORMED_CBOR"))
    add("negotiate-ours-wider", "ours [1, 3] and theirs [1, 2]: version 2", ["BOOT-1", "ADPT-8"], "negotiate",
        {"ours": [1, 3], "theirs": [1, 2]}, ok({"version": 2}))
    add("negotiate-theirs-wider", "ours [2, 2] and theirs [1, 3]: version 2", ["BOOT-1", "ADPT-8"], "negotiate",
        {"ours": [2, 2], "theirs": [1, 3]}, ok({"version": 2}))
    for side in ("ours", "theirs"):
        args = {"ours": [1, 1], "theirs": [1, 1], side: [-1, 1]}
        add(f"negotiate-{side}-minus-one", f"{side} [-1, 1]: BAD_ARGUMENT", ["ADPT-19", "BOOT-1"], "negotiate",
            args, err("BAD_ARGUMENT"))
    return out
