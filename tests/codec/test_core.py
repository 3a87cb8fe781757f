"""Table-driven and property tests of the core values: layouts, closures, trust ids, trustee, states."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossamer import serial
from gossamer.batch import BatchBuilder, decode_request_batch, encode_request_batch
from gossamer.bootstrap import Hello, hello_from_map, negotiate
from gossamer.buffer import HEADER, U8, U64
from gossamer.closures import Registry, closure_id
from gossamer.errors import ErrorCode, GossamerError, LocalProtocolError
from gossamer.layout import Layout
from gossamer.request import Request
from gossamer.response import decode_response_batch
from gossamer.slot import SlotConfig, make_imm, next_seq, parse_imm
from gossamer.slot_state import TRANSITIONS, ClientSlot, State, TrusteeSlot
from gossamer.trust_ids import TrustIdMinter, TrustIdSet, make_trust_id, split_trust_id
from gossamer.trustee import Trustee, unpack_result

SPEC = Path(__file__).resolve().parents[2] / "protocol" / "SPEC.md"


def _noop(*_: Any) -> None:
    return None


@pytest.mark.clause("SLOT-10", "REQ-3", "SLOT-3", "VT-3")
def test_thesis_arithmetic() -> None:
    """1 KiB slot, 32 bytes captured: one request takes 40 bytes and a batch carries 25 (thesis 3.2.7)."""
    r = Registry()
    c = r.register(_noop, "t:add4", capture="u64 u64 u64 u64", result="u64")
    assert c.capture.size == 32
    b = BatchBuilder(SlotConfig(), r.shapes)
    before = b.used
    assert b.try_add(Request(8, c.id, bytes(32)))
    assert b.used - before == 40 + 8  # the request, plus its closure's one table entry
    n = 1
    while b.try_add(Request(8, c.id, bytes(32))):
        n += 1
    assert n == 25 and b.used == 1024


@pytest.mark.clause("LAYOUT-1", "GEN-3", "GEN-1")
@pytest.mark.parametrize(("spec", "values", "hexbytes"), [
    ("u8 u16 u32", (1, 2, 3), "01020003000000"),
    ("i8 i64", (-1, -2), "fffeffffffffffffff"),
    ("bool bytes3 f32", (True, b"abc", 1.0), "016162630000803f"),
    ("", (), ""),
])
def test_layout_packs_little_endian_without_padding(spec: str, values: tuple[Any, ...], hexbytes: str) -> None:
    lay = Layout.parse(spec)
    assert lay.pack(values).hex() == hexbytes
    assert lay.unpack(bytes.fromhex(hexbytes)) == values


@pytest.mark.clause("LAYOUT-3")
@pytest.mark.parametrize("spec", ["str", "u64 list", "bytes", "dict", "u8 ptr", "object", "cbor"])
def test_noref_fails_at_registration(spec: str) -> None:
    with pytest.raises(LocalProtocolError) as ei:
        Registry().register(_noop, "t:bad", capture=spec)
    assert ei.value.code is ErrorCode.NOREF
    assert "serialized parameter" in ei.value.message


@pytest.mark.clause("LAYOUT-2")
def test_param_and_result_specs() -> None:
    r = Registry()
    c = r.register(_noop, "t:p", capture="u8", result="cbor", param="cbor:9")
    assert c.param.fixed_size == 9 and c.result.is_cbor
    for bad in ("json", "cbor:0", "cbor:x"):
        with pytest.raises(LocalProtocolError):
            r.register(_noop, f"t:{bad}", param=bad)


@pytest.mark.clause("CID-1")
def test_closure_id_is_sha256_prefix_little_endian() -> None:
    import hashlib

    name = "examples.kv:put"
    assert closure_id(name) == int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    # the same name gives the same id in any registry: "the same binary on every machine"
    assert Registry().register(_noop, name).id == Registry().register(_noop, name).id


@pytest.mark.clause("CID-2", "CID-3")
def test_closure_registration_conflicts() -> None:
    r = Registry()
    r.register(_noop, "t:x", capture="u8")
    r.register(_noop, "t:x", capture="u8")  # same program registering again is fine
    with pytest.raises(LocalProtocolError) as ei:
        r.register(_noop, "t:x", capture="u16")
    assert ei.value.clause == "CID-3"


@pytest.mark.clause("LAND-2", "LAND-4", "RSP-1")
@given(st.integers(0, 0xFFFF), st.integers(1, 0xFFFFFFFF))
def test_imm_and_seq(slot_id: int, seq: int) -> None:
    assert parse_imm(make_imm(slot_id, seq)) == (slot_id, seq & 0xFFFF)
    assert next_seq(seq) != 0
    assert next_seq(0xFFFFFFFF) == 1


@pytest.mark.clause("SLOT-3", "VT-1", "LIM-1")
@pytest.mark.parametrize(("s", "k"), [(32, 4), (1000, 4), (65600, 4), (1024, 33), (1024, -1)])
def test_slot_config_limits(s: int, k: int) -> None:
    with pytest.raises(LocalProtocolError):
        SlotConfig(slot_size=s, table_k=k)


@pytest.mark.clause("TRUST-1")
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(1, 0xFFFFFFFF))
def test_trust_id_fields(m: int, t: int, c: int) -> None:
    assert split_trust_id(make_trust_id(m, t, c)) == (m, t, c)


@pytest.mark.clause("TRUST-1")
def test_minter_refuses_to_wrap() -> None:
    minter = TrustIdMinter(1, 2, counter=0xFFFFFFFE)
    minter.mint()
    with pytest.raises(LocalProtocolError):
        minter.mint()


# ---- [TRUST-6], [TRUST-7]: any interleaving that keeps each thread's toggles in order is safe ----

@st.composite
def trust_programs(draw: st.DrawFn) -> tuple[list[list[tuple[str, int]]], dict[int, int]]:
    """A random clone/hand-over/drop history obeying [TRUST-6], as per-thread toggle queues.

    Returns the queue of toggles each thread issues, in issue order, and the root id.
    """
    threads = draw(st.integers(1, 4))
    minters = [TrustIdMinter(0, t) for t in range(threads)]
    root = minters[0].mint()
    live: dict[int, int] = {root: 0}  # id -> holder thread
    queues: list[list[tuple[str, int]]] = [[] for _ in range(threads)]
    for _ in range(draw(st.integers(0, 25))):
        if not live:
            break
        tid = draw(st.sampled_from(sorted(live)))
        holder = live[tid]
        if draw(st.booleans()):
            # clone by the holder, handed to any thread (a fresh clone: [TRUST-6])
            new = minters[holder].mint()
            queues[holder].append(("in", new))
            live[new] = draw(st.integers(0, threads - 1))
        else:
            queues[holder].append(("out", tid))
            del live[tid]
    for tid, holder in sorted(live.items()):  # everyone drops at the end
        queues[holder].append(("out", tid))
    return queues, {0: root}


@pytest.mark.clause("TRUST-2", "TRUST-4", "TRUST-5", "TRUST-6", "TRUST-7", "REQ-7")
@given(trust_programs(), st.data())
def test_toggle_set_empties_exactly_when_every_id_is_dropped(prog: Any, data: st.DataObject) -> None:
    queues, roots = prog
    s = TrustIdSet.entrusted(roots[0])
    pending = [list(q) for q in queues]
    toggled: dict[int, int] = {roots[0]: 1}
    issued_out: set[int] = set()
    while any(pending):
        t = data.draw(st.sampled_from([i for i, q in enumerate(pending) if q]))
        kind, tid = pending[t].pop(0)
        if kind == "out":
            issued_out.add(tid)
        toggled[tid] = toggled.get(tid, 0) + 1
        emptied = s.toggle(tid)
        if emptied:
            # never before: every id created so far has been toggled twice, and nothing is left
            assert not any(pending), "property dropped while toggles were still in flight"
            assert all(n == 2 for n in toggled.values())
            return
    raise AssertionError("every Trust was dropped but the set never emptied")


@pytest.mark.clause("TRUST-7")
def test_naive_integer_count_frees_early() -> None:
    """The thesis's counterexample: B's decrement processed before A's increment frees too early."""
    count = 1  # A holds the root
    order = [("B", -1), ("A", +1)]  # A clones (+1) for B, B drops (-1); B's request lands first
    freed_while_live = False
    for _who, d in order:
        count += d
        if count == 0:
            freed_while_live = True  # A's root Trust is still live here
    assert freed_while_live
    s = TrustIdSet.entrusted(1)
    assert not s.toggle(2) and not s.toggle(2)  # the same order with toggles keeps the property


