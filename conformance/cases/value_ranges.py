"""Field values at and just past the edges of their layout field ([LAYOUT-1], [ADPT-9]).

`pack_capture` must refuse a value its field cannot hold, even where a lenient packer would quietly
round, truncate or pad it: a double just above the largest f32 (it rounds down to FLT_MAX), a bool
given for a float field, bytes longer or shorter than `bytesN`.
"""

from __future__ import annotations

import struct

from ..model import Case, err, ok
from ._wire import case

FLT_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]  # the largest finite binary32, as a double


def cases() -> list[Case]:
    out: list[Case] = []
    rows: list[tuple[str, str, str, list[object], bytes | None]] = [
        ("range.f32-max", "the largest finite f32 packs", "f32", [FLT_MAX], b"\xff\xff\x7f\x7f"),
        ("range.f32-max-negative", "its negation packs", "f32", [-FLT_MAX], b"\xff\xff\x7f\xff"),
        ("range.f32-above-max", "a double just above the largest f32 is beyond the f32 range", "f32",
         [3.4028235e38], None),
        ("range.f32-below-min", "and its negation too", "f32", [-3.4028235e38], None),
        ("range.f64-bool", "a bool for an f64 field", "f64", [True], None),
        ("range.f32-bool", "a bool for an f32 field", "f32", [False], None),
        ("range.bytes-long", "three bytes for a bytes2 field", "bytes2", [b"abc"], None),
        ("range.bytes-short", "one byte for a bytes2 field", "bytes2", [b"a"], None),
        ("range.bytes-exact", "two bytes for a bytes2 field", "bytes2", [b"ab"], b"ab"),
    ]
    for c_id, title, spec, vals, want in rows:
        out.append(case(c_id, title, ["LAYOUT-1", "ADPT-9"], "pack_capture", {"capture": spec, "values": vals},
                        ok({"data": want}) if want is not None else err("BAD_ARGUMENT"),
                        tags=("codec", "closure")))
    return out
