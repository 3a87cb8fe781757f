"""TCP fallback: the threshold, stubs, frames ([FB-1] .. [FB-7])."""

from __future__ import annotations

import struct

from ..catalogue_closures import ADD, ECHO, FIXED
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
    # -- [ADPT-19]: arguments out of range
    add("fb.frames-data-and-chunks", "decode_frames given both data and chunks is BAD_ARGUMENT",
        ["ADPT-19", "ADPT-8"], "decode_frames", {"limit": 1 << 20, "data": f1, "chunks": [f1]}, err("BAD_ARGUMENT"))
    add("fb.frames-limit-over-u32", "a frame limit above 32 bits is BAD_ARGUMENT", ["ADPT-19"], "decode_frames",
        {"limit": 1 << 32, "data": f1}, err("BAD_ARGUMENT"))
    add("fb.frame-encode-index-over", "a frame index above 16 bits is BAD_ARGUMENT", ["ADPT-19", "DEC-8", "FB-3"],
        "encode_frame", {"kind": 1, "slot_id": 0, "seq": 1, "index": 0x10000, "payload": b""}, err("BAD_ARGUMENT"))
    add("fb.attach-unknown-closure", "attach_payload naming a closure it was not given is UNKNOWN_CLOSURE",
        ["ADPT-19", "ADPT-20"], "attach_payload",
        {"closures": CL, "closure_id": 0xDEAD_BEEF, "fallback_len": 8, "payload": bytes(8)}, err("UNKNOWN_CLOSURE"))
    out.extend(_kept_frames())
    return out


def _kept_frames() -> list[Case]:
    """[FB-10]: frames arrive before their batch lands; the first for a stub wins, the others are discarded."""
    from ..catalogue_closures import standard
    from ._execute_op import X, b, entry, execute_check
    from .trust_ids import A1

    big = cbor(bytes(986))
    other = cbor(b"\x01" * 986)
    frames = (frame(2, 0, 1, 0, other),  # kind 2 on a trustee: names nothing it waits for ([DEC-3])
              frame(1, 0, 9, 0, other),  # another seq of this slot
              frame(1, 0, 1, 0, big),  # the stub's frame: attached
              frame(1, 0, 1, 0, other))  # a second frame for the same stub: discarded
    args = {"config": cfg(), "closures": standard(), "properties": [{"pointer": X, "value": [10], "first": A1}],
            "batches": [b(1, [stub(X, 0, len(big)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id], frames=frames)],
            "_want": [{"results": ["cbor", "u64"], "entries": [entry("OK", b"", bytes(986)), entry("OK", u64(11))]}],
            "_live": None}
    kept = case("fb.kept-frame-first-wins",
                "frames sent before the batch are kept; the first for a stub is attached, the rest discarded",
                ["FB-10", "FB-7", "FB-5", "ADPT-10"], "execute", args, ok({"responses": "(checked by decoding)"}),
                tags=("trustee", "fallback"), check=execute_check)
    return [_per_stub_waits(), _response_frames_in_order(), kept]


def _per_stub_waits() -> Case:
    """[FB-11]: each stub has its own wait; both missing frames time out and the entries between run."""
    from ..catalogue_closures import standard
    from ._execute_op import X, b, entry, execute_check
    from .trust_ids import A1

    big = cbor(bytes(986))
    args = {"config": cfg(), "closures": standard(), "properties": [{"pointer": X, "value": [10], "first": A1}],
            "batches": [b(1, [stub(X, 0, len(big)), req_entry(X, 1, u64(1)), stub(X, 0, len(big)),
                              req_entry(X, 1, u64(2))], [ECHO.id, ADD.id])],
            "_want": [{"results": ["cbor", "u64", "cbor", "u64"],
                       "entries": [entry("FALLBACK_TIMEOUT"), entry("OK", u64(11)), entry("FALLBACK_TIMEOUT"),
                                   entry("OK", u64(13))]}], "_live": None}
    return case("fb.timeout-per-stub", "two stubs without frames each time out; the entries around them run in order",
                ["FB-11", "FB-5", "REQ-7"], "execute", args, ok({"responses": "(checked by decoding)"}),
                tags=("trustee", "fallback"), check=execute_check)


def _response_frames_in_order() -> Case:
    """[RSP-7]: a response's frames are kind 2, in entry order, each naming its entry's 0-based index."""
    from ..catalogue_closures import BIG, standard
    from ..model import Outcome
    from ..oracle import frames as oframes
    from ._execute_op import X, b, entry, execute_check
    from .trust_ids import A1

    def check(c: Case, got: Outcome) -> str | None:
        why = execute_check(c, got)
        if why is not None:
            return why
        fs = oframes.Reader().feed(b"".join(got["ok"]["responses"][0]["frames"]))
        seen = [(f.kind, f.seq, f.index) for f in fs]
        if seen != [(2, 1, 0), (2, 1, 2)]:
            return f"response frames (kind, seq, index) {seen}, expected [(2, 1, 0), (2, 1, 2)] ([RSP-7])"
        return None

    args = {"config": cfg(), "closures": standard(), "properties": [{"pointer": X, "value": [10], "first": A1}],
            "batches": [b(1, [req_entry(X, 0, b"", cbor(2000)), req_entry(X, 1, u64(1)),
                              req_entry(X, 0, b"", cbor(1500))], [BIG.id, ADD.id])],
            "_want": [{"results": ["cbor", "u64", "cbor"],
                       "entries": [entry("OK", b"", bytes(2000)), entry("OK", u64(11)),
                                   entry("OK", b"", bytes(1500))]}],
            "_live": None}
    return case("fb.response-frames-in-order", "two results too big for the slot: kind-2 frames in entry order",
                ["RSP-7", "RSP-8", "FB-3", "RSP-4"], "execute", args, ok({"responses": "(checked by decoding)"}),
                tags=("trustee", "fallback"), check=check)
