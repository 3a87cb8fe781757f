"""The one order of a hello's checks ([DEC-5] steps 6 to 18), the machine a hello names
([BOOT-11]), and what a receiver must accept ([BOOT-12], [SHAPE-4], [DEC-5] step 18).

One table, `HELLOS`, in the format of `hello_limits`: a connector's hello (op `nic_bootstrap`) and
what the trustee must do with it. Most rows break two rules at once, each with its own code, so
that only [DEC-5]'s order gives the expected code: a hello naming a wrong machine with a version
range the trustee does not speak (step 10 before 11: `VERSION_MISMATCH`), a wrong thread count with
no `gid` (step 12 before 13: `BAD_HEADER`), no `psn` with a bad `gid` (step 13 looks for every RDMA
key before judging any value: `MALFORMED_CBOR`). Rows that a strict reading would refuse must be
accepted: `"trustees"` naming every thread (compared as sets, [SHAPE-4]), a key this document does
not name ([DEC-5] step 18), an empty `request_slots` row next to a full one and an id in `ids`
that no table names ([BOOT-12]).

The trustee under test is machine 0 and knows the suite as machine 1 ([ADPT-13]). Expected values
come from SPEC.md (codes by wire value); nothing here imports `gossamer`.
"""

from __future__ import annotations

from typing import Any

from ..model import Case, Outcome, ok
from ._wire import case
from .hello_limits import SERVING, hello_map, judge_table, slots

#: (what, the hello's changes to `hello_map()`, "ready" or the code the trustee refuses it with, clauses)
HELLOS: tuple[tuple[str, dict[str, Any], str, tuple[str, ...]], ...] = (
    ("machine 0, the trustee's own number", {"machine": 0}, "BAD_HEADER", ("BOOT-11",)),
    ("machine 2, not the machine the trustee knows the connection to be with", {"machine": 2}, "BAD_HEADER",
     ("BOOT-11",)),
    ("machine 2 and versions [2, 2]", {"machine": 2, "versions": [2, 2]}, "VERSION_MISMATCH",
     ("DEC-5", "BOOT-1", "BOOT-11")),
    ("threads 1 (the trustee expects 2) and no gid", {"threads": 1, "response_slots": [[0, 1]], "gid": None},
     "BAD_HEADER", ("DEC-5", "BOOT-10", "BOOT-3")),
    ("no psn and a gid of 15 bytes", {"psn": None, "gid": bytes(15)}, "MALFORMED_CBOR", ("DEC-5", "BOOT-3")),
    ("no fallback_port and a psn of 2^24", {"fallback_port": None, "psn": 1 << 24}, "MALFORMED_CBOR",
     ("DEC-5", "BOOT-3")),
    ("trustees [[0, 2]]: every thread, named", {"trustees": [[0, 2]]}, "ready", ("SHAPE-4", "SHAPE-5")),
    ("a key this document does not name", {"x-extension": {"any": [1, "two"]}}, "ready", ("DEC-5",)),
    ("an empty request_slots row next to a full one", {**SERVING, "request_slots": [[4, 5], []], "fallback_port": 1},
     "ready", ("BOOT-12", "BOOT-6")),
    ("an id in ids that no table names", {"slots": slots(ids=[0, 1, 2, 3, 9])}, "ready", ("BOOT-12",)),
)


def rows() -> list[tuple[str, Any, str, tuple[str, ...]]]:
    return [(what, {"map": hello_map(**over), "own_gid": "gid" not in over}, want, cls)
            for what, over, want, cls in HELLOS]


def order_check(c: Case, got: Outcome) -> str | None:
    return judge_table(rows(), got, " ([DEC-5] gives the one order of the checks: the first step that fails decides)")


def cases() -> list[Case]:
    clauses = sorted({cl for *_, cls in HELLOS for cl in cls} | {"BOOT-5", "ADPT-13"})
    return [case("live.boot-hello-order", "hellos that break two rules answered with the code of the first "
                 "[DEC-5] step that fails, a hello naming another machine refused, and hellos a strict reading "
                 "would refuse accepted", clauses, "nic_bootstrap", {"hellos": [h for _, h, _, _ in rows()]},
                 ok({"replies": "(checked)"}), tags=("nic", "live", "trustee", "bootstrap"), check=order_check)]