# ---- trustee execution: entry-level answers ----

def _trustee() -> tuple[Trustee, Any, Any, Any]:
    r = Registry()
    inc = r.register(lambda p, n: p.__setitem__(0, p[0] + n) or p[0], "t:inc", capture="u64", result="u64")
    boom = r.register(lambda p: 1 / 0, "t:boom", result="u64")
    bad = r.register(lambda p: "not an int", "t:bad", result="u64")
    return Trustee(r), inc, boom, bad


def _entrust(t: Trustee, value: Any, first: int = 7) -> int:
    resp = t.run(Request(0, t.registry.entrust.id, U64.pack(first), serial.dumps(value)))
    assert resp.status == 0
    return int(U64.unpack(resp.result)[0])


@pytest.mark.clause("TRUST-3", "REQ-1", "TRUST-5", "TRUST-4")
def test_trustee_entrust_toggle_drop() -> None:
    t, inc, _, _ = _trustee()
    ptr = _entrust(t, [0])
    assert 0 < ptr < 2**48
    r = t.run(Request(ptr, inc.id, U64.pack(5)))
    assert unpack_result(inc.result, r) == 5
    assert t.run(Request(ptr, t.registry.toggle.id, U64.pack(9))).result == U8.pack(0)  # clone
    assert t.run(Request(ptr, t.registry.toggle.id, U64.pack(7))).result == U8.pack(0)  # drop root
    assert t.run(Request(ptr, t.registry.toggle.id, U64.pack(9))).result == U8.pack(1)  # last drop
    assert t.table.dropped == [ptr]
    after = t.run(Request(ptr, inc.id, U64.pack(1)))
    assert after.status == ErrorCode.BAD_PROPERTY
    assert t.run(Request(0x777000, inc.id, U64.pack(1))).status == ErrorCode.BAD_PROPERTY
    assert t.run(Request(0, inc.id, U64.pack(1))).status == ErrorCode.BAD_PROPERTY


