"""The golden vectors: reproducible, and the reference codec agrees with every case."""

from __future__ import annotations

from typing import Any

import pytest

from gossamer import serial
from gossamer.batch import decode_request_batch, encode_request_batch, pack_requests
from gossamer.bootstrap import BootstrapReader, check_rdma, decode_message, hello_from_map, negotiate
from gossamer.errors import ErrorCode, GossamerError
from gossamer.fallback import BrokenStream, FrameReader
from gossamer.request import Request
from gossamer.response import Response, decode_response_batch, encode_response_batch
from gossamer.shape import MachineShape, RackShape, SlotUse
from gossamer.slot import SlotConfig
from gossamer.slot_state import TrusteeSlot
from gossamer.trust_ids import TrustIdSet, make_trust_id
from gossamer.vectors import BY_NAME, REG, VECTOR_DIR, generate, load, render

VECTORS = load()


def cases(stem: str) -> list[Any]:
    return [pytest.param(c, id=c["id"]) for c in VECTORS[stem]["cases"]]


def cfg_of(c: dict[str, Any]) -> SlotConfig:
    k = c["config"]
    return SlotConfig(slot_size=k["slot_size"], table_k=k["table_k"], fallback_limit=k["fallback_limit"])


def req_of(j: dict[str, Any]) -> Request:
    return Request(j["property"], BY_NAME[j["closure"]].id, bytes.fromhex(j["captured"]),
                   None if j["param"] is None else bytes.fromhex(j["param"]))


@pytest.mark.clause("GEN-1")
def test_vectors_regenerate_identically() -> None:
    """The checked-in files are exactly what the generator produces (pyca/cryptography's habit)."""
    generated = generate()
    on_disk = {p.stem: p.read_text() for p in VECTOR_DIR.glob("*.json")}
    assert set(on_disk) == set(generated)
    for stem, content in generated.items():
        assert on_disk[stem] == render(content), f"{stem}.json differs: run python -m gossamer.vectors"


def test_every_vector_case_names_clauses() -> None:
    for stem, f in VECTORS.items():
        ids = [c["id"] for c in f["cases"]]
        assert len(ids) == len(set(ids)), stem
        for c in f["cases"]:
            assert c["clauses"], (stem, c["id"])


@pytest.mark.parametrize("case", cases("request_batch"))
def test_request_batch_vector(case: dict[str, Any]) -> None:
    cfg = cfg_of(case)
    reqs = [req_of(r) for r in case["requests"]]
    enc = encode_request_batch(case["seq"], reqs, REG.shapes, cfg, slot_id=case["slot_id"])
    assert enc.image.hex() == case["image"]
    assert [f.encode().hex() for f in enc.frames] == case["frames"]
    batch = decode_request_batch(bytes.fromhex(case["image"]), REG.shapes, cfg, case["seq"], case["imm"] & 0xFFFF)
    frames = {f.index: f.payload for f in FrameReader().feed(b"".join(bytes.fromhex(h) for h in case["frames"]))}
    for i, (got, want) in enumerate(zip(batch.requests, reqs, strict=True)):
        if got.fallback_len is not None:
            assert frames[i] == want.captured + (want.param or b"")
            assert got.fallback_len == len(frames[i])
            assert (got.property, got.closure_id) == (want.property, want.closure_id)
        else:
            assert got == want


@pytest.mark.parametrize("case", cases("packing"))
def test_packing_vector(case: dict[str, Any]) -> None:
    batches = pack_requests([req_of(r) for r in case["requests"]], REG.shapes, cfg_of(case))
    assert [len(b) for b in batches] == case["batch_sizes"]


@pytest.mark.parametrize("case", cases("request_batch_errors"))
def test_request_batch_error_vector(case: dict[str, Any]) -> None:
    slot = TrusteeSlot(cfg_of(case), REG.shapes)
    slot.expected = case["expected_seq"]
    out = slot.on_landed(bytes.fromhex(case["image"]), case["imm_seq16"])
    assert isinstance(out, bytes)
    assert out.hex() == case["response"]
    assert ErrorCode(out[7]).name == case["error"]
    assert slot.expected == case["next_expected_seq"]
    with pytest.raises(GossamerError) as ei:
        decode_request_batch(bytes.fromhex(case["image"]), REG.shapes, cfg_of(case), case["expected_seq"],
                             case["imm_seq16"])
    assert ei.value.code.name == case["error"]


