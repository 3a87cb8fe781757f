"""The closures the catalogue uses, described the way the adapter sees them ([ADPT-5]).

An adapter learns a closure from its name, id and layout strings only; no Python runs on its side.
Closures whose cases are executed on a trustee (the `execute` op) have fixed semantics, given in
`BEHAVIOUR` and in SPEC.md [ADPT-9], so that another implementation can provide them too. (The
reference trustee registers them in `serve_reference.registry()`: only the reference target imports
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
K = tuple(Desc(f"conformance:k{i}", "u64", "u64") for i in range(40))  # distinct ids for tables

STANDARD = (ENTRUST, TOGGLE, ADD, PAIR, ECHO, FIXED, NOP, FLAG, GET, RAISE, BIG)


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
    **{k.name: _add for k in K},
}