@pytest.mark.clause("SER-2", "LAYOUT-4", "ERR-2", "ERR-3")
def test_trustee_entry_level_errors() -> None:
    t, inc, boom, bad = _trustee()
    ptr = _entrust(t, [0])
    flag = t.registry.register(lambda p, b: b, "t:flag", capture="bool", result="bool")
    resps = t.run_batch([
        Request(0, t.registry.entrust.id, U64.pack(3), b"\x83\x01"),  # truncated CBOR
        Request(ptr, flag.id, b"\x02"),  # bool byte 2
        Request(ptr, boom.id, b""),
        Request(ptr, bad.id, b""),
        Request(ptr, inc.id, U64.pack(1)),  # the rest of the batch is unaffected
    ], timed_out={})
    assert [ErrorCode(r.status) for r in resps] == [
        ErrorCode.MALFORMED_CBOR, ErrorCode.BAD_CAPTURE, ErrorCode.CLOSURE_RAISED, ErrorCode.BAD_RESULT, ErrorCode.OK
    ]
    assert "ZeroDivisionError" in resps[2].detail()


@pytest.mark.clause("FB-5")
def test_trustee_answers_timed_out_fallback_entries() -> None:
    t, inc, _, _ = _trustee()
    ptr = _entrust(t, [0])
    resps = t.run_batch([Request(ptr, inc.id, U64.pack(1)), Request(ptr, inc.id, U64.pack(1))], timed_out={0})
    assert [ErrorCode(r.status) for r in resps] == [ErrorCode.FALLBACK_TIMEOUT, ErrorCode.OK]
    assert unpack_result(inc.result, resps[1]) == 1  # the timed-out entry never ran


