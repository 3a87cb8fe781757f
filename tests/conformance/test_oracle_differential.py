"""Hypothesis: the oracle and the reference answer the same adapter op with the same outcome.

Each test draws adapter arguments (valid inputs, and valid images with one field forged, cut or
extended), sends them to `OracleTarget` and to `ReferenceTarget`, and compares the two outcomes
exactly (`{"ok": ...}` values, or the same error name). A disagreement is a bug in one of them:
SPEC.md section 12 ([DEC-1] .. [DEC-8]) decides which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.catalogue_closures import ECHO, FIXED, STANDARD, K, wire
from conformance.oracle import codes, request, response, slot
from conformance.oracle.layout import shapes
from conformance.oracle.target import OracleTarget
from conformance.targets.reference import ReferenceTarget

ORACLE = OracleTarget()
REFERENCE = ReferenceTarget()
CLOSURES = wire((*STANDARD, *K[:6]))
SHAPES = shapes(CLOSURES)
IDS = sorted(SHAPES)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: the profile


def _norm(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, Mapping):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v


def same(op: str, args: dict[str, Any]) -> None:
    want = _norm(ORACLE.call(op, args))
    got = _norm(REFERENCE.call(op, args))
    assert got == want, f"{op}: reference {got!r:.300} != oracle {want!r:.300}"


# -- strategies ----------------------------------------------------------------------------------------

configs = st.builds(lambda s, k, f: {"slot_size": s, "table_k": k, "fallback_limit": f},
                    st.sampled_from([64, 128, 192, 256, 1024]), st.sampled_from([0, 1, 2, 4, 32]),
                    st.sampled_from([0, 16, 1 << 20, 64 << 20]))
cbor_values = st.recursive(st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.text(max_size=8)
                           | st.binary(max_size=8), lambda c: st.lists(c, max_size=3) | st.dictionaries(
                               st.text(max_size=3), c, max_size=3), max_leaves=6)


@st.composite
def requests_(draw: st.DrawFn, n_max: int = 12) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, n_max))):
        cid = draw(st.sampled_from(IDS))
        sh = SHAPES[cid]
        param: bytes | None = None
        if sh.param.present:
            if sh.param.fixed is not None:
                param = draw(st.binary(min_size=sh.param.fixed, max_size=sh.param.fixed))
            elif draw(st.booleans()):
                param = bytes(cbor2.dumps(draw(cbor_values), canonical=True))
            else:
                param = bytes(cbor2.dumps(bytes(draw(st.integers(0, 1200))), canonical=True))
        prop = draw(st.integers(0, (1 << 48) - 1) | st.sampled_from([0, 8, 0x1000]))
        out.append({"property": prop, "closure_id": cid, "captured": draw(st.binary(min_size=sh.capture,
                                                                                     max_size=sh.capture)),
                    "param": param})
    return out


@st.composite
def forged(draw: st.DrawFn, image: bytes) -> bytes:
    """`image` with one change: a field overwritten, bytes cut or added, a byte flipped."""
    b = bytearray(image)
    how = draw(st.sampled_from(["u8", "u16", "u32", "u64", "cut", "extend", "flip", "none", "header"]))
    if how == "none" or not b:
        return bytes(b)
    if how == "cut":
        return bytes(b[: draw(st.integers(0, len(b) - 1))])
    if how == "extend":
        return bytes(b) + draw(st.binary(min_size=1, max_size=16))
    if how == "header":  # one header field, both copies (so the trailer still matches)
        off, size = draw(st.sampled_from([(0, 4), (4, 2), (6, 1), (7, 1)]))
        v = draw(st.integers(0, (1 << (8 * size)) - 1)).to_bytes(size, "little")
        b[off : off + size] = v
        end = 8 * int.from_bytes(image[4:6], "little")
        if 8 <= end <= len(b):
            b[end - 8 + off : end - 8 + off + size] = v
        return bytes(b)
    size = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "flip": 1}[how]
    if len(b) < size:
        return bytes(b)
    off = draw(st.integers(0, len(b) - size))
    if how == "flip":
        b[off] ^= 1 << draw(st.integers(0, 7))
    else:
        b[off : off + size] = draw(st.integers(0, (1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(b)


# -- request batches ([DEC-1], [DEC-8], [SLOT-10]) ------------------------------------------------------


@SETTINGS
@given(configs, requests_(), st.integers(1, 2**32 - 1), st.integers(0, 0xFFFF))
def test_encode_request_batch(config: dict[str, Any], reqs: list[dict[str, Any]], seq: int, slot_id: int) -> None:
    config = {**config, "fallback_limit": 1 << 20}  # the limit itself: test_encode_stub_over_the_fallback_limit
    same("encode_request_batch", {"config": config, "closures": CLOSURES, "seq": seq, "slot_id": slot_id,
                                  "requests": reqs})


def test_encode_stub_over_the_fallback_limit() -> None:
    """[DEC-8] step 5: a stub whose payload exceeds the fallback limit is OVERSIZE on the sender (both agree)."""
    big = bytes(cbor2.dumps(bytes(1000)))
    same("encode_request_batch", {"config": {"slot_size": 1024, "table_k": 4, "fallback_limit": 100},
                                  "closures": CLOSURES, "seq": 1, "slot_id": 0,
                                  "requests": [{"property": 8, "closure_id": ECHO.id, "captured": b"", "param": big}]})


@SETTINGS
@given(st.sampled_from([0, 2**32]) | st.integers(1, 2**32 - 1), st.sampled_from([0x10000]) | st.integers(0, 0xFFFF))
def test_encode_request_batch_bad_arguments(seq: int, slot_id: int) -> None:
    """[DEC-8] one bad argument at a time: the spec does not order BAD_ARGUMENT against OVERSIZE."""
    nop = {"property": 8, "closure_id": IDS[0], "captured": bytes(SHAPES[IDS[0]].capture),
           "param": b"\x00" if SHAPES[IDS[0]].param.present else None}
    same("encode_request_batch", {"config": {"slot_size": 1024, "table_k": 4, "fallback_limit": 1 << 20},
                                  "closures": CLOSURES, "seq": seq, "slot_id": slot_id, "requests": [nop]})


@SETTINGS
@given(configs, requests_(40))
def test_pack_requests(config: dict[str, Any], reqs: list[dict[str, Any]]) -> None:
    same("pack_requests", {"config": config, "closures": CLOSURES, "requests": reqs})


@SETTINGS
@given(st.data(), configs, requests_(), st.integers(1, 2**32 - 1))
def test_decode_request_batch(data: st.DataObject, config: dict[str, Any], reqs: list[dict[str, Any]],
                              seq: int) -> None:
    big = {**config, "slot_size": 65536, "table_k": 32}
    out = ORACLE.call("encode_request_batch", {"config": big, "closures": CLOSURES, "seq": seq, "slot_id": 0,
                                               "requests": reqs})
    if "ok" not in out:
        return
    image = data.draw(forged(out["ok"]["image"]))
    args: dict[str, Any] = {"config": data.draw(st.sampled_from([config, big])), "closures": CLOSURES,
                            "image": image}
    if data.draw(st.booleans()):
        args["expected_seq"] = data.draw(st.sampled_from([seq, seq + 1, 0]))
    if data.draw(st.booleans()):
        args["imm_seq16"] = data.draw(st.sampled_from([seq & 0xFFFF, (seq + 1) & 0xFFFF]))
    same("decode_request_batch", args)


@SETTINGS
@given(st.data())
def test_attach_payload(data: st.DataObject) -> None:
    cid = data.draw(st.sampled_from(IDS + [FIXED.id] * 3))
    sh = SHAPES[cid]
    n = data.draw(st.integers(0, 24))
    payload = data.draw(st.binary(min_size=n, max_size=n))
    flen = data.draw(st.sampled_from([n, n + 1, max(0, n - 1), sh.capture + (sh.param.fixed or 0)]))
    same("attach_payload", {"closures": CLOSURES, "closure_id": cid, "fallback_len": flen, "payload": payload})


# -- response batches ([DEC-2], [RSP-4], [RSP-5]) ---------------------------------------------------------

RESULTS = ["u64", "cbor", "", "u8", "bytes3"]
ENTRY_CODES = sorted(codes.ENTRY_VALUES - {codes.FALLBACK})


@st.composite
def responses_(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]]]:
    layouts, rs = [], []
    for _ in range(draw(st.integers(1, 8))):
        lay = draw(st.sampled_from(RESULTS))
        status = draw(st.sampled_from([codes.OK] * 4 + ENTRY_CODES))
        if status != codes.OK:
            rs.append({"status": status, "result": b"", "body": bytes(cbor2.dumps(draw(st.text(max_size=400))))})
        elif lay == "cbor":
            rs.append({"status": 0, "result": b"", "body": bytes(cbor2.dumps(bytes(draw(st.integers(0, 1100)))))})
        else:
            size = {"u64": 8, "": 0, "u8": 1, "bytes3": 3}[lay]
            rs.append({"status": 0, "result": draw(st.binary(min_size=size, max_size=size)), "body": None})
        layouts.append(lay)
    return layouts, rs


@SETTINGS
@given(configs, responses_(), st.integers(1, 2**32 - 1), st.integers(0, 0xFFFF))
def test_encode_response_batch(config: dict[str, Any], lr: tuple[list[str], list[dict[str, Any]]], seq: int,
                               slot_id: int) -> None:
    same("encode_response_batch", {"config": config, "seq": seq, "slot_id": slot_id, "responses": lr[1]})


@SETTINGS
@given(st.data(), configs, responses_(), st.integers(1, 2**32 - 1))
def test_decode_response_batch(data: st.DataObject, config: dict[str, Any],
                               lr: tuple[list[str], list[dict[str, Any]]], seq: int) -> None:
    layouts, rs = lr
    if data.draw(st.integers(0, 4)) == 0:
        code = data.draw(st.sampled_from(sorted(codes.BATCH_LEVEL)))
        out = ORACLE.call("encode_error_response", {"config": config, "seq": seq, "code": code,
                                                    "detail": data.draw(st.text(max_size=30))})
        layouts = []
    else:
        out = ORACLE.call("encode_response_batch", {"config": config, "seq": seq, "slot_id": 0, "responses": rs})
    if "ok" not in out:
        return
    args: dict[str, Any] = {"config": config, "results": layouts, "image": data.draw(forged(out["ok"]["image"]))}
    if data.draw(st.booleans()):
        args["expected_seq"] = data.draw(st.sampled_from([seq, seq + 1]))
    if data.draw(st.booleans()):
        args["imm_seq16"] = data.draw(st.sampled_from([seq & 0xFFFF, (seq + 1) & 0xFFFF]))
    same("decode_response_batch", args)


@SETTINGS
@given(st.sampled_from(sorted(codes.BY_NAME)), st.integers(0, 2**32), st.text(max_size=2000), configs)
def test_encode_error_response(code: str, seq: int, detail: str, config: dict[str, Any]) -> None:
    args = {"config": config, "seq": seq, "code": code, "detail": detail}
    d = cbor2.dumps(detail)
    if 16 + 4 + len(d) + (-(4 + len(d)) % 8) <= config["slot_size"]:
        same("encode_error_response", args)
        return
    # [CHOICE-1]: how a text too long for the slot is cut is free; the header is not
    want, got = _norm(ORACLE.call("encode_error_response", args)), _norm(REFERENCE.call("encode_error_response", args))
    assert want.keys() == got.keys() and want.get("error") == got.get("error")
    if "ok" in got:
        image = got["ok"]["image"]
        assert len(image) <= config["slot_size"]
        r = response.decode(image, [], slot.Config.of(config), seq)
        assert (r.seq, r.status, r.responses) == (seq, codes.value(code), ())


# -- frames ([DEC-3]), CBOR ([DEC-6]), hellos ([DEC-5]), layouts ([DEC-7]) --------------------------------


@SETTINGS
@given(st.data(), st.lists(st.tuples(st.sampled_from([1, 2]), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1),
                                     st.integers(0, 0xFFFF), st.binary(max_size=40)), max_size=4),
       st.sampled_from([0, 8, 40, 64 << 20]))
def test_decode_frames(data: st.DataObject, fs: list[tuple[int, int, int, int, bytes]], limit: int) -> None:
    from conformance.oracle.frames import forge
    stream = data.draw(forged(b"".join(forge(*f) for f in fs))) if fs else data.draw(st.binary(max_size=30))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=3)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    same("decode_frames", {"limit": limit, "chunks": chunks})


@SETTINGS
@given(st.data())
def test_check_cbor(data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        b = data.draw(st.binary(max_size=12))
    else:
        b = data.draw(forged(bytes(cbor2.dumps(data.draw(cbor_values)))))
    same("check_cbor", {"data": b})


HELLO = {"versions": [1, 1], "machine": 2, "threads": 4, "slot_size": 1024, "table_k": 4,
         "fallback_timeout_ms": 5000, "fallback_limit": 64 << 20}


@SETTINGS
@given(st.data())
def test_decode_hello(data: st.DataObject) -> None:
    m: dict[str, Any] = dict(HELLO)
    for k in data.draw(st.lists(st.sampled_from(sorted(HELLO)), max_size=2)):
        m[k] = data.draw(st.sampled_from([None, True, -1, 0, 1, 63, 64, 65536, 65537, 0x10000, 2**64 - 1, "x",
                                          [1], [2, 1], [1, 2, 3], [1, True]]))
    for k in data.draw(st.lists(st.sampled_from(sorted(HELLO)), max_size=1)):
        del m[k]
    body = bytes(cbor2.dumps(m, canonical=True))
    msg = len(body).to_bytes(4, "little") + body
    same("decode_hello", {"data": data.draw(forged(msg))})


@SETTINGS
@given(st.lists(st.sampled_from(["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64", "bool",
                                 "bytes1", "bytes3", "bytes65536", "bytes0", "U8", "str", "", "bytes08"]),
                max_size=3), st.sampled_from(["u64", "cbor", "", "bytes2", "Cbor"]),
       st.sampled_from([None, "cbor", "cbor:5", "cbor:0", "cbor:05", "cbor:65537", "x", ""]))
def test_register(capture: list[str], result: str, param: str | None) -> None:
    same("register", {"closures": [{"name": "t:x", "id": 7, "capture": " ".join(capture), "result": result,
                                    "param": param}]})


@SETTINGS
@given(st.sampled_from(["u8 bool", "i16 f32", "bytes2 u32", "bool", "f64 i64"]), st.binary(max_size=12))
def test_unpack_capture(capture: str, data: bytes) -> None:
    """[ADPT-9]: floats compare by value, a NaN matches any NaN."""
    got = _norm(REFERENCE.call("unpack_capture", {"capture": capture, "data": data}))
    want = _norm(ORACLE.call("unpack_capture", {"capture": capture, "data": data}))
    assert got.keys() == want.keys() and got.get("error") == want.get("error")
    if "ok" in want:
        def key(v: Any) -> Any:
            return ("nan",) if isinstance(v, float) and math.isnan(v) else (type(v).__name__, v)
        assert [key(v) for v in got["ok"]["values"]] == [key(v) for v in want["ok"]["values"]]


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 0x10000))
def test_seq_and_imm(seq: int, slot_id: int) -> None:
    same("next_seq", {"seq": seq})
    same("make_imm", {"slot_id": slot_id, "seq": seq})


def test_requests_module_is_the_oracles() -> None:
    """The strategies above draw from the oracle's view of the closures (a guard against testing
    the reference against itself)."""
    assert request.Request.of(requests_().example()[0]).closure_id in SHAPES
    assert slot.Config.of(None).slot_size == 1024
