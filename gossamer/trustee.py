"""Running a decoded batch on a trustee: the property table and request execution.

Sans-I/O: given a `RequestBatch` (already decoded, stubs completed or timed out) and a property
table, produce the `Response`s in request order ([REQ-7], [RSP-2]). Implements the entry-level
answers [REQ-1], [LAYOUT-4], [SER-2], the built-ins [TRUST-3] .. [TRUST-5], and closure failures.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Collection, Sequence
from typing import Any

import attrs

from . import serial
from .buffer import MASK48, U8, U64
from .closures import Closure, Registry
from .errors import ErrorCode, GossamerError, LocalProtocolError, show
from .layout import ResultSpec
from .request import Request
from .response import Response
from .trust_ids import TrustIdSet


@attrs.define(slots=True)
class PropertyEntry:
    value: Any
    trust: TrustIdSet


class PropertyTable:
    """Live properties by 48-bit pointer. Pointers are never reused, so a stale one is BAD_PROPERTY."""

    def __init__(self, base: int = 0x1000, stride: int = 0x40) -> None:
        self._next = base
        self._stride = stride
        self.live: dict[int, PropertyEntry] = {}
        self.dropped: list[int] = []  # pointers in the order they were dropped ([TRUST-5])
        self.on_create: Callable[[int], None] | None = None
        self.on_drop: Callable[[int, Any], None] | None = None

    def create(self, value: Any, first_id: int) -> int:
        ptr = self._next
        self._next += self._stride
        if ptr > MASK48:
            raise LocalProtocolError(ErrorCode.OVERSIZE, "TRUST-3", "property pointers exhausted")
        self.live[ptr] = PropertyEntry(value, TrustIdSet.entrusted(first_id))
        if self.on_create is not None:
            self.on_create(ptr)
        return ptr

    def drop(self, ptr: int) -> None:
        entry = self.live.pop(ptr)
        self.dropped.append(ptr)
        if self.on_drop is not None:
            self.on_drop(ptr, entry.value)


def pack_result(spec: ResultSpec, value: Any) -> tuple[bytes, bytes | None]:
    """(fixed result bytes, CBOR body) for a closure's return value; BAD_RESULT when it does not fit."""
    if spec.layout is None:
        try:
            return b"", serial.dumps(value)
        except Exception as e:
            raise LocalProtocolError(
                ErrorCode.BAD_RESULT, "LAYOUT-2", f"result is not CBOR-serializable: {e}"
            ) from None
    n = len(spec.layout.kinds)
    if n == 0:
        if value is not None:
            raise LocalProtocolError(ErrorCode.BAD_RESULT, "LAYOUT-2",
                                     f"closure has no result but returned {show(value)}")
        return b"", None
    values = (value,) if n == 1 else value
    if not isinstance(values, (tuple, list)):
        raise LocalProtocolError(ErrorCode.BAD_RESULT, "LAYOUT-2", f"result layout {spec.spec!r} takes {n} values")
    try:
        return spec.layout.pack(values), None
    except LocalProtocolError as e:
        raise LocalProtocolError(ErrorCode.BAD_RESULT, "LAYOUT-2", e.message) from None


def unpack_result(spec: ResultSpec, resp: Response) -> Any:
    """The value a client delivers for an OK response entry (inverse of `pack_result`)."""
    if spec.layout is None:
        return serial.loads(resp.body or b"")
    values = spec.layout.unpack(resp.result)
    if not values:
        return None
    return values[0] if len(values) == 1 else values


class Trustee:
    """Executes requests for one trustee thread against its property table."""

    def __init__(self, registry: Registry, table: PropertyTable | None = None) -> None:
        self.registry = registry
        self.table = table if table is not None else PropertyTable()
        #: set by the runtime while a delegated closure runs, so that a nested blocking apply fails
        self.running: Closure | None = None

    def run_batch(self, requests: Sequence[Request], timed_out: Collection[int] = ()) -> list[Response]:
        """Run requests in order ([REQ-7]); indices in `timed_out` get FALLBACK_TIMEOUT ([FB-5])."""
        out = []
        for i, req in enumerate(requests):
            if i in timed_out:
                out.append(Response.error(ErrorCode.FALLBACK_TIMEOUT, f"entry {i}: fallback payload did not arrive"))
            else:
                out.append(self.run(req))
        return out

    def run(self, req: Request) -> Response:
        """One request: entry-level errors become error entries; nothing escapes ([ERR-1], [ERR-2])."""
        if req.fallback_len is not None:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "FB-5", "a fallback stub runs only once its frame arrived")
        c = self.registry.get(req.closure_id)
        if c is None:  # decode already rejects this ([VT-5]); kept for direct callers
            return Response.error(ErrorCode.UNKNOWN_CLOSURE, f"closure {req.closure_id:#018x}")
        try:
            captured = c.capture.unpack(req.captured)  # [LAYOUT-4]
            args: tuple[Any, ...] = captured
            if c.param.present:
                args = (*captured, serial.loads(req.param or b""))  # [SER-2]
            if c is self.registry.entrust:
                return self._entrust(req, captured, args[-1])
            entry = self.table.live.get(req.property)
            if entry is None:  # [REQ-1], [TRUST-5]
                return Response.error(ErrorCode.BAD_PROPERTY, f"pointer {req.property:#x} names no live property")
            if c is self.registry.toggle:
                emptied = entry.trust.toggle(int(captured[0]))
                if emptied:
                    self.table.drop(req.property)
                return Response(int(ErrorCode.OK), U8.pack(1 if emptied else 0))
        except GossamerError as e:
            return Response.error(e.code, e.message)
        try:
            value = self.call(c, entry.value, args)
        except LocalProtocolError as e:
            if e.code is not ErrorCode.NESTED_APPLY:
                return self._raised(c, e)
            # [ERR-5]: the caller receives NESTED_APPLY itself, not CLOSURE_RAISED
            return Response.error(ErrorCode.NESTED_APPLY, f"{c.name}: {e.message}")
        except Exception as e:
            return self._raised(c, e)
        try:
            fixed, body = pack_result(c.result, value)
        except GossamerError as e:
            return Response.error(e.code, f"{c.name}: {e.message}")
        return Response(int(ErrorCode.OK), fixed, body)

    @staticmethod
    def _raised(c: Closure, e: BaseException) -> Response:
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""
        try:  # str() of an exception holding a 5000-digit integer raises ValueError itself
            text = str(e)
        except Exception:
            text = "<unprintable>"
        return Response.error(ErrorCode.CLOSURE_RAISED, f"{c.name} raised {type(e).__name__}: {text}{where}")

    def call(self, c: Closure, value: Any, args: tuple[Any, ...]) -> Any:
        """Run the closure itself; a runtime overrides this to mark "inside a delegated closure"."""
        self.running = c
        try:
            return c.fn(value, *args)
        finally:
            self.running = None

    def _entrust(self, req: Request, captured: tuple[Any, ...], value: Any) -> Response:
        if req.property != 0:
            return Response.error(ErrorCode.BAD_PROPERTY, "entrust is sent with property pointer 0")
        ptr = self.table.create(value, int(captured[0]))
        return Response(int(ErrorCode.OK), U64.pack(ptr))