@pytest.mark.parametrize("case", cases("response_batch"))
def test_response_batch_vector(case: dict[str, Any]) -> None:
    cfg = cfg_of(case)
    img = bytes.fromhex(case["image"])
    if "error" in case:
        rb = decode_response_batch(img, [], cfg, case["seq"])
        assert ErrorCode(rb.status).name == case["error"] and rb.detail == case["detail"]
        return
    resps = [Response(int(ErrorCode[r["status"]]), bytes.fromhex(r["result"]),
                      None if r["body"] is None else bytes.fromhex(r["body"])) for r in case["responses"]]
    enc = encode_response_batch(case["seq"], resps, cfg, slot_id=case["slot_id"])
    assert enc.image.hex() == case["image"]
    assert [f.encode().hex() for f in enc.frames] == case["frames"]
    rb = decode_response_batch(img, [BY_NAME[n].result for n in case["closures"]], cfg, case["seq"])
    for got, want in zip(rb.responses, resps, strict=True):
        if got.status == ErrorCode.FALLBACK:
            assert got.fallback_len == len(want.result) + len(want.body or b"")
        elif got.status != ErrorCode.OK and got.body == b"" and want.body:
            assert got.status == want.status  # [RSP-4]: no room, so the detail was dropped
        else:
            assert got == want


@pytest.mark.parametrize("case", cases("response_batch_errors"))
def test_response_error_vector(case: dict[str, Any]) -> None:
    with pytest.raises(GossamerError) as ei:
        decode_response_batch(bytes.fromhex(case["image"]), [BY_NAME[n].result for n in case["closures"]],
                              cfg_of(case), case["expected_seq"])
    assert ei.value.code.name == case["error"]


@pytest.mark.parametrize("case", cases("fallback_frames"))
def test_frame_vector(case: dict[str, Any]) -> None:
    reader = FrameReader(case["limit"])
    if case["error"]:
        with pytest.raises(BrokenStream) as ei:
            reader.feed(bytes.fromhex(case["stream"]))
        assert ei.value.code.name == case["error"]
        # [DEC-3]: whole frames before the bad header are still delivered
        assert [f.encode()[20:].hex() for f in ei.value.frames] == [f["payload"] for f in case["frames"]]
        with pytest.raises(GossamerError):  # [FB-6]: the stream stays broken
            reader.feed(b"")
        return
    frames = reader.feed(bytes.fromhex(case["stream"]))
    assert [{"kind": int(f.kind), "slot_id": f.slot_id, "seq": f.seq, "index": f.index,
             "payload": f.payload.hex()} for f in frames] == case["frames"]
    assert reader.buffered == case["buffered"]


@pytest.mark.parametrize("case", cases("trust_ids"))
def test_trust_vector(case: dict[str, Any]) -> None:
    if "trust_id" in case:
        assert f"{make_trust_id(case['machine'], case['thread'], case['counter']):016x}" == case["trust_id"]
        return
    s = TrustIdSet.entrusted(int(case["first"], 16))
    sizes, emptied = [], None
    for i, t in enumerate(case["toggles"]):
        if s.toggle(int(t, 16)):
            emptied = i
            break
        sizes.append(len(s.ids))
    assert (sizes, emptied) == (case["set_sizes"], case["emptied_at"])


@pytest.mark.parametrize("case", cases("cbor"))
def test_cbor_vector(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["data"])
    if case["error"]:
        with pytest.raises(GossamerError) as ei:
            serial.loads(data)
        assert ei.value.code.name == case["error"]
    else:
        serial.loads(data)


@pytest.mark.parametrize("case", cases("bootstrap"))
def test_bootstrap_vector(case: dict[str, Any]) -> None:
    if "shape" in case:  # [SHAPE-2], [SHAPE-3], [LIM-3]
        shape = RackShape([MachineShape.of(m["threads"], [f + i for f, n in m["trustees"] for i in range(n)])
                           for m in case["shape"]])
        if "counts" in case:
            assert [shape.slot_count(m) for m in range(len(shape))] == case["counts"]
            assert (not shape.overflow()) == case["fits"]
            return
        for m, rows in enumerate(case["slots"]):
            assert shape.slot_count(m) == len(rows)
            for i, (kind, pm, pt, lt) in enumerate(rows):
                if kind == "request":
                    assert shape.request_slot(m, pm, pt, lt) == i
                else:
                    assert shape.response_slot(m, lt, pm, pt) == i
                assert shape.slot_use(m, i) == SlotUse(kind == "request", lt, pm, pt)
        return
    if "message" in case:
        data = bytes.fromhex(case["message"])
        if case["error"]:
            with pytest.raises(GossamerError) as ei:
                hello_from_map(decode_message(data))
            assert ei.value.code.name == case["error"]
            return
        (m,) = BootstrapReader().feed(data)
        hello_from_map(m)
        assert hello_from_map(decode_message(data)) == hello_from_map(m)
        if "rdma_error" in case:  # [SEC-6]: the RDMA checks, for the peer's T = 2 and S = 1024
            if case["rdma_error"]:
                with pytest.raises(GossamerError) as ei:
                    check_rdma(hello_from_map(m), 2, 1024)
                assert ei.value.code.name == case["rdma_error"]
            else:
                check_rdma(hello_from_map(m), 2, 1024)
        return
    if case["error"]:
        with pytest.raises(GossamerError) as ei:
            negotiate(tuple(case["ours"]), tuple(case["theirs"]))
        assert ei.value.code.name == case["error"]
    else:
        assert negotiate(tuple(case["ours"]), tuple(case["theirs"])) == case["version"]
