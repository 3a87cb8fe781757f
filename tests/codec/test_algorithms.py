"""SPEC.md section 12: the steps of the decoding algorithms that no vector file carries.

Each test names the step it pins; a decoder that takes another reading of it fails here.
"""

from __future__ import annotations

import struct

import pytest

from gossamer import serial
from gossamer.batch import decode_request_batch, encode_request_batch
from gossamer.closures import ClosureShape
from gossamer.errors import ErrorCode, GossamerError
from gossamer.fallback import Frame, FrameKind, FrameReader
from gossamer.layout import Layout, ParamSpec, ResultSpec
from gossamer.request import Request, attach_payload
from gossamer.response import (
    Response,
    attach_response_payload,
    decode_response_batch,
    encode_error_response,
    encode_response_batch,
)
from gossamer.slot import SlotConfig

CFG = SlotConfig()
NONE = ClosureShape(8, ParamSpec.parse(None), ResultSpec.parse("u64"))
VAR = ClosureShape(8, ParamSpec.parse("cbor"), ResultSpec.parse("u64"))
FIXED = ClosureShape(4, ParamSpec.parse("cbor:5"), ResultSpec.parse("u8"))


def code_of(fn: object, *args: object) -> str:
    with pytest.raises(GossamerError) as ei:
        fn(*args)  # type: ignore[operator]
    return ei.value.code.name


def stub(p: int) -> Request:
    return Request(0x10, 1, b"", None, p)


@pytest.mark.clause("DEC-4", "FB-2", "FB-6")
def test_attach_request_payload_steps() -> None:
    assert code_of(attach_payload, stub(9), bytes(8), NONE) == "BAD_FRAME"  # step 1: p != P
    assert code_of(attach_payload, stub(4), bytes(4), VAR) == "BAD_FRAME"  # step 2: p < C
    assert code_of(attach_payload, stub(9), bytes(9), NONE) == "BAD_FRAME"  # step 3: no parameter, p != C
    assert code_of(attach_payload, stub(8), bytes(8), FIXED) == "BAD_FRAME"  # step 4: p != C + M
    r = attach_payload(stub(9), b"\1\0\0\0" + serial.dumps(0x01020304), FIXED)
    assert (r.captured, r.param, r.fallback_len) == (b"\1\0\0\0", serial.dumps(0x01020304), None)
    empty = attach_payload(stub(8), bytes(8), VAR)  # step 5: a variable parameter of 0 bytes
    assert empty.param == b"" and empty.captured == bytes(8)


@pytest.mark.clause("DEC-4", "RSP-4")
def test_attach_response_payload_steps() -> None:
    fb = Response(int(ErrorCode.FALLBACK), b"", None, 8)
    assert code_of(attach_response_payload, fb, bytes(7), ResultSpec.parse("cbor")) == "BAD_FRAME"
    assert code_of(attach_response_payload, fb, bytes(8), ResultSpec.parse("u32")) == "BAD_FRAME"
    got = attach_response_payload(fb, bytes(8), ResultSpec.parse("u64"))
    assert (got.status, got.result, got.body) == (0, bytes(8), None)  # a FALLBACK entry is an OK result
    cb = attach_response_payload(fb, bytes(8), ResultSpec.parse("cbor"))
    assert (cb.status, cb.result, cb.body) == (0, b"", bytes(8))


@pytest.mark.clause("DEC-3", "FB-6")
def test_frame_outcome_does_not_depend_on_how_the_stream_is_cut() -> None:
    good = Frame(kind=FrameKind.REQUEST, slot_id=1, seq=2, index=0, payload=b"abc").encode()
    bad = b"XXXX" + good[4:]
    stream = good + good + bad
    for cut in range(1, len(stream)):
        reader = FrameReader()
        seen = []
        code = None
        for part in (stream[:cut], stream[cut:]):
            try:
                seen += reader.feed(part)
            except GossamerError as e:
                seen += getattr(e, "frames", [])
                code = e.code.name
                break
        assert (len(seen), code) == (2, "BAD_FRAME"), cut


@pytest.mark.clause("DEC-7", "LAYOUT-1", "LAYOUT-2", "LAYOUT-3")
@pytest.mark.parametrize(("spec", "size"),
                         [("u64 u8", 9), ("  u64  u8 ", 9), ("", 0), ("   ", 0), ("bytes65536", 65536)])
def test_layout_grammar_accepts(spec: str, size: int) -> None:
    assert Layout.parse(spec).size == size


