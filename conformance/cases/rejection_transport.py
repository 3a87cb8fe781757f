"""Rejected batches on the transport: the error response's immediate and WRITE ([RSP-1], [RSP-5]).

A trustee that rejects a batch whole still answers it with one response batch, written with one
RDMA WRITE WITH IMMEDIATE whose immediate names its response slot and the rejected batch's seq,
exactly as for an accepted one; and the slot goes on with the next seq. These cases put rejected
batches between accepted ones on the NIC and judge the transport facts of every answer
(`nic.transport_check`). They kill mutants of the reference trustee that answer a rejection with
a wrong immediate (the seq read from the wrong bytes of the image), which no `execute` case sees.
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, GET, standard
from ..model import Case, ok
from ._execute_op import X, b, entry
from ._wire import case, cfg, req_entry
from .nic import transport_check
from .requests import u64
from .trust_ids import A1

UNKNOWN = 0x0123_4567_89AB_CDEF  #: a closure id no catalogue closure has


def cases() -> list[Case]:
    out: list[Case] = []
    props = [{"pointer": X, "value": [10], "first": A1}]

    def add(cid: str, title: str, clauses: list[str], batches: list[dict[str, Any]],
            want: list[dict[str, Any]]) -> None:
        args = {"config": cfg(), "closures": standard(), "properties": props, "batches": batches,
                "_want": want, "_live": [X]}
        out.append(case(cid, title, clauses, "nic_roundtrip", args, ok({"responses": "(checked by decoding)"}),
                        tags=("nic", "trustee", "rejection"), check=transport_check))

    add("nic.reject-unknown-closure-imm",
        "a batch rejected as UNKNOWN_CLOSURE is answered by one WRITE whose immediate carries its seq; "
        "the next seq runs",
        ["RSP-1", "RSP-5", "VT-5", "LAND-1"],
        [b(1, [req_entry(X, 0, u64(5))], [ADD.id]),
         b(2, [req_entry(X, 0, u64(5))], [UNKNOWN]),
         b(3, [req_entry(X, 0)], [GET.id])],
        [{"results": ["u64"], "entries": [entry("OK", u64(15))]},
         {"batch_error": "UNKNOWN_CLOSURE"},
         {"results": ["cbor"], "entries": [entry("OK", b"", 15)]}])
    add("nic.reject-torn-imm",
        "a torn batch is answered by one WRITE whose immediate carries the seq of its header ([RSP-1])",
        ["RSP-1", "RSP-5", "SLOT-7"],
        [b(1, [req_entry(X, 0, u64(1))], [ADD.id]),
         b(2, [req_entry(X, 0, u64(1))], [ADD.id], trailer=bytes(8))],
        [{"results": ["u64"], "entries": [entry("OK", u64(11))]},
         {"batch_error": "TORN"}])
    return out
