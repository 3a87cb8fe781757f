"""The slot state table of SPEC.md section 2.2, parsed from SPEC.md (between its `states` markers)."""

from __future__ import annotations

import re

from .files import spec_path

_ROW = re.compile(r"^\|\s*(client|trustee)\s*\|\s*([A-Z_]+)\s*\|\s*([a-z_]+)\s*\|\s*([A-Z_]+)\s*\|")
#: the code a refused event answers ([ADPT-9])
REFUSED = {"client": "SLOT_BUSY", "trustee": "BAD_ARGUMENT"}


def parse(text: str) -> dict[str, dict[tuple[str, str], str]]:
    """role -> (state, event) -> next state; the first state listed for a role is its initial state."""
    a, b = text.index("<!-- states:begin -->"), text.index("<!-- states:end -->")
    out: dict[str, dict[tuple[str, str], str]] = {}
    for line in text[a:b].splitlines():
        m = _ROW.match(line)
        if m:
            out.setdefault(m.group(1), {})[(m.group(2), m.group(3))] = m.group(4)
    return out


TABLE = parse(spec_path().read_text(encoding="utf-8"))
EVENTS = frozenset(ev for table in TABLE.values() for (_, ev) in table)


def initial(role: str) -> str:
    return next(iter(TABLE[role]))[0]


def run(role: str, events: list[str]) -> list[str]:
    """Each event's next state, or the refusal code (the state stays)."""
    state, out = initial(role), []
    for ev in events:
        nxt = TABLE[role].get((state, ev))
        if nxt is None:
            out.append(REFUSED[role])
        else:
            state = nxt
            out.append(state)
    return out
