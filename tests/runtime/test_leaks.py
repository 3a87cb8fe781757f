"""Leaked Trusts are reported ([TRUST-5]: a property lives until its last Trust is dropped).

A Trust garbage-collected without drop() gives a ResourceWarning at its creation site; a run that
ends with properties kept alive by undropped Trusts lists them with the creation sites of those
Trusts (TrustLeakWarning), or raises TrustLeakError with leaks="error".
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import pytest

import gossamer
from gossamer.runtime import Rack, RackFailure, Trust, entrust, launch, spawn, yield_now
from gossamer.runtime.leaks import TrustLeakError, TrustLeakWarning
from tests.nic_emu.helpers import emulator_only

#: the ledger's bookkeeping is the same over either NIC: these run on the emulator only (the end-
#: of-run listing and the clean program also run on real verbs, under `tox -e rxe`)
bookkeeping = emulator_only

#: line numbers of the calls that create the Trusts the tests leak, filled in by the fibers
LINES: dict[str, int] = {}


def _line() -> int:
    return sys._getframe(1).f_lineno


@gossamer.closure(capture="u64", result="u64", name="tests.runtime.leaks:add")
def add(counter: list[int], k: int) -> int:
    counter[0] += k
    return counter[0]


async def forgetful_worker(t: Trust) -> int:
    return int(await t.apply(add, 1))  # never drops the clone spawn handed it


async def leaky_main() -> int:
    """Three properties: `a` kept by its entrust's Trust (garbage-collected, never dropped) and a
    clone still referenced at the end; `b` kept by the clone spawn handed a worker that forgot
    it; `c` dropped properly."""
    a = await entrust([0], machine=1); LINES["a"] = _line()  # noqa: E702 - the line of the call
    kept = a.clone(); LINES["kept"] = _line()  # noqa: E702
    KEEP.append(kept)
    b = await entrust([0], machine=0, thread=1)
    await spawn(forgetful_worker, b, machine=1, thread=0); LINES["spawn"] = _line()  # noqa: E702
    b.drop()
    c = await entrust([0])
    c.drop()
    return a.pointer  # `a` itself is never dropped


KEEP: list[Trust] = []


def _run_leaky(leaks: str | None, **kw: Any) -> tuple[int, list[warnings.WarningMessage]]:
    KEEP.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pointer = launch(leaky_main, machines=2, threads=2, leaks=leaks, **kw)
        finally:
            KEEP.clear()  # `kept` is collected here, after the run
    return pointer, caught


@bookkeeping
def test_a_trust_collected_without_drop_warns_at_its_creation_site() -> None:
    _, caught = _run_leaky("ignore")
    gc_warnings = [w for w in caught if issubclass(w.category, ResourceWarning)]
    by_line = {w.lineno: str(w.message) for w in gc_warnings if w.filename == __file__}
    # `a` when gsm-main ended, the worker's clone when the worker ended, `kept` after the run
    assert set(by_line) == {LINES["a"], LINES["kept"], LINES["spawn"]}, [str(w.message) for w in gc_warnings]
    assert "garbage-collected without drop()" in by_line[LINES["a"]]
    assert f"test_leaks.py:{LINES['a']} in leaky_main" in by_line[LINES["a"]]
    assert "held by m1.t0" in by_line[LINES["spawn"]]


def test_the_end_of_a_run_lists_every_live_property_with_its_trusts_creation_sites() -> None:
    pointer, caught = _run_leaky("warn")
    (report,) = [str(w.message) for w in caught if issubclass(w.category, TrustLeakWarning)]
    assert report.startswith("2 properties still live at the end of the run")
    here = __file__
    assert f"property {pointer:#x} on m1.t0, kept alive by 2 Trusts never dropped" in report
    assert f"(garbage-collected without drop()), created at {here}:{LINES['a']} in leaky_main" in report
    assert f"(still referenced), created at {here}:{LINES['kept']} in leaky_main" in report
    assert "on m0.t1, kept alive by 1 Trust never dropped" in report
    assert f"held by m1.t0 (garbage-collected without drop()), created at {here}:{LINES['spawn']}" in report


@bookkeeping
def test_leaks_error_raises_with_the_leaks() -> None:
    with pytest.raises(TrustLeakError) as info:
        _run_leaky("error")
    leaks = info.value.leaks
    assert [(lk.machine, lk.thread, len(lk.trusts)) for lk in leaks] == [(0, 1, 1), (1, 0, 2)]
    sites = sorted(r.site.lineno for lk in leaks for r in lk.trusts)
    assert sites == sorted([LINES["a"], LINES["kept"], LINES["spawn"]])
    assert "properties still live" in info.value.report


@bookkeeping
def test_the_environment_chooses_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSSAMER_LEAKS", "error")
    with pytest.raises(TrustLeakError):
        _run_leaky(None)
    monkeypatch.setenv("GOSSAMER_LEAKS", "shout")
    with pytest.raises(ValueError, match="leaks must be one of warn, error, ignore"):
        Rack(1, 1)


@bookkeeping
def test_debug_mode_keeps_whole_creation_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSSAMER_DEBUG", "1")
    with pytest.raises(TrustLeakError) as info:
        _run_leaky("error")
    assert "GOSSAMER_DEBUG=1" not in info.value.report  # the hint is for runs without stacks
    report = info.value.report
    assert f'line {LINES["kept"]}, in leaky_main' in report  # traceback's lines, the program's frames only
    assert "test_debug_mode_keeps_whole_creation_stacks" in report and "rack.py" not in report
    monkeypatch.setenv("GOSSAMER_DEBUG", "0")
    with pytest.raises(TrustLeakError) as info:
        _run_leaky("error")
    assert "GOSSAMER_DEBUG=1" in info.value.report


def test_a_program_that_drops_everything_hears_nothing() -> None:
    async def worker(t: Trust) -> int:
        with t:
            return int(await t.apply(add, 1))

    async def main() -> int:
        t = await entrust([0], machine=1, thread=1)
        c = t.clone()
        n = sum([await spawn(worker, t, machine=m, thread=th) for m in (0, 1) for th in (0, 1)])
        c.drop()
        t.drop()
        for _ in range(5):
            await yield_now()
        return n

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert launch(main, machines=2, threads=2, leaks="error") == 1 + 2 + 3 + 4


@bookkeeping
def test_a_rack_that_went_down_reports_no_leaks() -> None:
    """Fate sharing: the properties went down with the rack; a leak report would only be noise."""

    async def main() -> None:
        t = await entrust([0], machine=1)
        raise RuntimeError(f"gsm-main fails holding {t}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RackFailure):
            launch(main, machines=2, leaks="error")
    assert not [w for w in caught if issubclass(w.category, (ResourceWarning, TrustLeakWarning))]
