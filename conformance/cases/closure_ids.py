"""Closure identity and layouts ([CID-1] .. [CID-3], [LAYOUT-1] .. [LAYOUT-4], [GEN-1], [GEN-3])."""

from __future__ import annotations

import struct

from ..catalogue_closures import ADD, ECHO, cid, standard
from ..model import Case, err, ok
from ._wire import case


def cases() -> list[Case]:
    out: list[Case] = []

    def add(c_id: str, title: str, clauses: list[str], op: str, args: dict, expect: dict) -> None:  # type: ignore[type-arg]
        out.append(case(c_id, title, clauses, op, args, expect, tags=("codec", "closure")))

    for key, name in (("entrust", "gossamer.builtin:entrust"), ("toggle", "gossamer.builtin:toggle"),
                      ("ascii", "bank:transfer"), ("utf8", "ünïcode:名前")):
        add(f"cid.{key}", f"closure id of {name!r}: SHA-256, first 8 bytes, little-endian",
            ["CID-1"], "closure_id", {"name": name}, ok({"id": cid(name)}))
    add("cid.register-standard", "the catalogue's closures register", ["CID-2", "CID-3"], "register",
        {"closures": standard()}, ok({}))
    clash = {**ECHO.wire(), "id": ADD.id}
    add("cid.collision", "two names with the same id fail at registration", ["CID-2"], "register",
        {"closures": [ADD.wire(), clash]}, err("BAD_ARGUMENT"))
    add("cid.zero", "a closure whose id is 0 fails at registration", ["CID-2"], "register",
        {"closures": [{**ADD.wire(), "id": 0}]}, err("BAD_ARGUMENT"))
    for bad in ("str", "u64 list", "bytes", "u64 ref"):
        add(f"layout.noref-{bad.replace(' ', '-')}", f"capture layout {bad!r} breaks NoRef", ["LAYOUT-3"],
            "register", {"closures": [{**ADD.wire(), "capture": bad}]}, err("NOREF"))
    add("layout.bad-param", "a parameter spec other than none, cbor, cbor:M", ["LAYOUT-2"], "register",
        {"closures": [{**ADD.wire(), "param": "json"}]}, err("BAD_ARGUMENT"))
    # [DEC-7]: the exact grammar of layout strings, and the code of each refusal
    for key, bad in (("upper", "U64"), ("tab", "u64\tu64"), ("leading-zero", "bytes08"), ("bytes0", "bytes0"),
                     ("bytes-over", "bytes65537"), ("u128", "u128")):
        add(f"layout.grammar-{key}", f"capture layout {bad!r} is outside the grammar: NOREF",
            ["DEC-7", "LAYOUT-1", "LAYOUT-3"], "register", {"closures": [{**ADD.wire(), "capture": bad}]},
            err("NOREF"))
    add("layout.grammar-result", "a result layout outside the grammar is NOREF too", ["DEC-7", "LAYOUT-2"],
        "register", {"closures": [{**ADD.wire(), "result": "string"}]}, err("NOREF"))
    for key, bad in (("leading-zero", "cbor:09"), ("sign", "cbor:+9"), ("zero", "cbor:0"), ("over", "cbor:65537")):
        add(f"layout.grammar-param-{key}", f"parameter spec {bad!r}: BAD_ARGUMENT", ["DEC-7", "LAYOUT-2"],
            "register", {"closures": [{**ADD.wire(), "param": bad}]}, err("BAD_ARGUMENT"))
    add("layout.grammar-order", "a bad capture is judged before a zero id: NOREF, not BAD_ARGUMENT",
        ["DEC-7", "CID-2"], "register", {"closures": [{**ADD.wire(), "capture": "str", "id": 0}]}, err("NOREF"))
    add("layout.grammar-spaces", "runs of spaces separate fields; leading and trailing spaces are ignored",
        ["DEC-7", "LAYOUT-1"], "pack_capture", {"capture": "  u16   u8 ", "values": [0x0102, 3]},
        ok({"data": b"\x02\x01\x03"}))
    add("layout.grammar-bytes-max", "bytes65536 is the largest field", ["DEC-7", "LAYOUT-1"], "register",
        {"closures": [{**ADD.wire(), "capture": "bytes65536"}]}, ok({}))
    vals = [1, 0x0203, 0x04050607, 0x08090A0B0C0D0E0F, -1, -2, -3, -4, 1.5, -0.25, True, b"ab"]
    spec = "u8 u16 u32 u64 i8 i16 i32 i64 f32 f64 bool bytes2"
    packed = struct.pack("<BHIQbhiqfd?2s", *vals)
    add("layout.pack-all", "every field kind, packed little-endian with no padding",
        ["LAYOUT-1", "GEN-1", "GEN-3"], "pack_capture", {"capture": spec, "values": vals}, ok({"data": packed}))
    add("layout.unpack-all", "and unpacked back", ["LAYOUT-1"], "unpack_capture",
        {"capture": spec, "data": packed}, ok({"values": vals}))
    add("layout.pack-out-of-range", "256 does not fit a u8", ["LAYOUT-1"], "pack_capture",
        {"capture": "u8", "values": [256]}, err("BAD_ARGUMENT"))
    add("layout.bool-2", "a bool byte of 2 is BAD_CAPTURE", ["LAYOUT-4"], "unpack_capture",
        {"capture": "u8 bool", "data": b"\x01\x02"}, err("BAD_CAPTURE"))
    add("layout.short-capture", "captured data shorter than the layout is BAD_CAPTURE", ["LAYOUT-4"],
        "unpack_capture", {"capture": "u64", "data": b"\0" * 7}, err("BAD_CAPTURE"))
    # [DEC-7] the empty parameter spec, no trimming, the 1 MiB layout cap; [ADPT-20] closures in the adapter
    def one(**over: object) -> list[dict[str, object]]:
        return [{"name": "t:x", "id": cid("t:x"), "capture": "", "result": "", "param": None, **over}]

    add("cid.param-empty-string", "a parameter spec of \"\" means no parameter", ["DEC-7", "LAYOUT-2"], "register",
        {"closures": one(param="")}, ok({}))
    add("cid.param-not-trimmed", "\" cbor\" is not cbor: specs are not trimmed", ["DEC-7", "LAYOUT-2"], "register",
        {"closures": one(param=" cbor")}, err("BAD_ARGUMENT"))
    add("cid.same-closure-twice", "the same name with the same id given twice is one closure", ["ADPT-20", "CID-2"],
        "register", {"closures": one() + one()}, ok({}))
    add("cid.id-zero", "a closure id of 0 is BAD_ARGUMENT, whatever its name hashes to", ["ADPT-20", "CID-2"],
        "register", {"closures": one(id=0)}, err("BAD_ARGUMENT"))
    add("layout.size-1mib", "a capture layout of exactly 1 MiB registers", ["DEC-7"], "register",
        {"closures": one(capture=" ".join(["bytes65536"] * 16))}, ok({}))
    add("layout.size-over-1mib", "a capture layout over 1 MiB is NOREF", ["DEC-7", "LAYOUT-1"], "register",
        {"closures": one(capture=" ".join(["bytes65536"] * 16) + " u8")}, err("NOREF"))
    add("layout.result-over-1mib", "a result layout over 1 MiB is NOREF", ["DEC-7", "LAYOUT-2"], "register",
        {"closures": one(result=" ".join(["bytes65536"] * 16) + " u8")}, err("NOREF"))
    many = " ".join(["u8"] * 100)
    add("layout.many-fields", "a layout has no limit on its number of fields (100 u8 fields pack to 100 bytes)",
        ["LAYOUT-1", "DEC-7"], "pack_capture", {"capture": many, "values": list(range(100))},
        ok({"data": bytes(range(100))}))
    # [ADPT-9] value types of pack_capture
    packs: list[tuple[str, str, str, list[object], bytes | None]] = [
        ("layout.pack-bool-int", "an integer for a bool field", "bool", [1], None),
        ("layout.pack-int-bool", "a bool for an integer field", "u8", [True], None),
        ("layout.pack-f32-range", "a finite value beyond the f32 range", "f32", [1e300], None),
        ("layout.pack-f32-round", "0.1 rounded to the nearest f32", "f32", [0.1], struct.pack("<f", 0.1)),
        ("layout.pack-f64-int", "an integer for a float field is that float", "f64", [3], struct.pack("<d", 3.0)),
        ("layout.pack-bool-true", "a bool field takes true", "bool", [True], b"\x01"),
    ]
    for c_id, title, spec, vals, want in packs:
        add(c_id, title, ["ADPT-9", "LAYOUT-1"], "pack_capture", {"capture": spec, "values": vals},
            ok({"data": want}) if want is not None else err("BAD_ARGUMENT"))
    return out
