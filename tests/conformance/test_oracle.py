"""The oracle (`conformance.oracle`) against SPEC.md, the golden vectors, the catalogue, and the
reference (hypothesis, op by op): every disagreement is either a reference bug or an oracle bug.

Importing both `gossamer` and the oracle is fine here, in tests/; inside `conformance/` only the
reference target may import `gossamer` (test_oracle_independent.py).
"""

from __future__ import annotations

import re
import struct
from typing import Any

import pytest

from conformance.cases import catalogue
from conformance.model import Verdict
from conformance.oracle import (
    bootstrap,
    cbor,
    codes,
    files,
    frames,
    ids,
    layout,
    racks,
    request,
    response,
    slot,
    states,
)
from conformance.oracle import shape as oracle_shape
from conformance.oracle.errors import Rejected
from conformance.oracle.target import OracleTarget
from conformance.runner import run

VECTORS = files.load_vectors()


# -- SPEC.md's tables -------------------------------------------------------------------------------


def test_codes_come_from_section_9() -> None:
    text = files.spec_path().read_text(encoding="utf-8")
    t = codes.parse(text)
    assert [c.name for c in t] == [c.name for c in codes.TABLE]
    m = re.search(r"\| 0x([0-9A-F]{2}) \| OVERSIZE \|", text)
    assert m is not None and codes.value("OVERSIZE") == int(m.group(1), 16)
    # [ERR-4] lists the entry codes by value; the table's "appears as" column must say the same
    err4 = text[text.index("- [ERR-4]") : text.index("- [ERR-5]")]
    listed = {int(x, 16) for x in re.findall(r"`0x([0-9A-Fa-f]{2})`", err4)}
    assert listed == codes.ENTRY_VALUES
    assert {"UNKNOWN_CLOSURE", "TRUNCATED", "STALE_SEQUENCE", "OVERSIZE", "TORN", "BAD_HEADER"} == codes.BATCH_LEVEL


def test_a_moved_code_moves_the_oracle() -> None:
    """The table is read, not copied: a SPEC.md that moved OVERSIZE would move the oracle's value."""
    text = files.spec_path().read_text(encoding="utf-8")
    moved = text.replace("| 0x15 | OVERSIZE |", "| 0x7E | OVERSIZE |")
    assert {c.name: c.value for c in codes.parse(moved)}["OVERSIZE"] == 0x7E
    with pytest.raises(ValueError):
        codes.parse(text.replace("| 0x16 | FALLBACK_TIMEOUT |", "| 0x15 | FALLBACK_TIMEOUT |"))


def test_slot_states_come_from_section_2_2() -> None:
    assert states.run("client", ["write", "write", "response"]) == ["AWAITING", "SLOT_BUSY", "IDLE"]
    assert states.run("trustee", ["respond"]) == ["BAD_ARGUMENT"]


# -- the golden vectors, one by one, with the oracle's functions -------------------------------------


