"""Running cases against a target: one case at a time, each judged pass, fail, skip or error."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .model import Case, CaseResult, Outcome, Target, TargetBroken, Verdict, primary_bytes


def wire_args(case: Case) -> dict[str, Any]:
    """The arguments sent to the target; keys starting with `_` are the check's own data."""
    return {k: v for k, v in case.args.items() if not k.startswith("_")}


def judge(case: Case, got: Outcome) -> str | None:
    if case.check is not None:
        return case.check(case, got)
    if got == case.expect:
        return None
    if "error" in case.expect:
        return f"expected error {case.expect['error']}, got {_short(got)}"
    if "error" in got:
        return f"expected success, got error {got['error']}"
    exp, rec = primary_bytes(case.expect), primary_bytes(got)
    if exp is not None and rec is not None and exp != rec:
        first = next((i for i, (a, b) in enumerate(zip(exp, rec, strict=False)) if a != b), min(len(exp), len(rec)))
        return (f"bytes differ from offset {first} ({first:#x}): expected {len(exp)} bytes, "
                f"received {len(rec)}")
    return f"expected {_short(case.expect)}, got {_short(got)}"


def _short(o: Any, n: int = 160) -> str:
    s = repr(o)
    return s if len(s) <= n else s[: n - 3] + "..."


def run_case(target: Target, case: Case) -> CaseResult:
    if case.capability not in target.capabilities:
        return CaseResult(case=case, verdict=Verdict.SKIP, message=f"target {target.name} lacks op {case.op!r}")
    t0 = time.perf_counter()
    try:
        got = target.call(case.op, wire_args(case))
    except TargetBroken as e:
        return CaseResult(case=case, verdict=Verdict.ERROR, message=str(e), seconds=time.perf_counter() - t0)
    except Exception as e:  # an in-process target crashed: [ERR-1] forbids that on any input
        return CaseResult(case=case, verdict=Verdict.ERROR, message=f"target raised {type(e).__name__}: {e}",
                          seconds=time.perf_counter() - t0)
    dt = time.perf_counter() - t0
    if got.get("error") == "UNSUPPORTED" and case.expect.get("error") != "UNSUPPORTED":
        return CaseResult(case=case, verdict=Verdict.SKIP, message=f"target answered UNSUPPORTED to {case.op!r}",
                          received=got, seconds=dt)
    try:
        why = judge(case, got)
    except Exception as e:  # a malformed answer the check could not even read
        why = f"answer could not be checked: {type(e).__name__}: {e}"
    verdict = Verdict.PASS if why is None else Verdict.FAIL
    return CaseResult(case=case, verdict=verdict, message=why or "", received=got, seconds=dt)


@attrs.frozen
class Run:
    target: str
    results: tuple[CaseResult, ...]
    seconds: float

    def count(self, v: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is v)

    @property
    def passed(self) -> bool:
        return self.count(Verdict.FAIL) == 0 and self.count(Verdict.ERROR) == 0

    def by_clause(self, order: Iterable[str] = ()) -> dict[str, list[CaseResult]]:
        out: dict[str, list[CaseResult]] = {c: [] for c in order}
        for r in self.results:
            for cl in r.case.clauses:
                out.setdefault(cl, []).append(r)
        return out


def run(target: Target, cases: Iterable[Case],
        progress: Callable[[int, int, CaseResult], None] | None = None) -> Run:
    todo = list(cases)
    t0 = time.perf_counter()
    results = []
    for i, c in enumerate(todo):
        r = run_case(target, c)
        results.append(r)
        if progress is not None:
            progress(i + 1, len(todo), r)
    return Run(target=target.name, results=tuple(results), seconds=time.perf_counter() - t0)


def summary_rows(run_: Run, clause_order: Mapping[str, str]) -> list[tuple[str, int, int, int, int]]:
    """(clause, cases, pass, fail+error, skip) for every clause, SPEC.md order first."""
    rows = []
    for cl, rs in run_.by_clause(clause_order).items():
        rows.append((cl, len(rs), sum(r.verdict is Verdict.PASS for r in rs),
                     sum(r.verdict in (Verdict.FAIL, Verdict.ERROR) for r in rs),
                     sum(r.verdict is Verdict.SKIP for r in rs)))
    return rows
