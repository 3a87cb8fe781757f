"""A closure's value must fit its result layout ([LAYOUT-2], [ERR-2]): else the entry is BAD_RESULT.

`conformance:split` (result `u8 u8`) returns the pair of the captured value's two low bytes below
65536; for 65536 it returns `(256, 0)` (256 does not fit a `u8`), above it a single integer where
the layout takes two. `conformance:void` (empty result) returns nothing for 0, else the captured
value, which an empty result cannot hold. Each misfit is that entry's `BAD_RESULT`; the next entry
of the batch still runs.
"""

from __future__ import annotations

from ..catalogue_closures import ADD, SPLIT, VOID
from ..model import Case
from ._wire import case, req_entry
from .limits import X, _execute, u64


def cases() -> list[Case]:
    out: list[Case] = []
    rows = [
        ("split-fits", "split of 0x0102: the pair (2, 1)", SPLIT, 0x0102, ["u8 u8"], ("OK", b"\x02\x01", b"")),
        ("split-top", "split of 65535: the pair (255, 255)", SPLIT, 0xFFFF, ["u8 u8"], ("OK", b"\xff\xff", b"")),
        ("split-value-too-big", "split of 65536 returns (256, 0): BAD_RESULT", SPLIT, 0x10000, ["u8 u8"],
         ("BAD_RESULT", b"", b"")),
        ("split-one-value", "split of 65537 returns one integer for a two-field result: BAD_RESULT", SPLIT, 0x10001,
         ["u8 u8"], ("BAD_RESULT", b"", b"")),
        ("void-nothing", "void of 0 returns nothing: OK with no bytes", VOID, 0, [""], ("OK", b"", b"")),
        ("void-something", "void of 7 returns 7 for an empty result: BAD_RESULT", VOID, 7, [""],
         ("BAD_RESULT", b"", b"")),
    ]
    for cid, title, desc, x, results, entry in rows:
        p = _execute("at", "", f"{title}; the next entry runs",
                     [(1, [req_entry(X, 0, u64(x)), req_entry(X, 1, u64(1))], [desc.id, ADD.id])],
                     [{"results": [*results, "u64"], "entries": [entry, ("OK", u64(11), b"")]}])
        out.append(case(f"result_fit.{cid}", p.title, ("LAYOUT-2", "ERR-2"), p.op, dict(p.args), p.expect,
                        tags=("trustee", "closure"), check=p.check))
    return out