@pytest.mark.clause("DEC-7", "LAYOUT-1", "LAYOUT-3")
@pytest.mark.parametrize("spec", ["U64", "u64\tu64", "bytes08", "bytes0", "bytes65537", "bytes", "str", "u128"])
def test_layout_grammar_refuses_with_noref(spec: str) -> None:
    assert code_of(Layout.parse, spec) == "NOREF"
    assert code_of(ResultSpec.parse, spec) == "NOREF"


@pytest.mark.clause("DEC-7", "LAYOUT-2")
@pytest.mark.parametrize("spec", ["cbor:09", "cbor:+9", "cbor: 9", "cbor:0", "cbor:65537", "CBOR", "json"])
def test_parameter_spec_refuses_with_bad_argument(spec: str) -> None:
    assert code_of(ParamSpec.parse, spec) == "BAD_ARGUMENT"


@pytest.mark.clause("DEC-8", "LAND-4", "SLOT-5", "REQ-1", "RSP-2", "RSP-4", "RSP-5")
def test_encoder_arguments() -> None:
    shapes = {1: NONE}
    ok = Request(0x10, 1, bytes(8))
    assert code_of(encode_request_batch, 0, [ok], shapes, CFG) == "BAD_ARGUMENT"
    assert code_of(encode_request_batch, 1 << 32, [ok], shapes, CFG) == "BAD_ARGUMENT"
    assert code_of(encode_request_batch, 1, [ok], shapes, CFG, 0x10000) == "BAD_ARGUMENT"  # no frames: still checked
    assert code_of(encode_request_batch, 1, [ok._replace(property=1 << 48)], shapes, CFG) == "BAD_ARGUMENT"
    assert code_of(encode_request_batch, 1, [Request(0x10, 2, bytes(8))], shapes, CFG) == "UNKNOWN_CLOSURE"
    r = Response(0, struct.pack("<Q", 1))
    assert code_of(encode_response_batch, 0, [r], CFG) == "BAD_ARGUMENT"
    assert code_of(encode_response_batch, 1, [r], CFG, 0x10000) == "BAD_ARGUMENT"
    assert code_of(encode_response_batch, 1, [], CFG) == "BAD_ARGUMENT"
    assert code_of(encode_response_batch, 1, [Response(int(ErrorCode.FALLBACK))], CFG) == "BAD_ARGUMENT"
    assert code_of(encode_error_response, 1, ErrorCode.BAD_PROPERTY, "x", CFG) == "BAD_ARGUMENT"
    assert code_of(encode_error_response, 1 << 32, ErrorCode.TORN, "x", CFG) == "BAD_ARGUMENT"
    zero = encode_error_response(0, ErrorCode.STALE_SEQUENCE, "seq 0", CFG)  # the seq of the header it rejects
    assert zero[0:4] == zero[-8:-4] == bytes(4)


@pytest.mark.clause("DEC-1", "VT-3")
def test_receiver_accepts_duplicate_table_ids() -> None:
    img = bytearray(encode_request_batch(1, [Request(0x10, 1, bytes(8))] * 2, {1: NONE}, CFG).image)
    # make the table two entries long, both naming closure 1, and the second request use ref 1
    head = struct.pack("<IHBB", 1, (len(img) + 8) // 8, 2, 2)
    body = struct.pack("<QQ", 1, 1) + img[16:24] + bytes(8) + struct.pack("<Q", 0x10 | (1 << 48)) + bytes(8)
    image = head + body + head
    rb = decode_request_batch(image, {1: NONE}, CFG, 1, 1)
    assert [r.closure_id for r in rb.requests] == [1, 1] and rb.table == (1, 1)


@pytest.mark.clause("DEC-2", "ERR-3", "ERR-4", "ERR-5", "ADPT-7")
def test_response_entry_bodies_and_statuses() -> None:
    head_n0 = bytes([int(ErrorCode.CLOSURE_RAISED), 0, 0, 0]) + struct.pack("<I", 0)
    nested = bytes([int(ErrorCode.NESTED_APPLY), 0, 0, 0]) + struct.pack("<I", 2) + serial.dumps("n") + bytes(6)
    h = struct.pack("<IHBB", 4, (16 + len(head_n0) + len(nested)) // 8, 2, 0)
    rb = decode_response_batch(h + head_n0 + nested + h, [ResultSpec.parse("u64")] * 2, CFG, 4)
    assert rb.responses[0].body == b""  # an error entry whose detail was dropped: empty bytes, not null
    assert rb.responses[1].status == ErrorCode.NESTED_APPLY  # 0x1D is an entry code ([ERR-5])
    bad = h + bytes([int(ErrorCode.PEER_FAILED), 0, 0, 0]) + bytes(4) + nested + h
    assert code_of(decode_response_batch, bad, [ResultSpec.parse("u64")] * 2, CFG, 4) == "BAD_HEADER"