# ---- slot states: table, SPEC.md, and flow control ----

@pytest.mark.clause("FLOW-1", "FLOW-2", "FLOW-3")
def test_spec_state_table_matches_code() -> None:
    text = SPEC.read_text()
    block = text.split("<!-- states:begin -->")[1].split("<!-- states:end -->")[0]
    rows = {tuple(c.strip() for c in line.strip("|").split("|")) for line in block.strip().splitlines()[2:]}
    code = {(role.value, s.value, e.value, n.value) for role, states in TRANSITIONS.items()
            for s, events in states.items() for e, n in events.items()}
    assert rows == code


@pytest.mark.clause("FLOW-1", "RSP-6", "SLOT-2")
def test_client_slot_flow_control() -> None:
    cfg = SlotConfig()
    r = Registry()
    get = r.register(_noop, "t:get", result="u64")
    client, trustee = ClientSlot(cfg), TrusteeSlot(cfg, r.shapes)
    seq = client.begin_write([get.result])
    with pytest.raises(LocalProtocolError) as ei:  # no second batch before the response
        client.begin_write([get.result])
    assert ei.value.code is ErrorCode.SLOT_BUSY and ei.value.clause == "FLOW-1"
    batch = trustee.on_landed(encode_request_batch(seq, [Request(8, get.id, b"")], r.shapes, cfg).image, seq)
    assert not isinstance(batch, bytes)
    from gossamer.response import Response, encode_response_batch

    image = encode_response_batch(seq, [Response(0, U64.pack(42))], cfg).image
    trustee.responded()
    rb = client.on_response(image, seq & 0xFFFF)
    assert client.state is State.IDLE and rb.responses[0].result == U64.pack(42)
    with pytest.raises(GossamerError):  # a second copy of the response is stale
        client.on_response(image)
    assert client.begin_write([get.result]) == 2


@pytest.mark.clause("LAND-3", "LAND-6", "LAND-7")
def test_header_and_trailer_alone_cannot_prove_landing() -> None:
    """Why [LAND-3] waits for the completion: with new header and trailer but an old middle, the image
    is well formed and decodes, so no check on the bytes alone can tell it is torn."""
    cfg = SlotConfig()
    r = Registry()
    c = r.register(_noop, "t:w", capture="u64", result="u64")
    old = encode_request_batch(1, [Request(8, c.id, U64.pack(i)) for i in range(5)], r.shapes, cfg).image
    new = encode_request_batch(2, [Request(8, c.id, U64.pack(100 + i)) for i in range(5)], r.shapes, cfg).image
    torn = new[:16] + old[16:-8] + new[-8:]  # header and trailer placed; the middle is not yet
    got = decode_request_batch(torn, r.shapes, cfg, 2, 2)
    assert [Layout.parse("u64").unpack(q.captured)[0] for q in got.requests] != list(range(100, 105))


@pytest.mark.clause("RSP-5", "ERR-1")
def test_rejected_batch_gets_an_error_response() -> None:
    cfg = SlotConfig()
    slot = TrusteeSlot(cfg, Registry().shapes)
    out = slot.on_landed(b"\x01\x00\x00\x00" + bytes(60), 1)
    assert isinstance(out, bytes)
    seq, _words, count, status = HEADER.unpack_from(out)
    assert (seq, count, ErrorCode(status)) == (1, 0, ErrorCode.BAD_HEADER)
    rb = decode_response_batch(out, [], cfg, 1)
    assert rb.status == ErrorCode.BAD_HEADER and rb.detail


