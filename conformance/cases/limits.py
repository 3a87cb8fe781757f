"""Both sides of every limit of SPEC.md, generated from one table (`LIMITS`).

Each row of `LIMITS` is one limit: its name, the clauses that state it, the value in words, and a
function that builds the probes: an input exactly at the limit (and, where the limit has a lower
bound, at that bound: `min`) that must be accepted with an exact answer, and an input one step
past it (`past`; `below` under a lower bound) that must fail with the code the spec names. A probe
names the op that exercises it; a row may probe through several ops (`limit.<name>.<side>.<via>`).
`cases()` turns every probe into a case, and refuses a row without an `at` and a `past` (or with
a lower bound but no `min` and `below`), so a new limit gets both sides by adding one row.

Expected bytes come from `_wire.py`'s builders, which follow SPEC.md's tables; nothing here
imports `gossamer`. `tests/conformance/test_limits.py` proves every row has teeth: the reference
patched to be off by one at that limit fails at least one of the row's cases.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..catalogue_closures import ADD, BIG, ECHO, ENTRUST, GET, NOP, PAIR, Desc, K, standard, wire
from ..model import Case, Check, Outcome, err, ok
from ..oracle.errors import Rejected
from ..oracle.frames import Reader as FrameReader
from ..oracle.layout import Result
from ..oracle.response import decode as decode_response
from ..oracle.slot import Config
from ._wire import (
    HDR,
    U32,
    U64,
    batch,
    case,
    cbor,
    cfg,
    code,
    dreq,
    dresp,
    error_response,
    frame,
    pad8,
    req,
    req_entry,
    rsp_batch,
    rsp_entry,
    stub,
    word,
)
from .bootstrap import hello, msg
from .landing import err_rsp, land_check
from .trust_ids import A1

CL = standard()
P = 0x0000_1234_5678_9AB0  # an opaque 48-bit property pointer
X = 0x5000_0000_1000  # the property an `execute` probe seeds
TOP48 = (1 << 48) - 1
MIB = 1 << 20

#: the sides of a limit a row may probe; `at` and `past` are required, `min` and `below` go together
SIDES = ("min", "below", "at", "past")


@attrs.frozen(kw_only=True)
class Probe:
    """One input at (or past) a limit, the op that takes it, and the answer the spec requires."""

    side: str
    via: str  #: short name of the exercise, the id's last part ("" when the row has one per side)
    title: str
    op: str
    args: Mapping[str, Any]
    expect: Outcome
    check: Check | None = None
    clauses: tuple[str, ...] = ()  #: clauses this probe checks besides the row's


@attrs.frozen(kw_only=True)
class Limit:
    """A row of the table: one limit of SPEC.md and how to probe both sides of it."""

    name: str
    clauses: tuple[str, ...]
    value: str  #: the limit in words, as the spec states it
    lower: bool  #: the limit has a lower bound too (probed as `min` / `below`)
    probes: Callable[[], list[Probe]]


def u64(x: int) -> bytes:
    return U64.pack(x)


# -- helpers that build one probe ---------------------------------------------------------------------------


def _hello(side: str, via: str, title: str, expect_ok: bool, **over: Any) -> Probe:
    """A `decode_hello` probe: the seven fields back when accepted, else BAD_HEADER ([BOOT-2])."""
    want = hello(**over)
    return Probe(side=side, via=via, title=title, op="decode_hello", args={"data": msg(want)},
                 expect=ok(want) if expect_ok else err("BAD_HEADER"), clauses=("BOOT-2",))


def _decoded(seq: int, table: list[int], reqs: list[dict[str, Any]]) -> Outcome:
    return ok({"seq": seq, "table": table, "requests": reqs})


def _dec(side: str, via: str, title: str, image: bytes, expect: Outcome, config: dict[str, int] | None = None,
         closures: list[dict[str, Any]] | None = None, **kw: int) -> Probe:
    return Probe(side=side, via=via, title=title, op="decode_request_batch",
                 args={"config": config or cfg(), "closures": closures or CL, "image": image, **kw}, expect=expect)


def _enc(side: str, via: str, title: str, reqs: list[dict[str, Any]], expect: Outcome, seq: int = 1,
         config: dict[str, int] | None = None, closures: list[dict[str, Any]] | None = None,
         slot_id: int = 0) -> Probe:
    return Probe(side=side, via=via, title=title, op="encode_request_batch",
                 args={"config": config or cfg(), "closures": closures or CL, "seq": seq, "slot_id": slot_id,
                       "requests": reqs}, expect=expect)


def _land(side: str, via: str, title: str, images: list[tuple[bytes, int]], want: list[dict[str, Any]],
          closures: list[dict[str, Any]] | None = None) -> Probe:
    """A `land` probe through one trustee slot from seq 1; errors judged by header ([ERR-3])."""
    return Probe(side=side, via=via, title=title, op="land",
                 args={"config": cfg(), "closures": closures or CL,
                       "landings": [{"image": im, "imm": s & 0xFFFF} for im, s in images]},
                 expect=ok({"results": want}), check=land_check)


def execute_exact(c: Case, got: Outcome) -> str | None:
    """Judge `execute` answers with the suite's oracle ([DEC-2]): an OK entry's result and body
    exactly, a FALLBACK entry's length and its response frame's payload exactly, an error entry by
    its status (its detail is free, [ERR-3]), a rejected batch by its status. `_want` holds, per
    batch, `{"batch_error": code}` or `{"results": [layout per entry], "entries": [(status, result,
    body)]}`; `_live`, when given, the properties still live afterwards."""
    if "ok" not in got:
        return f"expected responses, got {got}"
    have = got["ok"].get("responses")
    want = c.args["_want"]
    if not isinstance(have, list) or len(have) != len(want):
        return f"expected {len(want)} responses, got {have!r:.120}"
    config = Config.of(c.args["config"])
    for bi, (w, h) in enumerate(zip(want, have, strict=True)):
        seq = c.args["batches"][bi]["seq"]
        try:
            rb = decode_response(bytes(h["image"]), [Result.parse(r) for r in w.get("results", [])], config, seq)
        except Rejected as e:
            return f"batch {bi}: the response image does not decode: {e}"
        if "batch_error" in w:
            if rb.status != code(w["batch_error"]):
                return f"batch {bi}: expected batch status {code(w['batch_error']):#04x}, got {rb.status:#04x}"
            continue
        if rb.status:
            return f"batch {bi}: expected entries, got batch status {rb.status:#04x}"
        reader = FrameReader(config.fallback_limit)
        frames = {(f.kind, f.seq, f.index): f.payload for f in reader.feed(b"".join(bytes(x) for x in h["frames"]))}
        for i, ((st, res, body), r) in enumerate(zip(w["entries"], rb.responses, strict=True)):
            where = f"batch {bi} entry {i}"
            if r.status != code(st):
                return f"{where}: status {r.status:#04x}, expected {st} ({code(st):#04x})"
            if st == "FALLBACK":
                f = frames.get((2, seq, i))
                if r.fallback_len != len(body) or f != body:
                    return (f"{where}: FALLBACK n = {r.fallback_len} with frame payload {f!r:.40}, expected "
                            f"{len(body)} bytes ([RSP-4], [FB-3])")
            elif st == "OK" and (r.result, r.body or b"") != (res, body):
                return (f"{where}: result {r.result.hex()[:40]} body {(r.body or b'').hex()[:40]}, expected "
                        f"{res.hex()[:40]} {body.hex()[:40]}")
    live = c.args.get("_live")
    if live is not None and sorted(got["ok"].get("live", [])) != sorted(live):
        return f"live properties {got['ok'].get('live')} != {live}"
    return None


def _execute(side: str, via: str, title: str, batches: list[tuple[int, list[bytes], list[int]]],
             want: list[dict[str, Any]], pointer: int = X, frames: tuple[bytes, ...] = ()) -> Probe:
    """An `execute` probe on one trustee thread holding property `pointer` = [10] ([ADPT-10])."""
    bs = [{"seq": s, "image": batch(s, table, entries), "imm": s & 0xFFFF, "frames": list(frames) if i == 0 else []}
          for i, (s, entries, table) in enumerate(batches)]
    return Probe(side=side, via=via, title=title, op="execute",
                 args={"config": cfg(), "closures": standard(), "batches": bs, "_want": want,
                       "properties": [{"pointer": pointer, "value": [10], "first": A1}]},
                 expect=ok({"responses": "(judged entry by entry)"}), check=execute_exact)


# -- the rows ------------------------------------------------------------------------------------------------


def slot_size() -> list[Probe]:
    n64 = [req(1, NOP.id)] * 5  # 16 + 8 + 5 * 8 = 64: the smallest slot, full
    big = cbor(bytes(65497))  # 65500 bytes: 16 + 8 + align8(8 + 4 + 65500) = 65536
    img_max = batch(1, [ECHO.id], [req_entry(P, 0, b"", big)])
    assert len(img_max) == 65536
    s_max = cfg(slot_size=65536)
    return [
        _hello("min", "hello", "slot_size 64, the smallest, is accepted", True, slot_size=64),
        _hello("below", "hello", "slot_size 0 (a multiple of 64 below 64) is refused", False, slot_size=0),
        _hello("at", "hello", "slot_size 65536, the largest, is accepted", True, slot_size=65536),
        _hello("past", "hello", "slot_size 65600, the next multiple of 64, is refused", False, slot_size=65600),
        _hello("past", "hello-step", "slot_size 1000 (not a multiple of 64) is refused", False, slot_size=1000),
        _enc("min", "encode", "S = 64: five 8-byte entries fill the smallest slot", n64,
             ok({"image": batch(1, [NOP.id], [req_entry(1, 0)] * 5), "frames": []}), config=cfg(slot_size=64)),
        Probe(side="min", via="pack", title="S = 64: six 8-byte requests make batches of 5 and 1", op="pack_requests",
              args={"config": cfg(slot_size=64), "closures": CL, "requests": [req(1, NOP.id)] * 6},
              expect=ok({"counts": [5, 1]})),
        _enc("at", "encode", "S = 65536: one 65500-byte parameter fills the largest slot to the byte",
             [req(P, ECHO.id, b"", big)], ok({"image": img_max, "frames": []}), config=s_max),
        _dec("at", "decode", "S = 65536: a 65536-byte image (words 8192) decodes", img_max,
             _decoded(1, [ECHO.id], [dreq(P, ECHO.id, b"", big)]), config=s_max),
    ]


def table_k() -> list[Probe]:
    k32 = cfg(slot_size=2048, table_k=32)
    cl = standard(*K)
    t32 = [k.id for k in K[:32]]
    e33 = [req_entry(i + 1, i, u64(i)) for i in range(32)] + [req_entry(33, 0, u64(32), inline_id=K[32].id)]
    d33 = [dreq(i + 1, K[i].id, u64(i)) for i in range(33)]
    one = req_entry(P, 0, u64(1))
    return [
        _hello("min", "hello", "table_k 0 is accepted", True, table_k=0),
        _hello("below", "hello", "table_k -1 is refused", False, table_k=-1),
        _hello("at", "hello", "table_k 32, the largest, is accepted", True, table_k=32),
        _hello("past", "hello", "table_k 33 is refused", False, table_k=33),
        _enc("at", "encode", "K = 32: 32 table entries, the 33rd closure inline", [req(i + 1, K[i].id, u64(i))
             for i in range(33)], ok({"image": batch(1, t32, e33), "frames": []}), config=k32, closures=cl),
        _dec("at", "decode", "K = 32: table_len 32 decodes", batch(1, t32, e33), _decoded(1, t32, d33),
             config=k32, closures=cl),
        _dec("past", "decode", "K = 32: table_len 33 is BAD_HEADER", batch(1, [*t32, K[32].id],
             [req_entry(i + 1, i, u64(i)) for i in range(33)]), err("BAD_HEADER"), config=k32, closures=cl),
        _enc("min", "encode", "K = 0: no table, the closure id inline", [req(P, ADD.id, u64(1))],
             ok({"image": batch(1, [], [req_entry(P, 0, u64(1), inline_id=ADD.id)]), "frames": []}),
             config=cfg(table_k=0)),
        _dec("min", "decode", "K = 0: table_len 0 decodes", batch(1, [], [req_entry(P, 0, u64(1), inline_id=ADD.id)]),
             _decoded(1, [], [dreq(P, ADD.id, u64(1))]), config=cfg(table_k=0)),
        _dec("below", "decode", "K = 0: table_len 1 is BAD_HEADER", batch(1, [ADD.id], [one]), err("BAD_HEADER"),
             config=cfg(table_k=0)),
        _land("at", "land", "K = 4: table_len 4 lands",
              [(batch(1, [ADD.id, *(k.id for k in K[:3])], [one]), 1)], [{"seq": 1, "count": 1}],
              closures=standard(*K[:4])),
        _land("past", "land", "K = 4: table_len 5 is answered BAD_HEADER",
              [(batch(1, [ADD.id, *(k.id for k in K[:4])], [one]), 1)], [err_rsp(1, code("BAD_HEADER"))],
              closures=standard(*K[:4])),
    ]


def count() -> list[Probe]:
    c4k = cfg(slot_size=4096)
    nop = req_entry(1, 0)
    img255 = batch(1, [NOP.id], [nop] * 255)
    one = req_entry(P, 0, u64(1))
    return [
        _dec("min", "decode", "count 1 decodes", batch(1, [ADD.id], [one]), _decoded(1, [ADD.id], [dreq(P, ADD.id,
             u64(1))])),
        _dec("below", "decode", "count 0 is BAD_HEADER", batch(1, [ADD.id], [one], count=0), err("BAD_HEADER")),
        _land("below", "land", "count 0 is answered BAD_HEADER, and consumes its seq",
              [(batch(1, [ADD.id], [one], count=0), 1), (batch(2, [ADD.id], [one]), 2)],
              [err_rsp(1, code("BAD_HEADER")), {"seq": 2, "count": 1}]),
        _dec("at", "decode", "count 255 decodes", img255, _decoded(1, [NOP.id], [dreq(1, NOP.id)] * 255), config=c4k),
        _enc("at", "encode", "255 requests in one batch", [req(1, NOP.id)] * 255,
             ok({"image": img255, "frames": []}), config=c4k),
        _enc("past", "encode", "256 requests do not make one batch: OVERSIZE", [req(1, NOP.id)] * 256,
             err("OVERSIZE"), config=c4k),
        Probe(side="past", via="pack", title="256 requests that fit the slot still make batches of 255 and 1",
              op="pack_requests", args={"config": c4k, "closures": CL, "requests": [req(1, NOP.id)] * 256},
              expect=ok({"counts": [255, 1]}), clauses=("SLOT-10",)),
        Probe(side="at", via="rsp-encode", title="a response batch of 255 entries", op="encode_response_batch",
              args={"config": c4k, "seq": 1, "slot_id": 0, "responses": [{"status": 0, "result": b"", "body": None}]
                    * 255}, expect=ok({"image": rsp_batch(1, [rsp_entry(0)] * 255), "frames": []})),
        Probe(side="past", via="rsp-encode", title="256 responses make no response batch", op="encode_response_batch",
              args={"config": c4k, "seq": 1, "slot_id": 0, "responses": [{"status": 0, "result": b"", "body": None}]
                    * 256}, expect=err("BAD_ARGUMENT"), clauses=("DEC-8", "RSP-2")),
        Probe(side="below", via="rsp-encode", title="an empty response batch is refused", op="encode_response_batch",
              args={"config": c4k, "seq": 1, "slot_id": 0, "responses": []}, expect=err("BAD_ARGUMENT"),
              clauses=("DEC-8", "RSP-2")),
        Probe(side="at", via="rsp-decode", title="a response batch of 255 entries decodes", op="decode_response_batch",
              args={"config": c4k, "results": [""] * 255, "image": rsp_batch(1, [rsp_entry(0)] * 255)},
              expect=ok({"seq": 1, "status": 0, "detail": "", "responses": [dresp(0)] * 255})),
    ]


def words() -> list[Probe]:
    pairs = [struct.pack("<QQd8s", i, 2 * i, 0.5 * i, bytes([i]) * 8) for i in range(25)]
    full = batch(1, [PAIR.id], [req_entry(P, 0, p) for p in pairs])  # 1024 bytes: words 128 = S / 8
    assert len(full) == 1024
    over = batch(1, [PAIR.id], [req_entry(P, 0, p) for p in pairs] + [req_entry(P, 0, pairs[0])])  # words 129
    over_slot = HDR.pack(1, 129, 25, 1) + full[8:]  # the slot holds S bytes; the header claims S + 8
    h2 = HDR.pack(1, 2, 1, 0)  # words 2: header and trailer, nothing between
    h1 = HDR.pack(1, 1, 1, 0)
    r_full = cbor(bytes(995))  # a response entry of 1008 bytes: words 128
    r_img = rsp_batch(1, [rsp_entry(0, b"", r_full)])
    r_over = rsp_batch(1, [rsp_entry(0, b"", cbor(bytes(1003)))])  # words 129
    return [
        _dec("at", "decode", "words = S / 8: an image that fills the slot decodes", full,
             _decoded(1, [PAIR.id], [dreq(P, PAIR.id, p) for p in pairs])),
        _dec("past", "decode", "words = S / 8 + 1 is BAD_HEADER", over, err("BAD_HEADER")),
        _dec("min", "decode", "words 2 with count 1: the entry runs into the trailer, TRUNCATED", h2 + h2,
             err("TRUNCATED")),
        _dec("below", "decode", "words 1 (fewer than header and trailer) is BAD_HEADER", h1 + h1, err("BAD_HEADER")),
        _dec("below", "decode-0", "words 0 is BAD_HEADER", HDR.pack(1, 0, 1, 0) * 2, err("BAD_HEADER")),
        _land("at", "land", "a batch that fills the slot lands", [(full, 1)], [{"seq": 1, "count": 25}]),
        _dec("past", "decode-slot", "a full slot whose header claims words = S / 8 + 1 is BAD_HEADER", over_slot,
             err("BAD_HEADER")),
        _land("past", "land", "words = S / 8 + 1 is answered BAD_HEADER", [(over_slot, 1)],
              [err_rsp(1, code("BAD_HEADER"))]),
        Probe(side="at", via="rsp-decode", title="a response that fills the slot decodes", op="decode_response_batch",
              args={"config": cfg(), "results": ["cbor"], "image": r_img},
              expect=ok({"seq": 1, "status": 0, "detail": "", "responses": [dresp(0, b"", r_full)]})),
        Probe(side="past", via="rsp-decode", title="a response of words = S / 8 + 1 is BAD_HEADER",
              op="decode_response_batch", args={"config": cfg(), "results": ["cbor"], "image": r_over},
              expect=err("BAD_HEADER"), clauses=("RSP-6",)),
    ]


def image_length() -> list[Probe]:
    img = batch(1, [ADD.id], [req_entry(P, 0, u64(1))])  # 32 bytes, words 4
    return [
        _dec("at", "decode", "an image exactly as long as its header claims decodes", img,
             _decoded(1, [ADD.id], [dreq(P, ADD.id, u64(1))])),
        _dec("past", "decode", "an image 8 bytes shorter than its header claims is TRUNCATED", img[:24],
             err("TRUNCATED")),
        _dec("past", "decode-16", "a 16-byte image whose header claims 32 bytes is TRUNCATED", img[:16],
             err("TRUNCATED")),
        _dec("past", "decode-7", "7 bytes hold no header: TRUNCATED", img[:7], err("TRUNCATED")),
        _dec("at", "header-only", "8 bytes hold a header: it is judged (words 0: BAD_HEADER, [DEC-1] step 5 before 6)",
             HDR.pack(1, 0, 1, 0), err("BAD_HEADER")),
        _dec("at", "header-only-stale", "8 bytes hold a header: a wrong seq is STALE_SEQUENCE ([DEC-1] step 2)",
             HDR.pack(2, 4, 1, 1), err("STALE_SEQUENCE"), expected_seq=1),
        _land("past", "land-4", "a 4-byte WRITE: TRUNCATED, answered with the seq its 4 bytes carry ([RSP-5])",
              [(U32.pack(1), 1)], [err_rsp(1, code("TRUNCATED"))]),
    ]


def table_fit() -> list[Probe]:
    unknown = 0x0123_4567_89AB_CDEF
    return [
        _dec("at", "decode", "a table that ends exactly at the trailer is read: its unknown id is UNKNOWN_CLOSURE",
             batch(1, [unknown], [], count=1), err("UNKNOWN_CLOSURE")),
        _dec("past", "decode", "a table one id past the trailer is TRUNCATED before its ids are looked up",
             batch(1, [unknown], [], count=1, table_len=2), err("TRUNCATED")),
    ]


def fallback_limit() -> list[Probe]:
    lim = 1000

    def frames(side: str, via: str, title: str, limit: int, f: bytes, expect: Outcome) -> Probe:
        return Probe(side=side, via=via, title=title, op="decode_frames", args={"limit": limit, "data": f},
                     expect=expect, clauses=("FB-3",))

    def fr(n: int) -> dict[str, Any]:
        return {"kind": 1, "slot_id": 0, "seq": 1, "index": 0, "payload": bytes(n)}

    def stub_img(n: int) -> bytes:
        return batch(1, [ECHO.id], [stub(P, 0, n)])

    def rsp(side: str, n: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="rsp-decode", title=f"a FALLBACK response entry announcing {n} bytes, limit {lim}",
                     op="decode_response_batch", args={"config": cfg(fallback_limit=lim), "results": ["cbor"],
                                                       "image": rsp_batch(1, [rsp_entry(1, n=n)])},
                     expect=expect, clauses=("DEC-2",))

    return [
        frames("at", "frames", "a frame payload exactly at the limit is a frame", lim, frame(1, 0, 1, 0, bytes(lim)),
               ok({"frames": [fr(lim)], "buffered": 0})),
        frames("past", "frames", "a payload length one over the limit is OVERSIZE", lim,
               frame(1, 0, 1, 0, bytes(lim + 1)), err("OVERSIZE")),
        frames("min", "frames", "limit 0: an empty payload is a frame", 0, frame(1, 0, 1, 0, b""),
               ok({"frames": [fr(0)], "buffered": 0})),
        frames("below", "frames", "limit 0: a 1-byte payload is OVERSIZE", 0, frame(1, 0, 1, 0, b"\0"),
               err("OVERSIZE")),
        _dec("at", "stub", "a stub announcing exactly the fallback limit decodes", stub_img(lim),
             _decoded(1, [ECHO.id], [dreq(P, ECHO.id, b"", None, lim)]), config=cfg(fallback_limit=lim)),
        _dec("past", "stub", "a stub announcing one byte over the fallback limit is OVERSIZE", stub_img(lim + 1),
             err("OVERSIZE"), config=cfg(fallback_limit=lim)),
        rsp("at", lim, ok({"seq": 1, "status": 0, "detail": "", "responses": [dresp(1, fallback_len=lim)]})),
        rsp("past", lim + 1, err("OVERSIZE")),
        _dec("at", "stub-default", "the default limit, 64 MiB, exactly", stub_img(64 * MIB),
             _decoded(1, [ECHO.id], [dreq(P, ECHO.id, b"", None, 64 * MIB)])),
        _dec("past", "stub-default", "64 MiB + 1 under the default limit is OVERSIZE", stub_img(64 * MIB + 1),
             err("OVERSIZE")),
    ]


def frame_payload_length() -> list[Probe]:
    p = cbor(bytes(986))

    def attach(side: str, via: str, title: str, n: int, expect: Outcome) -> Probe:
        return Probe(side=side, via=via, title=title, op="attach_payload",
                     args={"closures": CL, "closure_id": ECHO.id, "fallback_len": n, "payload": p}, expect=expect)

    return [
        attach("at", "attach", "a payload exactly as long as its stub's payload_len attaches", len(p),
               ok({"captured": b"", "param": p})),
        attach("past", "attach", "a stub announcing one byte more than the frame carries: BAD_FRAME", len(p) + 1,
               err("BAD_FRAME")),
        attach("past", "attach-short", "a stub announcing one byte less than the frame carries: BAD_FRAME",
               len(p) - 1, err("BAD_FRAME")),
        _execute("past", "execute", "a request frame one byte longer than its stub fails that entry (BAD_FRAME)",
                 [(1, [stub(X, 0, len(p) - 1), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                 [{"results": ["cbor", "u64"], "entries": [("BAD_FRAME", b"", b""), ("OK", u64(11), b"")]}],
                 frames=(frame(1, 0, 1, 0, p),)),
        _execute("at", "execute", "a request frame exactly as long as its stub runs",
                 [(1, [stub(X, 0, len(p)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                 # entry 0's result (p) leaves entry 1 no room in the response slot ([RSP-4])
                 [{"results": ["cbor", "u64"], "entries": [("OK", b"", p), ("FALLBACK", b"", u64(11))]}],
                 frames=(frame(1, 0, 1, 0, p),)),
    ]


def layout_width() -> list[Probe]:
    def reg(side: str, spec: str, expect: Outcome) -> Probe:
        d = Desc(f"conformance:limit-{spec}", spec, "u8")
        return Probe(side=side, via="register", title=f"capture layout {spec!r}", op="register",
                     args={"closures": wire([d])}, expect=expect)

    b1 = Desc("conformance:limit-bytes1", "bytes1", "u8")
    return [
        reg("min", "bytes1", ok({})),
        reg("below", "bytes0", err("NOREF")),
        reg("at", "bytes65536", ok({})),
        reg("past", "bytes65537", err("NOREF")),
        Probe(side="min", via="pack", title="pack a bytes1 field", op="pack_capture",
              args={"capture": "u8 bytes1", "values": [7, b"\xAB"]}, expect=ok({"data": b"\x07\xAB"})),
        Probe(side="at", via="pack", title="pack a bytes65536 field", op="pack_capture",
              args={"capture": "bytes65536", "values": [bytes(range(256)) * 256]},
              expect=ok({"data": bytes(range(256)) * 256})),
        Probe(side="past", via="pack", title="a bytes65537 field cannot be packed", op="pack_capture",
              args={"capture": "bytes65537", "values": [bytes(65537)]}, expect=err("NOREF")),
        _enc("min", "encode", "a closure capturing bytes1 sends one byte, padded", [req(P, b1.id, b"\x5A")],
             ok({"image": batch(1, [b1.id], [req_entry(P, 0, b"\x5A")]), "frames": []}),
             closures=standard(b1)),
    ]


def param_width() -> list[Probe]:
    def reg(side: str, spec: str, expect: Outcome) -> Probe:
        d = Desc(f"conformance:limit-{spec}", "", "u8", spec)
        return Probe(side=side, via="register", title=f"serialized parameter {spec!r}", op="register",
                     args={"closures": wire([d])}, expect=expect, clauses=("DEC-7",))

    return [reg("min", "cbor:1", ok({})), reg("below", "cbor:0", err("BAD_ARGUMENT")),
            reg("at", "cbor:65536", ok({})), reg("past", "cbor:65537", err("BAD_ARGUMENT"))]


def capture_values() -> list[Probe]:
    kinds = {"u8": (0, 0xFF, "<B"), "u16": (0, 0xFFFF, "<H"), "u32": (0, 0xFFFF_FFFF, "<I"),
             "u64": (0, (1 << 64) - 1, "<Q"), "i8": (-0x80, 0x7F, "<b"), "i16": (-0x8000, 0x7FFF, "<h"),
             "i32": (-(1 << 31), (1 << 31) - 1, "<i"), "i64": (-(1 << 63), (1 << 63) - 1, "<q")}
    out: list[Probe] = []
    for kind, (lo, hi, fmt) in kinds.items():
        for side, v, good in (("min", lo, True), ("below", lo - 1, False), ("at", hi, True), ("past", hi + 1, False)):
            out.append(Probe(side=side, via=kind, title=f"{kind} value {v}", op="pack_capture",
                             args={"capture": kind, "values": [v]},
                             expect=ok({"data": struct.pack(fmt, v)}) if good else err("BAD_ARGUMENT"),
                             clauses=("ADPT-9",)))
    return out


def error_detail_fit() -> list[Probe]:
    def enc(side: str, n: int) -> Probe:
        text = "d" * (n - 3)  # a text of 256..65535 bytes has a 3-byte CBOR head
        image = error_response(9, code("TORN"), text)
        want = ok({"image": image}) if len(image) <= 1024 else err("(cut freely)")
        return Probe(side=side, via="", title=f"encode_error_response given a detail of {n} CBOR bytes",
                     op="encode_error_response",
                     args={"config": cfg(), "seq": 9, "code": "TORN", "detail": text}, expect=want,
                     check=None if len(image) <= 1024 else _cut_detail, clauses=("CHOICE-1", "ERR-3"))

    return [enc("at", 1004), enc("past", 1005)]


def _cut_detail(c: Case, got: Outcome) -> str | None:
    """A detail too long for the slot is cut as the encoder likes (section 13); the image must still
    be an error response of at most S bytes with the header the spec pins."""
    img = got.get("ok", {}).get("image") if isinstance(got.get("ok"), dict) else None
    if not isinstance(img, bytes):
        return f"expected an image, got {got!r:.80}"
    size = c.args["config"]["slot_size"]
    if not 16 <= len(img) <= size or len(img) % 8 or img[:8] != img[-8:]:
        return f"an error response of {len(img)} bytes does not fit a slot of {size} ([RSP-5])"
    seq, words, count, status = HDR.unpack_from(img)
    if (seq, words, count, status) != (c.args["seq"], len(img) // 8, 0, code(c.args["code"])):
        return f"header {(seq, words, count, status)} ([RSP-5])"
    return None


def cbor_depth() -> list[Probe]:
    def chk(side: str, via: str, title: str, data: bytes, good: bool) -> Probe:
        return Probe(side=side, via=via, title=title, op="check_cbor", args={"data": data},
                     expect=ok({}) if good else err("MALFORMED_CBOR"))

    def arrays(n: int) -> bytes:
        return b"\x81" * n + b"\x00"

    def maps(n: int) -> bytes:
        return b"\xa1\x00" * n + b"\x00"

    def indef(n: int) -> bytes:
        return b"\x9f" * n + b"\x00" + b"\xff" * n

    def mixed(n: int) -> bytes:
        return b"".join(b"\x81" if i % 3 == 0 else b"\xa1\x61k" if i % 3 == 1 else b"\x9f" for i in range(n)) + \
            b"\x00" + b"".join(b"\xff" for i in range(n) if i % 3 == 2)

    def tags(n: int) -> bytes:
        return b"\xd9\x0f\xa0" * n + b"\x00"  # tag 4000, n times

    def echo(side: str, data: bytes, good: bool) -> Probe:
        want = [("OK", b"", data) if good else ("MALFORMED_CBOR", b"", b""), ("OK", u64(11), b"")]
        return _execute(side, "execute", f"a parameter {'at' if good else 'past'} the depth limit, then another entry",
                        [(1, [req_entry(X, 0, b"", data), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                        [{"results": ["cbor", "u64"], "entries": want}])

    return [
        chk("at", "arrays", "an item inside 64 nested arrays", arrays(64), True),
        chk("past", "arrays", "an item inside 65 nested arrays", arrays(65), False),
        chk("at", "maps", "an item inside 64 nested maps", maps(64), True),
        chk("past", "maps", "an item inside 65 nested maps", maps(65), False),
        chk("at", "indefinite", "an item inside 64 nested indefinite-length arrays", indef(64), True),
        chk("past", "indefinite", "an item inside 65 nested indefinite-length arrays", indef(65), False),
        chk("at", "tags", "an item inside 64 nested tags (each tag adds one level, [DEC-6])", tags(64), True),
        chk("past", "tags", "an item inside 65 nested tags", tags(65), False),
        chk("at", "mixed", "64 levels of arrays, maps and indefinite arrays", mixed(64), True),
        chk("past", "mixed", "65 levels of arrays, maps and indefinite arrays", mixed(65), False),
        echo("at", arrays(64), True),
        echo("past", arrays(65), False),
    ]


def cbor_size() -> list[Probe]:
    def chk(side: str, via: str, title: str, data: bytes, good: bool) -> Probe:
        return Probe(side=side, via=via, title=title, op="check_cbor", args={"data": data},
                     expect=ok({}) if good else err("MALFORMED_CBOR"), clauses=("LIM-2",))

    return [
        chk("at", "array", "an array of 300 items, all present", b"\x99\x01\x2c" + b"\x00" * 300, True),
        chk("past", "array", "an array header claiming 301 items, 300 present", b"\x99\x01\x2d" + b"\x00" * 300,
            False),
        chk("at", "bytes", "a 256-byte string, all present", b"\x59\x01\x00" + bytes(256), True),
        chk("past", "bytes", "a byte string claiming 257 bytes, 256 present", b"\x59\x01\x01" + bytes(256), False),
        chk("past", "bytes-huge", "a byte string claiming 2^64 - 1 bytes", b"\x5b" + b"\xff" * 8, False),
        chk("past", "map-huge", "a map claiming 2^32 pairs in 9 bytes", b"\xbb" + struct.pack(">Q", 1 << 32), False),
    ]


def param_length() -> list[Probe]:
    fits = cbor(bytes(985))  # 988 bytes: 24 + align8(8 + 4 + 988) = 1024, exactly full

    def raw(n: int, body: bytes) -> bytes:  # an ECHO entry whose length field says n
        return pad8(U64.pack(P) + U32.pack(n) + body)

    img_at = batch(1, [ECHO.id], [raw(len(fits), fits)])
    img_past = batch(1, [ECHO.id], [raw(len(fits) + 1, fits)])
    assert len(img_at) == len(img_past) == 1024
    u32c = Desc("conformance:limit-u32-cbor", "u32", "cbor", "cbor")
    n_field = batch(1, [u32c.id], [U64.pack(P) + U32.pack(9) + U32.pack(0)])  # n ends exactly at the trailer
    s_img = batch(1, [ECHO.id], [raw(1024, fits)])
    o_img = batch(1, [ECHO.id], [raw(1025, fits)])
    return [
        _dec("at", "decode", "a parameter that ends exactly at the trailer", img_at,
             _decoded(1, [ECHO.id], [dreq(P, ECHO.id, b"", fits)])),
        _dec("past", "decode", "n one byte longer: the parameter runs into the trailer, TRUNCATED", img_past,
             err("TRUNCATED")),
        _dec("past", "n-field", "an entry that ends after its word: the length field is past the trailer, TRUNCATED "
             "(not a length read from the trailer)", batch(0x10000, [ECHO.id], [word(P, 0)]), err("TRUNCATED")),
        _dec("at", "n-field", "a length field that ends exactly at the trailer, n = 0: decoded (its CBOR is checked "
             "when it runs)", n_field, _decoded(1, [u32c.id], [dreq(P, u32c.id, U32.pack(9), b"")]),
             closures=standard(u32c)),
        _dec("at", "decode-s", "n = S, not over S: TRUNCATED (it runs past the trailer), not OVERSIZE", s_img,
             err("TRUNCATED")),
        _dec("past", "decode-s", "n = S + 1 is OVERSIZE (checked before TRUNCATED)", o_img, err("OVERSIZE")),
        _land("past", "land", "n = S + 1 is answered OVERSIZE", [(o_img, 1)], [err_rsp(1, code("OVERSIZE"))]),
        Probe(side="at", via="rsp-decode", title="a response body of n = S: TRUNCATED, not OVERSIZE",
              op="decode_response_batch", args={"config": cfg(), "results": ["cbor"],
                                                "image": rsp_batch(1, [rsp_entry(0, b"", b"", n=1024)])},
              expect=err("TRUNCATED")),
        Probe(side="past", via="rsp-decode", title="a response body of n = S + 1 is OVERSIZE",
              op="decode_response_batch", args={"config": cfg(), "results": ["cbor"],
                                                "image": rsp_batch(1, [rsp_entry(0, b"", b"", n=1025)])},
              expect=err("OVERSIZE")),
    ]


def hello_size() -> list[Probe]:
    def sized(total: int) -> bytes:
        """A hello whose CBOR map is exactly `total` bytes: the seven keys and a `padding` byte string."""
        base = hello()
        pad = total - len(cbor({**base, "padding": b""})) - 4  # a long string's length takes 4 more bytes
        body = cbor({**base, "padding": bytes(pad)})
        assert len(body) == total, (len(body), total)
        return struct.pack("<I", total) + body

    return [
        Probe(side="at", via="hello", title="a hello of exactly 1 MiB (an extra key pads it) is accepted",
              op="decode_hello", args={"data": sized(MIB)}, expect=ok(hello())),
        Probe(side="past", via="prefix-only", title="a length prefix of 1 MiB + 1 is OVERSIZE before any body byte",
              op="decode_hello", args={"data": struct.pack("<I", MIB + 1)}, expect=err("OVERSIZE"),
              clauses=("DEC-5",)),
        Probe(side="past", via="short-body", title="a message one byte shorter than its prefix is TRUNCATED",
              op="decode_hello", args={"data": msg(hello())[:-1]}, expect=err("TRUNCATED"), clauses=("DEC-5",)),
    ]


def hello_fields() -> list[Probe]:
    return [
        _hello("at", "machine", "machine 0xFFFF is accepted", True, machine=0xFFFF),
        _hello("past", "machine", "machine 0x10000 is refused", False, machine=0x10000),
        _hello("at", "threads", "threads 0xFFFF is accepted", True, threads=0xFFFF),
        _hello("past", "threads", "threads 0x10000 is refused", False, threads=0x10000),
        _hello("below", "versions-negative", "versions [-1, 1] are not two unsigned integers", False, versions=[-1, 1]),
        _hello("below", "versions-bool", "versions [true, true] are not integers ([DEC-5] step 7)", False,
               versions=[True, True]),
        _hello("min", "versions-zero", "versions [0, 1] are two unsigned integers", True, versions=[0, 1]),
    ]


def trustee_runs() -> list[Probe]:
    """[SHAPE-4]: a run has count >= 1, ends at or before thread `threads - 1`, starts after a gap."""
    def probe(side: str, via: str, title: str, runs: list[list[int]], accepted: bool) -> Probe:
        want = {**hello(threads=8), "trustees": runs}
        return Probe(side=side, via=via, title=title, op="decode_hello", args={"data": msg(want)},
                     expect=ok(want) if accepted else err("BAD_HEADER"), clauses=("DEC-5",))
    return [
        probe("min", "count", "a run of one thread is accepted", [[3, 1]], True),
        probe("below", "count", "a run of no thread is refused", [[3, 0]], False),
        probe("at", "end", "a run ending at thread 7 of 8 is accepted", [[5, 3]], True),
        probe("past", "end", "a run reaching thread 8 of 8 is refused", [[5, 4]], False),
        probe("at", "gap", "a gap of one thread between runs is accepted", [[0, 2], [3, 1]], True),
        probe("past", "gap", "runs that touch (no gap) are refused", [[0, 2], [2, 1]], False),
    ]


def shape_slot_ids() -> list[Probe]:
    """[LIM-3]: every machine of a shape needs at most 65536 ids. Machine 0 of 32767 threads with one
    trustee, beside two one-thread client-only machines, needs (32767 + 2) * 1 + 32767 * 1 = 65536;
    one thread more needs 65538. The probe asks for a small machine's ids, so the answer stays short."""
    def shape(t0: int) -> list[dict[str, Any]]:
        return [{"threads": t0, "trustees": [[0, 1]]}, {"threads": 1, "trustees": []},
                {"threads": 1, "trustees": []}]
    return [
        Probe(side="at", via="", title="a machine needing exactly 65536 ids: the shape is valid", op="shape_slots",
              args={"shape": shape(32767), "machine": 1},
              expect=ok({"count": 1, "slots": [["response", 0, 0, 0]]}), clauses=("SHAPE-2",)),
        Probe(side="past", via="", title="a machine needing 65538 ids: BAD_ARGUMENT", op="shape_slots",
              args={"shape": shape(32768), "machine": 1}, expect=err("BAD_ARGUMENT")),
    ]


