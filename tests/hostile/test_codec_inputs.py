"""Codec paths that take peer bytes answer with a spec code: no bare exception, no hang ([SEC-1]).

Before issue 13 each of these raised ValueError or OverflowError, or walked 2^k nodes.
"""

from __future__ import annotations

import struct
import time
from typing import Any

import cbor2
import pytest

from gossamer import serial
from gossamer.bootstrap import BootstrapReader, accept_hello, decode_message, hello_from_map
from gossamer.closures import Registry
from gossamer.errors import ErrorCode, GossamerError, show
from gossamer.request import Request
from gossamer.response import Response
from gossamer.trust_ids import TrustIdSet
from gossamer.trustee import PropertyEntry, Trustee

from .attacks import exponential_cbor

BIG = 10**5000


def _hello(**over: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"versions": [1, 1], "machine": 2, "threads": 2, "slot_size": 1024, "table_k": 4,
                         "fallback_timeout_ms": 5000, "fallback_limit": 1 << 20}
    m.update(over)
    return m


def _code(fn: Any, *args: Any) -> str:
    with pytest.raises(GossamerError) as e:
        fn(*args)
    return e.value.code.name


@pytest.mark.clause("SEC-1", "SEC-2", "BOOT-1", "BOOT-2", "DEC-5")
@pytest.mark.parametrize("key", ["machine", "threads", "slot_size", "table_k", "fallback_timeout_ms",
                                 "fallback_limit"])
def test_a_5000_digit_hello_integer_is_bad_header(key: str) -> None:
    assert _code(hello_from_map, _hello(**{key: BIG})) == "BAD_HEADER"
    body = cbor2.dumps(_hello(**{key: BIG}), canonical=True)  # a bignum tag: not an integer at all
    assert _code(lambda: hello_from_map(decode_message(struct.pack("<I", len(body)) + body))) == "BAD_HEADER"


@pytest.mark.clause("SEC-1", "BOOT-1")
def test_5000_digit_versions_are_version_mismatch_or_bad_header() -> None:
    assert _code(hello_from_map, _hello(versions=[BIG, "x"])) == "BAD_HEADER"
    assert _code(hello_from_map, _hello(versions=[BIG + 1, BIG])) == "BAD_HEADER"
    assert _code(accept_hello, _hello(versions=[BIG, BIG]), 2) == "VERSION_MISMATCH"
    assert _code(accept_hello, _hello(versions=[7, 9]), 2) == "VERSION_MISMATCH"


@pytest.mark.clause("SEC-1", "ERR-3")
def test_detail_of_a_huge_integer_is_text() -> None:
    r = Response(int(ErrorCode.BAD_PROPERTY), b"", serial.dumps(BIG))
    d = r.detail()  # [SER-5]: a bignum on the wire stays tag 2 (an integer never exceeds 64 bits)
    assert d.startswith("CBORTag(2, ") and len(d) <= 80
    assert "integer of" in show(BIG)
    r2 = Response(int(ErrorCode.BAD_PROPERTY), b"", serial.dumps([BIG, {"a": BIG}]))
    assert isinstance(r2.detail(), str)
    assert len(show(list(range(10**4)))) <= 80


@pytest.mark.clause("SEC-1", "ERR-2", "LAYOUT-2")
@pytest.mark.parametrize("result", ["f32", "f64", "f32 f64"])
def test_a_float_result_from_a_huge_integer_is_bad_result(result: str) -> None:
    reg = Registry()
    c = reg.register(lambda value, p: p if result != "f32 f64" else (p, p), "t:float", result=result, param="cbor")
    trustee = Trustee(reg)
    trustee.table.live[0x10] = PropertyEntry(0, TrustIdSet.entrusted(1 << 16))
    got = trustee.run(Request(0x10, c.id, b"", serial.dumps(BIG)))
    assert got.status == ErrorCode.BAD_RESULT
    got = trustee.run(Request(0x10, c.id, b"", serial.dumps(1 << 1100)))
    assert got.status == ErrorCode.BAD_RESULT


@pytest.mark.clause("SEC-1", "ERR-2")
def test_a_closure_raising_with_a_huge_integer_is_closure_raised() -> None:
    def boom(value: Any, p: Any) -> None:
        raise ValueError(p)

    reg = Registry()
    c = reg.register(boom, "t:boom", result="", param="cbor")
    trustee = Trustee(reg)
    trustee.table.live[0x10] = PropertyEntry(0, TrustIdSet.entrusted(1 << 16))
    assert trustee.run(Request(0x10, c.id, b"", serial.dumps(BIG))).status == ErrorCode.CLOSURE_RAISED


@pytest.mark.clause("SER-4", "SEC-5", "DEC-6")
@pytest.mark.parametrize("n", [26, 64, 200])
def test_shared_references_are_kept_opaque(n: int) -> None:
    """[SER-4]: tags 28/29 are not resolved; the echo of the item is the item, at once."""
    item = exponential_cbor(n)
    t0 = time.perf_counter()
    value = serial.loads(item)
    assert serial.dumps(value) == item  # the echo closure's answer: the same bytes, no expansion
    repr(value)
    assert time.perf_counter() - t0 < 1.0
    assert value[1] == cbor2.CBORTag(28, [cbor2.CBORTag(29, 0), cbor2.CBORTag(29, 0)])


@pytest.mark.clause("SER-4", "DEC-6")
def test_string_references_are_kept_opaque() -> None:
    # 256([25("abc"... a namespace whose references would repeat a string n times on re-encoding
    s = "x" * 1000
    item = b"\xd9\x01\x00" + b"\x99\x03\xe8" + cbor2.dumps(s) + b"\xd8\x19\x00" * 999
    value = serial.loads(item)
    assert value.tag == 256 and value.value[1] == cbor2.CBORTag(25, 0)
    assert len(serial.dumps(value)) < 5000


@pytest.mark.clause("SER-4", "SEC-2", "BOOT-2")
def test_a_hello_with_a_shared_reference_key_decodes_at_once() -> None:
    body = cbor2.dumps(_hello(), canonical=True)
    body = bytes([body[0] + 1]) + body[1:] + cbor2.dumps("x") + exponential_cbor(60)
    [m] = BootstrapReader().feed(struct.pack("<I", len(body)) + body)
    assert hello_from_map(m).rdma["x"][0] == cbor2.CBORTag(28, [0, 0])


@pytest.mark.clause("SEC-7", "REQ-1")
def test_a_pointer_is_a_name_not_a_capability() -> None:
    """[SEC-7] out of scope, stated: any request naming a live pointer runs, whoever sent it; a
    request carries no caller identity for a trustee to check."""
    reg = Registry()
    c = reg.register(lambda value, k: value.__setitem__(0, value[0] + k) or value[0], "t:bump", capture="u64",
                     result="u64")
    trustee = Trustee(reg)
    trustee.table.live[0x10] = PropertyEntry([0], TrustIdSet.entrusted(1 << 48))  # entrusted by machine 1
    assert "caller" not in Request._fields and "client" not in Request._fields
    got = trustee.run(Request(0x10, c.id, struct.pack("<Q", 5)))  # sent by anyone who learnt 0x10
    assert (got.status, got.result) == (ErrorCode.OK, struct.pack("<Q", 5))
