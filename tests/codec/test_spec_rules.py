"""The rules SPEC.md gained so that an outside implementer need not guess (issue 12's stranger findings).

Each test drives the reference (`gossamer/`) and states the one reading the clause allows; the
catalogue cases that judge other implementations name the same clauses.
"""

from __future__ import annotations

import time

import pytest

from gossamer.batch import encode_request_batch
from gossamer.bootstrap import accept_hello, decode_message
from gossamer.closures import ClosureShape
from gossamer.errors import ErrorCode, GossamerError
from gossamer.fallback import Frame, FrameKind
from gossamer.layout import Layout, ParamSpec, ResultSpec
from gossamer.request import Request
from gossamer.response import Response, encode_error_response, encode_response_batch
from gossamer.runtime.tcp import FallbackHub
from gossamer.slot import SlotConfig, make_imm, next_seq
from gossamer.slot_state import ClientSlot, TrusteeSlot
from gossamer.trustee import PropertyTable

ADD = 0x1111
SHAPES = {ADD: ClosureShape(8, ParamSpec.parse(None), ResultSpec.parse("u64"))}
CFG = SlotConfig()


def image(seq: int) -> bytes:
    return encode_request_batch(seq, [Request(0x40, ADD, bytes(8))], SHAPES, CFG).image


def code(fn: object, *args: object) -> ErrorCode:
    with pytest.raises(GossamerError) as ei:
        fn(*args)  # type: ignore[operator]
    return ei.value.code


def header(resp: bytes) -> tuple[int, int, int]:
    return int.from_bytes(resp[0:4], "little"), resp[6], resp[7]


@pytest.mark.clause("FLOW-6", "FLOW-5")
def test_a_trustee_never_adopts_the_seq_of_a_stale_batch() -> None:
    slot = TrusteeSlot(CFG, SHAPES)
    for seq, imm in [(1, 2), (2, 2), (3, 3)]:  # header right / immediate wrong, then the client's next seqs
        got = slot.on_landed(image(seq), imm)
        slot.responded()
        assert isinstance(got, bytes) and header(got) == (seq, 0, int(ErrorCode.STALE_SEQUENCE))
    got = slot.on_landed(image(1), 1)  # the expected seq is still 1
    assert not isinstance(got, bytes) and got.seq == 1


@pytest.mark.clause("FLOW-7", "RSP-5")
@pytest.mark.parametrize(("data", "seq"), [(b"", 0), (b"\x05\x00\x00", 0), (b"\x05\x00\x00\x00\x09\x00", 5)])
def test_an_image_too_short_for_a_header_is_truncated_and_consumes_the_seq(data: bytes, seq: int) -> None:
    slot = TrusteeSlot(CFG, SHAPES)
    got = slot.on_landed(data, 1)
    slot.responded()
    assert isinstance(got, bytes) and header(got) == (seq, 0, int(ErrorCode.TRUNCATED))
    assert make_imm(3, seq) == 3 << 16 | seq  # its immediate carries that seq ([RSP-1])
    assert isinstance(slot.on_landed(image(1), 1), bytes)  # seq 1 was consumed
    slot.responded()
    assert not isinstance(slot.on_landed(image(2), 2), bytes)


@pytest.mark.clause("LAND-8")
def test_a_response_on_an_idle_client_slot_delivers_nothing() -> None:
    client = ClientSlot(CFG)
    stray = encode_response_batch(1, [Response(0, bytes(8))], CFG).image
    assert code(client.on_response, stray, 1) is ErrorCode.SLOT_BUSY
    assert client.begin_write([ResultSpec.parse("u64")]) == 1  # the slot is unchanged: the first batch is seq 1


@pytest.mark.clause("RSP-8", "DEC-8")
def test_response_entry_bytes_and_the_oversize_entry() -> None:
    big = bytes(range(256)) * 4
    eb = encode_response_batch(5, [Response(0, big)], CFG, 3)
    assert eb.image[8:16] == bytes([1, 0, 0, 0]) + (1024).to_bytes(4, "little")  # FALLBACK, n = R
    assert eb.frames[0].payload == big and eb.frames[0].index == 0
    small = SlotConfig(fallback_limit=500)
    eb = encode_response_batch(5, [Response(0, b"", b"\x59" + bytes(1100))], small, 3)
    assert eb.image[8:16] == bytes([int(ErrorCode.OVERSIZE), 0, 0, 0, 0, 0, 0, 0]) and not eb.frames
    assert code(encode_response_batch, 1, [Response(int(ErrorCode.BAD_PROPERTY), b"ab")], CFG) \
        is ErrorCode.BAD_ARGUMENT
    none = encode_error_response(7, ErrorCode.TORN, None, CFG)  # no detail: n = 0
    assert none[8:16] == bytes(8) and len(none) == 24


