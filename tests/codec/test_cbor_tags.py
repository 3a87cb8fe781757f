"""[SER-5]: every tag is data to the reference codec: decoded as a plain tag, re-encoded as it came.

The items are the conformance cases' (conformance/cases/cbor_tags.py), so the codec-level check and
the suite's echo cases cannot drift apart.
"""

from __future__ import annotations

import cbor2
import pytest

from conformance.cases.cbor_tags import KNOWN, REENCODED
from gossamer import serial


def _tags(v: object) -> list[int]:
    """Tag numbers in `v`, outermost first, depth first."""
    if isinstance(v, cbor2.CBORTag):
        return [v.tag, *_tags(v.value)]
    if isinstance(v, (list, tuple)):
        return [t for x in v for t in _tags(x)]
    if isinstance(v, dict):
        return [t for kv in v.items() for x in kv for t in _tags(x)]
    return []


@pytest.mark.clause("SER-5", "SER-1", "DEC-6")
@pytest.mark.parametrize(("name", "param", "echo"), [(n, p, p) for n, _, p in KNOWN] + [(n, p, e) for n, _, p, e in
                                                                                           REENCODED])
def test_every_tag_is_kept(name: str, param: bytes, echo: bytes) -> None:
    value = serial.loads(param)
    assert serial.dumps(value) == echo, name
    assert _tags(value), f"{name}: decoded without a plain tag"


@pytest.mark.clause("SER-5")
def test_a_bignum_key_is_not_the_integer_key() -> None:
    value = serial.loads(bytes.fromhex("a2016162c241016161"))
    assert value == {1: "b", cbor2.CBORTag(2, b"\x01"): "a"}


@pytest.mark.clause("SER-5", "SER-4")
@pytest.mark.parametrize("tag", [0, 1, 2, 3, 4, 5, 21, 24, 25, 28, 29, 30, 32, 35, 36, 37, 100, 256, 258, 260, 261,
                                 1004, 55799, 65535, 1 << 20, (1 << 64) - 1])
def test_any_tag_number_with_any_content(tag: int) -> None:
    """Content that the tag's registration forbids (text inside a bignum, a map inside an epoch time) is
    kept as it is, for every tag number including the largest."""
    for content in ("a", {"k": [1.5, None]}, b"", -1):
        item = cbor2.dumps(cbor2.CBORTag(tag, content), canonical=True)
        assert serial.loads(item) == cbor2.CBORTag(tag, content)
        assert serial.dumps(serial.loads(item)) == item
