"""Where a run of like entries starts and ends in a request batch ([SLOT-8], [VT-3], [REQ-3]).

A decoder may take a shortcut through a run of entries naming the same table closure (the
reference does: one struct per entry, or one pass over the rest of the image). These cases put
entries next to such a run that a shortcut could misread: a word equal to the run's ref number (a
property pointer 1 with ref 0 after a run of ref 1), and a header count that ends the batch before
the entries that fill the image do (a run that starts after an inline entry). Expected values are
assembled by the suite's own writers (`_wire`); each case kills mutants of the reference's fast path
that the general decoding cases let through.
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, K, standard
from ..model import Case, Outcome, err, ok
from ._wire import batch, case, cfg, dreq, req_entry
from .requests import u64

X = 0x0000_4444_0000_0040  # an opaque property pointer
CL = standard(K[0])


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], args: dict[str, Any], expect: Outcome) -> None:
        out.append(case(cid, title, clauses, "decode_request_batch", {"config": cfg(), "closures": CL, **args},
                        expect, tags=("codec", "request", "decoder-path")))

    # table [ADD, K0]: entry 0 names K0 (ref 1), then two entries whose whole word is 1 (pointer 1,
    # ref 0 = ADD, no flags): equal to the run's ref as a number, not as a ref field
    img = batch(5, [ADD.id, K[0].id], [req_entry(X, 1, u64(5)), req_entry(1, 0, u64(6)), req_entry(1, 0, u64(7))])
    add("req.decode.run-word-equals-ref",
        "after an entry of ref 1, entries whose whole word is 1 (pointer 1, ref 0) name ref 0's closure",
        ["REQ-3", "VT-3", "REQ-1"], {"image": img, "expected_seq": 5},
        ok({"seq": 5, "table": [ADD.id, K[0].id],
            "requests": [dreq(X, K[0].id, u64(5)), dreq(1, ADD.id, u64(6)), dreq(1, ADD.id, u64(7))]}))
    # an inline entry, then three entries of ref 0 filling the image, but a header count of 2: the
    # batch ends after entry 1 and 16 bytes are left before the trailer ([SLOT-8]: BAD_HEADER)
    entries = [req_entry(X, 0, u64(1), inline_id=ADD.id)] + [req_entry(X + 8 * i, 0, u64(i)) for i in range(3)]
    add("req.decode.count-ends-before-run",
        "a header count that ends the batch inside a run of like entries leaves bytes before the trailer: "
        "BAD_HEADER",
        ["SLOT-8", "SLOT-7"], {"image": batch(6, [ADD.id], entries, count=2), "expected_seq": 6},
        err("BAD_HEADER"))
    add("req.decode.count-ends-before-run-first",
        "the same with the run from the first entry: a count of 2 for four like entries is BAD_HEADER",
        ["SLOT-8", "SLOT-7"],
        {"image": batch(7, [ADD.id], [req_entry(X + 8 * i, 0, u64(i)) for i in range(4)], count=2),
         "expected_seq": 7},
        err("BAD_HEADER"))
    return out
