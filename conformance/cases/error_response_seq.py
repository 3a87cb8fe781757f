"""The seq of an error response is all four bytes of the rejected image's seq ([RSP-5], [FLOW-7]).

The other landing cases reject images whose seq fits in one or two bytes, so a trustee that read
fewer than four bytes of it (or only the immediate's low 16 bits) answered them rightly. Here the
rejected images carry seqs with all four bytes nonzero: a stale one (the header names another seq
than the expected 1), a torn one, and a 6-byte WRITE ([FLOW-7]: the seq of its first 4 bytes).
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD
from ..model import Case, ok
from ._wire import batch, case, cfg, code, req_entry
from .landing import err_rsp, land_check
from .requests import CL, P, u64

BIG = 0x8172_6354  #: a seq whose four bytes all differ and are nonzero (low 16 bits 0x6354)


def cases() -> list[Case]:
    out: list[Case] = []

    def img(seq: int, **kw: Any) -> bytes:
        return batch(seq, [ADD.id], [req_entry(P, 0, u64(seq & 0xFF))], **kw)

    def land(cid: str, title: str, clauses: list[str], landings: list[tuple[bytes, int]],
             want: list[dict[str, Any]]) -> None:
        out.append(case(cid, title, clauses, "land",
                        {"config": cfg(), "closures": CL, "landings": [{"image": i, "imm": m} for i, m in landings]},
                        ok({"results": want}), tags=("codec", "landing", "hostile"), check=land_check))

    land("land.stale-four-byte-seq", "a stale image's error response repeats all four bytes of its header seq",
         ["RSP-5", "LAND-5"], [(img(BIG), BIG & 0xFFFF), (img(1), 1)],
         [err_rsp(BIG, code("STALE_SEQUENCE")), {"seq": 1, "count": 1}])
    land("land.torn-four-byte-seq", "a torn image of the expected seq 1 after a stale 4-byte seq: each answer "
         "repeats its own header seq",
         ["RSP-5", "SLOT-7"], [(img(BIG, trailer=bytes(8)), BIG & 0xFFFF), (img(1, trailer=bytes(8)), 1)],
         [err_rsp(BIG, code("STALE_SEQUENCE")), err_rsp(1, code("TORN"))])
    land("land.short-write-four-byte-seq", "a 6-byte WRITE is answered with all four bytes of its first 4 bytes",
         ["FLOW-7", "RSP-5"], [(img(BIG)[:6], BIG & 0xFFFF), (img(2), 2)],
         [err_rsp(BIG, code("TRUNCATED")), {"seq": 2, "count": 1}])
    return out
