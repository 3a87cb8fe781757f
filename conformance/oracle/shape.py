"""Rack shapes, the slot numbering and its limit ([SHAPE-1] .. [SHAPE-3], [LIM-3]), written from
SPEC.md section 1.2 alone: the numbering is walked as the spec's nested loops (the reference computes
it by formula), the inverse read off the same walk.

`slots(shape, machine)` is what the adapter's `shape_slots` answers ([ADPT-9]).
"""

from __future__ import annotations

from typing import Any

from .errors import Rejected

ID_SPACE = 1 << 16  #: slot ids are 16 bits ([SLOT-5], [LIM-3])


def _uint(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def parse(shape: Any) -> list[tuple[int, list[int]]]:
    """(threads, trustee threads) per machine from `[{threads, trustees: runs}]`, the runs checked
    as [SHAPE-4] checks a hello's; anything else is BAD_ARGUMENT ([ADPT-19])."""
    if not (isinstance(shape, list) and 1 <= len(shape) <= 0x10000):
        raise Rejected("BAD_ARGUMENT", "SHAPE-1", "a shape is 1 .. 65536 machines")
    out = []
    for m in shape:
        if not (isinstance(m, dict) and set(m) == {"threads", "trustees"} and _uint(m["threads"])
                and 1 <= m["threads"] <= 0xFFFF and isinstance(m["trustees"], list)):
            raise Rejected("BAD_ARGUMENT", "SHAPE-1", f"machine {m!r:.60} is not {{threads, trustees}}")
        ts: list[int] = []
        after = 0
        for run in m["trustees"]:
            if not (isinstance(run, list) and len(run) == 2 and all(_uint(x) for x in run) and run[1] >= 1
                    and run[0] >= after and run[0] + run[1] <= m["threads"]):
                raise Rejected("BAD_ARGUMENT", "SHAPE-4", f"trustee runs {m['trustees']!r:.60}")
            ts += range(run[0], run[0] + run[1])
            after = run[0] + run[1] + 1
        out.append((m["threads"], ts))
    return out


def walk(machines: list[tuple[int, list[int]]], m: int) -> list[list[Any]]:
    """[SHAPE-2]'s loops for machine `m`: what each id, in order, is for ([SHAPE-3] reads it back)."""
    out: list[list[Any]] = []
    for p, (tp, _) in enumerate(machines):
        for c in range(tp):
            for t in machines[m][1]:
                out.append(["request", p, c, t])
    for c in range(machines[m][0]):
        for p, (_, rp) in enumerate(machines):
            for t in rp:
                out.append(["response", p, t, c])
    return out


def count(machines: list[tuple[int, list[int]]], m: int) -> int:
    """`N_m = ΣT * r_m + T_m * ΣR`."""
    total_t = sum(t for t, _ in machines)
    total_r = sum(len(r) for _, r in machines)
    return total_t * len(machines[m][1]) + machines[m][0] * total_r


def slots(shape: Any, machine: Any) -> dict[str, Any]:
    """`shape_slots`: `{"count": N_m, "slots": [...]}` for `machine`, or BAD_ARGUMENT when the shape
    is not one ([SHAPE-1]) or a machine of it needs more than 65536 ids ([LIM-3])."""
    machines = parse(shape)
    if not (_uint(machine) and machine < len(machines)):
        raise Rejected("BAD_ARGUMENT", "ADPT-19", f"machine {machine!r:.20} of {len(machines)}")
    for m in range(len(machines)):
        if count(machines, m) > ID_SPACE:
            raise Rejected("BAD_ARGUMENT", "LIM-3", f"machine {m} needs {count(machines, m)} slot ids")
    rows = walk(machines, machine)
    return {"count": len(rows), "slots": rows}
