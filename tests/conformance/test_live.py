"""Live mode ([ADPT-12], [BOOT-5] .. [BOOT-9]): the suite drives a trustee it reaches over TCP.

Without a device: the reference server (`conformance.peers.reference_trustee.Server`) and the live target
share one process and one emulated fabric (nic_emu cannot span processes); the server has no
thread, the target runs its step loop while it waits. The bootstrap still crosses a real loopback
TCP connection, one per case. With GOSSAMER_SOFTROCE=1 the same runs on Soft-RoCE in a QEMU guest:
the reference serving on rxe1 in one process, `gossamer-conformance run --target live:...` on
rxe0 in another (one guest boot).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

import nic_emu
from conformance.cases import catalogue
from conformance.model import Verdict
from conformance.peers.reference_trustee import Server
from conformance.runner import run
from conformance.targets.live import LiveTarget
from conformance.targets.verbs import OPS
from gossamer.slot import SlotConfig
from nic_emu.provider import verbs

TRUSTEE_OPS = set(OPS)  # land, execute, nic_* (nic_live: the live cases of cases/live.py)
#: the cases that need the TCP fallback side channel ([FB-3], [FB-8]): they run on live peers too
FALLBACK_CASES = {"exec.fallback-frame", "exec.frame-for-nobody", "exec.frame-wrong-length", "exec.big-result",
                  "nic.fallback-own-connection", "nic.fallback-caller-refused"}


@pytest.fixture
def served() -> Iterator[tuple[Server, LiveTarget]]:
    fab = nic_emu.Fabric(seed=7, machines=2)
    prev = nic_emu.set_fabric(fab)
    # a short fallback timeout ([FB-5], announced in the hello) keeps the timeout cases quick
    srv = Server(verbs("emu"), "emu0", fabric=fab, config=SlotConfig(fallback_timeout_ms=250))
    target = LiveTarget(f"127.0.0.1:{srv.port}", device="emu1", pump=srv.poll)
    try:
        yield srv, target
    finally:
        target.close()
        srv.close()
        nic_emu.set_fabric(prev)


@pytest.mark.clause("ADPT-12", "ADPT-13", "BOOT-5", "BOOT-6", "BOOT-7", "BOOT-8", "BOOT-9", "LAND-1", "LAND-3",
                    "FLOW-4", "SLOT-1", "SLOT-2", "FB-3", "FB-4", "FB-8", "FB-9")
def test_live_target_drives_the_reference_server_over_tcp_bootstrap(served: tuple[Server, LiveTarget]) -> None:
    srv, target = served
    trustee_cases = [c for c in catalogue() if c.op in TRUSTEE_OPS]
    result = run(target, trustee_cases)
    bad = [(r.case.id, r.message) for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert not bad
    assert {c.id for c in trustee_cases} >= FALLBACK_CASES
    assert result.count(Verdict.SKIP) == 0  # the fallback cases run through the trustee's fallback port
    assert result.count(Verdict.PASS) == len(trustee_cases)
    srv.poll()  # let the server see the last close
    assert srv.sessions >= len(trustee_cases)  # one bootstrap per case (plus the opening probe)
    assert srv.batches > 50


def test_codec_cases_are_skipped_not_passed_on_a_live_peer(served: tuple[Server, LiveTarget]) -> None:
    _, target = served
    codec = [c for c in catalogue() if c.op not in TRUSTEE_OPS][:20]
    result = run(target, codec)
    assert result.count(Verdict.SKIP) == len(codec)


@pytest.mark.clause("BOOT-5", "BOOT-2")
def test_a_bad_hello_is_answered_with_an_error_and_the_server_keeps_serving(served: tuple[Server, LiveTarget]) -> None:
    import socket

    from conformance.live_bootstrap import Channel, encode

    srv, target = served
    sock = socket.create_connection(("127.0.0.1", srv.port))
    chan = Channel(sock)
    hello = chan.recv(pump=srv.poll)
    assert {"gid", "qpns", "psn", "slots", "request_slots", "response_slots", "fallback_port"} <= set(hello)
    chan.send(encode({"versions": [1, 1], "machine": 1}))  # lacks the required keys
    reply = chan.recv(pump=srv.poll)
    assert reply.get("error") == 0x14  # MALFORMED_CBOR ([BOOT-2])
    chan.close()
    for _ in range(200):
        srv.poll()
    assert srv.phase == "idle"
    [c] = [c for c in catalogue() if c.id == "nic.write-with-imm"]
    assert run(target, [c]).count(Verdict.PASS) == 1


@pytest.mark.rxe
@pytest.mark.skipif(os.environ.get("GOSSAMER_SOFTROCE") != "1",
                    reason="boots a QEMU guest with rdma_rxe; set GOSSAMER_SOFTROCE=1")
@pytest.mark.clause("ADPT-12", "LAND-1", "LAND-3", "FLOW-4", "SLOT-1", "SLOT-2", "BOOT-6", "BOOT-7", "BOOT-8")
def test_live_mode_on_softroce_against_the_reference_on_rxe1() -> None:
    from conformance.live_guest import GUEST_SCRIPT
    from nic_emu.softroce.run import run_in_guest

    res = run_in_guest(["sh", "-c", GUEST_SCRIPT], devices=2, timeout=600, stream=False)
    out = res.stdout.decode(errors="replace") + res.stderr.decode(errors="replace")
    assert res.status == "ok", (res.message, res.console_tail)
    assert res.exit_code == 0, out[-4000:]
    m = re.search(r"PASSED: (\d+) passed, 0 failed, 0 errors, (\d+) skipped", out)
    assert m, out[-4000:]
    assert int(m.group(1)) == len([c for c in catalogue() if c.op in TRUSTEE_OPS])


@pytest.mark.clause("FLOW-4")
def test_receive_credits_catches_a_trustee_that_posts_too_few_receives(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference whose QPs keep one receive posted instead of 2T: a batch meets an empty
    receive queue, and with the suite's rnr_retry = 0 the case is an error, not a pass."""
    from conformance.targets.reference_nic import ReferenceNicTarget
    from gossamer.runtime.verbs import MachineNet

    real_init = MachineNet.__init__

    def stingy(self: MachineNet, *a: object, **kw: object) -> None:
        real_init(self, *a, **kw)  # type: ignore[arg-type]
        self.recv_depth = 1

    [c] = [c for c in catalogue() if c.id == "nic.receive-credits"]
    assert run(ReferenceNicTarget(), [c]).count(Verdict.PASS) == 1
    monkeypatch.setattr(MachineNet, "__init__", stingy)
    [r] = run(ReferenceNicTarget(), [c]).results
    assert r.verdict is Verdict.ERROR and "RNR" in r.message, r.message
