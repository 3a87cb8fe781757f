"""Response batches ([RSP-1] .. [RSP-6], [ERR-2], [ERR-3])."""

from __future__ import annotations

import struct

from ..model import Case, err, ok
from ._wire import HDR, case, cbor, cfg, code, dresp, error_response, frame, pad8, rsp_batch, rsp_batch_raw, rsp_entry


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict, expect: dict) -> None:  # type: ignore[type-arg]
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "response")))

    r8 = struct.pack("<Q", 42)
    img = rsp_batch(3, [rsp_entry(0, r8), rsp_entry(0, b"", cbor([1, "x"])),
                        rsp_entry(code("BAD_PROPERTY"), b"", cbor("no"))])
    resps = [{"status": 0, "result": r8, "body": None}, {"status": 0, "result": b"", "body": cbor([1, "x"])},
             {"status": code("BAD_PROPERTY"), "result": b"", "body": cbor("no")}]
    add("rsp.encode.mixed", "fixed result, CBOR result and an error entry, in request order",
        ["RSP-2", "RSP-3", "GEN-1", "GEN-2", "ERR-2"], "encode_response_batch",
        {"config": cfg(), "seq": 3, "slot_id": 0, "responses": resps}, ok({"image": img, "frames": []}))
    add("rsp.decode.mixed", "decode fixed, CBOR and error entries",
        ["RSP-2", "RSP-3", "ADPT-7"], "decode_response_batch",
        {"config": cfg(), "results": ["u64", "cbor", "u64"], "image": img, "expected_seq": 3, "imm_seq16": 3},
        ok({"seq": 3, "status": 0, "detail": "", "responses": [
            dresp(0, r8), dresp(0, b"", cbor([1, "x"])), dresp(code("BAD_PROPERTY"), b"", cbor("no"))]}))
    # [RSP-4]: entry 0 takes 896 bytes; entry 1 (112) would end exactly at S, leaving no room for
    # entry 2 even as a stub (16 + 896 + 112 + 8 > 1024), so entry 1 becomes a stub; entry 2 fits inline.
    b0, b1 = cbor(bytes(885)), cbor(bytes(102))  # 888 and 104 bytes of CBOR
    rs = [{"status": 0, "result": b"", "body": b0}, {"status": 0, "result": b"", "body": b1},
          {"status": 0, "result": r8, "body": None}]
    img4 = rsp_batch(9, [rsp_entry(0, b"", b0), rsp_entry(1, n=len(b1)), rsp_entry(0, r8)])
    add("rsp.encode.fallback-placement",
        "8 bytes are reserved per later entry: an entry that would leave no room becomes a stub",
        ["RSP-4", "FB-3"], "encode_response_batch", {"config": cfg(), "seq": 9, "slot_id": 2, "responses": rs},
        ok({"image": img4, "frames": [frame(2, 2, 9, 1, b1)]}))
    add("rsp.decode.fallback-stub", "a FALLBACK entry carries the payload length and no body",
        ["RSP-4"], "decode_response_batch", {"config": cfg(), "results": ["cbor", "cbor", "u64"], "image": img4},
        ok({"seq": 9, "status": 0, "detail": "", "responses": [
            dresp(0, b"", b0), dresp(1, fallback_len=len(b1)), dresp(0, r8)]}))
    full = cbor(bytes(995))  # 998 bytes: entry align8(8 + 998) = 1008 = 1024 - 16
    add("rsp.encode.exactly-full", "a response entry that fills the slot exactly stays inline",
        ["RSP-4"], "encode_response_batch",
        {"config": cfg(), "seq": 1, "slot_id": 0, "responses": [{"status": 0, "result": b"", "body": full}]},
        ok({"image": rsp_batch(1, [rsp_entry(0, b"", full)]), "frames": []}))
    over = cbor(bytes(998))  # 1001 bytes: entry 1016 > 1008
    add("rsp.encode.one-over", "one byte more and the entry travels as a fallback frame",
        ["RSP-4", "FB-3"], "encode_response_batch",
        {"config": cfg(), "seq": 1, "slot_id": 0, "responses": [{"status": 0, "result": b"", "body": over}]},
        ok({"image": rsp_batch(1, [rsp_entry(1, n=len(over))]), "frames": [frame(2, 0, 1, 0, over)]}))
    err_img = error_response(4, code("TORN"), "trailer differs")
    add("rsp.encode.batch-error", "a rejected batch is answered with count 0, the code, and a CBOR detail",
        ["RSP-5", "ERR-2"], "encode_error_response",
        {"config": cfg(), "seq": 4, "code": "TORN", "detail": "trailer differs"}, ok({"image": err_img}))
    add("rsp.decode.batch-error", "decode an error response: status and detail",
        ["RSP-5", "ERR-3"], "decode_response_batch",
        {"config": cfg(), "results": ["u64", "u64"], "image": err_img, "expected_seq": 4},
        ok({"seq": 4, "status": code("TORN"), "responses": [], "detail": "trailer differs"}))
    add("rsp.decode.stale", "a response whose seq is not the unanswered batch's",
        ["RSP-6", "RSP-1"], "decode_response_batch",
        {"config": cfg(), "results": ["u64", "cbor", "u64"], "image": img, "expected_seq": 4},
        err("STALE_SEQUENCE"))
    add("rsp.decode.count-mismatch", "a response with fewer entries than the batch had requests",
        ["RSP-6", "RSP-2"], "decode_response_batch",
        {"config": cfg(), "results": ["u64", "cbor", "u64", "u64"], "image": img}, err("BAD_HEADER"))
    torn = img[:-8] + HDR.pack(3, len(img) // 8, 2, 0)
    add("rsp.decode.torn", "a response whose trailer differs", ["RSP-6", "SLOT-7"], "decode_response_batch",
        {"config": cfg(), "results": ["u64", "cbor", "u64"], "image": torn}, err("TORN"))
    add("rsp.decode.fixed-with-n", "a fixed result that claims a body length", ["RSP-3"],
        "decode_response_batch",
        {"config": cfg(), "results": ["u64"], "image": rsp_batch(1, [rsp_entry(0, r8, n=8)])}, err("BAD_HEADER"))
    add("rsp.encode.count-zero", "an accepted batch is answered with at least one entry", ["RSP-2", "DEC-8"],
        "encode_response_batch", {"config": cfg(), "seq": 1, "slot_id": 0, "responses": []}, err("BAD_ARGUMENT"))
    one = [{"status": 0, "result": r8, "body": None}]
    add("rsp.encode.seq-zero", "a response batch with seq 0 fails locally", ["DEC-8", "LAND-4"],
        "encode_response_batch", {"config": cfg(), "seq": 0, "slot_id": 0, "responses": one}, err("BAD_ARGUMENT"))
    add("rsp.encode.slot-id-17-bit", "a response slot id above 16 bits fails locally", ["DEC-8", "SLOT-5"],
        "encode_response_batch", {"config": cfg(), "seq": 1, "slot_id": 0x10000, "responses": one},
        err("BAD_ARGUMENT"))
    add("rsp.encode.fallback-status", "FALLBACK is not a status a caller may ask for", ["DEC-8", "RSP-4"],
        "encode_response_batch",
        {"config": cfg(), "seq": 1, "slot_id": 0, "responses": [{"status": 1, "result": b"", "body": None}]},
        err("BAD_ARGUMENT"))
    add("rsp.encode.error-not-batch-code", "an error response needs a batch code", ["DEC-8", "RSP-5"],
        "encode_error_response", {"config": cfg(), "seq": 1, "code": "BAD_PROPERTY", "detail": "x"},
        err("BAD_ARGUMENT"))
    add("rsp.encode.error-seq-zero", "an error response carries the rejected header's seq, even 0", ["DEC-8", "RSP-5"],
        "encode_error_response", {"config": cfg(), "seq": 0, "code": "STALE_SEQUENCE", "detail": "seq 0"},
        ok({"image": error_response(0, code("STALE_SEQUENCE"), "seq 0")}))
    no_detail = rsp_batch_raw(6, 0, code("TORN"), bytes(8))
    add("rsp.decode.error-no-detail", "an error response with n = 0 decodes, detail empty", ["RSP-5", "ERR-3", "DEC-2"],
        "decode_response_batch", {"config": cfg(), "results": ["u64"], "image": no_detail, "expected_seq": 6},
        ok({"seq": 6, "status": code("TORN"), "responses": [], "detail": ""}))
    odd = cbor([1, 2])
    odd_detail = rsp_batch_raw(6, 0, code("TORN"), pad8(struct.pack("<I", len(odd)) + odd))
    add("rsp.decode.error-detail-not-text", "a detail that is not a CBOR text never rejects the response",
        ["ERR-3", "DEC-2"], "decode_response_batch",
        {"config": cfg(), "results": ["u64"], "image": odd_detail, "expected_seq": 6},
        ok({"seq": 6, "status": code("TORN"), "responses": [], "detail": ""}))
    junk_entry = rsp_batch(2, [rsp_entry(code("CLOSURE_RAISED"), b"", b"\xff\xfe")])
    add("rsp.decode.entry-detail-junk", "an error entry's detail bytes are not checked", ["ERR-3", "DEC-2"],
        "decode_response_batch", {"config": cfg(), "results": ["u64"], "image": junk_entry},
        ok({"seq": 2, "status": 0, "detail": "", "responses": [dresp(code("CLOSURE_RAISED"), b"", b"\xff\xfe")]}))
    dropped = rsp_batch(2, [rsp_entry(code("CLOSURE_RAISED")), rsp_entry(code("NESTED_APPLY"), b"", cbor("nested"))])
    add("rsp.decode.nested-apply-entry", "NESTED_APPLY is an entry status; a dropped detail decodes as empty bytes",
        ["ERR-5", "ERR-4", "ADPT-7", "RSP-4"], "decode_response_batch",
        {"config": cfg(), "results": ["u64", "u64"], "image": dropped},
        ok({"seq": 2, "status": 0, "detail": "", "responses": [dresp(code("CLOSURE_RAISED"), b"", b""),
                                                               dresp(code("NESTED_APPLY"), b"", cbor("nested"))]}))
    add("rsp.decode.local-code-entry", "PEER_FAILED (local only) in an entry is BAD_HEADER", ["ERR-4", "DEC-2"],
        "decode_response_batch",
        {"config": cfg(), "results": ["u64"], "image": rsp_batch(2, [rsp_entry(code("PEER_FAILED"))])},
        err("BAD_HEADER"))
    add("rsp.decode.fallback-over-limit", "a FALLBACK entry over the fallback limit is OVERSIZE", ["DEC-2", "LIM-2"],
        "decode_response_batch",
        {"config": cfg(fallback_limit=4096), "results": ["cbor"], "image": rsp_batch(2, [rsp_entry(1, n=4097)])},
        err("OVERSIZE"))
    add("rsp.decode.fallback-at-limit", "a FALLBACK entry at the fallback limit waits for its frame",
        ["DEC-2", "LIM-2"], "decode_response_batch",
        {"config": cfg(fallback_limit=4096), "results": ["cbor"], "image": rsp_batch(2, [rsp_entry(1, n=4096)])},
        ok({"seq": 2, "status": 0, "detail": "", "responses": [dresp(1, fallback_len=4096)]}))
    # -- [RSP-8] entry bytes, [DEC-8] encoder arguments, [ADPT-7] the detail argument, [ERR-3] texts
    add("rsp.encode.error-with-result", "an error entry given result bytes is BAD_ARGUMENT, not encoded",
        ["RSP-8", "DEC-8"], "encode_response_batch",
        {"config": cfg(), "seq": 1, "slot_id": 0, "responses": [{"status": code("BAD_PROPERTY"), "result": b"ab",
                                                                   "body": None}]}, err("BAD_ARGUMENT"))
    big = cbor(bytes(998))  # 1001 bytes: must travel as a frame ([RSP-4]), but the limit is 500
    add("rsp.encode.fallback-over-limit", "an OK entry whose fallback payload exceeds the limit is placed as OVERSIZE",
        ["RSP-8", "DEC-8", "FB-2"], "encode_response_batch",
        {"config": cfg(fallback_limit=500), "seq": 1, "slot_id": 0,
         "responses": [{"status": 0, "result": b"", "body": big}, {"status": 0, "result": r8, "body": None}]},
        ok({"image": rsp_batch(1, [rsp_entry(code("OVERSIZE")), rsp_entry(0, r8)]), "frames": []}))
    fixed_big = bytes(range(256)) * 4  # a fixed result of 1024 bytes cannot be inline in S = 1024
    add("rsp.encode.fallback-fixed-result", "a FALLBACK entry's n and frame payload are the fixed result bytes",
        ["RSP-8", "RSP-4"], "encode_response_batch",
        {"config": cfg(), "seq": 5, "slot_id": 3, "responses": [{"status": 0, "result": fixed_big, "body": None}]},
        ok({"image": rsp_batch(5, [rsp_entry(1, n=1024)]), "frames": [frame(2, 3, 5, 0, fixed_big)]}))
    no_detail = rsp_batch_raw(7, 0, code("TORN"), bytes(8))  # u32 n = 0, padded
    add("rsp.encode.error-no-detail", "encode_error_response without a detail writes n = 0",
        ["ADPT-7", "RSP-5"], "encode_error_response", {"config": cfg(), "seq": 7, "code": "TORN"},
        ok({"image": no_detail}))
    add("rsp.encode.error-null-detail", "a null detail is absent: n = 0",
        ["ADPT-7", "ADPT-2", "RSP-5"], "encode_error_response",
        {"config": cfg(), "seq": 7, "code": "TORN", "detail": None}, ok({"image": no_detail}))
    add("rsp.encode.error-bytes-detail", "a detail given as bytes is BAD_ARGUMENT (it is a text)",
        ["ADPT-7", "ADPT-19"], "encode_error_response",
        {"config": cfg(), "seq": 7, "code": "TORN", "detail": b"ab"}, err("BAD_ARGUMENT"))
    for cid, title, d, text in [
        ("rsp.decode.detail-tagged-text", "a tagged text is not a text string: the empty detail",
         b"\xc1\x63abc", ""),
        ("rsp.decode.detail-indefinite-text", "an indefinite text's chunks are concatenated",
         b"\x7f\x61a\x62bc\xff", "abc"),
    ]:
        add(cid, title, ["ERR-3"], "decode_response_batch",
            {"config": cfg(), "results": ["u64"],
             "image": rsp_batch_raw(3, 0, code("TORN"), pad8(struct.pack("<I", len(d)) + d))},
            ok({"seq": 3, "status": code("TORN"), "responses": [], "detail": text}))
    add("rsp.decode.expected-seq-zero", "expected_seq 0 is an argument out of range", ["ADPT-19"],
        "decode_response_batch",
        {"config": cfg(), "results": ["u64"], "image": rsp_batch(1, [rsp_entry(0, r8)]), "expected_seq": 0},
        err("BAD_ARGUMENT"))
    return out
