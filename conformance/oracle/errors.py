"""The oracle's one error: a rejection with the code SPEC.md names and the clause that names it."""

from __future__ import annotations

from . import codes


class Rejected(Exception):
    """Input (or a local request) the spec says to reject, with code `code` per clause `clause`."""

    def __init__(self, code: str, clause: str, detail: str = "") -> None:
        if code not in codes.BY_NAME:
            raise ValueError(f"{code} is not a code of SPEC.md section 9")
        super().__init__(f"{code} [{clause}] {detail}".rstrip())
        self.code = code
        self.clause = clause
        self.detail = detail

    @property
    def value(self) -> int:
        return codes.value(self.code)
