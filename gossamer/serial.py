"""Serialized data: CBOR (RFC 8949) for parameters, variable results and details ([SER-1], [SER-2]).

Decoding is two steps: a depth-bounded, iterative well-formedness walk (RFC 8949 appendix C) that
never reads past the bytes given, then cbor2 for the value ([DEC-6]). Invalid UTF-8 in a text string
is `MALFORMED_CBOR`. No cbor2 exception escapes.

Every tag is data ([SER-5]): it decodes as a plain `CBORTag` (its number over its content item),
whatever its number, and re-encodes as the same tag over the same content. cbor2's semantic decoders
are never used: they turned `30([2, 4])` into `Fraction(1, 2)` (echoed `30([1, 2])`), `1(1.0)`
into a datetime (echoed as a tag-0 string), `2(h'01')` into the integer 1 (which then collides
with a key 1 in the same map), and `36("...")` into a MIME message cbor2 cannot encode again.
Reference tags are therefore never resolved either ([SER-4]): 28/29 (shared values) and 25/256
(string references) stay tags, so a decoded item has at most as many nodes as its encoding has
bytes. Resolved, 223 bytes of tags 28/29 make a DAG whose walk (repr, re-encoding, an echo) visits
2^25 nodes inside cbor2's C code, where no timer interrupts it.
"""

from __future__ import annotations

import struct
from typing import Any

import cbor2

from .errors import ErrorCode, RemoteProtocolError

MAX_DEPTH = 64


class MapKey:
    """A map key that is a float or a simple value (false, true, null, undefined, simple(n)), kept
    apart from every other key ([DEC-6] step 5): Python's `1 == 1.0 == True` and `0.0 == -0.0`
    would merge `{1: a, 1.0: b, true: c}` into one key. Equal when their encodings are equal."""

    __slots__ = ("_encoded", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._encoded = dumps(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MapKey) and other._encoded == self._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        return f"MapKey({self.value!r})"


def _encode_key(encoder: Any, value: Any) -> None:
    if not isinstance(value, MapKey):
        raise cbor2.CBOREncodeTypeError(f"cannot encode type {type(value)}")
    encoder.encode(value.value)


def dumps(value: Any) -> bytes:
    """Core deterministic encoding ([SER-1])."""
    return cbor2.dumps(value, canonical=True, default=_encode_key)


def _malformed(why: str, clause: str = "SER-2") -> RemoteProtocolError:
    return RemoteProtocolError(ErrorCode.MALFORMED_CBOR, clause, f"serialized data: {why}")


def item_end(data: bytes | memoryview, start: int = 0) -> int:
    """Offset just past the one well-formed CBOR item at `start`; raises MALFORMED_CBOR."""
    n = len(data)
    pos = start
    # stack of remaining item counts; -1 marks an indefinite-length container awaiting "break"
    stack: list[int] = [1]
    while stack:
        if stack[-1] == 0:
            stack.pop()
            continue
        if pos >= n:
            raise _malformed("truncated item")
        ib = data[pos]
        pos += 1
        major, info = ib >> 5, ib & 0x1F
        if ib == 0xFF:
            if stack[-1] != -1:
                raise _malformed("unexpected break byte")
            stack.pop()
            continue
        if stack[-1] > 0:
            stack[-1] -= 1
        if info < 24:
            arg = info
        elif info <= 27:
            width = 1 << (info - 24)
            if pos + width > n:
                raise _malformed("truncated argument")
            arg = int.from_bytes(data[pos : pos + width], "big")
            pos += width
        elif info == 31:
            if major in (0, 1, 6):
                raise _malformed(f"indefinite length on major type {major}")
            if major == 7:
                raise _malformed("break outside an indefinite container")
            arg = -1
        else:
            raise _malformed(f"reserved additional information {info}")
        if major in (2, 3):
            if arg == -1:
                # indefinite string: chunks of the same major type, then break
                while True:
                    if pos >= n:
                        raise _malformed("truncated indefinite string")
                    if data[pos] == 0xFF:
                        pos += 1
                        break
                    cb = data[pos]
                    if cb >> 5 != major or cb & 0x1F == 31:
                        raise _malformed("bad chunk in indefinite string")
                    pos = _skip_definite_string(data, pos)
            else:
                if pos + arg > n:
                    raise _malformed("string runs past the end")
                pos += arg
        elif major in (4, 5):
            if len(stack) > MAX_DEPTH:
                raise _malformed(f"nesting deeper than {MAX_DEPTH}")
            if arg == -1:
                stack.append(-1)
            else:
                count = arg * (2 if major == 5 else 1)
                if count > n - pos:  # each item takes at least one byte
                    raise _malformed("container runs past the end")
                stack.append(count)
        elif major == 6:
            if len(stack) > MAX_DEPTH:
                raise _malformed(f"nesting deeper than {MAX_DEPTH}")
            stack.append(1)
        elif major == 7 and info == 24 and arg < 32:
            raise _malformed("two-byte simple value below 32")
    return pos


def _skip_definite_string(data: bytes | memoryview, pos: int) -> int:
    ib = data[pos]
    pos += 1
    info = ib & 0x1F
    if info < 24:
        length = info
    elif info <= 27:
        width = 1 << (info - 24)
        if pos + width > len(data):
            raise _malformed("truncated chunk length")
        length = int.from_bytes(data[pos : pos + width], "big")
        pos += width
    else:
        raise _malformed("bad chunk length")
    if pos + length > len(data):
        raise _malformed("chunk runs past the end")
    return pos + length


def _raw_tag(tag: int) -> Any:
    return lambda value, _immutable=False: cbor2.CBORTag(tag, value)


class _EveryTagRaw(dict[int, Any]):
    """Every tag decoded as a plain CBORTag ([SER-5]). cbor2 looks a tag's decoder up by
    subscript, so `__missing__` answers for every tag number without a table of them (a table of
    the 2^16 tags cbor2 knows takes 0.1 s to build)."""

    def __missing__(self, tag: int) -> Any:
        return _raw_tag(tag)


_RAW_TAGS = _EveryTagRaw()


def _decode(data: bytes, tags: dict[int, Any]) -> Any:
    try:  # with every tag raw, only a real validity error (invalid UTF-8) fails here
        return cbor2.loads(data, semantic_decoders=tags)
    except Exception as e:  # cbor2 raises several types; all mean the same here
        raise _malformed(f"invalid item ({type(e).__name__}: {e})") from None


_MAP_HEADS = bytes(range(0xA0, 0xC0))  # the initial bytes of major type 5


def _head(major: int, arg: int) -> bytes:
    """An item's head in preferred form (RFC 8949, 4.2.1)."""
    if arg < 24:
        return bytes([major << 5 | arg])
    width = 1 if arg < 0x100 else 2 if arg < 0x10000 else 4 if arg < 1 << 32 else 8
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[width]]) + arg.to_bytes(width, "big")


