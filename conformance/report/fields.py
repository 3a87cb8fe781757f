"""Field-level differences: the expected and received bytes of a failing case, decoded into named
fields by SPEC.md's layouts, and every field that differs (`header.seq: expected 1, received
16777216`).

Request and response images (section 1.1, 4, 5) and fallback frames ([FB-3]) are split into
fields leniently: a field the bytes do not reach is absent, not an error, so a short, torn or
forged image still shows what it holds. Entry sizes come from the case's own arguments, read with
the suite's oracle (`conformance.oracle.layout`): the closures of a request batch, the result
layouts or the responses of a response batch. Used next to the byte diff by the console, JSON and
HTML reports.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from ..model import CaseResult
from ..oracle.layout import Result, Shape, shapes

_HDR = struct.Struct("<IHBB")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_FRAME = struct.Struct("<IBBHIHHI")
_INLINE = 0xFF
_FALLBACK = 0x01

Fields = dict[str, Any]

#: ops whose `ok` image is a request batch / a response batch
_REQUEST_OPS = frozenset({"encode_request_batch"})
_RESPONSE_OPS = frozenset({"encode_response_batch", "encode_error_response"})


def _align8(n: int) -> int:
    return n + (-n % 8)


def _header(b: bytes, at: int, name: str, last: str, out: Fields) -> None:
    if len(b) < at + 8:
        if len(b) > at:
            out[f"{name}.bytes"] = b[at:]
        return
    seq, words, count, b7 = _HDR.unpack_from(b, at)
    out[f"{name}.seq"] = seq
    out[f"{name}.words"] = words
    out[f"{name}.count"] = count
    out[f"{name}.{last}"] = b7


def request_fields(b: bytes, closures: Mapping[int, Shape], names: Mapping[int, str] | None = None) -> Fields:
    """The fields of a request batch image (section 1.1 and 4), as far as the bytes and the
    known closures allow."""
    out: Fields = {}
    _header(b, 0, "header", "table_len", out)
    if len(b) < 8:
        return out
    _, words, count, table_len = _HDR.unpack_from(b, 0)
    end = min(len(b), 8 * words) - 8
    table: list[int] = []
    for j in range(table_len):
        o = 8 + 8 * j
        if o + 8 > end:
            break
        tid = _U64.unpack_from(b, o)[0]
        table.append(tid)
        out[f"table[{j}]"] = _ClosureId(tid, names)
    off = 8 + 8 * table_len
    for i in range(count):
        e = f"entries[{i}]"
        start = off
        if off + 8 > end:
            break
        w = _U64.unpack_from(b, off)[0]
        ref, flags = (w >> 48) & 0xFF, w >> 56
        out[f"{e}.pointer"] = _Hex(w & ((1 << 48) - 1))
        out[f"{e}.ref"] = ref
        out[f"{e}.flags"] = flags
        off += 8
        cid: int | None = table[ref] if ref < len(table) else None
        if ref == _INLINE and off + 8 <= end:
            cid = _U64.unpack_from(b, off)[0]
            out[f"{e}.closure_id"] = _ClosureId(cid, names)
            off += 8
        if flags & _FALLBACK:
            if off + 8 > end:
                break
            out[f"{e}.payload_len"] = _U32.unpack_from(b, off)[0]
            out[f"{e}.reserved"] = _U32.unpack_from(b, off + 4)[0]
            off += 8
            continue
        shape = closures.get(cid) if cid is not None else None
        if shape is None:  # its size is unknown: the rest is one field
            out[f"{e}.rest"] = b[off:end]
            off = end
            break
        out[f"{e}.captured"] = b[off : min(off + shape.capture, end)]
        off += shape.capture
        if shape.param.present:
            n = shape.param.fixed
            if n is None:
                if off + 4 > end:
                    break
                n = _U32.unpack_from(b, off)[0]
                out[f"{e}.param_len"] = n
                off += 4
            out[f"{e}.param"] = b[off : min(off + n, end)]
            off += n
        pad_end = start + _align8(off - start)
        if pad_end > off and off < end:
            out[f"{e}.padding"] = b[off : min(pad_end, end)]
        off = pad_end
    if off < end:
        out["leftover"] = b[off:end]
    if end >= 8:
        _header(b, end, "trailer", "table_len", out)
    return out


def response_fields(b: bytes, results: Sequence[int | None]) -> Fields:
    """The fields of a response batch image (section 5); `results[i]` is the fixed result size
    `R` of entry `i` (None: variable, `cbor`)."""
    out: Fields = {}
    _header(b, 0, "header", "status", out)
    if len(b) < 8:
        return out
    _, words, count, status = _HDR.unpack_from(b, 0)
    end = min(len(b), 8 * words) - 8
    off = 8
    if status:
        if off + 4 <= end:
            n = _U32.unpack_from(b, off)[0]
            out["detail_len"] = n
            out["detail"] = b[off + 4 : min(off + 4 + n, end)]
            off = 8 + _align8(4 + n)
    else:
        for i in range(count):
            e = f"entries[{i}]"
            if off + 8 > end:
                break
            st, n = b[off], _U32.unpack_from(b, off + 4)[0]
            out[f"{e}.status"] = _Code(st)
            out[f"{e}.reserved"] = b[off + 1 : off + 4]
            out[f"{e}.n"] = n
            start, off = off, off + 8
            if st == _FALLBACK:
                continue
            r = (results[i] or 0) if st == 0 and i < len(results) else 0
            if r:
                out[f"{e}.result"] = b[off : min(off + r, end)]
            if n:
                out[f"{e}.body"] = b[off + r : min(off + r + n, end)]
            off = start + _align8(8 + r + n)
    if off < end:
        out["leftover"] = b[off:end]
    if end >= 8:
        _header(b, end, "trailer", "status", out)
    return out


def frame_fields(b: bytes) -> Fields:
    """The fields of a fallback frame ([FB-3])."""
    out: Fields = {}
    if len(b) < _FRAME.size:
        out["bytes"] = b
        return out
    magic, kind, z1, slot, seq, index, z2, n = _FRAME.unpack_from(b, 0)
    out.update({"magic": _Hex(magic), "kind": kind, "reserved5": z1, "slot_id": slot, "seq": seq,
                "index": index, "reserved14": z2, "payload_len": n, "payload": b[_FRAME.size:]})
    return out


class _Hex(int):
    def __repr__(self) -> str:
        return f"{int(self):#x}"


class _Code(int):
    def __repr__(self) -> str:
        from ..oracle import codes

        try:
            return f"{int(self):#04x} ({codes.name(int(self))})"
        except (KeyError, ValueError):
            return f"{int(self):#04x}"


class _ClosureId(int):
    def __new__(cls, v: int, names: Mapping[int, str] | None) -> _ClosureId:
        obj = super().__new__(cls, v)
        obj.label = (names or {}).get(v)
        return obj

    label: str | None

    def __repr__(self) -> str:
        return f"{int(self):#018x}" + (f" ({self.label})" if self.label else "")


def _show(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return f"h'{bytes(v).hex()}'" if v else "h''"
    return repr(v)


def field_diff(exp: Fields, rec: Fields) -> list[str]:
    """`name: expected X, received Y` for every field that differs or is on one side only."""
    out = []
    for k in list(exp) + [k for k in rec if k not in exp]:
        if k not in rec:
            out.append(f"{k}: expected {_show(exp[k])}, missing from the received bytes")
        elif k not in exp:
            out.append(f"{k}: not expected, received {_show(rec[k])}")
        elif exp[k] != rec[k]:
            out.append(f"{k}: expected {_show(exp[k])}, received {_show(rec[k])}")
    return out


def _decoder(result: CaseResult) -> Any:
    """How to split this case's images into fields, from its op and arguments; None: it has none."""
    c = result.case
    args = c.args
    if c.op in _REQUEST_OPS:
        closures = args.get("closures") or []
        try:
            known = shapes(closures)
        except Exception:  # a case that forges closures: sizes unknown, header and table only
            known = {}
        names = {int(d["id"]): str(d["name"]) for d in closures if "id" in d and "name" in d}
        return lambda b: request_fields(b, known, names)
    if c.op in _RESPONSE_OPS:
        sizes: list[int | None] = []
        for r in args.get("responses") or []:
            res = r.get("result") if isinstance(r, Mapping) else None
            sizes.append(len(res) if isinstance(res, bytes) else None)
        for spec in args.get("results") or []:
            try:
                p = Result.parse(spec)
                sizes.append(None if p.cbor else p.fixed_size)
            except Exception:
                sizes.append(None)
        return lambda b: response_fields(b, sizes)
    return None


