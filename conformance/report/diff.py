"""The whole difference between an expected and a received outcome, as lines a person can read.

Every differing leaf is listed with its path (`ok.responses[1].body`); byte strings list every run
of differing bytes with both sides in full hex, nothing cut short. Used by the console (`-v`), the
JSON report and the HTML page alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Differing bytes closer than this are reported as one run.
_JOIN = 4


def diff_lines(expected: Any, received: Any, path: str = "") -> list[str]:
    """Lines `path: expected X, received Y`; empty when the two are equal."""
    out: list[str] = []
    _walk(expected, received, path, out)
    return out


def _name(path: str) -> str:
    return path or "answer"


def _walk(exp: Any, rec: Any, path: str, out: list[str]) -> None:
    if isinstance(exp, Mapping) and isinstance(rec, Mapping):
        for k in list(exp) + [k for k in rec if k not in exp]:
            sub = f"{path}.{k}" if path else str(k)
            if k not in rec:
                out.append(f"{sub}: expected {show(exp[k])}, missing from the answer")
            elif k not in exp:
                out.append(f"{sub}: not expected, received {show(rec[k])}")
            else:
                _walk(exp[k], rec[k], sub, out)
        return
    if _seq(exp) and _seq(rec):
        if len(exp) != len(rec):
            out.append(f"{_name(path)}: expected {len(exp)} elements, received {len(rec)}")
        for i in range(max(len(exp), len(rec))):
            sub = f"{path}[{i}]"
            if i >= len(rec):
                out.append(f"{sub}: expected {show(exp[i])}, missing from the answer")
            elif i >= len(exp):
                out.append(f"{sub}: not expected, received {show(rec[i])}")
            else:
                _walk(exp[i], rec[i], sub, out)
        return
    if isinstance(exp, (bytes, bytearray)) and isinstance(rec, (bytes, bytearray)):
        if exp != rec:
            out.extend(bytes_diff(bytes(exp), bytes(rec), _name(path)))
        return
    if exp != rec or (type(exp) is not type(rec) and (isinstance(exp, bool) or isinstance(rec, bool))):
        out.append(f"{_name(path)}: expected {show(exp)}, received {show(rec)}")


def _seq(v: Any) -> bool:
    return isinstance(v, Sequence) and not isinstance(v, (str, bytes, bytearray))


def bytes_diff(exp: bytes, rec: bytes, path: str) -> list[str]:
    """Every run of differing bytes (offsets, both sides in hex); the lengths when they differ."""
    out = [f"{path}: {len(exp)} bytes expected, {len(rec)} received"
           + ("" if len(exp) == len(rec) else f" ({len(rec) - len(exp):+d})")]
    runs: list[list[int]] = []
    for i in range(min(len(exp), len(rec))):
        if exp[i] != rec[i]:
            if runs and i - runs[-1][1] <= _JOIN:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1])
    for a, b in runs:
        out.append(f"  [{a:#06x}..{b:#06x}) expected {exp[a:b].hex()} received {rec[a:b].hex()}")
    if len(exp) > len(rec):
        out.append(f"  [{len(rec):#06x}..{len(exp):#06x}) expected {exp[len(rec):].hex()} received nothing")
    elif len(rec) > len(exp):
        out.append(f"  [{len(exp):#06x}..{len(rec):#06x}) not expected, received {rec[len(exp):].hex()}")
    return out


def show(v: Any) -> str:
    """CBOR diagnostic notation (RFC 8949, 8): bytes as h'..', text in double quotes."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"h'{bytes(v).hex()}'"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{show(k)}: {show(x)}" for k, x in v.items()) + "}"
    if _seq(v):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return repr(v)
