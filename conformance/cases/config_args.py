"""The adapter's `config` and small argument ranges ([ADPT-5], [ADPT-19], [SLOT-3], [VT-1], [FB-2]).

A `config` key that is absent takes the default SPEC.md gives it: `K` = 4 ([VT-1]: the fifth
distinct closure of a batch goes inline), `F` = 64 MiB ([FB-2]: a stub of exactly 64 MiB decodes,
one byte more is `OVERSIZE`). Out of range ([ADPT-19]): `table_k` -1, `fallback_limit` -1,
`make_imm`'s slot id or seq -1, `next_seq`'s seq -1, `mint`'s machine or thread -1 are
`BAD_ARGUMENT`; `fallback_limit` 0 is a `u32` like any other, and is accepted (every stub then is `OVERSIZE`).
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, ECHO, FLAG, GET, NOP, TOGGLE, standard
from ..model import Case, err, ok
from ._wire import U64, batch, case, cfg, req, req_entry, stub

P = 0x0000_1234_5678_9AB0  # an opaque 48-bit property pointer
MIB64 = 64 << 20


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Any) -> None:
        out.append(case(f"config_args.{cid}", title, clauses, op, args, expect, tags=("codec",)))

    five = [(NOP, b""), (GET, b""), (ADD, U64.pack(1)), (FLAG, b"\x01"), (TOGGLE, U64.pack(7))]
    ids = [d.id for d, _ in five]
    entries = [req_entry(P, i, c) for i, (_, c) in enumerate(five[:4])] + [
        req_entry(P, 0, five[4][1], inline_id=ids[4])]
    add("default-k", "no table_k: K = 4, so the fifth distinct closure goes inline", ["ADPT-5", "VT-1", "VT-3"],
        "encode_request_batch",
        {"config": {"slot_size": 1024}, "closures": standard(), "seq": 1, "slot_id": 0,
         "requests": [req(P, d.id, c) for d, c in five]},
        ok({"image": batch(1, ids[:4], entries), "frames": []}))
    for side, n, want in (("at", MIB64, None), ("past", MIB64 + 1, "OVERSIZE")):
        img = batch(1, [ECHO.id], [stub(P, 0, n)])
        expect = err(want) if want else ok({"seq": 1, "table": [ECHO.id], "requests": [
            {"property": P, "closure_id": ECHO.id, "captured": b"", "param": None, "fallback_len": n}]})
        add(f"default-fallback-limit-{side}", f"no fallback_limit: F = 64 MiB; a stub of {n} bytes",
            ["ADPT-5", "FB-2", "DEC-1"], "decode_request_batch",
            {"config": {"slot_size": 1024}, "closures": standard(), "image": img}, expect)
    add("fallback-limit-0", "fallback_limit 0 is a u32: accepted, and a stub of 1 byte is then OVERSIZE",
        ["ADPT-19", "FB-2"], "decode_request_batch",
        {"config": cfg(fallback_limit=0), "closures": standard(), "image": batch(1, [ECHO.id], [stub(P, 0, 1)])},
        err("OVERSIZE"))
    add("fallback-limit-0-inline", "fallback_limit 0 with an inline batch: decoded as usual", ["ADPT-19"],
        "decode_request_batch",
        {"config": cfg(fallback_limit=0), "closures": standard(), "image": batch(1, [NOP.id], [req_entry(P, 0)])},
        ok({"seq": 1, "table": [NOP.id], "requests": [
            {"property": P, "closure_id": NOP.id, "captured": b"", "param": None, "fallback_len": None}]}))
    for key in ("table_k", "fallback_limit"):
        add(f"{key}-negative", f"config {key} -1: BAD_ARGUMENT", ["ADPT-19", "DEC-8"], "encode_request_batch",
            {"config": {**cfg(), key: -1}, "closures": standard(), "seq": 1, "slot_id": 0,
             "requests": [req(P, NOP.id)]}, err("BAD_ARGUMENT"))
    add("make-imm-slot-negative", "make_imm with slot id -1: BAD_ARGUMENT", ["ADPT-19"], "make_imm",
        {"slot_id": -1, "seq": 1}, err("BAD_ARGUMENT"))
    add("make-imm-seq-negative", "make_imm with seq -1: BAD_ARGUMENT", ["ADPT-19"], "make_imm",
        {"slot_id": 1, "seq": -1}, err("BAD_ARGUMENT"))
    for field in ("machine", "thread"):
        add(f"mint-{field}-negative", f"mint with {field} -1: BAD_ARGUMENT", ["ADPT-19", "TRUST-1"], "mint",
            {"machine": 1, "thread": 1, "counter": 0, field: -1}, err("BAD_ARGUMENT"))
    add("next-seq-negative", "next_seq of -1: BAD_ARGUMENT", ["ADPT-19"], "next_seq", {"seq": -1},
        err("BAD_ARGUMENT"))
    return out