@pytest.mark.clause("DEC-8")
def test_request_encoder_checks_run_in_order() -> None:
    unknown = Request(1, 0xDEAD, b"")
    assert code(encode_request_batch, 0, [unknown], SHAPES, CFG) is ErrorCode.BAD_ARGUMENT  # seq first
    assert code(encode_request_batch, 1, [unknown], SHAPES, CFG, 0x10000) is ErrorCode.BAD_ARGUMENT
    assert code(encode_request_batch, 1, [], SHAPES, CFG) is ErrorCode.BAD_ARGUMENT
    assert code(encode_request_batch, 1, [unknown, Request(1 << 48, ADD, bytes(8))], SHAPES, CFG) \
        is ErrorCode.UNKNOWN_CLOSURE
    echo = {7: ClosureShape(0, ParamSpec.parse("cbor"), ResultSpec.parse("cbor"))}
    assert code(encode_request_batch, 1, [Request(1, 7, b"", b"\xff")], echo, CFG) is ErrorCode.BAD_ARGUMENT
    huge = Request(1, 7, b"", b"\x59\x07\xd0" + bytes(2000))
    assert code(encode_request_batch, 1, [huge], echo, SlotConfig(fallback_limit=1000)) is ErrorCode.OVERSIZE


@pytest.mark.clause("TRUST-8")
def test_a_dropped_pointer_is_never_returned_again() -> None:
    table = PropertyTable()
    seen = set()
    for _ in range(50):
        ptr = table.create([0], 1)
        assert ptr not in seen
        seen.add(ptr)
        table.drop(ptr)


@pytest.mark.clause("FB-10", "FB-11", "RSP-7")
def test_frames_before_their_batch_are_kept_and_a_missing_one_times_out_in_its_window() -> None:
    t_ms = 300
    hub = FallbackHub(2, 1 << 20, t_ms)
    try:
        key = (int(FrameKind.REQUEST), 4, 1, 0)
        hub.send(Frame(kind=FrameKind.REQUEST, slot_id=4, seq=1, index=0, payload=b"first"), (1, 0), 0)
        hub.send(Frame(kind=FrameKind.REQUEST, slot_id=4, seq=1, index=0, payload=b"again"), (1, 0), 0)
        hub.pump()
        time.sleep(0.05)
        hub.pump()
        # the batch "lands" only now: the frames that came before it are kept, the first one wins
        assert hub.take(0, key, (1, 0, 0)) == b"first"
        start = time.monotonic()
        assert hub.take(0, (int(FrameKind.REQUEST), 4, 1, 1), (1, 0, 0)) is ErrorCode.FALLBACK_TIMEOUT
        waited = time.monotonic() - start
        assert t_ms / 1000 <= waited <= 2 * t_ms / 1000 + 2.0
        # kind 2 goes back on the connection that client opened and is kept until its response lands ([RSP-7])
        hub.send(Frame(kind=FrameKind.RESPONSE, slot_id=9, seq=1, index=0, payload=b"result"), (1, 0), 0)
        hub.pump()
        time.sleep(0.05)
        hub.pump()
        assert hub.take(1, (int(FrameKind.RESPONSE), 9, 1, 0), (1, 0, 0)) == b"result"
    finally:
        hub.close()


@pytest.mark.clause("BOOT-10")
def test_the_acceptor_refuses_a_connector_with_another_thread_count() -> None:
    base = {"versions": [1, 1], "machine": 2, "threads": 2, "slot_size": 1024, "table_k": 4,
            "fallback_timeout_ms": 5000, "fallback_limit": 1 << 20}
    assert accept_hello(base, 2).threads == 2
    assert code(accept_hello, {**base, "threads": 3}, 2) is ErrorCode.BAD_HEADER
    assert code(accept_hello, {**base, "versions": [2, 2]}, 2) is ErrorCode.VERSION_MISMATCH
    import cbor2

    dup = cbor2.dumps(base)
    body = bytes([dup[0] + 1]) + dup[1:] + b"\x69slot_size\x19\x08\x00"
    assert code(decode_message, len(body).to_bytes(4, "little") + body) is ErrorCode.MALFORMED_CBOR


@pytest.mark.clause("ADPT-19", "ADPT-20", "DEC-7")
def test_adapter_argument_ranges_on_the_reference() -> None:
    from conformance.targets.reference import ReferenceTarget

    t = ReferenceTarget()
    assert t.call("next_seq", {"seq": 0}) == {"ok": {"seq": 1}}
    assert code(next_seq, 1 << 32) is ErrorCode.BAD_ARGUMENT
    assert t.call("decode_frames", {"data": b"", "chunks": []}) == {"error": "BAD_ARGUMENT"}
    assert t.call("attach_payload", {"closures": [], "closure_id": 5, "fallback_len": 0, "payload": b""}) \
        == {"error": "UNKNOWN_CLOSURE"}
    assert t.call("negotiate", {"ours": [2, 1], "theirs": [1, 1]}) == {"error": "BAD_ARGUMENT"}
    assert t.call("slot_events", {"role": "client", "events": ["sent"]}) == {"error": "BAD_ARGUMENT"}
    one = {"name": "t:x", "id": 9, "capture": "", "result": "", "param": None}
    assert t.call("register", {"closures": [one, one]}) == {"ok": {}}
    assert t.call("register", {"closures": [{**one, "param": ""}]}) == {"ok": {}}
    assert code(Layout.parse, " ".join(["bytes65536"] * 16) + " u8") is ErrorCode.NOREF