def detail_length() -> list[Probe]:
    def img(n: int, detail: bytes, spare: int = 0) -> bytes:
        body = pad8(U32.pack(n) + detail) + bytes(spare)
        h = HDR.pack(7, (16 + len(body)) // 8, 0, code("TORN"))
        return h + body + h

    text = cbor("trailer differs")  # 16 bytes: u32 n and the detail take 20, padded to 24
    exact = cbor("abc")  # 4 bytes: u32 n and the detail take 8, no padding

    def dec(side: str, via: str, title: str, image: bytes, expect: Outcome) -> Probe:
        return Probe(side=side, via=via, title=title, op="decode_response_batch",
                     args={"config": cfg(), "results": ["u64"], "image": image}, expect=expect,
                     clauses=("DEC-2", "ERR-3"))

    return [
        dec("min", "", "an error response with n = 0: an empty detail", img(0, b""),
            ok({"seq": 7, "status": code("TORN"), "responses": [], "detail": ""})),
        dec("below", "", "an error response with no room for n: TRUNCATED", HDR.pack(7, 2, 0, code("TORN")) * 2,
            err("TRUNCATED")),
        dec("at", "", "a detail that ends exactly where its padding does", img(len(text), text),
            ok({"seq": 7, "status": code("TORN"), "responses": [], "detail": "trailer differs"})),
        dec("at", "exact", "a detail that ends exactly at the trailer, no padding", img(len(exact), exact),
            ok({"seq": 7, "status": code("TORN"), "responses": [], "detail": "abc"})),
        dec("past", "", "n one longer than the bytes before the trailer: TRUNCATED", img(len(text) + 5, text),
            err("TRUNCATED")),
        dec("past", "spare", "8 spare bytes after the padded detail: BAD_HEADER", img(len(text), text, 8),
            err("BAD_HEADER")),
    ]


def seq_range() -> list[Probe]:
    top = 0xFFFFFFFF
    one = [req(P, ADD.id, u64(1))]
    img_top = batch(top, [ADD.id], [req_entry(P, 0, u64(1))])

    def nxt(side: str, via: str, s: int, want: int) -> Probe:
        return Probe(side=side, via=via, title=f"the seq after {s:#x} is {want:#x}", op="next_seq", args={"seq": s},
                     expect=ok({"seq": want}))

    def ersp(side: str, s: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="error-response", title=f"an error response of seq {s:#x} ([DEC-8]: any u32)",
                     op="encode_error_response", args={"config": cfg(), "seq": s, "code": "TORN", "detail": "x"},
                     expect=expect, clauses=("DEC-8", "RSP-5"))

    def fr(side: str, s: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="frame", title=f"a frame of seq {s:#x}", op="encode_frame",
                     args={"kind": 1, "slot_id": 0, "seq": s, "index": 0, "payload": b"x"}, expect=expect,
                     clauses=("FB-3",))

    return [
        nxt("min", "next", 1, 2),
        nxt("at", "next-wrap", top, 1),
        nxt("at", "next", top - 1, top),
        _enc("at", "encode", "seq 0xFFFFFFFF is a batch's seq", one, ok({"image": img_top, "frames": []}), seq=top),
        _enc("past", "encode", "seq 2^32 is not a u32", one, err("BAD_ARGUMENT"), seq=top + 1),
        _enc("min", "encode", "seq 1 is a batch's seq", one,
             ok({"image": batch(1, [ADD.id], [req_entry(P, 0, u64(1))]), "frames": []}), seq=1),
        _enc("below", "encode", "seq 0 never names a batch", one, err("BAD_ARGUMENT"), seq=0),
        _dec("at", "decode", "seq 0xFFFFFFFF with the immediate's 0xFFFF", img_top,
             _decoded(top, [ADD.id], [dreq(P, ADD.id, u64(1))]), expected_seq=top, imm_seq16=0xFFFF),
        _land("below", "land", "an image of seq 0 never lands: STALE_SEQUENCE, and seq 1 still does",
              [(batch(0, [ADD.id], [req_entry(P, 0, u64(1))]), 0), (batch(1, [ADD.id], [req_entry(P, 0, u64(1))]), 1)],
              [err_rsp(0, code("STALE_SEQUENCE")), {"seq": 1, "count": 1}]),
        Probe(side="at", via="imm", title="the immediate carries the low 16 bits of seq 0xFFFFFFFF", op="make_imm",
              args={"slot_id": 3, "seq": top}, expect=ok({"imm": 0x0003_FFFF, "parsed": [3, 0xFFFF]})),
        Probe(side="at", via="rsp-encode", title="a response of seq 0xFFFFFFFF", op="encode_response_batch",
              args={"config": cfg(), "seq": top, "slot_id": 0, "responses": [{"status": 0, "result": b"",
                                                                              "body": None}]},
              expect=ok({"image": rsp_batch(top, [rsp_entry(0)]), "frames": []})),
        fr("at", top, ok({"frame": frame(1, 0, top, 0, b"x")})),
        fr("min", 0, ok({"frame": frame(1, 0, 0, 0, b"x")})),
        ersp("at", top, ok({"image": error_response(top, code("TORN"), "x")})),
        ersp("min", 0, ok({"image": error_response(0, code("TORN"), "x")})),
        ersp("past", top + 1, err("BAD_ARGUMENT")),
        fr("past", top + 1, err("BAD_ARGUMENT")),
    ]


def slot_id() -> list[Probe]:
    big = cbor(bytes(986))  # needs the fallback ([FB-1])

    def imm(side: str, sid: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="imm", title=f"slot id {sid:#x} in an immediate", op="make_imm",
                     args={"slot_id": sid, "seq": 5}, expect=expect)

    r_big = cbor(bytes(1006))  # a response entry of 1016 bytes: a response frame ([RSP-4])

    def rsp(side: str, sid: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="rsp-encode", title=f"response slot id {sid:#x} in a response frame",
                     op="encode_response_batch", args={"config": cfg(), "seq": 1, "slot_id": sid, "responses": [
                         {"status": 0, "result": b"", "body": r_big}]}, expect=expect, clauses=("DEC-8", "RSP-4"))

    def fr(side: str, sid: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="frame", title=f"slot id {sid:#x} in a frame header", op="encode_frame",
                     args={"kind": 2, "slot_id": sid, "seq": 1, "index": 0, "payload": b""}, expect=expect,
                     clauses=("FB-3",))

    return [
        imm("min", 0, ok({"imm": 5, "parsed": [0, 5]})),
        imm("at", 0xFFFF, ok({"imm": 0xFFFF_0005, "parsed": [0xFFFF, 5]})),
        imm("past", 0x10000, err("BAD_ARGUMENT")),
        fr("at", 0xFFFF, ok({"frame": frame(2, 0xFFFF, 1, 0, b"")})),
        fr("past", 0x10000, err("BAD_ARGUMENT")),
        _enc("at", "encode", "a request frame of slot 0xFFFF", [req(P, ECHO.id, b"", big)],
             ok({"image": batch(1, [ECHO.id], [stub(P, 0, len(big))]), "frames": [frame(1, 0xFFFF, 1, 0, big)]}),
             slot_id=0xFFFF),
        _enc("past", "encode", "slot id 0x10000 cannot name a request frame's slot", [req(P, ECHO.id, b"", big)],
             err("BAD_ARGUMENT"), slot_id=0x10000),
        _enc("past", "encode-no-frame", "slot id 0x10000 is refused even when no frame needs it ([DEC-8])",
             [req(P, ADD.id, u64(1))], err("BAD_ARGUMENT"), slot_id=0x10000),
        rsp("at", 0xFFFF, ok({"image": rsp_batch(1, [rsp_entry(1, n=len(r_big))]),
                              "frames": [frame(2, 0xFFFF, 1, 0, r_big)]})),
        rsp("past", 0x10000, err("BAD_ARGUMENT")),
    ]


def frame_index() -> list[Probe]:
    def fr(side: str, index: int, expect: Outcome) -> Probe:
        return Probe(side=side, via="frame", title=f"entry index {index:#x} in a frame header", op="encode_frame",
                     args={"kind": 1, "slot_id": 1, "seq": 1, "index": index, "payload": b"p"}, expect=expect)

    return [fr("at", 0xFFFF, ok({"frame": frame(1, 1, 1, 0xFFFF, b"p")})), fr("past", 0x10000, err("BAD_ARGUMENT"))]


def trust_counter() -> list[Probe]:
    def mint(side: str, via: str, machine: int, thread: int, counter: int, expect: Outcome) -> Probe:
        return Probe(side=side, via=via, title=f"mint after counter {counter:#x} on {machine:#x}.{thread:#x}",
                     op="mint", args={"machine": machine, "thread": thread, "counter": counter}, expect=expect)

    return [
        mint("min", "mint", 1, 2, 0, ok({"id": (1 << 48) | (2 << 32) | 1})),
        mint("at", "mint", 1, 2, 0xFFFF_FFFE, ok({"id": (1 << 48) | (2 << 32) | 0xFFFF_FFFF})),
        mint("past", "mint", 1, 2, 0xFFFF_FFFF, err("BAD_ARGUMENT")),
        mint("at", "fields", 0xFFFF, 0xFFFF, 0, ok({"id": 0xFFFF_FFFF_0000_0001})),
        mint("min", "fields", 0, 0, 0, ok({"id": 1})),
        mint("past", "machine", 0x10000, 0, 0, err("BAD_ARGUMENT")),
        mint("past", "thread", 0, 0x10000, 0, err("BAD_ARGUMENT")),
    ]


def pointer() -> list[Probe]:
    return [
        _enc("at", "encode", "pointer 2^48 - 1, the largest", [req(TOP48, ADD.id, u64(1))],
             ok({"image": batch(1, [ADD.id], [req_entry(TOP48, 0, u64(1))]), "frames": []})),
        _enc("past", "encode", "pointer 2^48 does not fit the request word", [req(1 << 48, ADD.id, u64(1))],
             err("BAD_ARGUMENT")),
        _enc("min", "encode", "pointer 0 (what entrust sends)", [req(0, ENTRUST.id, u64(A1), cbor(5))],
             ok({"image": batch(1, [ENTRUST.id], [req_entry(0, 0, u64(A1), cbor(5))]), "frames": []})),
        _dec("at", "decode", "a pointer of all ones is 2^48 - 1, apart from ref and flags",
             batch(1, [ADD.id, NOP.id], [req_entry(TOP48, 1), req_entry(TOP48, 0, u64(2))]),
             _decoded(1, [ADD.id, NOP.id], [dreq(TOP48, NOP.id), dreq(TOP48, ADD.id, u64(2))])),
        _execute("at", "execute", "a property whose pointer is 2^48 - 1 runs its requests",
                 [(1, [req_entry(TOP48, 0, u64(5)), req_entry(TOP48, 1)], [ADD.id, GET.id])],
                 [{"results": ["u64", "cbor"], "entries": [("OK", u64(15), b""), ("OK", b"", cbor(15))]}],
                 pointer=TOP48),
    ]


def rsp_placement() -> list[Probe]:
    s = 1024
    at0 = cbor(bytes(981))  # 984 bytes: entry 992; 16 + 992 + 8 * 2 = 1024 = S: inline
    past0 = cbor(bytes(982))  # 985 bytes: entry 1000 > the bound: FALLBACK
    small = {"status": 0, "result": b"", "body": None}

    def enc(side: str, via: str, title: str, rs: list[dict[str, Any]], image: bytes, frames: list[bytes]) -> Probe:
        return Probe(side=side, via=via, title=title, op="encode_response_batch",
                     args={"config": cfg(slot_size=s), "seq": 4, "slot_id": 6, "responses": rs},
                     expect=ok({"image": image, "frames": frames}))

    first = [{"status": 0, "result": b"", "body": at0}, small, small]
    firstp = [{"status": 0, "result": b"", "body": past0}, small, small]
    mid = [small, {"status": 0, "result": b"", "body": at0}, small]
    midp = [small, {"status": 0, "result": b"", "body": past0}, small]
    err_at = cbor("e" * 981)  # 984 bytes: an error entry of 992 bytes, as `at0`
    err_past = cbor("e" * 982)  # 985 bytes: 1000
    e_at = [{"status": code("CLOSURE_RAISED"), "result": b"", "body": err_at}, small, small]
    e_past = [{"status": code("CLOSURE_RAISED"), "result": b"", "body": err_past}, small, small]
    full = [small] * 126  # 16 + 126 * 8 = 1024: the most 8-byte entries a slot holds
    many_at, many_past = cbor(bytes(925)), cbor(bytes(933))  # entries of 936 and 944 bytes, then 9 more
    big_at, big_past = 997, 998  # BIG returns bytes(n): 1000 / 1001 bytes of CBOR, one entry of 1008 / 1016
    return [
        enc("at", "all-small", "126 entries of 8 bytes fill the slot exactly", full, rsp_batch(4, [rsp_entry(0)] * 126),
            []),
        enc("at", "many-after", "entry 0 of 10 with 9 entries reserved after it (8 bytes each): inline",
            [{"status": 0, "result": b"", "body": many_at}, *[small] * 9],
            rsp_batch(4, [rsp_entry(0, b"", many_at), *[rsp_entry(0)] * 9]), []),
        enc("past", "many-after", "8 bytes more: the 9 reservations no longer fit, entry 0 travels as a frame",
            [{"status": 0, "result": b"", "body": many_past}, *[small] * 9],
            rsp_batch(4, [rsp_entry(1, n=len(many_past)), *[rsp_entry(0)] * 9]), [frame(2, 6, 4, 0, many_past)]),
        enc("at", "first", "entry 0 of 3 ends 16 bytes before S: inline", first,
            rsp_batch(4, [rsp_entry(0, b"", at0), rsp_entry(0), rsp_entry(0)]), []),
        enc("past", "first", "one byte more and entry 0 travels as a frame", firstp,
            rsp_batch(4, [rsp_entry(1, n=len(past0)), rsp_entry(0), rsp_entry(0)]), [frame(2, 6, 4, 0, past0)]),
        enc("at", "middle", "entry 1 of 3 at the bound: inline", mid,
            rsp_batch(4, [rsp_entry(0), rsp_entry(0, b"", at0), rsp_entry(0)]), []),
        enc("past", "middle", "entry 1 of 3 one byte past the bound: FALLBACK", midp,
            rsp_batch(4, [rsp_entry(0), rsp_entry(1, n=len(past0)), rsp_entry(0)]), [frame(2, 6, 4, 1, past0)]),
        enc("at", "error", "an error entry at the bound keeps its detail", e_at,
            rsp_batch(4, [rsp_entry(code("CLOSURE_RAISED"), b"", err_at), rsp_entry(0), rsp_entry(0)]), []),
        enc("past", "error", "an error entry past the bound keeps its status, its detail dropped (n = 0)", e_past,
            rsp_batch(4, [rsp_entry(code("CLOSURE_RAISED"), n=0), rsp_entry(0), rsp_entry(0)]), []),
        _execute("at", "execute", "a result that fills the response slot to the byte comes inline",
                 [(1, [req_entry(X, 0, b"", cbor(big_at))], [BIG.id])],
                 [{"results": ["cbor"], "entries": [("OK", b"", cbor(bytes(big_at)))]}]),
        _execute("past", "execute", "one byte more and it comes as a response frame",
                 [(1, [req_entry(X, 0, b"", cbor(big_past))], [BIG.id])],
                 [{"results": ["cbor"], "entries": [("FALLBACK", b"", cbor(bytes(big_past)))]}]),
    ]


def fb_threshold() -> list[Probe]:
    def pair(via: str, s: int, n: int, k: int = 4) -> list[Probe]:
        """The largest parameter of `n` bytes that stays inline at S = `s`, and one byte more."""
        p_at, p_past = cbor_of_len(n), cbor_of_len(n + 1)
        table = [ECHO.id] if k else []
        ref = 0
        inline_id = None if k else ECHO.id
        img_at = batch(1, table, [req_entry(P, ref, b"", p_at, inline_id=inline_id)])
        assert len(img_at) == s, (len(img_at), s)
        img_past = batch(1, table, [stub(P, ref, len(p_past), inline_id=inline_id)])
        c = cfg(slot_size=s, table_k=k)
        return [
            _enc("at", via, f"S = {s}, K = {k}: a {n}-byte parameter exactly fills a batch "
                 "of its own: inline", [req(P, ECHO.id, b"", p_at)], ok({"image": img_at, "frames": []}), config=c),
            _enc("past", via, f"S = {s}, K = {k}: {n + 1} bytes: a stub and a frame",
                 [req(P, ECHO.id, b"", p_past)],
                 ok({"image": img_past, "frames": [frame(1, 0, 1, 0, p_past)]}), config=c),
        ]

    at_exec = cbor_of_len(988)
    return [
        *pair("s1024", 1024, 988),
        *pair("s64", 64, 28),
        *pair("s65536", 65536, 65500),
        *pair("k0", 1024, 988, k=0),
        _execute("at", "execute", "a request exactly at the threshold is inline and runs",
                 [(1, [req_entry(X, 0, b"", at_exec)], [ECHO.id])],
                 [{"results": ["cbor"], "entries": [("OK", b"", at_exec)]}]),
    ]


def cbor_of_len(n: int) -> bytes:
    """A deterministic CBOR byte string whose encoding is exactly `n` bytes (n >= 1)."""
    for head in (1, 2, 3, 5, 9):
        b = cbor(bytes(max(0, n - head)))
        if len(b) == n:
            return b
    raise ValueError(f"no byte string encodes to {n} bytes")


#: The table. One row per limit of SPEC.md; `cases()` generates both sides of each.
LIMITS: tuple[Limit, ...] = (
    Limit(name="slot-size", clauses=("SLOT-3", "LIM-1"), value="64 <= S <= 65536, S a multiple of 64", lower=True,
          probes=slot_size),
    Limit(name="table-k", clauses=("VT-1", "VT-2", "LIM-1"), value="0 <= K <= 32; table_len <= K", lower=True,
          probes=table_k),
    Limit(name="count", clauses=("SLOT-6", "LIM-1"), value="1 <= count <= 255 per batch", lower=True, probes=count),
    Limit(name="words", clauses=("SLOT-4", "SLOT-8", "LAND-5"), value="2 <= words <= S / 8", lower=True,
          probes=words),
    Limit(name="image-length", clauses=("SLOT-8", "LIM-2"), value="the image holds the 8 * words bytes its header "
          "claims", lower=False, probes=image_length),
    Limit(name="fallback-limit", clauses=("FB-6", "LIM-2", "BOOT-2"), value="payload length <= the fallback limit "
          "(default 64 MiB)", lower=True, probes=fallback_limit),
    Limit(name="frame-payload-length", clauses=("FB-6", "FB-2"), value="a frame's payload is exactly its stub's "
          "payload_len", lower=False, probes=frame_payload_length),
    Limit(name="layout-width", clauses=("LAYOUT-1",), value="bytesN with 1 <= N <= 65536", lower=True,
          probes=layout_width),
    Limit(name="param-width", clauses=("LAYOUT-2",), value="cbor:M with 1 <= M <= 65536", lower=True,
          probes=param_width),
    Limit(name="capture-values", clauses=("LAYOUT-1",), value="each integer field holds its type's range",
          lower=True, probes=capture_values),
    Limit(name="table-fit", clauses=("SLOT-8", "DEC-1"), value="the table ends at or before the trailer",
          lower=False, probes=table_fit),
    Limit(name="error-detail-fit", clauses=("RSP-5",), value="a given detail is kept exactly while 16 + align8(4 "
          "+ n) <= S", lower=False, probes=error_detail_fit),
    Limit(name="cbor-depth", clauses=("SER-2",), value="nesting at most 64 deep", lower=False, probes=cbor_depth),
    Limit(name="cbor-size", clauses=("SER-2",), value="an item's lengths within the bytes given", lower=False,
          probes=cbor_size),
    Limit(name="param-length", clauses=("REQ-5", "LIM-2"), value="n ends at or before the trailer (TRUNCATED) and "
          "n <= S (OVERSIZE)", lower=False, probes=param_length),
    Limit(name="hello-size", clauses=("BOOT-4",), value="a bootstrap message is at most 1 MiB", lower=False,
          probes=hello_size),
    Limit(name="hello-fields", clauses=("BOOT-2",), value="machine and threads are 16-bit; versions two unsigned "
          "integers", lower=True,
          probes=hello_fields),
    Limit(name="trustee-runs", clauses=("SHAPE-4",), value="each run of a hello's trustees: count >= 1, "
          "first + count <= threads, a gap before the next", lower=True, probes=trustee_runs),
    Limit(name="shape-slot-ids", clauses=("LIM-3", "SLOT-5"), value="every machine of a shape needs at most 65536 "
          "slot ids", lower=False, probes=shape_slot_ids),
    Limit(name="detail-length", clauses=("RSP-5",), value="an error response's detail: 0 <= n, 8 + align8(4 + n) "
          "= L - 8", lower=True, probes=detail_length),
    Limit(name="seq", clauses=("LAND-4",), value="1 <= seq <= 0xFFFFFFFF, wrapping to 1; 0 names no batch",
          lower=True, probes=seq_range),
    Limit(name="slot-id", clauses=("SLOT-5", "LAND-2", "LIM-1"), value="slot ids are 16 bits", lower=False,
          probes=slot_id),
    Limit(name="frame-index", clauses=("FB-3",), value="a frame's entry index is 16 bits", lower=False,
          probes=frame_index),
    Limit(name="trust-counter", clauses=("TRUST-1",), value="counter 1 .. 2^32 - 1, machine and thread 16 bits",
          lower=False, probes=trust_counter),
    Limit(name="pointer", clauses=("REQ-1", "LIM-1"), value="property pointers are 48 bits", lower=False,
          probes=pointer),
    Limit(name="rsp-placement", clauses=("RSP-4",), value="entry i inline iff 16 + placed + 8 * (count - 1 - i) <= S",
          lower=False, probes=rsp_placement),
    Limit(name="fb-threshold", clauses=("FB-1",), value="fallback iff 24 + align8(8 + C + p) > S", lower=False,
          probes=fb_threshold),
)


def table_markdown() -> str:
    """The table as Markdown: limit, clauses, value, the ops that probe it, and its cases per side."""
    lines = ["| limit | clauses | value | ops | cases (min / below / at / past) |", "|---|---|---|---|---|"]
    for row in LIMITS:
        probes = row.probes()
        ops = ", ".join(dict.fromkeys(f"`{p.op}`" for p in probes))
        per = " / ".join(str(sum(p.side == s for p in probes)) for s in SIDES)
        lines.append(f"| {row.name} | {', '.join(row.clauses)} | {row.value} | {ops} | {per} |")
    return "\n".join(lines)


def row_cases(row: Limit) -> list[Case]:
    """The cases of one row, ids `limit.<name>.<side>[.<via>]`; checks the row probes its sides."""
    probes = row.probes()
    sides = {p.side for p in probes}
    need = {"at", "past"} | ({"min", "below"} if row.lower else set())
    if not need <= sides or not sides <= set(SIDES):
        raise ValueError(f"limit {row.name}: probes {sorted(sides)}, needs {sorted(need)}")
    out: list[Case] = []
    for p in probes:
        cid = f"limit.{row.name}.{p.side}" + (f".{p.via}" if p.via else "")
        clauses = tuple(dict.fromkeys((*row.clauses, *(p.clauses or ()))))
        tags = ("limit", f"limit:{row.name}", "codec" if p.op not in ("land", "execute") else "trustee")
        out.append(case(cid, f"{row.name} ({row.value}): {p.title}", clauses, p.op, dict(p.args), p.expect,
                        tags=tags, check=p.check))
    return out


def cases() -> list[Case]:
    out: list[Case] = []
    for row in LIMITS:
        out += row_cases(row)
    return out
