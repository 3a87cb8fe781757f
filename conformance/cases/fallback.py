"""TCP fallback: the threshold, stubs, frames ([FB-1] .. [FB-7])."""

from __future__ import annotations

import struct

from ..closures import ADD, ECHO, FIXED
from ..model import Case, err, ok
from ._wire import MAGIC, batch, case, cbor, cfg, dreq, frame, req, req_entry, stub
from .requests import CL, P, u64


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict, expect: dict) -> None:  # type: ignore[type-arg]
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "fallback")))

    at = cbor(bytes(985))  # 988 bytes: 24 + align8(8 + 4 + 988) = 1024 = S, inline
    over = cbor(bytes(986))  # 989 bytes: 24 + align8(1001) = 1032 > S, fallback
    img_at = batch(1, [ECHO.id], [req_entry(P, 0, b"", at)])
    assert len(img_at) == 1024
    add("fb.threshold-at", "a request that exactly fills a batch of its own stays inline",
        ["FB-1", "SLOT-4"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 0, "requests": [req(P, ECHO.id, b"", at)]},
        ok({"image": img_at, "frames": []}))
    img_over = batch(1, [ECHO.id], [stub(P, 0, len(over))])
    add("fb.threshold-over", "one byte more and it is a 16-byte stub plus a request frame",
        ["FB-1", "FB-2", "FB-3"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 1, "slot_id": 7, "requests": [req(P, ECHO.id, b"", over)]},
        ok({"image": img_over, "frames": [frame(1, 7, 1, 0, over)]}))
    add("fb.decode-stub", "a decoded stub carries payload_len and no captured data until its frame arrives",
        ["FB-2", "FB-5"], "decode_request_batch", {"config": cfg(), "closures": CL, "image": img_over},
        ok({"seq": 1, "table": [ECHO.id], "requests": [dreq(P, ECHO.id, b"", None, len(over))]}))
    mixed = [req(1, ADD.id, u64(1)), req(2, ECHO.id, b"", over), req(3, ADD.id, u64(3)),
             req(4, ECHO.id, b"", over + b"")]
    img_mixed = batch(2, [ADD.id, ECHO.id], [req_entry(1, 0, u64(1)), stub(2, 1, len(over)),
                                              req_entry(3, 0, u64(3)), stub(4, 1, len(over))])
    add("fb.stub-keeps-place", "stubs stay at their request's place; frames come in entry order",
        ["FB-4", "FB-5", "REQ-7", "SLOT-10"], "encode_request_batch",
        {"config": cfg(), "closures": CL, "seq": 2, "slot_id": 1, "requests": mixed},
        ok({"image": img_mixed, "frames": [frame(1, 1, 2, 1, over), frame(1, 1, 2, 3, over)]}))
    # fixed parameters: payload = C + M ([FB-2])
    fixed_args = {"closures": CL, "closure_id": FIXED.id}
    add("fb.attach-fixed", "a fixed-parameter payload is split into capture and parameter",
        ["FB-2", "DEC-4"], "attach_payload",
        {**fixed_args, "fallback_len": 9, "payload": b"\1\0\0\0" + cbor(0x01020304)},
        ok({"captured": b"\1\0\0\0", "param": cbor(0x01020304)}))
    add("fb.attach-fixed-mismatch", "payload_len must equal C + M for a fixed parameter",
        ["FB-2", "FB-6", "DEC-4"], "attach_payload", {**fixed_args, "fallback_len": 8, "payload": b"\1\0\0\0\0\0\0\0"},
        err("BAD_FRAME"))
    add("fb.attach-length-mismatch", "a frame whose payload differs from its stub's payload_len",
        ["FB-6", "DEC-4"], "attach_payload",
        {"closures": CL, "closure_id": ECHO.id, "fallback_len": 10, "payload": cbor(1)}, err("BAD_FRAME"))
    add("fb.attach-shorter-than-capture", "a payload shorter than the capture", ["DEC-4", "FB-2"], "attach_payload",
        {"closures": CL, "closure_id": ADD.id, "fallback_len": 7, "payload": bytes(7)}, err("BAD_FRAME"))
    add("fb.attach-no-param-longer", "a closure with no parameter: the payload is exactly the capture",
        ["DEC-4", "FB-2"], "attach_payload",
        {"closures": CL, "closure_id": ADD.id, "fallback_len": 9, "payload": bytes(9)}, err("BAD_FRAME"))
    add("fb.attach-no-param", "a closure with no parameter: the payload is its capture, param null",
        ["DEC-4", "FB-2"], "attach_payload",
        {"closures": CL, "closure_id": ADD.id, "fallback_len": 8, "payload": u64(5)},
        ok({"captured": u64(5), "param": None}))
    add("fb.attach-variable-empty", "a variable parameter of 0 bytes attaches (its CBOR is judged when it runs)",
        ["DEC-4", "FB-2"], "attach_payload",
        {"closures": CL, "closure_id": ECHO.id, "fallback_len": 0, "payload": b""}, ok({"captured": b"", "param": b""}))
    # frames ([FB-3], [FB-6], [FB-7])
    f1 = frame(1, 3, 0x01020304, 5, b"payload")
    add("fb.frame-encode", "the 20-byte frame header, little-endian, then the payload",
        ["FB-3", "GEN-1"], "encode_frame",
        {"kind": 1, "slot_id": 3, "seq": 0x01020304, "index": 5, "payload": b"payload"}, ok({"frame": f1}))
    f2 = frame(2, 9, 7, 0, b"")
    dec = {"kind": 1, "slot_id": 3, "seq": 0x01020304, "index": 5, "payload": b"payload"}
    add("fb.frames-stream", "two frames split across reads at awkward places",
        ["FB-3", "ADPT-8"], "decode_frames",
        {"limit": 1 << 20, "chunks": [f1[:3], f1[3:22], f1[22:] + f2[:19], f2[19:]]},
        ok({"frames": [dec, {"kind": 2, "slot_id": 9, "seq": 7, "index": 0, "payload": b""}], "buffered": 0}))
    add("fb.frame-partial", "an incomplete frame is buffered, not an error",
        ["FB-3"], "decode_frames", {"limit": 1 << 20, "data": f1[:-1]}, ok({"frames": [], "buffered": len(f1) - 1}))
    for cid, title, bad in [
        ("fb.frame-bad-magic", "a wrong magic", frame(1, 0, 1, 0, b"x", magic=MAGIC ^ 1)),
        ("fb.frame-bad-kind", "an unknown kind", frame(3, 0, 1, 0, b"x")),
        ("fb.frame-reserved", "nonzero reserved bytes", frame(1, 0, 1, 0, b"x", z2=1)),
    ]:
        add(cid, f"a frame with {title} breaks the stream", ["FB-6"], "decode_frames",
            {"limit": 1 << 20, "data": f1 + bad}, err("BAD_FRAME"))
    add("fb.frame-over-limit", "a payload length above the fallback limit", ["FB-6", "LIM-2"], "decode_frames",
        {"limit": 1000, "data": frame(1, 0, 1, 0, b"", length=1001)}, err("OVERSIZE"))
    add("fb.frame-over-limit-chunked", "the header is judged when its 20th byte arrives, payload or not",
        ["DEC-3", "FB-6"], "decode_frames",
        {"limit": 1000, "chunks": [f1, frame(1, 0, 1, 0, b"", length=1001)[:11],
                                   frame(1, 0, 1, 0, b"", length=1001)[11:]]}, err("OVERSIZE"))
    add("fb.frame-bad-after-good-chunked", "a good frame, then a bad magic split over two reads: BAD_FRAME",
        ["DEC-3", "FB-6"], "decode_frames",
        {"limit": 1 << 20, "chunks": [f1 + b"XX", b"XX" + f2[4:]]}, err("BAD_FRAME"))
    add("fb.frame-at-limit-incomplete", "a header at the limit with its payload still missing is buffered",
        ["DEC-3", "FB-3"], "decode_frames",
        {"limit": 1000, "chunks": [frame(1, 0, 1, 0, b"", length=1000), bytes(10)]},
        ok({"frames": [], "buffered": 30}))
    add("fb.frame-encode-kind", "encoding a frame of kind 3 fails locally", ["DEC-8", "FB-3"], "encode_frame",
        {"kind": 3, "slot_id": 0, "seq": 1, "index": 0, "payload": b""}, err("BAD_ARGUMENT"))
    add("fb.frame-header-big-endian", "a frame header written big-endian is not a frame",
        ["FB-3", "GEN-1"], "decode_frames",
        {"limit": 1 << 20, "data": struct.pack(">IBBHIHHI", MAGIC, 1, 0, 0, 1, 0, 0, 1) + b"x"}, err("BAD_FRAME"))
    return out
