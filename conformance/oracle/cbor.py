"""CBOR for the oracle ([SER-1], [SER-2]): its own well-formedness walk, and cbor2 for values.

`check(data)` is SPEC.md [DEC-6], walking the bytes by RFC 8949 section 3 and appendix C, written
here and not taken from any decoder: exactly one well-formed item filling `data` (nothing after it),
definite and indefinite lengths alike, any integer and float width, any tag and simple value; no
array, map or tag deeper than `MAX_DEPTH` (the top-level item is depth 1); text strings valid UTF-8;
no map with a key twice (keys compared re-encoded, every tag kept: [DEC-6] step 5).
`dumps` is core deterministic encoding (RFC 8949, 4.2.1), what senders send ([SER-1]).
"""

from __future__ import annotations

from typing import Any

import cbor2

from .errors import Rejected

#: [DEC-6] 2: no array, map or tag nests deeper than 64 (the top-level item is depth 1)
MAX_DEPTH = 64
_BREAK = 0xFF


class _Bad(Exception):
    pass


def dumps(v: Any) -> bytes:
    """Core deterministic encoding ([SER-1])."""
    return bytes(cbor2.dumps(v, canonical=True))


def check(data: bytes, clause: str = "SER-2") -> None:
    """Raise `Rejected(MALFORMED_CBOR)` unless `data` is exactly one well-formed item ([SER-2])."""
    view = bytes(data)
    try:
        end = _item(view, 0, 1)
    except _Bad as e:
        raise Rejected("MALFORMED_CBOR", clause, str(e)) from None
    if end != len(view):
        raise Rejected("MALFORMED_CBOR", clause, f"{len(view) - end} byte(s) after the item")


def _opaque(tag: int) -> Any:
    return lambda value, _immutable=False: cbor2.CBORTag(tag, value)


def loads(data: bytes, clause: str = "SER-2") -> Any:
    """The value of one well-formed item (checked by `check` first, decoded by cbor2) with every tag
    kept as a plain tag over its content ([SER-5]: `2(h'01')` is no integer, `1(0)` no date; tags
    25, 28, 29, 256 are never resolved, [SER-4], so a value has no more nodes than its bytes)."""
    check(data, clause)
    try:
        return cbor2.loads(data, semantic_decoders=_EVERY_TAG)
    except Exception as e:  # invalid UTF-8 is refused by check; nothing else is expected here
        raise Rejected("MALFORMED_CBOR", clause, f"cbor2 cannot decode it: {e}") from None


def map_pairs(data: bytes) -> int:
    """How many key/value pairs the top-level map of `data` (one well-formed map) holds, duplicates included."""
    b = bytes(data)
    major, _, arg, i = _head(b, 0)
    if major != 5:
        raise ValueError("not a map")
    if arg is not None:
        return arg
    pairs = 0
    while b[i] != 0xFF:
        i = _item(b, _item(b, i, 2), 2)
        pairs += 1
    return pairs


def well_formed(data: bytes) -> bool:
    try:
        check(data)
    except Rejected:
        return False
    return True


def _head(b: bytes, i: int) -> tuple[int, int, int | None, int]:
    """(major type, additional info, argument or None for indefinite, offset after the head)."""
    if i >= len(b):
        raise _Bad(f"truncated: no byte at offset {i}")
    ib = b[i]
    major, ai = ib >> 5, ib & 0x1F
    i += 1
    if ai < 24:
        return major, ai, ai, i
    if ai <= 27:
        n = 1 << (ai - 24)
        if i + n > len(b):
            raise _Bad(f"truncated: a {n}-byte argument at offset {i}")
        return major, ai, int.from_bytes(b[i : i + n], "big"), i + n
    if ai <= 30:
        raise _Bad(f"reserved additional information {ai} at offset {i - 1}")
    # ai 31: indefinite length (2, 3, 4, 5) or break (7); not well-formed for 0, 1, 6
    if major in (0, 1, 6):
        raise _Bad(f"additional information 31 with major type {major} at offset {i - 1}")
    return major, ai, None, i


def _string(b: bytes, i: int, major: int, n: int) -> int:
    if n > len(b) - i:
        raise _Bad(f"truncated: a string of {n} bytes at offset {i}")
    if major == 3:
        try:
            b[i : i + n].decode("utf-8")
        except UnicodeDecodeError:
            raise _Bad(f"invalid UTF-8 in the text string at offset {i}") from None
    return i + n


class _EveryTag(dict[int, Any]):
    """Every tag number decoded as a plain tag ([SER-5]), for comparing map keys."""

    def __missing__(self, tag: int) -> Any:
        return _opaque(tag)


_EVERY_TAG = _EveryTag()


def _entry(b: bytes, i: int, depth: int, is_key: bool, keys: set[bytes]) -> int:
    """Walk one entry of an array or map; a map key must differ from the map's other keys once both
    are re-encoded in core deterministic encoding ([DEC-6] step 5)."""
    end = _item(b, i, depth + 1)
    if is_key:
        try:
            again = dumps(cbor2.loads(b[i:end], semantic_decoders=_EVERY_TAG))
        except cbor2.CBORError as e:  # invalid UTF-8 in the key: step 3 decides
            raise _Bad(f"the map key at offset {i} cannot be decoded: {e}") from None
        if again in keys:
            raise _Bad(f"the map key {again.hex()} at offset {i} occurs twice in its map")
        keys.add(again)
    return end


def _item(b: bytes, i: int, depth: int) -> int:
    """Walk one item starting at `i`, at nesting depth `depth`; the offset after it."""
    start = i
    major, ai, arg, i = _head(b, i)
    if major in (4, 5, 6) and depth > MAX_DEPTH:
        raise _Bad(f"an array, map or tag at depth {depth} (offset {start}), deeper than {MAX_DEPTH}")
    if major in (0, 1):
        return i
    if major in (2, 3):
        if arg is not None:
            return _string(b, i, major, arg)
        while True:  # indefinite: definite chunks of the same major type, then a break
            if i >= len(b):
                raise _Bad(f"truncated: indefinite string at offset {start} has no break")
            if b[i] == _BREAK:
                return i + 1
            cmaj, _, carg, i = _head(b, i)
            if cmaj != major or carg is None:
                raise _Bad(f"a chunk of the indefinite string at offset {start} is not a definite string of its type")
            i = _string(b, i, major, carg)
    if major in (4, 5):
        per = 1 if major == 4 else 2
        keys: set[bytes] = set()
        if arg is not None:
            if arg * per > len(b) - i:  # every item takes at least one byte
                raise _Bad(f"truncated: {arg} entries claimed at offset {start}")
            for k in range(arg * per):
                i = _entry(b, i, depth, major == 5 and k % 2 == 0, keys)
            return i
        k = 0
        while True:
            if i >= len(b):
                raise _Bad(f"truncated: indefinite container at offset {start} has no break")
            if b[i] == _BREAK:
                if k % per:
                    raise _Bad(f"indefinite map at offset {start} ends after a key")
                return i + 1
            i = _entry(b, i, depth, major == 5 and k % 2 == 0, keys)
            k += 1
    if major == 6:
        return _item(b, i, depth + 1)  # a tag adds one for its content
    # major 7: simple values and floats
    if ai == 24:
        if arg is not None and arg < 32:
            raise _Bad(f"simple value {arg} in two bytes at offset {start}")
        return i
    if ai == 31:
        raise _Bad(f"a break outside an indefinite-length item at offset {start}")
    return i