@pytest.mark.clause("BOOT-1", "BOOT-2", "BOOT-3", "BOOT-4")
def test_bootstrap_hello_validation() -> None:
    h = Hello(machine=1, threads=2, config=SlotConfig(slot_size=2048, table_k=8),
              rdma={"gid": bytes(16), "qpns": [17], "psn": 5, "slots": [[0x1000, 7, 0]], "fallback_port": 9})
    m = serial.loads(h.encode()[4:])
    assert hello_from_map(m) == h
    assert negotiate((1, 1), tuple(m["versions"])) == 1
    for key, val, code in [("slot_size", 1000, ErrorCode.BAD_HEADER), ("table_k", 99, ErrorCode.BAD_HEADER),
                           ("versions", [3, 1], ErrorCode.BAD_HEADER), ("machine", "x", ErrorCode.BAD_HEADER)]:
        with pytest.raises(GossamerError) as ei:
            hello_from_map({**m, key: val})
        assert ei.value.code is code
    with pytest.raises(GossamerError) as ei:
        hello_from_map({k: v for k, v in m.items() if k != "threads"})
    assert ei.value.code is ErrorCode.MALFORMED_CBOR
    from gossamer.bootstrap import BootstrapReader

    with pytest.raises(GossamerError) as ei:
        BootstrapReader().feed(b"\xff\xff\xff\x7f")
    assert ei.value.code is ErrorCode.OVERSIZE


def test_spec_clause_ids_are_unique_and_well_formed() -> None:
    ids = re.findall(r"^- \[([A-Z]+-[0-9]+)\]", SPEC.read_text(), flags=re.M)
    assert len(ids) == len(set(ids))
    assert len(ids) > 60


@pytest.mark.clause("SER-3")
def test_fixed_parameter_of_the_wrong_size_fails_locally() -> None:
    r = Registry()
    c = r.register(_noop, "t:fixed", capture="u8", param="cbor:9")
    b = BatchBuilder(SlotConfig(), r.shapes)
    with pytest.raises(LocalProtocolError) as ei:
        b.try_add(Request(8, c.id, b"\x01", serial.dumps(5)))  # 1 byte, not 9
    assert ei.value.code is ErrorCode.BAD_ARGUMENT and ei.value.clause == "SER-3"


@pytest.mark.clause("SLOT-9")
@given(st.binary(min_size=1, max_size=200))
def test_bytes_past_the_batch_are_not_interpreted(junk: bytes) -> None:
    r = Registry()
    c = r.register(_noop, "t:w", capture="u64", result="u64")
    cfg = SlotConfig()
    img = encode_request_batch(1, [Request(8, c.id, U64.pack(1))], r.shapes, cfg).image
    assert decode_request_batch(img + junk, r.shapes, cfg, 1) == decode_request_batch(img, r.shapes, cfg, 1)


@pytest.mark.clause("FB-7", "FB-5", "FB-6")
def test_payload_waiter_matches_discards_and_expires() -> None:
    from gossamer.fallback import Frame, FrameKind, PayloadWaiter

    w = PayloadWaiter()
    w.expect(3, 7, 1, 4)
    w.expect(3, 7, 2, 2)
    assert not w.on_frame(Frame(kind=FrameKind.REQUEST, slot_id=3, seq=8, index=1, payload=b"abcd"))  # wrong seq
    assert not w.on_frame(Frame(kind=FrameKind.REQUEST, slot_id=4, seq=7, index=1, payload=b"abcd"))  # wrong slot
    assert w.discarded == 2 and w.waiting(3, 7, 1)
    assert w.on_frame(Frame(kind=FrameKind.REQUEST, slot_id=3, seq=7, index=1, payload=b"abcd"))
    assert w.arrived[(3, 7, 1)] == b"abcd"
    w.expire(3, 7, 2)
    assert not w.on_frame(Frame(kind=FrameKind.REQUEST, slot_id=3, seq=7, index=2, payload=b"xy"))  # too late
    w.expect(3, 9, 0, 5)
    with pytest.raises(GossamerError) as ei:
        w.on_frame(Frame(kind=FrameKind.REQUEST, slot_id=3, seq=9, index=0, payload=b"abc"))
    assert ei.value.code is ErrorCode.BAD_FRAME
