"""The closure registry: "the same binary on every machine" ([CID-1] .. [CID-3], [LAYOUT-3]).

A closure is registered with a fixed capture layout, a result layout and an optional serialized
parameter. Its 64-bit id is derived from its registered name, so every machine that registers the
same program computes the same id without talking to anyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from .errors import ErrorCode, LocalProtocolError
from .layout import Layout, ParamSpec, ResultSpec


def closure_id(name: str) -> int:
    """First 8 bytes of SHA-256 over the UTF-8 name, little-endian ([CID-1])."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


@attrs.frozen(slots=True)
class ClosureShape:
    """What the wire needs to know about a closure: sizes only ([CID-3], [REQ-3], [REQ-4])."""

    capture_size: int
    param: ParamSpec
    result: ResultSpec


@attrs.frozen(slots=True)
class Closure:
    """A registered closure. Calling it runs `fn(property, *captured[, param])` locally."""

    name: str
    id: int
    fn: Callable[..., Any] = attrs.field(eq=False, repr=False)
    capture: Layout
    result: ResultSpec
    param: ParamSpec

    @property
    def shape(self) -> ClosureShape:
        return ClosureShape(self.capture.size, self.param, self.result)

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


ENTRUST_NAME = "gossamer.builtin:entrust"
TOGGLE_NAME = "gossamer.builtin:toggle"


def _builtin(*_: Any) -> Any:  # pragma: no cover - the trustee runs builtins itself
    raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "TRUST-3", "built-ins run on the trustee")


class Registry:
    """Closures by id. Every registry holds the two built-ins of section 6."""

    def __init__(self) -> None:
        self._by_id: dict[int, Closure] = {}
        self.shapes: dict[int, ClosureShape] = {}
        # [TRUST-3]: entrust(first id) with the initial value as parameter, returns the pointer
        self.entrust = self.register(_builtin, ENTRUST_NAME, capture="u64", result="u64", param="cbor")
        # [TRUST-4]: toggle(id) returns 1 when it emptied the set
        self.toggle = self.register(_builtin, TOGGLE_NAME, capture="u64", result="u8")

    def register(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        *,
        capture: str = "",
        result: str | None = "",
        param: str | None = None,
    ) -> Closure:
        """Register `fn`; the layout checks (NoRef, [LAYOUT-3]) happen here, not at send time."""
        if name is None:
            name = f"{fn.__module__}:{fn.__qualname__}"
        cid = closure_id(name)
        c = Closure(
            name=name,
            id=cid,
            fn=fn,
            capture=Layout.parse(capture),
            result=ResultSpec.parse(result),
            param=ParamSpec.parse(param),
        )
        if cid == 0:  # [CID-2]
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "CID-2", f"closure {name!r} has id 0")
        old = self._by_id.get(cid)
        if old is not None and old.name != name:  # [CID-2]
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "CID-2",
                f"closure id collision: {name!r} and {old.name!r} both hash to {cid:#018x}",
            )
        if old is not None and (old.capture, old.result, old.param) != (c.capture, c.result, c.param):
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "CID-3",
                f"closure {name!r} registered twice with different layouts",
            )
        self._by_id[cid] = c
        self.shapes[cid] = c.shape
        return c

    def closure(
        self,
        *,
        capture: str = "",
        result: str | None = "",
        param: str | None = None,
        name: str | None = None,
    ) -> Callable[[Callable[..., Any]], Closure]:
        """Decorator: `@registry.closure(capture="u64", result="u64")` registers and returns a Closure."""

        def deco(f: Callable[..., Any]) -> Closure:
            return self.register(f, name, capture=capture, result=result, param=param)

        return deco

    def get(self, cid: int) -> Closure | None:
        return self._by_id.get(cid)

    def __contains__(self, cid: object) -> bool:
        return cid in self._by_id

    def __iter__(self) -> Iterator[Closure]:
        return iter(self._by_id.values())


#: The process-wide registry that `gossamer.closure` registers into.
default_registry = Registry()
closure = default_registry.closure
