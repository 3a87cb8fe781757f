"""Reference counting by trust-id sets ([TRUST-1] .. [TRUST-7]).

Each toggle carries `why` ("clone" or "drop"): the issuer's intent, which a conformant trustee
ignores ([TRUST-2]: a toggle is a symmetric difference). It is there so that a naive integer
reference count, which needs the direction, can be expressed and caught.
"""

from __future__ import annotations

from ..model import Case, Outcome, err, ok
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
    add("trust.mint-counter-over-u32", "a counter above 32 bits is BAD_ARGUMENT", ["ADPT-19", "TRUST-1"], "mint",
        {"machine": 1, "thread": 1, "counter": 1 << 32}, err("BAD_ARGUMENT"))
    add("trust.toggle-after-drop-whole-answer", "a toggle after the set emptied makes the whole answer BAD_PROPERTY",
        ["ADPT-8", "TRUST-5"], "toggle", {"first": A1, "toggles": [t(A2, "clone"), t(A2, "drop"), t(A1, "drop"),
                                                                   t(B1, "clone")]}, err("BAD_PROPERTY"))
    out.append(_no_reuse())
    return out


def _no_reuse() -> Case:
    """[TRUST-8]: a dropped property's pointer is never returned again in the session."""
    from ..catalogue_closures import ADD, ENTRUST, GET, TOGGLE, standard
    from ..oracle import layout, response, slot
    from ._execute_op import NONZERO48, X, b, entry, execute_check
    from ._wire import cbor, cfg, req_entry

    def check(c: Case, got: Outcome) -> str | None:
        why = execute_check(c, got)
        if why is not None:
            return why
        specs = [layout.Result.parse(s) for s in ["u8", "u64", "u64", "cbor"]]
        rb = response.decode(got["ok"]["responses"][0]["image"], specs, slot.Config.of(c.args["config"]), 1)
        new = int.from_bytes(rb.responses[1].result, "little")
        return None if new != X else f"the new property got the dropped property's pointer {X:#x} ([TRUST-8])"

    u64 = (1).to_bytes(8, "little")
    batch = b(1, [req_entry(X, 0, A1.to_bytes(8, "little")),  # drops X
                  req_entry(0, 1, A2.to_bytes(8, "little"), cbor([7])),  # entrusts a new property
                  req_entry(X, 2, u64),  # X is dead: BAD_PROPERTY, whatever was created since
                  req_entry(X, 3)], [TOGGLE.id, ENTRUST.id, ADD.id, GET.id])
    args = {"config": cfg(), "closures": standard(), "properties": [{"pointer": X, "value": [10], "first": A1}],
            "batches": [batch], "_live": None,
            "_want": [{"results": ["u8", "u64", "u64", "cbor"],
                       "entries": [entry("OK", b"\x01"), entry("OK", NONZERO48), entry("BAD_PROPERTY"),
                                   entry("BAD_PROPERTY")]}]}
    return case("trust.pointer-not-reused", "a dropped property's pointer names nothing for the rest of the session",
                ["TRUST-8", "TRUST-5", "TRUST-3"], "execute", args, ok({"responses": "(checked by decoding)"}),
                tags=("trustee", "trust"), check=check)
