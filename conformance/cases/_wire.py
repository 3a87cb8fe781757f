"""Builders for the bytes the cases send and expect: the oracle's writers, plus case helpers.

The byte builders are `conformance.oracle`'s forging writers (written from SPEC.md's tables alone,
importing nothing from `gossamer`), re-exported under the short names the case modules use, so that
expected images are assembled field by field from the spec and a bug in the reference codec shows up
as a failing case instead of being copied into the expectation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..model import Case, Check, Outcome
from ..oracle import codes
from ..oracle.cbor import dumps as cbor
from ..oracle.frames import FRAME, MAGIC
from ..oracle.frames import forge as frame
from ..oracle.request import INLINE, stub, word
from ..oracle.request import entry as req_entry
from ..oracle.request import image as batch
from ..oracle.response import entry as rsp_entry
from ..oracle.response import error_image as error_response
from ..oracle.response import image as rsp_batch
from ..oracle.response import raw_image as rsp_batch_raw
from ..oracle.slot import HDR, U32, U64, pad8

__all__ = ["FRAME", "HDR", "INLINE", "MAGIC", "U32", "U64", "batch", "case", "cbor", "cfg", "code", "dreq", "dresp",
           "error_response", "frame", "pad8", "req", "req_entry", "rsp_batch", "rsp_batch_raw", "rsp_entry", "stub",
           "word"]


def code(name: str) -> int:
    """The wire value SPEC.md section 9 gives the code `name`."""
    return codes.value(name)


def cfg(slot_size: int = 1024, table_k: int = 4, fallback_limit: int = 64 << 20) -> dict[str, int]:
    return {"slot_size": slot_size, "table_k": table_k, "fallback_limit": fallback_limit}


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
