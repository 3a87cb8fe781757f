"""The clauses of SPEC.md, parsed from its `- [ID] text` lines, in document order.

SPEC.md is found by `oracle.files` (the checkout's protocol/, or the installed data package
`gossamer._protocol`), without importing `gossamer`'s code.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .oracle import files

CLAUSE_LINE = re.compile(r"^\s*- \[([A-Z]+-[0-9]+)\]\s*(.*)$")


def spec_path() -> Path:
    return files.spec_path()


@functools.cache
def clauses() -> dict[str, str]:
    """Clause id -> its text (the first lines of its bullet), in the order SPEC.md gives them."""
    path = spec_path()  # raises a clear error when SPEC.md is missing: an empty spec is not a pass
    out: dict[str, str] = {}
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = CLAUSE_LINE.match(line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
        elif current and line.startswith("  ") and line.strip() and not line.strip().startswith("|"):
            out[current] += " " + line.strip()
        else:
            current = None
    return out