def field_lines(result: CaseResult) -> list[str]:
    """The differing fields of a case's expected and received images and frames, each block
    headed by where the bytes are in the answer (`ok.image`, `ok.frames[0]`); empty when the
    answer has no such bytes or they are equal."""
    exp, rec = result.case.expect, result.received
    if not isinstance(exp, Mapping) or not isinstance(rec, Mapping):
        return []
    e_ok, r_ok = exp.get("ok"), rec.get("ok")
    if not isinstance(e_ok, Mapping) or not isinstance(r_ok, Mapping):
        return []
    out: list[str] = []
    image = _decoder(result)
    if image is not None:
        a, b = e_ok.get("image"), r_ok.get("image")
        if isinstance(a, bytes) and isinstance(b, bytes) and a != b:
            out += _block("ok.image", field_diff(image(a), image(b)))
    a, b = e_ok.get("frame"), r_ok.get("frame")
    if isinstance(a, bytes) and isinstance(b, bytes) and a != b:
        out += _block("ok.frame", field_diff(frame_fields(a), frame_fields(b)))
    fa, fb = e_ok.get("frames"), r_ok.get("frames")
    if isinstance(fa, Sequence) and isinstance(fb, Sequence) and not isinstance(fa, (str, bytes)):
        for i, (a, b) in enumerate(zip(fa, fb, strict=False)):
            if isinstance(a, bytes) and isinstance(b, bytes) and a != b:
                out += _block(f"ok.frames[{i}]", field_diff(frame_fields(a), frame_fields(b)))
    return out


def _block(where: str, lines: list[str]) -> list[str]:
    return [f"{where}: {line}" for line in lines]
