"""Reference counting by trust-id sets ([TRUST-1] .. [TRUST-7]).

Each toggle carries `why` ("clone" or "drop"): the issuer's intent, which a conformant trustee
ignores ([TRUST-2]: a toggle is a symmetric difference). It is there so that a naive integer
reference count, which needs the direction, can be expressed and caught.
"""

from __future__ import annotations

from ..model import Case, err, ok
from ._wire import case

A1, A2 = (1 << 48) | (1 << 32) | 1, (1 << 48) | (1 << 32) | 2  # machine 1, thread 1
B1 = (1 << 48) | (2 << 32) | 1  # machine 1, thread 2


def t(tid: int, why: str) -> dict[str, object]:
    return {"id": tid, "why": why}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict, expect: dict) -> None:  # type: ignore[type-arg]
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "trust")))

    add("trust.id-layout", "machine 16 bits | thread 16 bits | counter 32 bits", ["TRUST-1"], "mint",
        {"machine": 0xABCD, "thread": 0x1234, "counter": 0x41}, ok({"id": 0xABCD_1234_0000_0042}))
    add("trust.id-wrap", "a counter that would wrap fails locally", ["TRUST-1"], "mint",
        {"machine": 1, "thread": 1, "counter": 0xFFFFFFFF}, err("BAD_ARGUMENT"))
    add("trust.in-order", "clone then drop both, in issue order: emptied by the last toggle",
        ["TRUST-2", "TRUST-4", "TRUST-5"], "toggle",
        {"first": A1, "toggles": [t(A2, "clone"), t(A2, "drop"), t(A1, "drop")]},
        ok({"emptied": [False, False, True]}))
    add("trust.drop-overtakes-clone", "B's drop of the clone is processed before A's clone toggle",
        ["TRUST-7", "TRUST-2", "TRUST-6"], "toggle",
        {"first": A1, "toggles": [t(A2, "drop"), t(A2, "clone"), t(A1, "drop")]},
        ok({"emptied": [False, False, True]}))
    add("trust.handover-chain", "A clones for B, B clones for C; drops arrive out of thread order",
        ["TRUST-6", "TRUST-7"], "toggle",
        {"first": A1, "toggles": [t(A2, "clone"), t(B1, "drop"), t(A1, "drop"), t(B1, "clone"), t(A2, "drop")]},
        ok({"emptied": [False, False, False, False, True]}))
    add("trust.after-drop", "a toggle after the set emptied names a dropped property",
        ["TRUST-5"], "toggle", {"first": A1, "toggles": [t(A1, "drop"), t(A2, "clone")]}, err("BAD_PROPERTY"))
    return out
