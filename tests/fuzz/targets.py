"""Fuzz targets: every decoder of the reference, and the trustee landing path, each with an oracle.

A target takes arbitrary bytes, reads from them the arguments of one adapter op (section 11: a
config, an image, a frame stream, a hello, ...) and runs that op on the reference
(`conformance.targets.reference`, i.e. `gossamer`) and on the suite's independent reader
(`conformance.oracle`, written from SPEC.md alone). It fails (a finding) when

- the reference raises anything but a `GossamerError` (a bare exception escaping a decoder, [SEC-1]),
- the two outcomes differ: another decoded value, or another error code ([DEC-1] .. [DEC-8]),
- or a target's own extra check fails (re-encoding a decoded CBOR item, [SER-4]; a trustee's
  answer that the oracle cannot read back, [RSP-5]).

The byte layout of each input is documented per target; seeds are built from protocol/vectors
(`tests.fuzz.seeds`). Atheris drives these functions in `benchmarks/fuzz_run.py`; the test suite
replays the corpus and runs a short Hypothesis search (`tests/fuzz/test_fuzz.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from conformance.catalogue_closures import standard
from conformance.oracle import codes as ocodes
from conformance.oracle import layout as olayout
from conformance.oracle import response as oresponse
from conformance.oracle import slot as oslot
from conformance.oracle.errors import Rejected
from conformance.oracle.target import OracleTarget
from conformance.targets.reference import ReferenceTarget
from gossamer import serial
from gossamer.bootstrap import check_rdma, decode_message, hello_from_map
from gossamer.errors import GossamerError
from gossamer.vectors import load

ORACLE = OracleTarget()
REFERENCE = ReferenceTarget()

SIZES = (64, 256, 1024, 4096)
KS = (0, 1, 4, 32)
LIMITS = (0, 16, 1 << 20, 64 << 20)


def _closures() -> list[dict[str, Any]]:
    """The vectors' closures (so that vector images decode), ids as integers."""
    seen: dict[int, dict[str, Any]] = {}
    for f in load().values():
        for d in f.get("closures", []):
            seen[int(d["id"], 16)] = {**d, "id": int(d["id"], 16)}
    return list(seen.values())


CLOSURES = _closures()
#: the catalogue closures a reference trustee runs (conformance/catalogue_closures.py): the landing target's
RUNNABLE = standard()
BY_NAME = {d["name"]: i for i, d in enumerate(CLOSURES)}


class Finding(AssertionError):
    """The reference and the oracle disagree, or the reference broke [SEC-1]."""


def config(c: int) -> dict[str, int]:
    """One selector byte: bits 0-1 the slot size, 2-3 K, 4-5 the fallback limit."""
    return {"slot_size": SIZES[c & 3], "table_k": KS[(c >> 2) & 3], "fallback_limit": LIMITS[(c >> 4) & 3]}


def config_byte(slot_size: int, table_k: int, fallback_limit: int) -> int:
    """The selector byte of `config` for the nearest listed values (the seeds use it)."""
    def near(xs: tuple[int, ...], v: int) -> int:
        return min(range(len(xs)), key=lambda i: abs(xs[i] - v))
    return near(SIZES, slot_size) | near(KS, table_k) << 2 | near(LIMITS, fallback_limit) << 4


def _norm(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, float):
        return ("nan",) if math.isnan(v) else v
    if isinstance(v, Mapping):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v


def reference(op: str, args: dict[str, Any]) -> dict[str, Any]:
    """The reference's op, with only a GossamerError turned into an answer ([SEC-1])."""
    fn: Callable[[Mapping[str, Any]], Any] = getattr(REFERENCE, f"op_{op}")
    try:
        return {"ok": fn(args)}
    except GossamerError as e:
        return {"error": e.code.name}


def same(op: str, args: dict[str, Any]) -> dict[str, Any]:
    want = _norm(ORACLE.call(op, args))
    got = _norm(reference(op, args))
    if got != want:
        raise Finding(f"{op}: reference {str(got)[:300]} != oracle {str(want)[:300]}")
    return got  # type: ignore[no-any-return]


def _seqs(e: int) -> dict[str, int]:
    return {} if e == 0 else {"expected_seq": e, "imm_seq16": e}


# -- targets: each reads its arguments from the bytes ------------------------------------------------


def request_batch(data: bytes) -> None:
    """[config byte, seq byte (0: no expected seq)] + image ([DEC-1])."""
    if len(data) < 2:
        return
    same("decode_request_batch", {"config": config(data[0]), "closures": CLOSURES, "image": data[2:],
                                  **_seqs(data[1])})


def response_batch(data: bytes) -> None:
    """[config, seq, n, n result selectors (closure index)] + image ([DEC-2])."""
    if len(data) < 3 or len(data) < 3 + data[2] % 16:
        return
    n = data[2] % 16
    results = [CLOSURES[b % len(CLOSURES)]["result"] for b in data[3 : 3 + n]]
    same("decode_response_batch", {"config": config(data[0]), "results": results, "image": data[3 + n :],
                                   **_seqs(data[1])})


