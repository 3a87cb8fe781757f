"""The error codes of SPEC.md section 9, parsed from its table when this module is imported.

Name, `u8` wire value and level come from the table alone (`| 0x15 | OVERSIZE | batch | ... |`), so a
case that compares a code carried in bytes compares it with the value the spec gives, never with an
implementation's enum ([ERR-1], [ADPT-11]).
"""

from __future__ import annotations

import re

import attrs

from .files import spec_path

_ROW = re.compile(r"^\|\s*0x([0-9A-Fa-f]{2})\s*\|\s*([A-Z_]+)\s*\|\s*([a-z; ]+?)\s*\|")


@attrs.frozen
class Code:
    value: int
    name: str
    #: where the code appears (the *appears as* column): entry, batch, stream, bootstrap, local
    levels: frozenset[str]


def parse(text: str) -> tuple[Code, ...]:
    """The rows of the table under the heading `## 9. Errors`, in order."""
    out: list[Code] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.startswith("## 9.")
            continue
        m = _ROW.match(line) if inside else None
        if m:
            levels = frozenset(x.strip() for x in m.group(3).split(";") if x.strip())
            out.append(Code(int(m.group(1), 16), m.group(2), levels))
    if not out:
        raise ValueError("SPEC.md section 9 has no error-code table")
    names = [c.name for c in out]
    values = [c.value for c in out]
    if len(set(names)) != len(names) or len(set(values)) != len(values):
        raise ValueError("SPEC.md section 9: a code name or value appears twice")
    return tuple(out)


TABLE: tuple[Code, ...] = parse(spec_path().read_text(encoding="utf-8"))
BY_NAME: dict[str, Code] = {c.name: c for c in TABLE}
BY_VALUE: dict[int, Code] = {c.value: c for c in TABLE}


def value(name: str) -> int:
    """The wire value of the code `name` (KeyError for a name the table does not have)."""
    return BY_NAME[name].value


def name(v: int) -> str:
    """The name of wire value `v`, or its hex when the table has no such code."""
    c = BY_VALUE.get(v)
    return c.name if c is not None else f"{v:#04x}"


def levels(name_: str) -> frozenset[str]:
    return BY_NAME[name_].levels


OK = value("OK")
FALLBACK = value("FALLBACK")
#: codes that appear as a response header's status: they reject a whole request batch ([RSP-5])
BATCH_LEVEL = frozenset(c.name for c in TABLE if "batch" in c.levels)
#: codes that appear as a response entry's status; any other entry status is [ERR-4]'s BAD_HEADER
ENTRY_LEVEL = frozenset(c.name for c in TABLE if "entry" in c.levels)
BATCH_VALUES = frozenset(value(n) for n in BATCH_LEVEL)
ENTRY_VALUES = frozenset(value(n) for n in ENTRY_LEVEL)
