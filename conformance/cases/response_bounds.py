"""A response image whose entries do not fill it exactly ([DEC-2] steps 5.1 and 6, [SLOT-8]).

Each image is built from SPEC.md's tables (`_wire.py`). A header counting two entries over an area
that holds one fails at step 5.1 (`TRUNCATED`), before any byte of the trailer is read as an entry
(its seq 0x0105 would read as a nonzero reserved byte, `BAD_HEADER`, if it were); an area longer
than its entries fails at step 6 (`BAD_HEADER`). An entry whose body runs past the trailer fails
at step 5.7 (`TRUNCATED`), whether it is a `cbor` result or an error detail. The encoders: a
response batch of more entries than fit the slot even as 8-byte stubs, a `FALLBACK` payload at and
one byte past the fallback limit `F` ([RSP-8]), seq and slot id out of range ([DEC-8]), and an
empty text detail, which is a detail (n = 1), not an absent one.
"""

from __future__ import annotations

from typing import Any

from ..model import Case, err, ok
from ._wire import U32, cfg, code, frame, pad8, rsp_batch_raw, rsp_entry
from ._wire import case as mk

SEQ = 0x0105  # byte 1 nonzero: read as an entry, this trailer has a nonzero reserved byte


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], results: list[str], image: bytes, expect: Any) -> None:
        out.append(mk(f"rsp_bounds.{cid}", title, clauses, "decode_response_batch",
                      {"config": cfg(), "results": results, "image": image}, expect,
                      tags=("codec", "response")))

    one = rsp_entry(0)
    add("count-past-area", "count 2 over an area of one 8-byte entry: entry 1 starts at the trailer, TRUNCATED",
        ["DEC-2", "SLOT-8"], ["", ""], rsp_batch_raw(SEQ, 2, 0, one), err("TRUNCATED"))
    add("count-past-area-3", "count 3 over an area of two entries: TRUNCATED", ["DEC-2", "SLOT-8"],
        ["", "", ""], rsp_batch_raw(SEQ, 3, 0, one + one), err("TRUNCATED"))
    add("area-past-entries", "one 8-byte entry in a 24-byte area: 16 bytes left, BAD_HEADER", ["DEC-2", "SLOT-8"],
        [""], rsp_batch_raw(SEQ, 1, 0, one + bytes(16)), err("BAD_HEADER"))
    add("area-past-entries-8", "two 8-byte entries in a 24-byte area: 8 bytes left, BAD_HEADER",
        ["DEC-2", "SLOT-8"], ["", ""], rsp_batch_raw(SEQ, 2, 0, one + one + bytes(8)), err("BAD_HEADER"))
    add("area-exact", "two 8-byte entries in a 16-byte area decode", ["DEC-2", "SLOT-8"], ["", ""],
        rsp_batch_raw(SEQ, 2, 0, one + one),
        ok({"seq": SEQ, "status": 0, "detail": "",
            "responses": [{"status": 0, "result": b"", "body": None, "fallback_len": None}] * 2}))
    add("cbor-body-past-trailer", "a cbor result of n = 100 with 8 bytes before the trailer: TRUNCATED",
        ["DEC-2", "SLOT-8"], ["cbor"], rsp_batch_raw(SEQ, 1, 0, rsp_entry(0, n=100) + bytes(8)), err("TRUNCATED"))
    add("detail-past-trailer", "an error entry whose detail of n = 9 has 8 bytes before the trailer: TRUNCATED",
        ["DEC-2", "SLOT-8"], ["u64"],
        rsp_batch_raw(SEQ, 1, 0, rsp_entry(code("BAD_PROPERTY"), n=9) + bytes(8)), err("TRUNCATED"))
    return out + encode_cases()