def _closures(f: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    cl = [{**c, "id": int(c["id"], 16)} for c in f.get("closures", [])]
    return cl, {c["name"]: c for c in cl}


def _h(x: str | None) -> bytes | None:
    return None if x is None else bytes.fromhex(x)


def test_vector_closure_ids() -> None:  # [CID-1]
    for f in VECTORS.values():
        for c in f.get("closures", []):
            assert ids.closure_id(c["name"]) == int(c["id"], 16), c["name"]


def test_vectors_request_batch() -> None:
    f = VECTORS["request_batch"]
    cl, by = _closures(f)
    shapes = layout.shapes(cl)
    for v in f["cases"]:
        reqs = [request.Request(r["property"], by[r["closure"]]["id"], bytes.fromhex(r["captured"]), _h(r["param"]))
                for r in v["requests"]]
        config = slot.Config.of(v["config"])
        img, frs = request.encode(v["seq"], reqs, shapes, config, v["slot_id"])
        assert img.hex() == v["image"], v["id"]
        assert [x.hex() for x in frs] == v["frames"], v["id"]
        assert slot.make_imm(v["slot_id"], v["seq"]) == v["imm"]
        b = request.decode(img, shapes, config, v["seq"], v["imm"] & 0xFFFF)
        stubs = {frames.Reader().feed(bytes.fromhex(x))[0].index for x in v["frames"]}
        for i, (got, want) in enumerate(zip(b.requests, reqs, strict=True)):
            if i in stubs:
                assert got.fallback_len == len(want.captured) + len(want.param or b"")
            else:
                assert (got.property, got.closure_id, got.captured, got.param) == \
                    (want.property, want.closure_id, want.captured, want.param), v["id"]


def test_vectors_request_batch_errors() -> None:
    f = VECTORS["request_batch_errors"]
    cl, _ = _closures(f)
    shapes = layout.shapes(cl)
    for v in f["cases"]:
        img = bytes.fromhex(v["image"])
        with pytest.raises(Rejected) as e:
            request.decode(img, shapes, slot.Config.of(v["config"]), v.get("expected_seq"), v.get("imm_seq16"))
        assert e.value.code == v["error"], v["id"]
        seq, _, count, status = slot.HDR.unpack_from(bytes.fromhex(v["response"]))
        assert (seq, count, status) == (slot.HDR.unpack_from(img)[0], 0, codes.value(v["error"])), v["id"]
        # the vector's response decodes as an error response carrying that code ([RSP-5], [DEC-2])
        r = response.decode(bytes.fromhex(v["response"]), [], slot.Config.of(v["config"]), seq)
        assert r.status == codes.value(v["error"])
        if "next_expected_seq" in v:  # [FLOW-5]
            consumed = v["error"] != "STALE_SEQUENCE"
            assert v["next_expected_seq"] == (slot.next_seq(v["expected_seq"]) if consumed else v["expected_seq"])


def test_vectors_response_batch() -> None:
    f = VECTORS["response_batch"]
    _, by = _closures(f)
    for v in f["cases"]:
        config = slot.Config.of(v["config"])
        img = bytes.fromhex(v["image"])
        if v.get("error"):
            if not v.get("decode_only"):
                assert response.encode_error(v["seq"], v["error"], v["detail"], config.slot_size) == img, v["id"]
            r = response.decode(img, [], config, v["seq"])
            assert (r.status, r.detail) == (codes.value(v["error"]), v["detail"]), v["id"]
            continue
        rs: list[dict[str, Any]] = [
            {"status": codes.value(r["status"]), "result": _h(r["result"]) or b"", "body": _h(r["body"])}
            for r in v["responses"]]
        out, frs = response.encode(v["seq"], rs, config, v["slot_id"])
        assert out == img, v["id"]
        assert [x.hex() for x in frs] == v["frames"], v["id"]
        results = [layout.Result.parse(by[n]["result"]) for n in v["closures"]]
        b = response.decode(img, results, config, v["seq"], v["imm"] & 0xFFFF)
        got_frames = {x.index: x.payload for x in frames.Reader().feed(b"".join(frs))}
        for i, (got, want) in enumerate(zip(b.responses, rs, strict=True)):
            if got.status == codes.FALLBACK:
                res, body = response.attach(got.fallback_len or 0, results[i], got_frames[i])
                assert res + (body or b"") == want["result"] + (want["body"] or b""), v["id"]
            elif got.status == codes.OK:
                assert (got.result, got.body) == (want["result"], want["body"]), v["id"]
            else:  # an error entry keeps its status; its detail may have been dropped ([RSP-4])
                assert got.status == want["status"] and got.body in (want["body"], b""), v["id"]


def test_vectors_response_batch_errors() -> None:
    f = VECTORS["response_batch_errors"]
    _, by = _closures(f)
    for v in f["cases"]:
        results = [layout.Result.parse(by[n]["result"]) for n in v["closures"]]
        with pytest.raises(Rejected) as e:
            response.decode(bytes.fromhex(v["image"]), results, slot.Config.of(v.get("config")), v.get("expected_seq"))
        assert e.value.code == v["error"], v["id"]


def test_vectors_fallback_frames() -> None:
    for v in VECTORS["fallback_frames"]["cases"]:
        stream = bytes.fromhex(v["stream"])
        for cut in sorted({0, 1, 19, 20, 21, len(stream) // 2, len(stream)}):  # [DEC-3]: any split
            r = frames.Reader(v["limit"])
            got = r.feed(stream[:cut]) + r.feed(stream[cut:])
            if v.get("error"):
                assert r.broken is not None and r.broken.code == v["error"], v["id"]
                continue
            assert r.broken is None
            assert [{**x.as_map(), "payload": x.payload.hex()} for x in got] == v["frames"], v["id"]
            assert r.buffered == v["buffered"], v["id"]


def test_vectors_cbor() -> None:
    for v in VECTORS["cbor"]["cases"]:
        assert cbor.well_formed(bytes.fromhex(v["data"])) == (not v.get("error")), v["id"]


def test_vectors_trust_ids() -> None:
    for v in VECTORS["trust_ids"]["cases"]:
        if "trust_id" in v:
            assert ids.trust_id(v["machine"], v["thread"], v["counter"]) == int(v["trust_id"], 16)
            continue
        s = {int(v["first"], 16)}
        sizes, emptied = [], None
        for i, t in enumerate(v["toggles"]):
            if ids.toggle(s, int(t, 16)) and emptied is None:
                emptied = i
            sizes.append(len(s))
        assert emptied == v["emptied_at"], v["id"]
        if "set_sizes" in v:  # the sizes after each toggle before the one that empties the set
            assert sizes[: len(sizes) if emptied is None else emptied] == v["set_sizes"], v["id"]


@pytest.mark.clause("SHAPE-2", "SHAPE-3", "LIM-3")
def test_vectors_bootstrap() -> None:
    for v in VECTORS["bootstrap"]["cases"]:
        if "shape" in v:  # the oracle's loops ([SHAPE-2]) give every id the vector lists, and its counts
            machines = oracle_shape.parse(v["shape"])
            if "counts" in v:
                assert [oracle_shape.count(machines, m) for m in range(len(machines))] == v["counts"], v["id"]
                assert all(n <= oracle_shape.ID_SPACE for n in v["counts"]) == v["fits"], v["id"]
            else:
                for m, rows in enumerate(v["slots"]):
                    assert oracle_shape.walk(machines, m) == rows, v["id"]
            continue
        if "message" in v:
            data = bytes.fromhex(v["message"])
            if v.get("error"):
                with pytest.raises(Rejected) as e:
                    bootstrap.decode_hello(data)
                assert e.value.code == v["error"], v["id"]
            else:
                h = bootstrap.decode_hello(data)
                m = cbor.loads(data[4:])
                assert h.required() == {k: m[k] for k in (*bootstrap.REQUIRED, "trustees") if k in m}
        elif v.get("error"):
            with pytest.raises(Rejected) as e:
                bootstrap.negotiate(tuple(v["ours"]), tuple(v["theirs"]))
            assert e.value.code == v["error"]
        else:
            assert bootstrap.negotiate(tuple(v["ours"]), tuple(v["theirs"])) == v["version"]


def test_vectors_packing() -> None:
    f = VECTORS["packing"]
    cl, by = _closures(f)
    for v in f["cases"]:
        reqs = [request.Request(r["property"], by[r["closure"]]["id"], bytes.fromhex(r["captured"]), _h(r["param"]))
                for r in v["requests"]]
        assert request.pack(reqs, layout.shapes(cl), slot.Config.of(v["config"])) == v["batch_sizes"], v["id"]


def test_vectors_racks() -> None:  # [PROC-2] .. [PROC-5]
    for v in VECTORS["racks"]["cases"]:
        data = bytes.fromhex(v["message"])
        if v["error"]:
            with pytest.raises(Rejected) as e:
                racks.rack_message(data, v["app"])
            assert e.value.code == v["error"], v["id"]
        else:
            assert racks.rack_message(data, v["app"]) == v["answer"], v["id"]


def test_every_vector_file_is_checked() -> None:
    tested = {"request_batch", "request_batch_errors", "response_batch", "response_batch_errors", "fallback_frames",
              "cbor", "trust_ids", "bootstrap", "packing", "racks"}
    assert set(VECTORS) == tested, "a new vector file needs its oracle test here"


# -- the catalogue ------------------------------------------------------------------------------------


def test_the_oracle_passes_every_codec_case() -> None:
    """Every case the oracle can answer (every codec op; `execute` and transport ops are not a
    codec's) passes on the oracle: the expectations and the oracle agree."""
    t = OracleTarget()
    cases = [c for c in catalogue() if c.op in t.capabilities]
    assert len(cases) > 200
    bad = [(r.case.id, r.message) for r in run(t, cases).results if r.verdict != Verdict.PASS]
    assert not bad


# -- direct checks of corners the catalogue may not reach ------------------------------------------------


def test_cbor_depth_counts_tags() -> None:  # [DEC-6] 2
    assert cbor.well_formed(b"\x81" * 63 + b"\x80")
    assert not cbor.well_formed(b"\x81" * 64 + b"\x80")
    assert cbor.well_formed(b"\xc1" * 63 + b"\x80")
    assert not cbor.well_formed(b"\xc1" * 64 + b"\x80")
    assert cbor.well_formed(b"\x81" * 64 + b"\x01")  # a scalar is not an array, map or tag


def test_cbor_walk_corners() -> None:  # [DEC-6] 1, 3, 4, 5
    good = [b"\x9f\x01\xff", b"\xbf\x61a\x01\xff", b"\x5f\x41a\x41b\xff", b"\x7f\x61a\xff", b"\x18\x01",
            b"\xf8\x20", b"\xfb" + struct.pack(">d", 1.5), b"\xc0\x61x"]
    bad = [b"\xa2\x01\x01\x01\x01",  # step 5: a key twice
           b"", b"\x1c", b"\x3f", b"\xdf", b"\xff", b"\xf8\x1f", b"\x5f\x61a\xff", b"\x5f\x5f\xff\xff",
           b"\xbf\x01\xff", b"\x9f", b"\x62\xc3\x28", b"\x7f\x61\xc3\x61\xa9\xff", b"\x01\x00", b"\x9b" + b"\xff" * 8]
    assert [g for g in good if not cbor.well_formed(g)] == []
    assert [x for x in bad if cbor.well_formed(x)] == []


def test_layout_grammar() -> None:  # [DEC-7]
    assert layout.Layout.parse("  u8  bytes65536 ").size == 65537
    for badspec in ("U64", "bytes0", "bytes08", "bytes65537", "u8\tu8", "str"):
        with pytest.raises(Rejected) as e:
            layout.Layout.parse(badspec)
        assert e.value.code == "NOREF"
    for badparam in ("cbor:0", "cbor:07", "cbor:65537", "CBOR", "cbor:"):
        with pytest.raises(Rejected) as e:
            layout.Param.parse(badparam)
        assert e.value.code == "BAD_ARGUMENT"
