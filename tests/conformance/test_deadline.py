"""A per-case deadline for every target (issue 16, item 4): a case that overruns it is an ERROR of
that case, and the run goes on."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance.cases import catalogue, select
from conformance.model import CaseTimeout, Outcome, Verdict
from conformance.runner import case_deadline, run
from conformance.targets import open_target
from conformance.targets.adapter_process import AdapterTarget

CASES = ["land.next-seq", "land.seq-wrap", "land.imm"]


class HangsOn:
    """The reference, except that one op spins forever in Python code (and swallows exceptions,
    as careless code does)."""

    name = "hangs"

    def __init__(self, op: str) -> None:
        self.op = op
        self.inner = open_target("reference-sansio")

    @property
    def capabilities(self) -> frozenset[str]:
        return self.inner.capabilities

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        if op == self.op:
            while True:
                try:
                    time.sleep(0.01)
                except Exception:  # a CaseTimeout is no Exception: this does not hide it
                    pass
        return self.inner.call(op, args)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.clause("ERR-1", "ADPT-4")
def test_an_in_process_hang_is_an_error_and_the_next_case_runs() -> None:
    t = HangsOn("next_seq")
    before = signal.getsignal(signal.SIGALRM)
    t0 = time.monotonic()
    try:
        result = run(t, select(catalogue(), CASES), deadline=0.3)
    finally:
        t.close()
    v = {r.case.id: r for r in result.results}
    assert v["land.next-seq"].verdict is Verdict.ERROR and v["land.seq-wrap"].verdict is Verdict.ERROR
    assert "overran its deadline of 0.3 s" in v["land.next-seq"].message
    assert "test_deadline.py" in v["land.next-seq"].message  # where it was interrupted
    assert v["land.imm"].verdict is Verdict.PASS  # the run went on
    assert time.monotonic() - t0 < 3
    assert signal.getsignal(signal.SIGALRM) is before  # the handler is restored
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_deadline_keeps_an_outer_timer() -> None:
    """A caller's own ITIMER_REAL (a mutation run's per-mutant timeout, say) survives the cases."""
    fired: list[int] = []
    old = signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        with case_deadline(0.2), pytest.raises(CaseTimeout):
            time.sleep(1)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 3.5 < left < 5.0  # re-armed with what remained
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with case_deadline(10.0):  # the outer timer fires first: its handler runs, not ours
            time.sleep(0.3)
        assert fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_no_deadline_outside_the_main_thread_or_when_off() -> None:
    import threading

    out: list[str] = []

    def work() -> None:
        with case_deadline(0.05):
            time.sleep(0.15)
        out.append("done")

    th = threading.Thread(target=work)
    th.start()
    th.join()
    assert out == ["done"]
    with case_deadline(None):
        time.sleep(0.01)


HANGER = """
import sys
sys.path.insert(0, {root!r})
from conformance.adapter import encode_frame, read_frame
from conformance.targets.reference import ReferenceTarget
import time
t = ReferenceTarget()
while True:
    m = read_frame(sys.stdin.buffer)
    if m is None:
        break
    op = m.pop("op")
    if op == "next_seq" and m.get("seq") == 1:
        print("about to hang on next_seq", file=sys.stderr, flush=True)
        time.sleep(60)
    sys.stdout.buffer.write(encode_frame(t.call(op, m)))
    sys.stdout.buffer.flush()
"""


@pytest.mark.clause("ADPT-4", "ERR-1")
def test_an_adapter_that_hangs_is_killed_and_the_next_case_runs(tmp_path: Path) -> None:
    script = tmp_path / "hanger.py"
    script.write_text(HANGER.format(root=str(Path(__file__).resolve().parents[2])))
    t = AdapterTarget([sys.executable, str(script)], timeout=0.5)
    t0 = time.monotonic()
    try:
        result = run(t, select(catalogue(), CASES), deadline=0.5)
    finally:
        t.close()
    v = {r.case.id: r for r in result.results}
    assert v["land.next-seq"].verdict is Verdict.ERROR, v["land.next-seq"].message
    assert "0.5 s" in v["land.next-seq"].message
    assert "about to hang on next_seq" in v["land.next-seq"].stderr  # its stderr, with the case
    assert v["land.seq-wrap"].verdict is Verdict.PASS and v["land.imm"].verdict is Verdict.PASS  # restarted
    assert time.monotonic() - t0 < 10


@pytest.mark.clause("ERR-1")
def test_timeout_option(tmp_path: Path) -> None:
    import io

    from conformance.cli import main

    script = tmp_path / "hanger.py"
    script.write_text(HANGER.format(root=str(Path(__file__).resolve().parents[2])))
    out = io.StringIO()
    code = main(["run", "--target", f"adapter:{sys.executable} {script}", "--timeout", "0.5", *CASES], out)
    assert code == 1
    text = out.getvalue()
    assert "ERROR land.next-seq" in text and "1 errors" in text and "2 passed" in text
    assert "about to hang on next_seq" in text  # the adapter's stderr, under the failing case
    assert main(["run", "--timeout", "0", "land.imm"], io.StringIO()) == 2


def test_a_target_may_ask_for_its_own_deadline() -> None:
    """`case_deadline` on a target (a live one waits for several responses) replaces the run's."""
    t = HangsOn("next_seq")
    t.case_deadline = 0.2  # type: ignore[attr-defined]
    t0 = time.monotonic()
    try:
        [r] = run(t, select(catalogue(), ["land.next-seq"]), deadline=30).results
    finally:
        t.close()
    assert r.verdict is Verdict.ERROR and "0.2 s" in r.message
    assert time.monotonic() - t0 < 5