def frame_stream(data: bytes) -> None:
    """[limit selector, cut] + stream, fed whole and in two pieces cut there ([DEC-3])."""
    if len(data) < 2:
        return
    limit, stream = (0, 16, 1 << 20, 64 << 20)[data[0] & 3], data[2:]
    whole = same("decode_frames", {"limit": limit, "data": stream})
    cut = data[1] * len(stream) // 255
    pieces = same("decode_frames", {"limit": limit, "chunks": [stream[:cut], stream[cut:]]})
    if "ok" in whole and whole != pieces:  # [DEC-3]: the outcome does not depend on the cut
        raise Finding(f"frames cut at {cut}: {str(pieces)[:200]} != whole {str(whole)[:200]}")


def stub_attach(data: bytes) -> None:
    """[closure index, fallback_len u16 little-endian] + payload ([DEC-4])."""
    if len(data) < 3:
        return
    d = CLOSURES[data[0] % len(CLOSURES)]
    same("attach_payload", {"closures": CLOSURES, "closure_id": d["id"],
                            "fallback_len": int.from_bytes(data[1:3], "little"), "payload": data[3:]})


def hello(data: bytes) -> None:
    """One bootstrap message ([DEC-5]); an accepted hello's RDMA keys checked too ([SEC-2])."""
    got = same("decode_hello", {"data": data})
    if "ok" in got:
        h = hello_from_map(decode_message(data))
        try:
            check_rdma(h, h.threads, h.config.slot_size)
        except GossamerError:
            pass


def cbor_check(data: bytes) -> None:
    """One CBOR item ([DEC-6]); an accepted item re-encodes at once to an item that decodes ([SER-4])."""
    got = same("check_cbor", {"data": data})
    if "ok" in got:
        t0 = time.perf_counter()
        again = serial.dumps(serial.loads(data))
        serial.loads(again)
        if time.perf_counter() - t0 > 1.0:
            raise Finding(f"re-encoding {len(data)} bytes of CBOR took {time.perf_counter() - t0:.1f} s ([SEC-5])")


def layouts(data: bytes) -> None:
    """[n] + n bytes of layout text (latin-1) + captured bytes ([DEC-7], [LAYOUT-4])."""
    if not data:
        return
    n = data[0]
    spec = data[1 : 1 + n].decode("latin-1")
    same("unpack_capture", {"capture": spec, "data": data[1 + n :]})


def _land_view(outcome: dict[str, Any], cfg: dict[str, int]) -> Any:
    """A `land` answer with each error response reduced to its seq and status."""
    if "ok" not in outcome:
        return outcome
    out = []
    for r in outcome["ok"]["results"]:
        if "response" in r:
            rb = oresponse.decode(r["response"], [], oslot.Config.of(cfg), None)
            out.append(("error", rb.seq, rb.status))
        else:
            out.append((r["seq"], r["count"]))
    return out


POINTERS = (8, 16, 0x1000, 0x5000_0000_1000)  # the last is the execute cases' X


def trustee_landing(data: bytes) -> None:
    """[config, seq16 of the immediate] + image, landed on a trustee slot that runs it ([DEC-1],
    [REQ-6], [RSP-5]): the batch-level outcome must be the oracle's, and the answer the trustee
    writes must read back, with the oracle, as that many entries or that batch code."""
    if len(data) < 2:
        return
    cfg = config(data[0])
    image, imm = data[2:], (1 << 16) | data[1]
    land_args = {"config": cfg, "closures": RUNNABLE, "landings": [{"image": image, "imm": imm}]}
    land, want_land = reference("land", land_args), ORACLE.call("land", land_args)
    if _land_view(land, cfg) != _land_view(want_land, cfg):  # error details are free ([ERR-3])
        raise Finding(f"land: reference {str(land)[:300]} != oracle {str(want_land)[:300]}")
    run = reference("execute", {"config": cfg, "closures": RUNNABLE, "properties": [
        {"pointer": p, "value": [1], "first": 1 << 32} for p in POINTERS],
        "batches": [{"image": image, "imm": imm}]})
    if "ok" not in land or "ok" not in run:
        return  # an argument the op refuses ([ADPT-19]): the same on both sides, checked above
    [answer] = land["ok"]["results"]
    [resp] = run["ok"]["responses"]
    if "response" in answer:  # rejected: the trustee's answer is that error response
        try:
            status = oresponse.decode(resp["image"], [], oslot.Config.of(cfg), None).status
        except Rejected as e:
            raise Finding(f"the trustee's error response does not decode: {e}") from None
        want = oresponse.decode(answer["response"], [], oslot.Config.of(cfg), None).status
        if status != want:
            raise Finding(f"batch status {ocodes.name(status)} != oracle {ocodes.name(want)}")
        return
    b = ORACLE.call("decode_request_batch", {"config": cfg, "closures": RUNNABLE, "image": image})
    specs = [olayout.Result.parse(next(d["result"] for d in RUNNABLE if d["id"] == r["closure_id"]))
             for r in b["ok"]["requests"]]
    try:
        rb = oresponse.decode(resp["image"], specs, oslot.Config.of(cfg), answer["seq"])
    except Rejected as e:
        raise Finding(f"the trustee's response does not decode: {e}") from None
    if rb.status or len(rb.responses) != answer["count"]:
        raise Finding(f"response of {len(rb.responses)} entries (status {rb.status}) for {answer['count']}")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "request_batch": request_batch,
    "response_batch": response_batch,
    "frame_stream": frame_stream,
    "stub_attach": stub_attach,
    "hello": hello,
    "cbor_check": cbor_check,
    "layouts": layouts,
    "trustee_landing": trustee_landing,
}
