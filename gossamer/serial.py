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

from typing import Any

import cbor2

from .errors import ErrorCode, RemoteProtocolError

MAX_DEPTH = 64


def dumps(value: Any) -> bytes:
    """Core deterministic encoding ([SER-1])."""
    return cbor2.dumps(value, canonical=True)


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


def loads(data: bytes | memoryview) -> Any:
    """Exactly one well-formed CBOR item with valid UTF-8 text occupying all of `data` ([DEC-6]),
    every tag kept as a `CBORTag` ([SER-5], [SER-4])."""
    end = item_end(data)
    if end != len(data):
        raise _malformed(f"{len(data) - end} trailing bytes after the item")
    try:  # with every tag raw, only a real validity error (invalid UTF-8) fails here
        return cbor2.loads(bytes(data), semantic_decoders=_RAW_TAGS)
    except Exception as e:  # cbor2 raises several types; all mean the same here
        raise _malformed(f"invalid item ({type(e).__name__}: {e})") from None
