"""Builders for the bytes the cases send and expect, written from SPEC.md's tables alone.

Nothing here imports `gossamer`: expected images are assembled field by field from the spec, so a
bug in the reference codec shows up as a failing case instead of being copied into the expectation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

import cbor2

from ..model import Case, Check, Outcome

HDR = struct.Struct("<IHBB")  # section 1.1 header; section 5 response header
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
FRAME = struct.Struct("<IBBHIHHI")  # [FB-3]
MAGIC = 0x42465347
INLINE = 0xFF


def cfg(slot_size: int = 1024, table_k: int = 4, fallback_limit: int = 64 << 20) -> dict[str, int]:
    return {"slot_size": slot_size, "table_k": table_k, "fallback_limit": fallback_limit}


def cbor(v: Any) -> bytes:
    """Core deterministic encoding ([SER-1])."""
    return bytes(cbor2.dumps(v, canonical=True))


def pad8(b: bytes) -> bytes:
    return b + bytes(-len(b) % 8)


def word(prop: int, ref: int, flags: int = 0) -> bytes:
    return U64.pack(prop | (ref << 48) | (flags << 56))


def req_entry(prop: int, ref: int, captured: bytes = b"", param: bytes | None = None, *,
              variable: bool = True, inline_id: int | None = None, flags: int = 0) -> bytes:
    """One request entry (section 4 table), padded to 8 ([GEN-2])."""
    b = word(prop, INLINE if inline_id is not None else ref, flags)
    if inline_id is not None:
        b += U64.pack(inline_id)
    b += captured
    if param is not None:
        b += (U32.pack(len(param)) if variable else b"") + param
    return pad8(b)


def stub(prop: int, ref: int, payload_len: int, *, inline_id: int | None = None) -> bytes:
    """A fallback stub ([FB-2])."""
    b = word(prop, INLINE if inline_id is not None else ref, 1)
    if inline_id is not None:
        b += U64.pack(inline_id)
    return b + U32.pack(payload_len) + U32.pack(0)


def batch(seq: int, table: Sequence[int], entries: Sequence[bytes], *, count: int | None = None,
          words: int | None = None, table_len: int | None = None, trailer: bytes | None = None,
          byte7: int | None = None) -> bytes:
    """A request batch image (section 1.1); the keyword overrides forge hostile headers."""
    body = b"".join(U64.pack(c) for c in table) + b"".join(entries)
    length = 16 + len(body)
    h = HDR.pack(seq, length // 8 if words is None else words, len(entries) if count is None else count,
                 (len(table) if table_len is None else table_len) if byte7 is None else byte7)
    return h + body + (h if trailer is None else trailer)


def rsp_entry(status: int, result: bytes = b"", body: bytes = b"", n: int | None = None) -> bytes:
    return pad8(bytes([status, 0, 0, 0]) + U32.pack(len(body) if n is None else n) + result + body)


def rsp_batch(seq: int, entries: Sequence[bytes], *, count: int | None = None, status: int = 0,
              trailer: bytes | None = None) -> bytes:
    body = b"".join(entries)
    h = HDR.pack(seq, (16 + len(body)) // 8, len(entries) if count is None else count, status)
    return h + body + (h if trailer is None else trailer)


def error_response(seq: int, code: int, detail: str) -> bytes:
    """[RSP-5]: count 0, status = the code, u32 n and a CBOR text detail, padded."""
    d = cbor(detail)
    return rsp_batch_raw(seq, 0, code, pad8(U32.pack(len(d)) + d))


def rsp_batch_raw(seq: int, count: int, status: int, body: bytes) -> bytes:
    h = HDR.pack(seq, (16 + len(body)) // 8, count, status)
    return h + body + h


def frame(kind: int, slot_id: int, seq: int, index: int, payload: bytes, *, magic: int = MAGIC,
          z1: int = 0, z2: int = 0, length: int | None = None) -> bytes:
    return FRAME.pack(magic, kind, z1, slot_id, seq, index, z2,
                      len(payload) if length is None else length) + payload


def req(prop: int, closure_id: int, captured: bytes = b"", param: bytes | None = None) -> dict[str, Any]:
    return {"property": prop, "closure_id": closure_id, "captured": captured, "param": param}


def dreq(prop: int, closure_id: int, captured: bytes = b"", param: bytes | None = None,
         fallback_len: int | None = None) -> dict[str, Any]:
    return {**req(prop, closure_id, captured, param), "fallback_len": fallback_len}


def dresp(status: int, result: bytes = b"", body: bytes | None = None,
          fallback_len: int | None = None) -> dict[str, Any]:
    return {"status": status, "result": result, "body": body, "fallback_len": fallback_len}


def case(cid: str, title: str, clauses: Iterable[str], op: str, args: dict[str, Any], expect: Outcome,
         *, tags: Iterable[str] = (), check: Check | None = None) -> Case:
    return Case(id=cid, title=title, clauses=tuple(clauses), op=op, args=args, expect=expect,
                tags=frozenset(tags), check=check)
