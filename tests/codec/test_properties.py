"""Property tests of the sans-I/O codec: round trips, filling, and fuzzing of every decoder."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gossamer import serial
from gossamer.batch import BatchBuilder, decode_request_batch, encode_request_batch, pack_requests
from gossamer.bootstrap import BootstrapReader, hello_from_map
from gossamer.errors import GossamerError
from gossamer.fallback import FrameReader
from gossamer.layout import ResultSpec
from gossamer.request import Request, attach_payload
from gossamer.response import Response, decode_response_batch, encode_response_batch
from gossamer.slot import SlotConfig
from gossamer.slot_state import TrusteeSlot

from .strategies import CLOSURES, REG, cbor_values, configs, requests


@pytest.mark.clause("SLOT-4", "SLOT-10", "VT-3", "REQ-4", "FB-1", "FB-2", "GEN-2")
@given(configs, st.lists(requests(), min_size=1, max_size=60))
def test_decode_encode_round_trip(cfg: SlotConfig, reqs: list[Request]) -> None:
    """decode(encode(b)) == b for arbitrary valid batches; no image exceeds its slot."""
    seq = 1
    for batch in pack_requests(reqs, REG.shapes, cfg):
        enc = encode_request_batch(seq, batch, REG.shapes, cfg, slot_id=5)
        assert len(enc.image) <= cfg.slot_size
        assert len(enc.image) % 8 == 0
        got = decode_request_batch(enc.image, REG.shapes, cfg, seq, seq & 0xFFFF)
        payloads = {f.index: f.payload for f in enc.frames}
        completed = [
            attach_payload(g, payloads[i], REG.shapes[g.closure_id]) if g.fallback_len is not None else g
            for i, g in enumerate(got.requests)
        ]
        assert completed == batch
        seq += 1


@pytest.mark.clause("SLOT-10", "LIM-1")
@given(configs, st.lists(requests(), min_size=2, max_size=80))
def test_batches_fill_as_far_as_the_format_allows(cfg: SlotConfig, reqs: list[Request]) -> None:
    """A batch is closed only when the next request would not fit (or the count limit is reached)."""
    batches = pack_requests(reqs, REG.shapes, cfg)
    assert [r for b in batches for r in b] == reqs  # order kept, nothing lost
    for this, nxt in itertools.pairwise(batches):
        builder = BatchBuilder(cfg, REG.shapes)
        for r in this:
            assert builder.try_add(r)
        assert not builder.try_add(nxt[0])


@pytest.mark.clause("ERR-1", "LIM-2", "LAND-5", "SLOT-8")
@given(st.binary(max_size=1200), configs, st.integers(0, 2**32 - 1) | st.none(), st.integers(0, 0xFFFF) | st.none())
def test_request_decoder_on_arbitrary_bytes(data: bytes, cfg: SlotConfig, seq: int | None, imm: int | None) -> None:
    try:
        decode_request_batch(data, REG.shapes, cfg, seq, imm)
    except GossamerError:
        pass


@pytest.mark.clause("ERR-1", "LIM-2")
@given(st.lists(requests(), min_size=1, max_size=10), st.data())
def test_request_decoder_on_mutated_images(reqs: list[Request], data: st.DataObject) -> None:
    """Flipping bytes of a valid image gives a valid batch or a typed error, never anything else."""
    cfg = SlotConfig(slot_size=4096)
    batch = pack_requests(reqs, REG.shapes, cfg)[0]
    img = bytearray(encode_request_batch(1, batch, REG.shapes, cfg).image)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(img) - 1))
        img[i] = data.draw(st.integers(0, 255))
    try:
        decode_request_batch(bytes(img), REG.shapes, cfg)
    except GossamerError:
        pass


@pytest.mark.clause("ERR-1", "RSP-6", "ERR-4")
@given(st.binary(max_size=600), st.lists(st.sampled_from([c.result for c in CLOSURES]), max_size=6))
def test_response_decoder_on_arbitrary_bytes(data: bytes, specs: list[ResultSpec]) -> None:
    try:
        decode_response_batch(data, specs, SlotConfig())
    except GossamerError:
        pass


@pytest.mark.clause("ERR-1", "FB-6")
@given(st.lists(st.binary(max_size=64), max_size=6))
def test_frame_reader_on_arbitrary_chunks(chunks: list[bytes]) -> None:
    reader = FrameReader(limit=1024)
    try:
        for c in chunks:
            reader.feed(c)
    except GossamerError:
        assert reader.broken is not None


@pytest.mark.clause("ERR-1", "SER-2", "BOOT-2", "BOOT-4")
@given(st.binary(max_size=200))
def test_cbor_and_bootstrap_decoders_on_arbitrary_bytes(data: bytes) -> None:
    try:
        serial.loads(data)
    except GossamerError:
        pass
    try:
        for m in BootstrapReader().feed(data):
            hello_from_map(m)
    except GossamerError:
        pass


@pytest.mark.clause("SER-1")
@given(cbor_values)
def test_cbor_round_trip(value: object) -> None:
    assert serial.loads(serial.dumps(value)) == value


@pytest.mark.clause("RSP-2", "RSP-4", "RSP-3")
@given(st.lists(st.tuples(st.sampled_from(CLOSURES), st.binary(max_size=900), cbor_values), min_size=1, max_size=30),
       configs)
def test_response_round_trip(items: list[tuple[object, bytes, object]], cfg: SlotConfig) -> None:
    assume(len(items) <= (cfg.slot_size - 24) // 8)  # no request batch in this slot holds more
    resps, specs = [], []
    for c, raw, value in items:
        spec = c.result  # type: ignore[attr-defined]
        specs.append(spec)
        if spec.is_cbor:
            resps.append(Response(0, b"", serial.dumps(value)))
        else:
            resps.append(Response(0, (raw + bytes(spec.fixed_size))[: spec.fixed_size], None))
    enc = encode_response_batch(7, resps, cfg)
    assert len(enc.image) <= cfg.slot_size
    rb = decode_response_batch(enc.image, specs, cfg, 7)
    frames = {f.index: f.payload for f in enc.frames}
    for i, (got, want) in enumerate(zip(rb.responses, resps, strict=True)):
        if got.fallback_len is not None:
            assert frames[i] == want.result + (want.body or b"")
        else:
            assert got == want


@pytest.mark.clause("FLOW-5", "LAND-4")
@given(st.lists(st.booleans(), min_size=1, max_size=20))
def test_trustee_expected_seq_advances_only_on_non_stale(replays: list[bool]) -> None:
    cfg = SlotConfig()
    slot = TrusteeSlot(cfg, REG.shapes)
    one = [Request(8, CLOSURES[0].id, b"")]
    seq = 1
    for replay in replays:
        use = seq - 1 if replay and seq > 1 else seq
        out = slot.on_landed(encode_request_batch(use, one, REG.shapes, cfg).image, use & 0xFFFF)
        slot.responded()
        if use == seq:
            assert not isinstance(out, bytes)
            seq += 1
        else:
            assert isinstance(out, bytes)
        assert slot.expected == seq
