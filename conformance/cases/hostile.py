"""Hostile input: forged headers, garbage in a slot, lengths that point nowhere ([ERR-1], [LIM-2]).

Every decoder must answer any bytes with the code the spec names, never crash or hang. For random
bytes the expected answer is the suite's oracle's ([DEC-1], [DEC-2]: the first failing step decides
the code), never the implementation's.
"""

from __future__ import annotations

import random
import struct
from typing import Any

from ..catalogue_closures import ADD, ECHO, NOP
from ..model import Case, Outcome, err, ok
from ..oracle import codes, layout, request, response
from ..oracle.errors import Rejected
from ..oracle.slot import Config
from ._wire import HDR, batch, case, cbor, cfg, req_entry, rsp_batch, rsp_entry, stub, word
from .landing import err_rsp, land_check
from .requests import CL, P, u64


def oracle_request(args: dict[str, Any]) -> Outcome:
    """What SPEC.md's [DEC-1] answers for these bytes, by the suite's oracle."""
    try:
        b = request.decode(args["image"], layout.shapes(args["closures"]), Config.of(args["config"]),
                           args.get("expected_seq"), args.get("imm_seq16"))
    except Rejected as e:
        return err(e.code)
    return ok({"seq": b.seq, "table": list(b.table), "requests": [r.as_map() for r in b.requests]})


def oracle_response(args: dict[str, Any]) -> Outcome:
    """What SPEC.md's [DEC-2] answers for these bytes, by the suite's oracle."""
    try:
        b = response.decode(args["image"], [layout.Result.parse(r) for r in args["results"]],
                            Config.of(args["config"]), args.get("expected_seq"), args.get("imm_seq16"))
    except Rejected as e:
        return err(e.code)
    return ok({"seq": b.seq, "status": b.status, "responses": [r.as_map() for r in b.responses],
               "detail": b.detail})


