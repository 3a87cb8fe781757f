"""What the `execute` cases share: the seeded property, expected entries, batches, and the check.

`execute_check` judges an `execute` answer by decoding every response image with the suite's oracle
(never the implementation's codec): statuses by wire value (SPEC.md section 9), results byte for
byte, CBOR bodies by value, response frames attached to their FALLBACK entries ([RSP-4], [DEC-4]).
Used by `execution.py` and by every area with trustee cases (nic, security, fallback, trust ids, ...).
"""

from __future__ import annotations

from typing import Any

import attrs

from ..model import Case, Outcome
from ..oracle import codes, frames, layout, response, slot
from ..oracle.cbor import loads
from ..oracle.errors import Rejected
from ._wire import batch

X = 0x5000_0000_1000  # a property the case seeds on the trustee
NOWHERE = 0x5000_0000_9990
ANY = object()
NONZERO48 = object()


def entry(status: str, result: Any = ANY, body: Any = ANY) -> tuple[str, Any, Any]:
    return status, result, body


def execute_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected responses, got {got}"
    want: list[dict[str, Any]] = c.args["_want"]
    have = got["ok"].get("responses")
    if not isinstance(have, list) or len(have) != len(want):
        return f"expected {len(want)} response images, got {have!r:.200}"
    config = slot.Config.of(c.args["config"])
    for bi, (w, h) in enumerate(zip(want, have, strict=True)):
        specs = [layout.Result.parse(s) for s in w.get("results", [])]
        seq = c.args["batches"][bi]["seq"]
        try:
            rb = response.decode(h["image"], specs, config, seq)
        except Rejected as e:
            return f"batch {bi}: the response image does not decode: {e}"
        if "batch_error" in w:
            v = codes.value(w["batch_error"])  # [RSP-5] the code by its wire value
            if rb.status != v:
                return (f"batch {bi}: expected batch status {v:#04x} ({w['batch_error']}), got {rb.status:#04x} "
                        f"({codes.name(rb.status)})")
            continue
        if rb.status:
            return f"batch {bi}: expected entries, got batch status {rb.status:#04x} ({codes.name(rb.status)})"
        try:
            got_frames = frames.Reader().feed(b"".join(h.get("frames", [])))
        except Rejected as e:
            return f"batch {bi}: the response frames do not parse: {e}"
        payloads = {f.index: f for f in got_frames}
        for i, ((st, res, body), r) in enumerate(zip(w["entries"], rb.responses, strict=True)):
            f = payloads.get(i)
            if r.status == codes.FALLBACK and st != "FALLBACK" and f is not None:  # [RSP-4], [DEC-4]
                if (f.kind, f.seq) != (frames.KIND_RESPONSE, seq):
                    return f"batch {bi} entry {i}: its response frame has kind {f.kind}, seq {f.seq}"
                try:
                    result, body_ = response.attach(r.fallback_len or 0, specs[i], f.payload)
                except Rejected as e:
                    return f"batch {bi} entry {i}: its response frame does not fit the FALLBACK entry: {e}"
                r = attrs.evolve(r, status=codes.OK, result=result, body=body_)
            v = codes.value(st)
            if r.status != v:
                return f"batch {bi} entry {i}: expected {v:#04x} ({st}), got {r.status:#04x} ({codes.name(r.status)})"
            if res is NONZERO48:
                p = int.from_bytes(r.result, "little")
                if not 0 < p < 1 << 48:
                    return f"batch {bi} entry {i}: pointer {p:#x} is not a nonzero 48-bit value"
            elif res is not ANY and r.result != res:
                return f"batch {bi} entry {i}: result {r.result.hex()} != {res.hex()}"
            if body is not ANY and st == "OK":
                try:
                    val = loads(r.body or b"")
                except Rejected:
                    return f"batch {bi} entry {i}: body is not CBOR"
                if val != body:
                    return f"batch {bi} entry {i}: body {val!r:.80} != {body!r:.80}"
    live = c.args.get("_live")
    if live is not None and sorted(got["ok"].get("live", [])) != sorted(live):
        return f"live properties {got['ok'].get('live')} != {live}"
    return None


def b(seq: int, entries: list[bytes], table: list[int], frames: tuple[bytes, ...] = (), slot: int = 0,
      **kw: Any) -> dict[str, Any]:
    return {"seq": seq, "image": batch(seq, table, entries, **kw), "imm": (slot << 16) | (seq & 0xFFFF),
            "frames": list(frames)}
