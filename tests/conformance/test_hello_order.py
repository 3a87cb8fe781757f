"""[DEC-5]'s one order of the hello checks, [BOOT-11] and [BOOT-12], through the reference trustee
over a real loopback bootstrap (case `live.boot-hello-order`), and the case's teeth: it fails on a
reference trustee that reads the rules the other way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import nic_emu
from conformance.cases import catalogue
from conformance.model import Verdict
from conformance.peers import reference_trustee
from conformance.peers.reference_trustee import Server
from conformance.runner import run
from conformance.targets.live import LiveTarget
from gossamer import bootstrap
from gossamer.slot import SlotConfig
from nic_emu.provider import verbs

CASE = "live.boot-hello-order"


@pytest.fixture
def served() -> Iterator[LiveTarget]:
    fab = nic_emu.Fabric(seed=7, machines=2)
    prev = nic_emu.set_fabric(fab)
    srv = Server(verbs("emu"), "emu0", fabric=fab, config=SlotConfig(fallback_timeout_ms=250))
    target = LiveTarget(f"127.0.0.1:{srv.port}", device="emu1", pump=srv.poll)
    try:
        yield target
    finally:
        target.close()
        srv.close()
        nic_emu.set_fabric(prev)


def _verdict(target: LiveTarget) -> tuple[Verdict, str]:
    (c,) = [c for c in catalogue() if c.id == CASE]
    (r,) = run(target, [c]).results
    return r.verdict, r.message


@pytest.mark.clause("DEC-5", "BOOT-11", "BOOT-12", "SHAPE-4", "BOOT-10", "BOOT-3")
def test_the_reference_trustee_passes(served: LiveTarget) -> None:
    verdict, message = _verdict(served)
    assert verdict is Verdict.PASS, message


def _without_machine_check(m: Any, *args: Any, machine: int | None = None, **kw: Any) -> bootstrap.Hello:
    return bootstrap.accept_hello(m, *args, **kw)


def _rdma_first(self: Any, m: Any) -> bootstrap.Hello:
    h = bootstrap.hello_from_map(m)  # steps 13 .. 16 before 10 .. 12: the other order
    bootstrap.check_rdma(h, self.rack.threads, self.rack.config.slot_size)
    return bootstrap.accept_hello(m, 2, bootstrap.SUPPORTED_VERSIONS, None, machine=1)


@pytest.mark.clause("BOOT-11", "DEC-5")
@pytest.mark.parametrize("patch", ["no-machine-check", "rdma-first"])
def test_the_case_fails_the_other_reading(served: LiveTarget, monkeypatch: pytest.MonkeyPatch, patch: str) -> None:
    if patch == "no-machine-check":
        monkeypatch.setattr(reference_trustee, "accept_hello", _without_machine_check)
    else:
        monkeypatch.setattr(reference_trustee.ReferenceTrustee, "check_peer", _rdma_first)
    verdict, message = _verdict(served)
    assert verdict is Verdict.FAIL, message
