"""Capture and result layouts, serialized parameters ([LAYOUT-1] .. [LAYOUT-4], [GEN-3], [REQ-3], [REQ-4]).

A capture layout is space-separated fields packed little-endian with no padding; `bytesN` is N raw
bytes, `1 <= N <= 65536`; `bool` is one byte, 0 or 1. A result layout is a capture layout or `cbor`;
a parameter is absent (None), `cbor` (variable) or `cbor:M` (fixed, M bytes).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from typing import Any

import attrs

from .errors import Rejected

_FIXED = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "i8": "b", "i16": "h", "i32": "i", "i64": "q",
          "f32": "f", "f64": "d", "bool": "B"}
_BYTES = re.compile(r"bytes([1-9][0-9]*)")
MAX_BYTES = 65536
MAX_LAYOUT = 1 << 20  #: [DEC-7] a capture or result layout adds up to at most 1 MiB


@attrs.frozen
class Layout:
    spec: str
    fields: tuple[str, ...]
    size: int

    @classmethod
    def parse(cls, spec: str) -> Layout:
        """[DEC-7], [LAYOUT-3]: any token but the fixed plain fields is NOREF; a layout that is not
        text is no layout at all ([ADPT-19]: capture-layout is tstr)."""
        if not isinstance(spec, str):
            raise Rejected("BAD_ARGUMENT", "ADPT-19", f"layout {spec!r:.40} is not text")
        fields = tuple(t for t in spec.split(" ") if t)  # [DEC-7] runs of 0x20 only
        size = 0
        for f in fields:
            if f in _FIXED:
                size += struct.calcsize("<" + _FIXED[f])
                continue
            m = _BYTES.fullmatch(f)
            if m is None or int(m.group(1)) > MAX_BYTES:
                raise Rejected("NOREF", "LAYOUT-3", f"field {f!r} of {spec!r} is not a fixed-size plain value")
            size += int(m.group(1))
        if size > MAX_LAYOUT:
            raise Rejected("NOREF", "DEC-7", f"layout {spec[:40]!r} adds up to {size} bytes, more than 2^20")
        return cls(spec, fields, size)

    def pack(self, values: Sequence[Any]) -> bytes:
        if len(values) != len(self.fields):
            raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{len(values)} values for {len(self.fields)} fields")
        out = bytearray()
        for f, v in zip(self.fields, values, strict=True):
            if f in _FIXED:
                if f == "bool":  # [ADPT-9] true or false, not 0 or 1
                    if not isinstance(v, bool):
                        raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"bool field given {v!r}")
                    v = int(v)
                elif f[0] == "f":
                    if isinstance(v, bool) or not isinstance(v, (int, float)):
                        raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{f} field given {v!r}")
                    try:
                        v = float(v)
                    except OverflowError:  # an integer above every double
                        raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{v!r:.40} overflows {f}") from None
                    if f == "f32" and math.isfinite(v) and abs(v) > 3.4028234663852886e38:
                        raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{v!r} overflows f32")
                elif isinstance(v, bool) or not isinstance(v, int):
                    raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{f} field given {v!r}")
                try:
                    out += struct.pack("<" + _FIXED[f], v)
                except (struct.error, OverflowError):
                    raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{v!r} does not fit {f}") from None
            else:
                n = int(f[5:])
                if not isinstance(v, (bytes, bytearray)) or len(v) != n:
                    raise Rejected("BAD_ARGUMENT", "LAYOUT-1", f"{f} field given {v!r:.40}")
                out += v
        return bytes(out)

    def unpack(self, data: bytes) -> tuple[Any, ...]:
        """[LAYOUT-4]: a size mismatch or a bool byte other than 0 or 1 is BAD_CAPTURE."""
        if len(data) != self.size:
            raise Rejected("BAD_CAPTURE", "LAYOUT-4", f"{len(data)} bytes for a layout of {self.size}")
        out: list[Any] = []
        off = 0
        for f in self.fields:
            if f in _FIXED:
                (v,) = struct.unpack_from("<" + _FIXED[f], data, off)
                off += struct.calcsize("<" + _FIXED[f])
                if f == "bool":
                    if v > 1:
                        raise Rejected("BAD_CAPTURE", "LAYOUT-4", f"bool byte {v}")
                    v = bool(v)
                out.append(v)
            else:
                n = int(f[5:])
                out.append(bytes(data[off : off + n]))
                off += n
        return tuple(out)


@attrs.frozen
class Result:
    """[LAYOUT-2]: `R` fixed bytes, or `cbor` (no fixed part, a variable CBOR body)."""

    spec: str
    cbor: bool
    fixed_size: int

    @classmethod
    def parse(cls, spec: str) -> Result:
        if spec == "cbor":
            return cls(spec, True, 0)
        return cls(spec, False, Layout.parse(spec).size)


@attrs.frozen
class Param:
    """[LAYOUT-2], [REQ-4]: absent, variable (`cbor`) or fixed (`cbor:M`)."""

    spec: str | None
    present: bool
    fixed: int | None  #: M for `cbor:M`, None for variable or absent

    @classmethod
    def parse(cls, spec: str | None) -> Param:
        if spec is None or spec == "":  # [DEC-7] null; the reference also takes ""
            return cls(None, False, None)
        if spec == "cbor":
            return cls(spec, True, None)
        m = re.fullmatch(r"cbor:([1-9][0-9]*)", spec)
        if m is None or int(m.group(1)) > MAX_BYTES:
            raise Rejected("BAD_ARGUMENT", "LAYOUT-2", f"parameter spec {spec!r}")
        return cls(spec, True, int(m.group(1)))

    def wire_size(self, param: bytes | None) -> int:
        """`p` of [FB-1]: `4 + n` variable, `M` fixed, 0 none."""
        if not self.present:
            return 0
        return self.fixed if self.fixed is not None else 4 + len(param or b"")


@attrs.frozen
class Shape:
    """What a closure id determines ([CID-3]): capture size C, parameter, result."""

    capture: int
    param: Param
    result: Result

    @classmethod
    def of(cls, d: dict[str, Any]) -> Shape:
        """From an adapter closure description ([ADPT-5]); checked capture, result, parameter ([DEC-7])."""
        capture = Layout.parse(d["capture"]).size
        result = Result.parse(d["result"])
        return cls(capture, Param.parse(d.get("param")), result)


def shapes(closures: Sequence[dict[str, Any]]) -> dict[int, Shape]:
    return {int(d["id"]): Shape.of(d) for d in closures}
