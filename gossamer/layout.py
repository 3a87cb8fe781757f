"""Capture and result layouts, and the NoRef rule ([LAYOUT-1] .. [LAYOUT-4], [GEN-3]).

A layout is a space-separated list of fixed-size plain fields, packed little-endian with no padding.
Registering a capture layout with anything that is not a fixed-size plain value fails here, at
registration, the way the thesis's NoRef auto trait fails at compile time ([LAYOUT-3]).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from typing import Any

import attrs

from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError, show

_FIXED: dict[str, str] = {
    "u8": "B", "u16": "H", "u32": "I", "u64": "Q",
    "i8": "b", "i16": "h", "i32": "i", "i64": "q",
    "f32": "f", "f64": "d", "bool": "B",
}
_BYTES = re.compile(r"bytes([1-9][0-9]*)")  # [DEC-7]: decimal N, no leading zeros
MAX_BYTES_FIELD = 65536
MAX_LAYOUT_SIZE = 1 << 20  # [DEC-7]: a capture or result layout takes at most 1 MiB
_FIXED_PARAM = re.compile(r"cbor:([1-9][0-9]*)")

Value = int | float | bool | bytes


def _noref(token: str, spec: str) -> LocalProtocolError:
    return LocalProtocolError(
        ErrorCode.NOREF,
        "LAYOUT-3",
        f"capture layout {spec!r}: field {token!r} is not a fixed-size plain value "
        "(NoRef: captured data may hold only u8..u64, i8..i64, f32, f64, bool, bytesN). "
        "Pass strings, lists, maps or other variable data as the closure's serialized "
        "parameter instead (param='cbor').",
    )


@attrs.frozen(slots=True)
class Layout:
    """A parsed fixed-size layout ([LAYOUT-1]); `size` bytes on the wire, no length sent ([REQ-3])."""

    spec: str
    kinds: tuple[str, ...]
    struct: struct.Struct = attrs.field(eq=False, repr=False)

    @property
    def size(self) -> int:
        return self.struct.size

    @classmethod
    def parse(cls, spec: str) -> Layout:
        if not isinstance(spec, str):
            raise LocalProtocolError(  # [ADPT-19]: a layout that is not text is an argument of the wrong type
                ErrorCode.BAD_ARGUMENT,
                "LAYOUT-1",
                f"a layout is a string such as 'u64 f64 bytes16', not {type(spec).__name__}; "
                "pass variable or reference data as the serialized parameter (param='cbor')",
            )
        fmt = ["<"]
        kinds: list[str] = []
        for t in (tok for tok in spec.split(" ") if tok):  # [DEC-7]: runs of 0x20, case-sensitive
            token = t
            if t in _FIXED:
                fmt.append(_FIXED[t])
                kinds.append(t)
                continue
            m = _BYTES.fullmatch(t)
            if m:
                n = int(m.group(1))
                if not 1 <= n <= MAX_BYTES_FIELD:
                    raise LocalProtocolError(
                        ErrorCode.NOREF, "LAYOUT-1",
                        f"bytes field {token!r}: N must be 1..{MAX_BYTES_FIELD}",
                    )
                fmt.append(f"{n}s")
                kinds.append(t)
                continue
            raise _noref(token, spec)
        st = struct.Struct("".join(fmt))
        if st.size > MAX_LAYOUT_SIZE:  # [DEC-7]: C and R fit a u32 payload_len with room to spare
            raise LocalProtocolError(
                ErrorCode.NOREF, "DEC-7", f"layout {spec[:40]!r}... takes {st.size} bytes, more than {MAX_LAYOUT_SIZE}"
            )
        return cls(spec=" ".join(kinds), kinds=tuple(kinds), struct=st)

    def pack(self, values: Sequence[Any]) -> bytes:
        """Pack captured values, checking each against its field ([SER-3] style local error)."""
        if len(values) != len(self.kinds):
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "LAYOUT-1",
                f"layout {self.spec!r} takes {len(self.kinds)} values, got {len(values)}",
            )
        for kind, v in zip(self.kinds, values, strict=True):
            _check_value(kind, v, self.spec)
        try:
            return self.struct.pack(*values)
        except (struct.error, OverflowError, TypeError) as e:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "LAYOUT-1", f"values do not fit layout {self.spec!r}: {e}"
            ) from None

    def unpack(self, data: bytes | memoryview) -> tuple[Value, ...]:
        """Unpack bytes from the wire; a bad `bool` byte is `BAD_CAPTURE` ([LAYOUT-4])."""
        if len(data) != self.struct.size:
            raise RemoteProtocolError(
                ErrorCode.BAD_CAPTURE, "LAYOUT-4",
                f"layout {self.spec!r} needs {self.struct.size} bytes, got {len(data)}",
            )
        raw = self.struct.unpack(data)
        if "bool" not in self.kinds:
            return raw
        out: list[Value] = []
        for kind, v in zip(self.kinds, raw, strict=True):
            if kind == "bool":
                if v not in (0, 1):
                    raise RemoteProtocolError(
                        ErrorCode.BAD_CAPTURE, "LAYOUT-4", f"bool byte {v} is neither 0 nor 1"
                    )
                out.append(bool(v))
            else:
                out.append(v)
        return tuple(out)


_RANGES = {
    "u8": (0, 0xFF), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF), "u64": (0, (1 << 64) - 1),
    "i8": (-0x80, 0x7F), "i16": (-0x8000, 0x7FFF), "i32": (-(1 << 31), (1 << 31) - 1),
    "i64": (-(1 << 63), (1 << 63) - 1),
}


def _check_value(kind: str, v: Any, spec: str) -> None:
    def bad(why: str) -> LocalProtocolError:
        return LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "LAYOUT-1", f"layout {spec!r} field {kind}: {why}"
        )

    if kind == "bool":
        if not isinstance(v, bool):
            raise bad(f"expected bool, got {type(v).__name__}")
    elif kind in _RANGES:
        if not isinstance(v, int) or isinstance(v, bool):
            raise bad(f"expected int, got {type(v).__name__}")
        lo, hi = _RANGES[kind]
        if not lo <= v <= hi:
            raise bad(f"{show(v)} out of range {lo}..{hi}")
    elif kind in ("f32", "f64"):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise bad(f"expected float, got {type(v).__name__}")
        try:  # an integer above the float range raises OverflowError here, not out of the trustee
            f = float(v)
        except OverflowError:
            raise bad(f"{show(v)} overflows {kind}") from None
        if kind == "f32" and math.isfinite(f) and abs(f) > 3.4028234663852886e38:
            raise bad(f"{show(v)} overflows f32")
    else:  # bytesN
        n = int(kind[5:])
        if not isinstance(v, (bytes, bytearray)) or len(v) != n:
            raise bad(f"expected exactly {n} bytes")


@attrs.frozen(slots=True)
class ParamSpec:
    """A closure's serialized parameter ([LAYOUT-2]): absent, variable `cbor`, or fixed `cbor:M`."""

    present: bool
    fixed_size: int | None  # M for cbor:M, None when variable or absent

    @property
    def variable(self) -> bool:
        return self.present and self.fixed_size is None

    @classmethod
    def parse(cls, spec: str | None) -> ParamSpec:
        if spec is None or spec == "":
            return cls(present=False, fixed_size=None)
        if spec == "cbor":
            return cls(present=True, fixed_size=None)
        fixed = _FIXED_PARAM.fullmatch(spec)
        if fixed is not None and 1 <= int(fixed.group(1)) <= 65536:  # [DEC-7]: no sign, no leading zeros
            return cls(present=True, fixed_size=int(fixed.group(1)))
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "LAYOUT-2",
            f"serialized parameter {spec!r}: expected None, 'cbor' or 'cbor:M' (1 <= M <= 65536)",
        )

    def wire_size(self, n: int) -> int:
        """Bytes this parameter takes in an entry for an encoded length `n` ([REQ-4])."""
        if not self.present:
            return 0
        return n if self.fixed_size is not None else 4 + n

    @property
    def spec(self) -> str | None:
        if not self.present:
            return None
        return "cbor" if self.fixed_size is None else f"cbor:{self.fixed_size}"


@attrs.frozen(slots=True)
class ResultSpec:
    """A closure's result ([LAYOUT-2]): a fixed layout of `R` bytes, or `cbor` (variable)."""

    layout: Layout | None  # None when the result is cbor

    @property
    def is_cbor(self) -> bool:
        return self.layout is None

    @property
    def fixed_size(self) -> int:
        return 0 if self.layout is None else self.layout.size

    @classmethod
    def parse(cls, spec: str | None) -> ResultSpec:
        if spec == "cbor":
            return cls(layout=None)
        return cls(layout=Layout.parse(spec or ""))

    @property
    def spec(self) -> str:
        return "cbor" if self.layout is None else self.layout.spec
