"""The closures the catalogue uses, described the way the adapter sees them ([ADPT-5]).

An adapter learns a closure from its name, id and layout strings only; no Python runs on its side.
Closures whose cases are executed on a trustee (the `execute` op) have fixed semantics, given in
`BEHAVIOUR` and in SPEC.md [ADPT-9], so that another implementation can provide them too. (The
reference trustee registers them in `reference_trustee.registry()`: only the reference target imports
`gossamer`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from .oracle.ids import closure_id


def cid(name: str) -> int:
    """[CID-1], by the suite's oracle (independently of `gossamer.closures`)."""
    return closure_id(name)


@attrs.frozen
class Desc:
    name: str
    capture: str = ""
    result: str = ""
    param: str | None = None

    @property
    def id(self) -> int:
        return cid(self.name)

    def wire(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id, "capture": self.capture, "result": self.result,
                "param": self.param}


ENTRUST = Desc("gossamer.builtin:entrust", "u64", "u64", "cbor")
TOGGLE = Desc("gossamer.builtin:toggle", "u64", "u8")
ADD = Desc("conformance:add", "u64", "u64")  # value[0] += x; returns the new value[0]
PAIR = Desc("conformance:pair", "u64 u64 f64 bytes8", "u64")  # 32 bytes captured; returns len
ECHO = Desc("conformance:echo", "", "cbor", "cbor")  # returns its parameter
FIXED = Desc("conformance:fixed", "u32", "u8", "cbor:5")  # returns captured & 0xFF
NOP = Desc("conformance:nop")  # does nothing; the smallest entry (8 bytes)
FLAG = Desc("conformance:flag", "bool", "bool")  # returns the captured bool
GET = Desc("conformance:get", "", "cbor")  # returns the property's value
RAISE = Desc("conformance:raise")  # always raises
BIG = Desc("conformance:big", "", "cbor", "cbor")  # returns bytes(n) for parameter n
SPLIT = Desc("conformance:split", "u64", "u8 u8")  # the two low bytes; past 65535, results that do not fit
VOID = Desc("conformance:void", "u64")  # no result; returns the captured value when it is not 0
K = tuple(Desc(f"conformance:k{i}", "u64", "u64") for i in range(40))  # distinct ids for tables

STANDARD = (ENTRUST, TOGGLE, ADD, PAIR, ECHO, FIXED, NOP, FLAG, GET, RAISE, BIG, SPLIT, VOID)


def wire(descs: Iterable[Desc]) -> list[dict[str, Any]]:
    return [d.wire() for d in descs]


def standard(*extra: Desc) -> list[dict[str, Any]]:
    return wire((*STANDARD, *extra))


def _add(value: Any, x: int) -> int:
    value[0] += x
    return int(value[0]) & 0xFFFFFFFFFFFFFFFF


def _pair(value: Any, a: int, b: int, f: float, raw: bytes) -> int:
    return (a + b + len(raw)) & 0xFFFFFFFFFFFFFFFF


def _raise(value: Any) -> None:
    raise RuntimeError("conformance:raise always raises")


def _big(value: Any, n: Any) -> bytes:
    return bytes(int(n))


def _split(value: Any, x: int) -> Any:
    if x < 0x10000:
        return (x & 0xFF, x >> 8)
    if x == 0x10000:
        return (256, 0)  # 256 does not fit a u8
    return x  # one value where the layout takes two


def _void(value: Any, x: int) -> Any:
    return x or None


#: name -> (behaviour, errors of its own): the normative description of each catalogue closure, rendered
#: into SPEC.md's Appendix A by `conformance.appendix` (a test fails when the two drift apart), which adds
#: the errors every closure of that shape can meet (BAD_PROPERTY, BAD_CAPTURE for a bool, MALFORMED_CBOR
#: for a parameter).
SEMANTICS: dict[str, tuple[str, str]] = {
    ENTRUST.name: ("sent with pointer 0: creates a property whose value is the parameter's item and whose "
                   "trust-id set is {the captured id}; returns its new pointer ([TRUST-3], [TRUST-8])",
                   "BAD_PROPERTY when its pointer is not 0 (nothing created); OVERSIZE when no fresh pointer is left"),
    TOGGLE.name: ("toggles the captured id in the property's set ([TRUST-2]); returns 1 when that emptied the "
                  "set (the property is dropped, [TRUST-5]), else 0", ""),
    ADD.name: ("the property's value is an array whose element 0 is an unsigned integer: adds the captured "
               "value to element 0, modulo 2^64, and returns the new element 0", ""),
    PAIR.name: ("returns `(a + b + 8) mod 2^64` for the captured `a`, `b` (u64) and the 8-byte field; the "
                "f64 is not used", ""),
    ECHO.name: ("returns its parameter's item, encoded in core deterministic encoding ([SER-1]); every tag in "
                "it comes back as the same tag number over the same content ([SER-5])", ""),
    FIXED.name: ("returns the captured u32 `& 0xFF`; its parameter (exactly 5 bytes of CBOR) is not used", ""),
    NOP.name: ("does nothing; its result is the empty layout (an `OK` entry with no bytes)", ""),
    FLAG.name: ("returns the captured bool", ""),
    GET.name: ("returns element 0 of the property's array value, as a CBOR item", ""),
    RAISE.name: ("always fails", "CLOSURE_RAISED, always"),
    BIG.name: ("its parameter is an unsigned integer `n`: returns a byte string of `n` zero bytes (a result "
               "that can be larger than the response slot, [RSP-4])", ""),
    SPLIT.name: ("for a captured `x` below 65536, returns the pair `(x & 0xFF, x >> 8)`; for `x` = 65536 it "
                 "returns the pair `(256, 0)`, and for a larger `x` the single integer `x`: values its result "
                 "layout cannot hold", "BAD_RESULT for a captured value above 65535 ([LAYOUT-2])"),
    VOID.name: ("returns nothing when the captured value is 0; otherwise returns that value, which its empty "
                "result cannot hold", "BAD_RESULT for a captured value other than 0 ([LAYOUT-2])"),
    **{k.name: (f"as `{ADD.name}` (forty closures `conformance:k0` .. `k39` with distinct ids, for lookup "
                "tables that overflow `K`)", "") for k in K[:1]},
}

#: name -> fn(property value, *captured, [param]) for the `execute` op ([ADPT-9]).
BEHAVIOUR: dict[str, Any] = {
    ADD.name: _add,
    PAIR.name: _pair,
    ECHO.name: lambda value, p: p,
    FIXED.name: lambda value, x, p: x & 0xFF,
    NOP.name: lambda value: None,
    FLAG.name: lambda value, b: b,
    GET.name: lambda value: value[0],
    RAISE.name: _raise,
    BIG.name: _big,
    SPLIT.name: _split,
    VOID.name: _void,
    **{k.name: _add for k in K},
}
