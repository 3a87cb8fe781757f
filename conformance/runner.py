"""Running cases against a target: one case at a time, each judged pass, fail, skip or error.

Every case runs under a deadline (`DEFAULT_DEADLINE`, `--timeout`): a case that overruns it is an
ERROR of that case and the run goes on with the next one. A target with `set_deadline(seconds)`
enforces it itself (an adapter subprocess waits that long for each answer, then kills the adapter,
and starts a new one for the next case); for any other target, in this process, the runner arms
`SIGALRM` (`signal.setitimer`) in the main thread, whose handler raises `CaseTimeout` wherever the
Python code is, and restores the previous handler and timer after the case. A hang inside C code
(a blocking system call that is retried, a C extension's loop) cannot be interrupted in-process:
the exception is raised when control returns to Python. Outside the main thread, or where there is
no `SIGALRM`, in-process cases run without an interrupting deadline.

Each answer is checked against its op's CDDL schema ([ADPT-18], `conformance.schemas`) before it
is judged; a mismatch fails the case with the path of the first wrong field.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import FrameType
from typing import Any

import attrs

from . import schemas
from .model import Case, CaseResult, CaseTimeout, Outcome, Target, TargetBroken, Verdict, primary_bytes, wire_args

__all__ = ["DEFAULT_DEADLINE", "Run", "case_deadline", "judge", "run", "run_case", "summary_rows", "wire_args"]

#: Seconds one case may take ([ADPT-4]'s 10 s per answer), unless `run(deadline=...)` says otherwise.
DEFAULT_DEADLINE = 10.0
#: After the first CaseTimeout the alarm repeats at this interval, in case the code swallowed it.
_REPEAT = 0.5


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


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def case_deadline(seconds: float | None) -> Iterator[None]:
    """Raise `CaseTimeout` in this (main) thread if the block runs longer than `seconds`.

    Restores the previous SIGALRM handler and ITIMER_REAL afterwards. When an outer timer is armed
    and would fire first, it is left alone (its handler runs, not ours); when ours fires first, the
    outer one is re-armed with what remains of it, so a caller's own deadline still holds.
    """
    if not seconds or seconds <= 0 or not _can_alarm():
        yield
        return
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay <= seconds:
        yield  # the caller's timer fires first: nothing to add
        return
    start = time.monotonic()

    def fire(signum: int, frame: FrameType | None) -> None:
        where = ""
        if frame is not None:
            fs = traceback.extract_stack(frame, limit=1)
            if fs:
                where = f"{fs[-1].filename.rsplit('/', 2)[-1]}:{fs[-1].lineno} {fs[-1].name}"
        raise CaseTimeout(seconds, where)

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
    try:
        yield
    finally:
        while True:  # a CaseTimeout that fires during this clean-up comes too late to count
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except CaseTimeout:
                continue
        if outer_delay:
            left = outer_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), outer_interval)


def _take_stderr(target: Target) -> str:
    take = getattr(target, "take_stderr", None)
    if take is None:
        return ""
    try:
        return str(take())
    except Exception as e:  # reading a log must not change a verdict
        return f"(stderr unavailable: {e})"


def run_case(target: Target, case: Case, *, deadline: float | None = DEFAULT_DEADLINE,
             validate: bool = True) -> CaseResult:
    """Run one case: skip it if the target lacks its op, else call, check the answer's schema,
    judge. `deadline` bounds the call and the judging (None: no deadline; a target's own
    `case_deadline` attribute replaces it otherwise); `validate=False` skips the schema check."""
    if case.capability not in target.capabilities:
        return CaseResult(case=case, verdict=Verdict.SKIP, message=f"target {target.name} lacks op {case.op!r}")
    t0 = time.perf_counter()
    got: Outcome | None = None
    longer = getattr(target, "case_deadline", None)  # a live target's cases wait for several responses
    if deadline is not None and isinstance(longer, (int, float)) and longer > 0:
        deadline = float(longer)
    own = getattr(target, "set_deadline", None)
    if own is not None:  # the target enforces the deadline itself (an adapter, per answer)
        own(deadline)
    try:
        with case_deadline(None if own is not None else deadline):
            got = target.call(case.op, wire_args(case))
            verdict, why = _judge(case, got, validate)
    except CaseTimeout as e:
        return CaseResult(case=case, verdict=Verdict.ERROR, message=str(e), received=got,
                          seconds=time.perf_counter() - t0, stderr=_take_stderr(target))
    except TargetBroken as e:
        return CaseResult(case=case, verdict=Verdict.ERROR, message=str(e), seconds=time.perf_counter() - t0,
                          stderr=_take_stderr(target))
    except Exception as e:  # an in-process target crashed: [ERR-1] forbids that on any input
        return CaseResult(case=case, verdict=Verdict.ERROR, message=f"target raised {type(e).__name__}: {e}",
                          seconds=time.perf_counter() - t0, stderr=_take_stderr(target))
    return CaseResult(case=case, verdict=verdict, message=why, received=got, seconds=time.perf_counter() - t0,
                      stderr=_take_stderr(target))


def _judge(case: Case, got: Outcome, validate: bool) -> tuple[Verdict, str]:
    if got.get("error") == "UNSUPPORTED" and case.expect.get("error") != "UNSUPPORTED":
        return Verdict.SKIP, f"target answered UNSUPPORTED to {case.op!r}"
    if validate and schemas.available():
        bad = schemas.check_answer(case.op, got)
        if bad is not None:
            return Verdict.FAIL, f"[ADPT-18] {bad} (rule {schemas.answer_rule(case.op, got)}, protocol/schemas/)"
    try:
        why = judge(case, got)
    except Exception as e:  # a malformed answer the check could not even read
        why = f"answer could not be checked: {type(e).__name__}: {e}"
    return (Verdict.PASS, "") if why is None else (Verdict.FAIL, why)


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
        progress: Callable[[int, int, CaseResult], None] | None = None, *,
        deadline: float | None = DEFAULT_DEADLINE, validate: bool = True) -> Run:
    todo = list(cases)
    t0 = time.perf_counter()
    results = []
    for i, c in enumerate(todo):
        r = run_case(target, c, deadline=deadline, validate=validate)
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
