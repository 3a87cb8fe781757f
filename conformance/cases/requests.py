"""Request batches: valid traffic of every shape and edge sizes (sections 1, 3, 4; [SLOT-*], [VT-*], [REQ-*])."""

from __future__ import annotations

import struct
from typing import Any

from ..catalogue_closures import ADD, ECHO, FIXED, FLAG, NOP, PAIR, K, standard, wire
from ..model import Case, Outcome, err, ok
from ._wire import batch, case, cbor, cfg, dreq, req, req_entry

CL = standard()
P = 0x0000_1234_5678_9AB0  # an opaque 48-bit property pointer


def pair_cap(i: int) -> bytes:
    return struct.pack("<QQd8s", i, 2 * i, 0.5 * i, bytes([i & 0xFF]) * 8)


def u64(x: int) -> bytes:
    return struct.pack("<Q", x)


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Outcome) -> None:
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "request")))

    # --- one request, the smallest shapes
    img1 = batch(1, [ADD.id], [req_entry(P, 0, u64(7))])
    add("req.encode.single", "one request: header, one-entry table, entry, trailer",
        ["GEN-1", "GEN-2", "SLOT-7", "VT-3", "REQ-3", "CID-3", "LAND-4", "ADPT-5", "ADPT-6"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(P, ADD.id, u64(7))]},
        ok({"image": img1, "frames": []}))
    add("req.decode.single", "decode one request back to its fields",
        ["GEN-1", "REQ-1", "REQ-3", "SLOT-7"], "decode_request_batch",
        {"config": cfg(), "closures": CL, "image": img1, "expected_seq": 1, "imm_seq16": 1},
        ok({"seq": 1, "table": [ADD.id], "requests": [dreq(P, ADD.id, u64(7))]}))
    img_nop = batch(9, [NOP.id], [req_entry(1, 0)])
    add("req.encode.empty-capture", "a closure with no capture and no parameter takes an 8-byte entry",
        ["REQ-3", "REQ-4", "GEN-2"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 9, "slot_id": 0, "requests": [req(1, NOP.id)]},
        ok({"image": img_nop, "frames": []}))
    img_flag = batch(3, [FLAG.id], [req_entry(5, 0, b"\x01")])
    add("req.encode.padding-zero", "a 1-byte capture is padded with seven zero bytes",
        ["GEN-2", "GEN-3", "LAYOUT-1"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 3, "slot_id": 0, "requests": [req(5, FLAG.id, b"\x01")]},
        ok({"image": img_flag, "frames": []}))
    dirty = bytearray(img_flag)
    dirty[25:32] = b"\xAA" * 7  # padding bytes of the entry (entry at 16, capture at 24)
    add("req.decode.padding-ignored", "nonzero padding is ignored by the receiver",
        ["GEN-2"], "decode_request_batch",
        {"config": cfg(), "closures": CL, "image": bytes(dirty)},
        ok({"seq": 3, "table": [FLAG.id], "requests": [dreq(5, FLAG.id, b"\x01")]}))
    add("req.decode.leftover-slot-bytes", "bytes after the image are left over from earlier batches",
        ["SLOT-9"], "decode_request_batch",
        {"config": cfg(), "closures": CL, "image": img1 + b"\xEE" * (1024 - len(img1))},
        ok({"seq": 1, "table": [ADD.id], "requests": [dreq(P, ADD.id, u64(7))]}))
    top = (1 << 48) - 1
    add("req.encode.pointer-48bit", "the property pointer is an opaque 48-bit value (all ones)",
        ["REQ-1", "LIM-1"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 2, "slot_id": 0, "requests": [req(top, ADD.id, u64(1))]},
        ok({"image": batch(2, [ADD.id], [req_entry(top, 0, u64(1))]), "frames": []}))

    # --- parameters ([REQ-4], [SER-3])
    p_var = cbor({"k": [1, 2, 3]})
    img_var = batch(4, [ECHO.id], [req_entry(P, 0, b"", p_var)])
    add("req.encode.param-variable", "a variable parameter is sent as u32 n and n bytes of CBOR",
        ["REQ-4", "SER-1", "LAYOUT-2"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 4, "slot_id": 0, "requests": [req(P, ECHO.id, b"", p_var)]},
        ok({"image": img_var, "frames": []}))
    add("req.decode.param-variable", "decode a variable parameter",
        ["REQ-4"], "decode_request_batch", {"config": cfg(), "closures": CL, "image": img_var},
        ok({"seq": 4, "table": [ECHO.id], "requests": [dreq(P, ECHO.id, b"", p_var)]}))
    p_fix = cbor(0x01020304)  # 5 bytes: 1a 01 02 03 04
    img_fix = batch(5, [FIXED.id], [req_entry(P, 0, struct.pack("<I", 9), p_fix, variable=False)])
    add("req.encode.param-fixed", "a fixed parameter cbor:5 is sent as exactly 5 bytes, no length",
        ["REQ-4", "LAYOUT-2"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 5, "slot_id": 0,
         "requests": [req(P, FIXED.id, struct.pack("<I", 9), p_fix)]},
        ok({"image": img_fix, "frames": []}))
    add("req.decode.param-fixed", "decode a fixed parameter",
        ["REQ-4"], "decode_request_batch", {"config": cfg(), "closures": CL, "image": img_fix},
        ok({"seq": 5, "table": [FIXED.id], "requests": [dreq(P, FIXED.id, struct.pack("<I", 9), p_fix)]}))
    add("req.encode.param-fixed-wrong-size", "a fixed parameter of the wrong size fails locally",
        ["SER-3"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 5, "slot_id": 0,
         "requests": [req(P, FIXED.id, struct.pack("<I", 9), cbor(1))]},
        err("BAD_ARGUMENT"))
    add("req.encode.capture-wrong-size", "captured bytes must be exactly C",
        ["REQ-3"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(P, ADD.id, b"\0" * 7)]},
        err("BAD_ARGUMENT"))
    add("req.encode.seq-zero", "seq 0 never names a batch",
        ["LAND-4"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 0, "slot_id": 0, "requests": [req(P, ADD.id, u64(1))]},
        err("BAD_ARGUMENT"))
    add("req.encode.seq-over-32-bit", "seq 2^32 is not a u32", ["LAND-4", "DEC-8"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1 << 32, "slot_id": 0, "requests": [req(P, ADD.id, u64(1))]},
        err("BAD_ARGUMENT"))
    add("req.encode.slot-id-17-bit", "a slot id above 16 bits fails locally, frames or not",
        ["SLOT-5", "DEC-8", "LIM-1"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0x10000, "requests": [req(P, ADD.id, u64(1))]},
        err("BAD_ARGUMENT"))
    add("req.encode.pointer-49-bit", "a property pointer of 49 bits fails locally", ["REQ-1", "DEC-8"],
        "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(1 << 48, ADD.id, u64(1))]},
        err("BAD_ARGUMENT"))
    add("req.encode.param-missing", "a closure that takes a parameter given none", ["REQ-4", "DEC-8"],
        "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(P, ECHO.id, b"", None)]},
        err("BAD_ARGUMENT"))
    add("req.decode.table-duplicates", "a table naming one closure twice decodes: distinctness binds the sender",
        ["VT-3", "DEC-1"], "decode_request_batch",
        {"config": cfg(), "closures": CL,
         "image": batch(1, [ADD.id, ADD.id], [req_entry(P, 0, u64(1)), req_entry(P, 1, u64(2))])},
        ok({"seq": 1, "table": [ADD.id, ADD.id],
            "requests": [dreq(P, ADD.id, u64(1)), dreq(P, ADD.id, u64(2))]}))
    add("req.encode.unregistered", "a request for an unregistered closure cannot be encoded",
        ["VT-5"], "encode_request_batch",
        {"config": cfg(), "closures": wire([ADD]), "seq": 1, "slot_id": 0, "requests": [req(P, ECHO.id, b"", cbor(1))]},
        err("UNKNOWN_CLOSURE"))

    # --- the table ([VT-1] .. [VT-4])
    mixed = [req(P, ADD.id, u64(1)), req(P + 8, PAIR.id, pair_cap(1)), req(P, ECHO.id, b"", cbor("hi")),
             req(P, FIXED.id, struct.pack("<I", 3), p_fix), req(P, NOP.id), req(P, FLAG.id, b"\0"),
             req(P, ADD.id, u64(2)), req(P, NOP.id)]
    img_mixed = batch(7, [ADD.id, PAIR.id, ECHO.id, FIXED.id], [
        req_entry(P, 0, u64(1)), req_entry(P + 8, 1, pair_cap(1)), req_entry(P, 2, b"", cbor("hi")),
        req_entry(P, 3, struct.pack("<I", 3), p_fix, variable=False), req_entry(P, 0, inline_id=NOP.id),
        req_entry(P, 0, b"\0", inline_id=FLAG.id), req_entry(P, 0, u64(2)), req_entry(P, 0, inline_id=NOP.id)])
    add("req.encode.table-one-over", "six closures with K=4: the fifth and sixth travel inline, the first reuses ref 0",
        ["VT-3", "VT-4", "VT-1"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 7, "slot_id": 0, "requests": mixed},
        ok({"image": img_mixed, "frames": []}))
    add("req.decode.table-one-over", "decode table refs and inline ids",
        ["VT-3", "VT-4"], "decode_request_batch", {"config": cfg(), "closures": CL, "image": img_mixed},
        ok({"seq": 7, "table": [ADD.id, PAIR.id, ECHO.id, FIXED.id],
            "requests": [dreq(r["property"], r["closure_id"], r["captured"], r["param"]) for r in mixed]}))
    ks = [req(i + 1, K[i].id, u64(i)) for i in range(4)]
    add("req.encode.table-exactly-full", "four distinct closures with K=4 fill the table, none inline",
        ["VT-1", "VT-3"], "encode_request_batch",
        {"config": cfg(), "closures": standard(*K), "seq": 1, "slot_id": 0, "requests": ks},
        ok({"image": batch(1, [k.id for k in K[:4]], [req_entry(i + 1, i, u64(i)) for i in range(4)]),
            "frames": []}))
    add("req.encode.table-k0", "K=0: every closure id travels inline",
        ["VT-1", "VT-3", "VT-4"], "encode_request_batch",
        {"config": cfg(table_k=0), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(P, ADD.id, u64(1))]},
        ok({"image": batch(1, [], [req_entry(P, 0, u64(1), inline_id=ADD.id)]), "frames": []}))
    k32 = [req(i + 1, K[i].id, u64(i)) for i in range(33)]
    add("req.encode.table-k32", "K=32 (the maximum): 32 table entries, the 33rd closure inline",
        ["VT-1", "LIM-1"], "encode_request_batch",
        {"config": cfg(slot_size=2048, table_k=32), "closures": standard(*K), "seq": 1, "slot_id": 0, "requests": k32},
        ok({"image": batch(1, [k.id for k in K[:32]], [req_entry(i + 1, i, u64(i)) for i in range(32)]
                           + [req_entry(33, 0, u64(32), inline_id=K[32].id)]), "frames": []}))

    # --- filling the slot ([SLOT-4], [SLOT-10], [LIM-1])
    pairs = [req(P, PAIR.id, pair_cap(i)) for i in range(26)]
    img25 = batch(1, [PAIR.id], [req_entry(P, 0, pair_cap(i)) for i in range(25)])
    assert len(img25) == 1024
    add("req.encode.exactly-full", "25 requests of 32 captured bytes fill a 1024-byte slot to the byte (thesis 3.2.7)",
        ["SLOT-4", "SLOT-10", "SLOT-3"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": pairs[:25]},
        ok({"image": img25, "frames": []}))
    add("req.decode.exactly-full", "decode a batch that fills the slot exactly",
        ["SLOT-4", "SLOT-8"], "decode_request_batch", {"config": cfg(), "closures": CL, "image": img25},
        ok({"seq": 1, "table": [PAIR.id], "requests": [dreq(P, PAIR.id, pair_cap(i)) for i in range(25)]}))
    add("req.encode.one-over", "a 26th request does not fit: encoding exactly these requests fails",
        ["SLOT-4"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": pairs}, err("OVERSIZE"))
    add("req.pack.one-over", "packing 26 such requests gives batches of 25 and 1",
        ["SLOT-10"], "pack_requests", {"config": cfg(), "closures": CL, "requests": pairs},
        ok({"counts": [25, 1]}))
    nops = [req(1, NOP.id)] * 300
    add("req.pack.count-limit", "at most 255 requests per batch even when more would fit",
        ["SLOT-10", "LIM-1"], "pack_requests", {"config": cfg(slot_size=4096), "closures": CL, "requests": nops},
        ok({"counts": [255, 45]}))
    big = cbor(bytes(593))  # 596 bytes: entry 8 + 4 + 596 = 608
    order = [req(1, ECHO.id, b"", big), req(2, ECHO.id, b"", big), req(3, NOP.id)]
    add("req.pack.no-reorder", "a small request is not moved ahead of a big one to fill a slot",
        ["SLOT-10", "REQ-7"], "pack_requests", {"config": cfg(), "closures": CL, "requests": order},
        ok({"counts": [1, 2]}))
    add("req.encode.min-slot", "the smallest slot (64 bytes) carries three 8-byte entries",
        ["SLOT-3", "SLOT-4"], "encode_request_batch",
        {"config": cfg(slot_size=64), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(1, NOP.id)] * 5},
        ok({"image": batch(1, [NOP.id], [req_entry(1, 0)] * 5), "frames": []}))
    nop_max = [req(1, NOP.id)] * 255
    add("req.encode.count-255", "255 requests, the most a batch holds",
        ["LIM-1", "SLOT-6"], "encode_request_batch",
        {"config": cfg(slot_size=4096), "closures": CL, "seq": 0xFFFFFFFF, "slot_id": 0, "requests": nop_max},
        ok({"image": batch(0xFFFFFFFF, [NOP.id], [req_entry(1, 0)] * 255), "frames": []}))
    # -- [DEC-8]: encoder checks in order (arguments, seq, slot id, no requests, then each request)
    unknown = req(P, 0xDEAD_BEEF, b"")
    nop = req(1, NOP.id)
    top48 = req(1 << 48, NOP.id)

    def enc(seq: int, slot_id: int, requests: list[dict[str, Any]], config: dict[str, int] | None = None
            ) -> dict[str, Any]:
        return {"config": config or cfg(), "closures": CL, "seq": seq, "slot_id": slot_id, "requests": requests}

    add("req.encode.order-seq-first", "seq 0 is judged before an unregistered closure: BAD_ARGUMENT",
        ["DEC-8", "LAND-4"], "encode_request_batch", enc(0, 0, [unknown]), err("BAD_ARGUMENT"))
    add("req.encode.order-slot-first", "a slot id over 16 bits is judged before the requests",
        ["DEC-8", "SLOT-5"], "encode_request_batch", enc(1, 0x10000, [unknown]), err("BAD_ARGUMENT"))
    add("req.encode.no-requests", "a batch of no requests is BAD_ARGUMENT", ["DEC-8", "SLOT-6"],
        "encode_request_batch", enc(1, 0, []), err("BAD_ARGUMENT"))
    add("req.encode.order-unknown-then-bad", "requests are judged in order: an unknown closure before a bad pointer",
        ["DEC-8", "VT-5"], "encode_request_batch", enc(1, 0, [unknown, top48]), err("UNKNOWN_CLOSURE"))
    add("req.encode.order-bad-then-unknown", "requests are judged in order: a bad pointer before an unknown closure",
        ["DEC-8", "REQ-1"], "encode_request_batch", enc(1, 0, [top48, unknown]), err("BAD_ARGUMENT"))
    add("req.encode.order-256th-oversize", "the 256th request does not fit before a later bad one is seen",
        ["DEC-8", "LIM-1", "SLOT-4"], "encode_request_batch", enc(1, 0, [nop] * 256 + [top48], cfg(slot_size=4096)),
        err("OVERSIZE"))
    add("req.encode.order-check-before-fit", "a bad 256th request is BAD_ARGUMENT: checks come before the fit",
        ["DEC-8"], "encode_request_batch", enc(1, 0, [nop] * 255 + [top48], cfg(slot_size=4096)), err("BAD_ARGUMENT"))
    add("req.encode.param-not-cbor", "a parameter that is not one well-formed CBOR item is not sent",
        ["DEC-8", "SER-1"], "encode_request_batch", enc(1, 0, [req(P, ECHO.id, b"", b"\xff")]), err("BAD_ARGUMENT"))
    add("req.encode.param-trailing", "a parameter with bytes after its item is not sent",
        ["DEC-8", "SER-1"], "encode_request_batch", enc(1, 0, [req(P, ECHO.id, b"", b"\x01\x01")]),
        err("BAD_ARGUMENT"))
    add("req.encode.fallback-over-limit", "a fallback payload over the fallback limit is OVERSIZE on the sender",
        ["DEC-8", "FB-2"], "encode_request_batch",
        enc(1, 0, [req(P, ECHO.id, b"", cbor(bytes(986)))], cfg(fallback_limit=500)), err("OVERSIZE"))
    given = [{"name": "t:given-id", "id": 12345, "capture": "", "result": "", "param": None}]
    add("req.encode.id-as-given", "the closure id is the one given, not recomputed from the name",
        ["ADPT-20", "ADPT-5"], "encode_request_batch",
        {"config": cfg(), "closures": given, "seq": 1, "slot_id": 0, "requests": [req(P, 12345)]},
        ok({"image": batch(1, [12345], [req_entry(P, 0)]), "frames": []}))
    img_ok = batch(1, [ADD.id], [req_entry(P, 0, u64(7))])
    extras: list[tuple[str, str, dict[str, Any]]] = [
        ("req.decode.expected-seq-zero", "expected_seq 0", {"expected_seq": 0}),
        ("req.decode.imm-seq16-over", "imm_seq16 above 16 bits", {"imm_seq16": 0x10000}),
        ("req.decode.config-slot-size", "a slot size that is not a multiple of 64", {"config": cfg(slot_size=100)}),
        ("req.decode.config-k", "table_k 33", {"config": cfg(table_k=33)}),
        ("req.decode.config-limit", "a fallback limit above 32 bits", {"config": cfg(fallback_limit=1 << 32)}),
    ]
    for cid, title, extra in extras:
        add(cid, f"{title} is an argument out of range: BAD_ARGUMENT", ["ADPT-19", "DEC-8"], "decode_request_batch",
            {"config": cfg(), "closures": CL, "image": img_ok, **extra}, err("BAD_ARGUMENT"))
    return out
