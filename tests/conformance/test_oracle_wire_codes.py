"""Codes by wire value (issue 16, item 3): a reference that keeps every code's *name* but moves one
code's *value* fails the suite.

The patch rebuilds `gossamer.errors.ErrorCode` with OVERSIZE moved (to an unused value, or swapped
with FALLBACK_TIMEOUT) and puts it, and every set or tuple of codes built from it, in place of the old
one in every loaded `gossamer` module and in the reference target, for the duration of one run. The
adapter's `{"error": NAME}` answers are unchanged by this (names only, [ADPT-3]); cases that read
a code out of bytes (response headers, response entries, `land` and `execute` images) compare it
with the value SPEC.md's table gives (`conformance.oracle.codes`) and fail.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import gossamer.errors
from conformance.cases import catalogue, select
from conformance.model import Verdict
from conformance.oracle import codes
from conformance.runner import run
from conformance.targets.reference import ReferenceTarget


def _moved(changes: dict[str, int]) -> type[enum.IntEnum]:
    old = gossamer.errors.ErrorCode
    members = {m.name: changes.get(m.name, int(m)) for m in old}
    new = enum.IntEnum("ErrorCode", members)  # type: ignore[misc]
    for name, fn in vars(old).items():  # keep the methods (is_batch_level, ...)
        if callable(fn) and not name.startswith("__") and name not in members:
            setattr(new, name, fn)
    return new


def _swap(v: Any, old: type[enum.IntEnum], new: type[enum.IntEnum]) -> Any:
    if v is old:
        return new
    if isinstance(v, old):
        return new[v.name]
    if isinstance(v, (frozenset, set, tuple)) and v and all(isinstance(x, old) for x in v):
        return type(v)(new[x.name] for x in v)
    return v


@pytest.fixture
def moved(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    changes: dict[str, int] = request.param
    old = gossamer.errors.ErrorCode
    new = _moved(changes)
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == "gossamer" or name.startswith(("gossamer.", "conformance.targets.reference",
                                                                      "conformance.peers.reference_trustee"))):
            continue
        for attr, v in list(vars(mod).items()):
            w = _swap(v, old, new)
            if w is not v:
                monkeypatch.setattr(mod, attr, w)
    yield changes


#: the codes' values SPEC.md gives, as the oracle read them
OVERSIZE, FALLBACK_TIMEOUT = codes.value("OVERSIZE"), codes.value("FALLBACK_TIMEOUT")
#: every code that travels in bytes: a response header's status or a response entry's ([ERR-4])
ON_THE_WIRE = sorted((codes.BATCH_LEVEL | codes.ENTRY_LEVEL) - {"OK", "FALLBACK"})
UNUSED = 0x2F
assert UNUSED not in codes.BY_VALUE
MOVES = [{"OVERSIZE": OVERSIZE + 1 if OVERSIZE + 1 not in codes.BY_VALUE else UNUSED},
         {"OVERSIZE": FALLBACK_TIMEOUT, "FALLBACK_TIMEOUT": OVERSIZE},
         *({name: UNUSED} for name in ON_THE_WIRE)]


def _failures(changes: dict[str, int]) -> tuple[list[Any], dict[str, str]]:
    assert all(int(sys.modules["gossamer.errors"].ErrorCode[k]) == v for k, v in changes.items())
    cases = [c for c in catalogue() if c.op in ReferenceTarget().capabilities]
    result = run(ReferenceTarget(), cases)
    return cases, {r.case.id: r.message for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)}


@pytest.mark.parametrize("moved", MOVES, indirect=True, ids=[",".join(f"{k}={v:#x}" for k, v in m.items())
                                                            for m in MOVES])
def test_a_reference_that_moves_a_code_fails(moved: dict[str, int]) -> None:
    cases, failed = _failures(moved)
    assert failed, f"moving {moved} went unnoticed"
    # the failures are the cases that read the code out of bytes; {"error": NAME} answers still match
    by_name = [cid for cid in failed if next(c for c in cases if c.id == cid).expect.get("error") in moved]
    assert not by_name, f"cases judged by name failed too: {by_name}"
    # hostile.land-code-* read each batch code out of an [RSP-5] header: each fails on its own code
    for name in set(moved) & codes.BATCH_LEVEL:
        assert f"hostile.land-code-{name.lower().replace('_', '-')}" in failed


def test_the_same_cases_pass_unpatched() -> None:
    cases = select([c for c in catalogue() if c.op in ReferenceTarget().capabilities], ["tag:codec"])
    assert run(ReferenceTarget(), cases).passed
