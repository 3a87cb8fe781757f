"""Request images and request encoders at their edges ([DEC-1], [DEC-8], [FB-1], [FB-2], [SLOT-10]).

Decoding: an inline closure id, a stub's tail or a variable parameter's length that would be read
from the trailer is `TRUNCATED` (not the closure the trailer's bytes happen to name, nor the stub
the trailer's bytes would make);
a header that counts more entries than its area holds is `TRUNCATED` at the first missing entry,
however the decoder batches its reads; a run of table entries with padded capture (`bool`, 1 byte
in a 16-byte entry) decodes entry by entry. Encoding ([DEC-8] step 5, in its order): captured data
of the wrong size is `BAD_ARGUMENT` even when the request is also too big for its fallback limit; a
fallback payload of exactly `F` bytes travels (a variable parameter, or a fixed capture and no
parameter: an absent parameter adds no byte); `pack_requests` rejects a malformed request as
`encode_request_batch` does, and packs no requests into no batches.
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, ECHO, FLAG, NOP, Desc, standard
from ..model import Case, err, ok
from ._wire import HDR, INLINE, U64, batch, case, cfg, frame, req, req_entry, stub, word

P = 0x0000_1234_5678_9AB0  # an opaque 48-bit property pointer
CAP100 = Desc("conformance-test:capture-100", "bytes100")  # 100 captured bytes, no parameter, no result
CAP5P = Desc("conformance-test:capture-5-cbor", "bytes5", "", "cbor")  # 5 captured bytes and a variable parameter


def _decoded(prop: int, cid: int, captured: bytes = b"", param: bytes | None = None,
             fallback_len: int | None = None) -> dict[str, Any]:
    return {"property": prop, "closure_id": cid, "captured": captured, "param": param, "fallback_len": fallback_len}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Any) -> None:
        out.append(case(f"req_bounds.{cid}", title, clauses, op, args, expect, tags=("codec", "request")))

    def dec(cid: str, title: str, image: bytes, expect: Any, config: dict[str, int] | None = None) -> None:
        add(cid, title, ["DEC-1", "SLOT-8"], "decode_request_batch",
            {"config": config or cfg(), "closures": standard(CAP100, CAP5P), "image": image}, expect)

    # the word names INLINE, and the next 8 bytes are the trailer
    only_word = word(P, INLINE)
    dec("inline-id-at-trailer", "an inline entry whose closure id would be the trailer: TRUNCATED",
        HDR.pack(3, 3, 1, 0) + only_word + HDR.pack(3, 3, 1, 0), err("TRUNCATED"))
    dec("stub-tail-at-trailer", "a stub whose payload_len word would be the trailer: TRUNCATED",
        HDR.pack(3, 4, 1, 1) + U64.pack(ECHO.id) + word(P, 0, 0x01) + HDR.pack(3, 4, 1, 1), err("TRUNCATED"))
    nop = req_entry(P, 0)
    dec("count-past-area", "count 9 over a table of NOP and three 8-byte entries: TRUNCATED at entry 3",
        batch(3, [NOP.id], [nop] * 3, count=9), err("TRUNCATED"))
    dec("count-past-area-2", "count 4 over three 8-byte entries: TRUNCATED", batch(3, [NOP.id], [nop] * 3, count=4),
        err("TRUNCATED"))
    flags = [b"\x01", b"\x00", b"\x01"]
    dec("padded-run", "three table entries of a 1-byte capture (16 bytes each, 7 of padding) decode",
        batch(3, [FLAG.id], [req_entry(P + i, 0, f) for i, f in enumerate(flags)]),
        ok({"seq": 3, "table": [FLAG.id], "requests": [_decoded(P + i, FLAG.id, f) for i, f in enumerate(flags)]}))
    dec("padded-run-2", "two table entries of a 1-byte capture decode",
        batch(3, [FLAG.id], [req_entry(P, 0, b"\x00"), req_entry(P, 0, b"\x01")]),
        ok({"seq": 3, "table": [FLAG.id], "requests": [_decoded(P, FLAG.id, b"\x00"), _decoded(P, FLAG.id, b"\x01")]}))

    small = cfg(slot_size=64, fallback_limit=100)
    param200 = b"\x58\xc6" + bytes(198)  # one CBOR byte string of 200 bytes
    add("encode-capture-size-before-oversize",
        "one captured byte for an empty capture, with a 200-byte parameter beyond F = 100: BAD_ARGUMENT "
        "([DEC-8] step 5: the captured size is checked before the fallback payload)",
        ["DEC-8", "REQ-3"], "encode_request_batch",
        {"config": small, "closures": standard(), "seq": 1, "slot_id": 0,
         "requests": [req(P, ECHO.id, b"x", param200)]}, err("BAD_ARGUMENT"))
    add("encode-slot-before-requests", "slot id -1 and an unregistered closure: BAD_ARGUMENT ([DEC-8] step 3 "
        "before step 5's UNKNOWN_CLOSURE)", ["DEC-8", "SLOT-5"], "encode_request_batch",
        {"config": cfg(), "closures": standard(), "seq": 1, "slot_id": -1, "requests": [req(P, 0x1234)]},
        err("BAD_ARGUMENT"))
    # a capture of 5 bytes ends 3 bytes before the trailer: the parameter's u32 length does not fit
    cid5 = CAP5P.id
    img5 = HDR.pack(1, 5, 1, 1) + U64.pack(cid5) + word(P, 0) + b"\x01\x02\x03\x04\x05" + bytes(3)
    dec("param-length-at-trailer", "a variable parameter's u32 length that would run 1 byte into the trailer: "
        "TRUNCATED", img5 + HDR.pack(1, 5, 1, 1), err("TRUNCATED"))
    add("pack-capture-size", "pack_requests given captured data of 3 bytes for an 8-byte capture: BAD_ARGUMENT",
        ["DEC-8", "REQ-3", "ADPT-6"], "pack_requests",
        {"config": cfg(), "closures": standard(), "requests": [req(P, NOP.id), req(P, ADD.id, b"abc")]},
        err("BAD_ARGUMENT"))
    add("pack-none", "pack_requests of no requests: no batches", ["SLOT-10", "ADPT-6"], "pack_requests",
        {"config": cfg(), "closures": standard(), "requests": []}, ok({"counts": []}))
    param_f = b"\x58\x62" + bytes(98)  # one CBOR byte string of 100 bytes: payload 0 + 100 = F
    add("encode-fallback-param-at-limit", "a fallback payload of exactly F bytes (a variable parameter) travels",
        ["FB-1", "FB-2", "DEC-8"], "encode_request_batch",
        {"config": small, "closures": standard(), "seq": 5, "slot_id": 3, "requests": [req(P, ECHO.id, b"", param_f)]},
        ok({"image": batch(5, [ECHO.id], [stub(P, 0, 100)]), "frames": [frame(1, 3, 5, 0, param_f)]}))
    cap = bytes(range(100))
    add("encode-fallback-capture-at-limit",
        "a fallback payload of exactly F bytes (a fixed capture, no parameter) travels",
        ["FB-1", "FB-2", "DEC-8"], "encode_request_batch",
        {"config": small, "closures": standard(CAP100), "seq": 5, "slot_id": 3, "requests": [req(P, CAP100.id, cap)]},
        ok({"image": batch(5, [CAP100.id], [stub(P, 0, 100)]), "frames": [frame(1, 3, 5, 0, cap)]}))
    add("encode-fallback-capture-past-limit",
        "the same with F = 99: OVERSIZE", ["FB-2", "DEC-8"], "encode_request_batch",
        {"config": cfg(slot_size=64, fallback_limit=99), "closures": standard(CAP100), "seq": 5, "slot_id": 3,
         "requests": [req(P, CAP100.id, cap)]}, err("OVERSIZE"))
    add("encode-property-negative", "a property pointer of -1: BAD_ARGUMENT ([REQ-1]: a 48-bit value)",
        ["DEC-8", "REQ-1"], "encode_request_batch",
        {"config": cfg(), "closures": standard(), "seq": 1, "slot_id": 0, "requests": [req(-1, NOP.id)]},
        err("BAD_ARGUMENT"))
    add("attach-shorter-than-capture", "a payload of 3 bytes for a 5-byte capture and a variable parameter: BAD_FRAME",
        ["FB-2", "DEC-4"], "attach_payload",
        {"closures": standard(CAP5P), "closure_id": CAP5P.id, "fallback_len": 3, "payload": b"abc"}, err("BAD_FRAME"))
    add("attach-capture-only", "a payload of exactly the 5-byte capture: an empty variable parameter",
        ["FB-2", "DEC-4"], "attach_payload",
        {"closures": standard(CAP5P), "closure_id": CAP5P.id, "fallback_len": 5, "payload": b"abcde"},
        ok({"captured": b"abcde", "param": b""}))
    return out