def cases() -> list[Case]:
    out: list[Case] = []
    good = req_entry(P, 0, u64(1))

    def dec(cid: str, title: str, clauses: list[str], image: bytes, expect: Outcome, **kw: int) -> None:
        args = {"config": cfg(), "closures": CL, "image": image, **kw}
        out.append(case(cid, title, clauses, "decode_request_batch", args, expect, tags=("codec", "hostile")))

    dec("hostile.count-zero", "a request batch with count 0", ["SLOT-6"],
        batch(1, [ADD.id], [good], count=0), err("BAD_HEADER"))
    over = batch(1, [ADD.id], [good], words=1024 // 8 + 1)
    dec("hostile.words-over-slot", "a header claiming more than S bytes", ["SLOT-4", "LIM-2"],
        over + bytes(1032 - len(over)), err("BAD_HEADER"))
    torn = batch(1, [ADD.id], [good], trailer=HDR.pack(2, 4, 1, 1))
    dec("hostile.torn", "a trailer that differs from the header", ["SLOT-7", "LAND-7"], torn, err("TORN"))
    dec("hostile.entries-short", "entries that end before the trailer", ["SLOT-8"],
        batch(1, [ADD.id], [good, good], count=1), err("BAD_HEADER"))
    dec("hostile.entry-into-trailer", "a count that makes the last entry run into the trailer", ["SLOT-8"],
        batch(1, [ADD.id], [good], count=2), err("TRUNCATED"))
    dec("hostile.table-over-k", "table_len 5 with K=4", ["VT-2"],
        batch(1, [ADD.id] * 5, [good]), err("BAD_HEADER"))
    dec("hostile.ref-out-of-table", "ref 1 with a one-entry table", ["VT-4"],
        batch(1, [ADD.id], [req_entry(P, 1, u64(1))]), err("BAD_HEADER"))
    dec("hostile.ref-fe", "ref 0xFE is not the inline marker", ["VT-4"],
        batch(1, [ADD.id], [req_entry(P, 0xFE, u64(1))]), err("BAD_HEADER"))
    unknown = 0x0123456789ABCDEF
    dec("hostile.unknown-closure-table", "the table names an unregistered closure", ["VT-5"],
        batch(1, [unknown], [req_entry(P, 0, u64(1))]), err("UNKNOWN_CLOSURE"))
    dec("hostile.unknown-closure-inline", "an inline id names an unregistered closure", ["VT-5"],
        batch(1, [ADD.id], [good, req_entry(P, 0, inline_id=unknown)]), err("UNKNOWN_CLOSURE"))
    dec("hostile.reserved-flag", "flag bit 1 set", ["REQ-2"],
        batch(1, [ADD.id], [req_entry(P, 0, u64(1), flags=2)]), err("BAD_HEADER"))
    long_n = (word(P, 0) + struct.pack("<I", 100) + b"\xa0" * 4)
    dec("hostile.param-past-trailer", "a parameter length that runs past the trailer", ["REQ-5", "LIM-2"],
        batch(1, [ECHO.id], [long_n]), err("TRUNCATED"))
    huge_n = (word(P, 0) + struct.pack("<I", 0xFFFFFFF0) + b"\xa0" * 4)
    dec("hostile.param-over-slot", "a parameter length greater than S", ["REQ-5", "LIM-2"],
        batch(1, [ECHO.id], [huge_n]), err("OVERSIZE"))
    dec("hostile.stale-seq", "seq 1 when 2 is expected (a replayed image)", ["LAND-5"],
        batch(1, [ADD.id], [good]), err("STALE_SEQUENCE"), expected_seq=2)
    dec("hostile.imm-mismatch", "the immediate's low 16 bits differ from the header's seq", ["LAND-5", "LAND-2"],
        batch(0x10001, [ADD.id], [good]), err("STALE_SEQUENCE"), expected_seq=0x10001, imm_seq16=2)
    dec("hostile.order-seq-before-torn", "a stale and torn image is STALE_SEQUENCE (checked first)", ["LAND-5"],
        torn, err("STALE_SEQUENCE"), expected_seq=5)
    dec("hostile.order-header-before-torn", "a bad header on a torn image is BAD_HEADER (checked before the trailer)",
        ["LAND-5"], batch(1, [ADD.id], [good], count=0, trailer=bytes(8)), err("BAD_HEADER"))
    dec("hostile.short-image", "an image shorter than its header claims", ["SLOT-8", "LIM-2"],
        batch(1, [ADD.id], [good])[:24], err("TRUNCATED"))
    dec("hostile.zero-slot", "an all-zero slot holds no batch", ["LAND-4", "LAND-5"],
        bytes(1024), err("STALE_SEQUENCE"), expected_seq=1)
    dec("hostile.stub-over-limit", "a fallback stub announcing more than the fallback limit", ["FB-6", "LIM-2"],
        batch(1, [ADD.id], [stub(P, 0, (64 << 20) + 1)]), err("OVERSIZE"))
    dec("hostile.pointer-to-nowhere", "any 48-bit pointer decodes: pointers are opaque to the codec",
        ["REQ-1"], batch(1, [NOP.id], [req_entry(0xDEAD_BEEF_0000, 0)]),
        ok({"seq": 1, "table": [NOP.id], "requests": [
            {"property": 0xDEAD_BEEF_0000, "closure_id": NOP.id, "captured": b"", "param": None,
             "fallback_len": None}]}))
    # every batch-level code, by the value SPEC.md's table gives it, in the header of the [RSP-5]
    # answer of a trustee slot ([ERR-1], [RSP-5]; issue 16: codes by wire value)
    unknown_id = 0x0123456789ABCDEF
    n_over = word(P, 0) + struct.pack("<I", 1024 + 1) + b"\xa0" * 4
    rejects = {
        "STALE_SEQUENCE": (batch(2, [ADD.id], [good]), 2),
        "BAD_HEADER": (batch(1, [ADD.id], [good], count=0), 1),
        "TORN": (batch(1, [ADD.id], [good], trailer=bytes(8)), 1),
        "TRUNCATED": (batch(1, [ADD.id], [good], count=2), 1),
        "OVERSIZE": (batch(1, [ECHO.id], [n_over]), 1),
        "UNKNOWN_CLOSURE": (batch(1, [unknown_id], [req_entry(P, 0, u64(1))]), 1),
    }
    assert set(rejects) == codes.BATCH_LEVEL
    for name, (image, imm) in sorted(rejects.items()):
        out.append(case(f"hostile.land-code-{name.lower().replace('_', '-')}",
                        f"a batch rejected with {name} is answered with status {codes.value(name):#04x} in the header",
                        ["RSP-5", "ERR-1", "DEC-1"], "land",
                        {"config": cfg(), "closures": CL, "landings": [{"image": image, "imm": imm}]},
                        ok({"results": [err_rsp(HDR.unpack_from(image)[0], codes.value(name))]}),
                        tags=("codec", "landing", "hostile"), check=land_check))
    rng = random.Random(0x6055A)
    for i in range(6):
        junk = bytes(rng.getrandbits(8) for _ in range(1024))
        if i % 2:  # make the header plausible so the decoder goes deeper
            junk = HDR.pack(1, rng.randrange(2, 129), rng.randrange(1, 40), rng.randrange(0, 5)) + junk[8:]
        args = {"config": cfg(), "closures": CL, "image": junk}
        # the exact answer of [DEC-1] (first failing step), by the oracle
        out.append(case(f"hostile.garbage-{i}", f"1024 random bytes in a slot (seed {i})", ["ERR-1", "LIM-2", "DEC-1"],
                        "decode_request_batch", args, oracle_request(args), tags=("codec", "hostile", "fuzz")))
        rj = HDR.pack(1, rng.randrange(2, 129), rng.randrange(0, 4), 0) + junk[8:]
        rargs = {"config": cfg(), "results": ["u64", "cbor", ""][: rj[6] % 4], "image": rj}
        out.append(case(f"hostile.response-garbage-{i}", f"random bytes in a response slot (seed {i})",
                        ["ERR-1", "LIM-2", "DEC-2"], "decode_response_batch", rargs, oracle_response(rargs),
                        tags=("codec", "hostile", "fuzz")))
    out.append(case("hostile.response-unknown-status", "a response entry with status 0x7F", ["ERR-4"],
                    "decode_response_batch",
                    {"config": cfg(), "results": ["u64"], "image": rsp_batch(1, [rsp_entry(0x7F, bytes(8))])},
                    err("BAD_HEADER"), tags=("codec", "hostile")))
    # --- serialized data ([SER-1], [SER-2])
    def cb(cid: str, title: str, data: bytes, expect: Outcome, clauses: tuple[str, ...] = ("SER-2",)) -> None:
        out.append(case(cid, title, clauses, "check_cbor", {"data": data}, expect, tags=("codec", "cbor")))

    cb("cbor.valid", "one deterministic CBOR item", cbor({"a": [1, 2.5, "x", b"y", None, True]}), ok({}),
       ("SER-1",))
    cb("cbor.truncated", "a truncated item", cbor("hello")[:-1], err("MALFORMED_CBOR"))
    cb("cbor.trailing", "an item followed by a trailing byte", cbor(1) + b"\x00", err("MALFORMED_CBOR"))
    cb("cbor.empty", "no item at all", b"", err("MALFORMED_CBOR"))
    cb("cbor.depth-64", "arrays nested 64 deep are accepted", b"\x81" * 63 + b"\x80", ok({}))
    cb("cbor.depth-65", "arrays nested 65 deep are rejected", b"\x81" * 65 + b"\x80", err("MALFORMED_CBOR"))
    cb("cbor.reserved-ai", "reserved additional information 28", b"\x1c", err("MALFORMED_CBOR"))
    cb("cbor.stray-break", "a break byte outside an indefinite container", b"\xff", err("MALFORMED_CBOR"))
    cb("cbor.huge-array", "an array header claiming 2^32 items in 9 bytes", b"\x9b" + struct.pack(">Q", 1 << 32),
       err("MALFORMED_CBOR"))
    return out