class _Keys:
    """One pass over a well-formed item ([DEC-6] step 5) that re-encodes it in core deterministic
    encoding, every tag kept ([SER-5]), and raises MALFORMED_CBOR for a map two of whose keys
    re-encode to the same bytes. Notes the start of every map key of major type 7 and every tag
    number seen."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.simple_keys: list[int] = []
        self.tags: set[int] = set()

    def _arg(self, pos: int) -> tuple[int, int | None, int]:
        ib = self.data[pos]
        info = ib & 0x1F
        if info < 24:
            return info, info, pos + 1
        if info <= 27:
            width = 1 << (info - 24)
            return info, int.from_bytes(self.data[pos + 1 : pos + 1 + width], "big"), pos + 1 + width
        return info, None, pos + 1  # indefinite length (info 31; the walk refused 28-30)

    def item(self, pos: int) -> tuple[int, bytes]:
        """(offset after the item at `pos`, its re-encoding), checking every map inside it."""
        data = self.data
        start, major = pos, data[pos] >> 5
        info, arg, pos = self._arg(pos)
        if major in (0, 1):
            return pos, _head(major, arg or 0)
        if major in (2, 3):
            if arg is not None:
                return pos + arg, _head(major, arg) + data[pos : pos + arg]
            chunks = []
            while data[pos] != 0xFF:
                _, n, pos = self._arg(pos)
                chunks.append(data[pos : pos + (n or 0)])
                pos += n or 0
            text = b"".join(chunks)
            return pos + 1, _head(major, len(text)) + text
        if major in (4, 5):
            entries: list[bytes] = []
            keys: set[bytes] = set()
            while (data[pos] != 0xFF) if arg is None else len(entries) < arg:
                if major == 5 and data[pos] >> 5 == 7:
                    self.simple_keys.append(pos)
                pos, key = self.item(pos)
                if major == 5:
                    if key in keys:
                        raise _malformed(f"map key {key.hex()} occurs twice", "DEC-6")
                    keys.add(key)
                    pos, value = self.item(pos)
                    key += value
                entries.append(key)
            if major == 5:
                entries.sort()  # by the bytes of the keys, which differ ([SER-1] 4.2.1)
            return pos + 1 if arg is None else pos, _head(major, len(entries)) + b"".join(entries)
        if major == 6:
            self.tags.add(arg or 0)
            pos, content = self.item(pos)
            return pos, _head(6, arg or 0) + content
        if info in (25, 26, 27):  # a float, in its shortest form that keeps its value (NaN: 0xf97e00)
            width = 1 << (info - 24)
            raw = data[pos - width : pos]
            value = struct.unpack(">e" if width == 2 else ">f" if width == 4 else ">d", raw)[0]
            return pos, cbor2.dumps(value, canonical=True)
        return pos, data[start:pos]  # a simple value: one form only (two bytes only from 32, step 1)


def loads(data: bytes | memoryview) -> Any:
    """Exactly one well-formed CBOR item with valid UTF-8 text occupying all of `data`, no map's key
    twice ([DEC-6]), every tag kept as a `CBORTag` ([SER-5], [SER-4]); a float or simple-value map
    key decodes as a `MapKey` (so `1`, `1.0` and `true` stay three keys)."""
    end = item_end(data)
    if end != len(data):
        raise _malformed(f"{len(data) - end} trailing bytes after the item")
    raw = bytes(data)
    value = _decode(raw, _RAW_TAGS)  # step 3 (UTF-8) before keys are compared
    if len(raw.translate(None, _MAP_HEADS)) == len(raw):
        return value  # no byte 0xa0 .. 0xbf: no map in the item
    keys = _Keys(raw)
    keys.item(0)
    if not keys.simple_keys:
        return value
    # Mark each float/simple key with a tag number the item does not use, decoded as a MapKey.
    mark = next(t for t in range((1 << 64) - 1, 0, -1) if t not in keys.tags)
    head = b"\xdb" + mark.to_bytes(8, "big")
    parts, last = [], 0
    for at in keys.simple_keys:
        parts += [raw[last:at], head]
        last = at
    parts.append(raw[last:])
    tags = _EveryTagRaw({mark: lambda value, *_: MapKey(value)})
    return _decode(b"".join(parts), tags)
