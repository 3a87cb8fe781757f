"""Layout ops at their edges ([LAYOUT-1], [LAYOUT-4], [ADPT-9], [ADPT-19]).

`pack_capture` given fewer or more values than its layout has fields refuses them (nothing is padded
or dropped); an integer too large for any float is refused for an `f32` and an `f64` field alike;
a `bool` byte of 0 unpacks to false (only 0 and 1 are bools); a layout that is not a text string is
an argument of the wrong type, `BAD_ARGUMENT` ([ADPT-19]: `capture-layout` is `tstr`), whichever op
takes it. A trustee given the same closure twice in `closures` runs it as one closure ([ADPT-20]).
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, standard
from ..model import Case, err, ok
from ._wire import case, req_entry
from .limits import X, _execute, u64

HUGE = 10**400  # above the largest double: no float holds it


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Any) -> None:
        out.append(case(f"layout_edges.{cid}", title, clauses, op, args, expect, tags=("codec", "closure")))

    add("pack-too-few", "one value for a two-field layout", ["LAYOUT-1", "ADPT-9"], "pack_capture",
        {"capture": "u8 u8", "values": [1]}, err("BAD_ARGUMENT"))
    add("pack-too-many", "three values for a two-field layout", ["LAYOUT-1", "ADPT-9"], "pack_capture",
        {"capture": "u8 u8", "values": [1, 2, 3]}, err("BAD_ARGUMENT"))
    add("pack-none-for-empty", "one value for the empty layout", ["LAYOUT-1", "ADPT-9"], "pack_capture",
        {"capture": "", "values": [0]}, err("BAD_ARGUMENT"))
    add("pack-exact", "two values for a two-field layout", ["LAYOUT-1", "ADPT-9"], "pack_capture",
        {"capture": "u8 u8", "values": [1, 2]}, ok({"data": b"\x01\x02"}))
    add("pack-f32-huge-int", "an integer above every float for an f32 field", ["LAYOUT-1", "ADPT-9"],
        "pack_capture", {"capture": "f32", "values": [HUGE]}, err("BAD_ARGUMENT"))
    add("pack-f64-huge-int", "an integer above every float for an f64 field", ["LAYOUT-1", "ADPT-9"],
        "pack_capture", {"capture": "f64", "values": [-HUGE]}, err("BAD_ARGUMENT"))
    add("unpack-bool-0", "a bool byte of 0 is false", ["LAYOUT-4", "ADPT-9"], "unpack_capture",
        {"capture": "bool u8", "data": b"\x00\x07"}, ok({"values": [False, 7]}))
    add("unpack-bool-1", "a bool byte of 1 is true", ["LAYOUT-4", "ADPT-9"], "unpack_capture",
        {"capture": "bool", "data": b"\x01"}, ok({"values": [True]}))
    add("unpack-bool-ff", "a bool byte of 0xff is BAD_CAPTURE", ["LAYOUT-4"], "unpack_capture",
        {"capture": "bool", "data": b"\xff"}, err("BAD_CAPTURE"))
    for where, val in (("capture", 5), ("result", 5), ("capture", ["u8"])):
        add(f"register-{where}-not-text-{type(val).__name__}", f"a {where} layout given as {val!r}, not text",
            ["ADPT-19", "LAYOUT-1"], "register", {"closures": [{**ADD.wire(), where: val}]}, err("BAD_ARGUMENT"))
    add("pack-layout-not-text", "pack_capture with the layout 8, not text", ["ADPT-19", "LAYOUT-1"], "pack_capture",
        {"capture": 8, "values": [1]}, err("BAD_ARGUMENT"))
    add("unpack-layout-not-text", "unpack_capture with the layout 8, not text", ["ADPT-19", "LAYOUT-1"],
        "unpack_capture", {"capture": 8, "data": b"\x01"}, err("BAD_ARGUMENT"))
    # [ADPT-20]: the same closure given twice (same name, id and layouts) is one closure, for execute too
    p = _execute("at", "", "a trustee given ADD twice in its closures runs it as one closure",
                 [(1, [req_entry(X, 0, u64(1))], [ADD.id])], [{"results": ["u64"], "entries": [("OK", u64(11), b"")]}])
    out.append(case("layout_edges.execute-same-closure-twice", p.title, ["ADPT-20", "CID-2"], p.op,
                    {**p.args, "closures": standard(ADD)}, p.expect, tags=("trustee", "closure"), check=p.check))
    return out