def encode_cases() -> list[Case]:
    """The response encoders at the edges of their arguments ([DEC-8], [RSP-2], [RSP-4], [RSP-5], [RSP-8])."""
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Any) -> None:
        out.append(mk(f"rsp_bounds.encode.{cid}", title, clauses, op, args, expect, tags=("codec", "response")))

    nop = {"status": 0, "result": b"", "body": None}
    s128 = cfg(slot_size=128)
    # 16 + 8 * 14 = 128: fourteen 8-byte entries fill a 128-byte slot; a fifteenth cannot fit even as a stub
    add("count-fills-slot", "14 empty OK entries fill a 128-byte slot", ["RSP-4", "DEC-8"], "encode_response_batch",
        {"config": s128, "seq": 3, "slot_id": 1, "responses": [nop] * 14},
        ok({"image": rsp_batch_raw(3, 14, 0, rsp_entry(0) * 14), "frames": []}))
    add("count-past-slot", "15 entries cannot fit a 128-byte slot even as 8-byte stubs: BAD_ARGUMENT",
        ["RSP-4", "DEC-8"], "encode_response_batch",
        {"config": s128, "seq": 3, "slot_id": 1, "responses": [nop] * 15}, err("BAD_ARGUMENT"))
    # [RSP-8]: a FALLBACK payload of exactly F bytes travels; one byte more is OVERSIZE
    f = 100
    body_at = b"\x58\x62" + bytes(98)  # one CBOR byte string: 2 + 98 = 100 bytes
    body_past = b"\x58\x63" + bytes(99)  # 101 bytes
    small = cfg(slot_size=64, fallback_limit=f)
    add("fallback-at-limit", "a cbor result of F bytes too big for the slot becomes FALLBACK with its frame",
        ["RSP-8", "RSP-4", "FB-6"], "encode_response_batch",
        {"config": small, "seq": 9, "slot_id": 2, "responses": [{"status": 0, "result": b"", "body": body_at}]},
        ok({"image": rsp_batch_raw(9, 1, 0, rsp_entry(1, n=f)), "frames": [frame(2, 2, 9, 0, body_at)]}))
    add("fallback-past-limit", "a cbor result of F + 1 bytes too big for the slot is an OVERSIZE entry",
        ["RSP-8", "DEC-8"], "encode_response_batch",
        {"config": small, "seq": 9, "slot_id": 2, "responses": [{"status": 0, "result": b"", "body": body_past}]},
        ok({"image": rsp_batch_raw(9, 1, 0, rsp_entry(code("OVERSIZE"))), "frames": []}))
    # [DEC-8] argument ranges of the response encoders
    for cid, seq, slot in (("seq-u32-past", 1 << 32, 0), ("seq-0", 0, 0), ("slot-negative", 1, -1),
                           ("slot-past", 1, 0x10000)):
        add(cid, f"encode_response_batch with seq {seq} and slot id {slot}: BAD_ARGUMENT", ["DEC-8", "ADPT-19"],
            "encode_response_batch", {"config": cfg(), "seq": seq, "slot_id": slot, "responses": [nop]},
            err("BAD_ARGUMENT"))
    add("error-seq-negative", "encode_error_response with seq -1: BAD_ARGUMENT", ["DEC-8", "ADPT-19"],
        "encode_error_response", {"config": cfg(), "seq": -1, "code": "TORN", "detail": "x"}, err("BAD_ARGUMENT"))
    add("error-seq-u32-past", "encode_error_response with seq 2^32: BAD_ARGUMENT", ["DEC-8", "ADPT-19"],
        "encode_error_response", {"config": cfg(), "seq": 1 << 32, "code": "TORN", "detail": "x"},
        err("BAD_ARGUMENT"))
    add("error-empty-detail", "an empty text detail is the one-byte CBOR text \"\" (n = 1), not an absent one",
        ["RSP-5", "ADPT-7"], "encode_error_response", {"config": cfg(), "seq": 4, "code": "TORN", "detail": ""},
        ok({"image": rsp_batch_raw(4, 0, code("TORN"), pad8(U32.pack(1) + b"\x60"))}))
    # [ERR-4]: UNKNOWN_CLOSURE is a batch code (section 9), never an entry status, either way
    add("entry-unknown-closure", "a response entry with the batch code UNKNOWN_CLOSURE: BAD_ARGUMENT",
        ["ERR-4", "RSP-4", "DEC-8"], "encode_response_batch",
        {"config": cfg(), "seq": 2, "slot_id": 0, "responses": [{"status": code("UNKNOWN_CLOSURE"), "result": b"",
                                                                 "body": None}]}, err("BAD_ARGUMENT"))
    out.append(mk("rsp_bounds.entry-unknown-closure", "an entry whose status is the batch code UNKNOWN_CLOSURE: "
                  "BAD_HEADER", ["ERR-4", "DEC-2"], "decode_response_batch",
                  {"config": cfg(), "results": [""],
                   "image": rsp_batch_raw(2, 1, 0, rsp_entry(code("UNKNOWN_CLOSURE")))},
                  err("BAD_HEADER"), tags=("codec", "response")))
    return out
