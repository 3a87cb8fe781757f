"""Each live case proven against a wrong trustee that takes the other reading ([ADPT-12], [ADPT-13]).

The wrong trustees (`conformance/mutants/live.py`) are the reference trustee of `reference_trustee`
with one misreading each, served in this process over nic_emu; the live target reaches them over
a real loopback TCP bootstrap, exactly as it reaches a trustee on Soft-RoCE. Each must fail the
case meant for it, with a message naming what it broke, or be refused while the target opens; the
honest reference passes every one of those cases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import nic_emu
from conformance.cases import catalogue, select
from conformance.cases.live import hello_check
from conformance.live_hello import HelloViolation, LiveViolation, Undrivable
from conformance.model import Verdict
from conformance.mutants.live import WRONG_TRUSTEES, WrongTrustee, _HelloEdit
from conformance.peers.reference_trustee import ReferenceTrustee, Server
from conformance.runner import run
from conformance.targets.live import LiveTarget
from gossamer.bootstrap import BootstrapReader
from gossamer.slot import SlotConfig
from nic_emu.provider import verbs

CAUGHT = sorted(n for n, c in WRONG_TRUSTEES.items() if c.caught_by)
REFUSED = sorted(n for n, c in WRONG_TRUSTEES.items() if c.refused)


@contextmanager
def serving(cls: type[ReferenceTrustee], timeout: float = 10.0) -> Iterator[tuple[Server, Any]]:
    """A Server of `cls` sessions on emu0 and the factory of a live target on emu1 (one fabric)."""
    fab = nic_emu.Fabric(seed=11, machines=2)
    prev = nic_emu.set_fabric(fab)
    kw: dict[str, Any] = {"config": SlotConfig(fallback_timeout_ms=250), **getattr(cls, "server", {})}
    srv = Server(verbs("emu"), "emu0", fabric=fab, trustee=cls, **kw)
    try:
        yield srv, lambda: LiveTarget(f"127.0.0.1:{srv.port}", device="emu1", pump=srv.poll, timeout=timeout)
    finally:
        srv.close()
        nic_emu.set_fabric(prev)


def _live_cases() -> list[Any]:
    wanted = {i for c in WRONG_TRUSTEES.values() for i in c.caught_by}
    return [c for c in catalogue() if c.id in wanted or c.id.startswith("live.")]


@pytest.mark.clause("ADPT-12", "ADPT-13")
def test_every_live_case_has_a_wrong_trustee_and_the_honest_reference_passes_them_all() -> None:
    cases = _live_cases()
    live_ids = {c.id for c in cases if c.id.startswith("live.")}
    proven = {i for c in WRONG_TRUSTEES.values() for i in c.caught_by} | {"live.hello"}
    assert live_ids <= proven, f"live cases without a wrong trustee: {sorted(live_ids - proven)}"
    with serving(ReferenceTrustee) as (_, open_target):
        target = open_target()
        try:
            result = run(target, cases)
        finally:
            target.close()
    bad = [(r.case.id, r.verdict, r.message) for r in result.results if r.verdict is not Verdict.PASS]
    assert not bad
    assert result.count(Verdict.PASS) == len(cases) >= 18


@pytest.mark.parametrize("name", CAUGHT)
def test_wrong_trustee_fails_the_case_meant_for_it(name: str) -> None:
    cls = WRONG_TRUSTEES[name]
    assert cls.description and cls.clause
    cases = select(catalogue(), cls.caught_by)
    assert {c.id for c in cases} == set(cls.caught_by), "a named case does not exist"
    with cls.active(), serving(cls) as (_, open_target):
        target = open_target()
        try:
            result = run(target, cases)
        finally:
            target.close()
    for r in result.results:
        assert r.verdict in (Verdict.FAIL, Verdict.ERROR), f"{name} ({cls.description}) passes {r.case.id}"
        assert cls.clause in r.message, f"{r.case.id} failed {name} without naming {cls.clause}: {r.message}"


@pytest.mark.parametrize("name", REFUSED)
def test_wrong_or_undrivable_trustee_is_refused_while_the_target_opens(name: str) -> None:
    cls = WRONG_TRUSTEES[name]
    t0 = time.monotonic()
    with cls.active(), serving(cls, timeout=5.0) as (_, open_target), \
            pytest.raises((HelloViolation, Undrivable, LiveViolation)) as got:
        open_target()
    took = time.monotonic() - t0
    assert f"[{cls.clause}]" in str(got.value), str(got.value)
    # a conformance failure fails the run (exit 1); a shape the suite cannot drive is refused (exit 2)
    assert getattr(got.value, "exit_status", None) == (2 if cls.clause == "ADPT-13" else 1)
    assert took < 8.0, f"refusing {name} took {took:.1f} s"


@pytest.mark.clause("GEN-1", "LAND-2")
def test_a_byte_swapped_immediate_is_named_within_seconds() -> None:
    cls = WRONG_TRUSTEES["imm-byte-swapped"]
    t0 = time.monotonic()
    with cls.active(), serving(cls) as (_, open_target), pytest.raises(LiveViolation) as got:
        open_target()
    assert time.monotonic() - t0 < 6.0
    assert "immediate byte-swapped" in str(got.value) and "0x01000400" in str(got.value), str(got.value)


@pytest.mark.clause("BOOT-1", "BOOT-3", "BOOT-6")
@pytest.mark.parametrize("name", sorted(n for n, c in WRONG_TRUSTEES.items() if issubclass(c, _HelloEdit)))
def test_live_hello_case_fails_each_wrong_hello(name: str) -> None:
    cls: type[WrongTrustee] = WRONG_TRUSTEES[name]
    [case] = select(catalogue(), ["live.hello"])
    with serving(ReferenceTrustee) as (srv, _):
        session = cls(verbs("emu"), "emu0", fabric=srv.fabric, config=srv.config)
        try:
            m = BootstrapReader().feed(session.hello())[0]
        finally:
            session.close()
    why = hello_check(case, {"ok": {"hello": m}})
    assert why is not None and f"[{cls.clause}]" in why, why
