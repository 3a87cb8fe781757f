"""The client role ([ADPT-14] .. [ADPT-17]): the suite plays a trustee machine and judges a client.

Without a device the reference client (`conformance.peers.reference_client.ReferenceClient`) and the
suite share one process and one emulated fabric (nic_emu cannot span processes): the suite steps
the client while it waits, and the bootstrap still crosses a real loopback TCP connection, one per
case, with the client connecting again after each session as a live client must. With
GOSSAMER_SOFTROCE=1 the same runs on Soft-RoCE in a QEMU guest (`live_guest.CLIENT_GUEST_SCRIPT`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

import nic_emu
from conformance.cases import catalogue, select
from conformance.model import Verdict
from conformance.mutants import MUTANTS, ClientMutant, make_mutant
from conformance.peers.reference_client import ReferenceClient
from conformance.runner import run
from conformance.targets import open_target
from conformance.targets.client_role import CLIENT_OPS, ClientRoleTarget, Env
from nic_emu.provider import verbs


def client_cases() -> list:  # type: ignore[type-arg]
    return [c for c in catalogue() if c.op in CLIENT_OPS]


@pytest.fixture
def one_client_many_sessions() -> Iterator[tuple[ClientRoleTarget, ReferenceClient]]:
    """A suite listening as `live-client:127.0.0.1:PORT` does, and one reference client that
    connects to it again after every session ([ADPT-14])."""
    fab = nic_emu.Fabric(seed=3, machines=2)
    prev = nic_emu.set_fabric(fab)
    holder: list[ReferenceClient] = []

    def env(t: ClientRoleTarget) -> Env:
        if not holder:
            holder.append(ReferenceClient(verbs("emu"), "emu0", "127.0.0.1", t.port, fabric=fab))
        return Env(holder[0].poll, fab)

    target = ClientRoleTarget("live-client:127.0.0.1", verbs("emu"), "emu1", "127.0.0.1", 0, timeout=5.0, env=env)
    try:
        env(target)
        yield target, holder[0]
    finally:
        target.close()
        holder[0].close()
        nic_emu.set_fabric(prev)


@pytest.mark.clause("ADPT-14", "ADPT-15", "ADPT-16", "ADPT-17", "BOOT-5", "BOOT-7", "BOOT-8", "FLOW-1", "LAND-4",
                    "RSP-5", "RSP-6", "ERR-4", "VT-3", "SLOT-10", "FB-4", "FB-8", "FB-13")
def test_reference_client_passes_every_client_case_one_session_each(
        one_client_many_sessions: tuple[ClientRoleTarget, ReferenceClient]) -> None:
    target, client = one_client_many_sessions
    cases = client_cases()
    assert len(cases) >= 10 and all("client" in c.tags for c in cases)
    result = run(target, cases)
    bad = [(r.case.id, r.message) for r in result.results if r.verdict is not Verdict.PASS]
    assert not bad
    for _ in range(50):
        client.poll()  # let the client see the last close
    assert client.sessions == len(cases)  # one bootstrap per case, the client reconnecting each time
    assert target.sessions == len(cases)


@pytest.mark.clause("ADPT-14", "ADPT-17")
def test_default_target_runs_the_client_cases_in_process() -> None:
    target = open_target("reference")
    try:
        result = run(target, select(catalogue(), ["tag:client"]))
    finally:
        target.close()
    assert result.count(Verdict.PASS) == len(client_cases()) and result.passed


def test_codec_only_targets_skip_the_client_cases() -> None:
    result = run(open_target("reference-sansio"), client_cases())
    assert result.count(Verdict.SKIP) == len(client_cases())


@pytest.mark.clause("FLOW-1", "RSP-6", "LAND-4", "ADPT-17")
@pytest.mark.parametrize("name", sorted(n for n, cls in MUTANTS.items() if issubclass(cls, ClientMutant)))
def test_client_mutant_fails_its_named_client_case(name: str) -> None:
    mutant = make_mutant(name)
    try:
        results = run(mutant, select(catalogue(), MUTANTS[name].caught_by)).results
    finally:
        mutant.close()
    caught = [r for r in results if r.verdict is Verdict.FAIL]
    assert caught, [(r.case.id, r.verdict, r.message) for r in results]
    clause = {"client-writes-ahead": "[FLOW-1]", "client-seq-skips": "[LAND-4]",
              "client-accepts-stale": "[ADPT-16]"}[name]
    assert any(clause in r.message for r in caught), [r.message for r in caught]


def test_live_client_target_spec_is_parsed() -> None:
    with pytest.raises(ValueError):
        open_target("live-client:nope")


@pytest.mark.rxe
@pytest.mark.skipif(os.environ.get("GOSSAMER_SOFTROCE") != "1",
                    reason="boots a QEMU guest with rdma_rxe; set GOSSAMER_SOFTROCE=1")
@pytest.mark.clause("ADPT-14", "ADPT-15", "ADPT-16", "ADPT-17", "LAND-1", "LAND-3", "FLOW-1", "FB-8")
def test_client_role_on_softroce_reference_client_on_rxe1() -> None:
    """The suite listening on rxe0 as `live-client:7471`, the reference client connecting from
    rxe1 in another process, once per case (one guest boot)."""
    from conformance.live_guest import CLIENT_GUEST_SCRIPT
    from nic_emu.softroce.run import run_in_guest

    res = run_in_guest(["sh", "-c", CLIENT_GUEST_SCRIPT], devices=2, timeout=600, stream=False)
    out = res.stdout.decode(errors="replace") + res.stderr.decode(errors="replace")
    assert res.status == "ok", (res.message, res.console_tail)
    assert res.exit_code == 0, out[-4000:]
    m = re.search(r"PASSED: (\d+) passed, 0 failed, 0 errors, (\d+) skipped", out)
    assert m, out[-4000:]
    assert int(m.group(1)) == len(client_cases())


@pytest.mark.clause("SEC-2", "BOOT-5")
def test_reference_client_refuses_a_suite_hello_with_bad_rdma_keys_before_it_answers() -> None:
    """[SEC-2]: the reference client checks the suite's RDMA keys ([DEC-5] steps 13 to 17) before it
    sends its own hello or moves a QP: a 15-byte gid is answered with the error message alone."""
    import socket

    from gossamer.bootstrap import BootstrapReader, decode_message, encode_message
    from gossamer.runtime import Rack

    fab = nic_emu.Fabric(seed=4, machines=2)
    prev = nic_emu.set_fabric(fab)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    client = ReferenceClient(verbs("emu"), "emu0", "127.0.0.1", ls.getsockname()[1], fabric=fab, sessions=1)
    rack = Rack(2, 2, fabric=fab)
    try:
        client.poll()  # connects
        sock, _ = ls.accept()
        hello = decode_message(rack.hello_for(1, 0))
        sock.sendall(encode_message({**hello, "gid": bytes(15)}))
        for _ in range(5):
            client.poll()
        sock.settimeout(5.0)
        reader, got = BootstrapReader(), []
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            got.extend(reader.feed(data))
        sock.close()
        assert len(got) == 1 and got[0]["error"] == 0x18, got  # BAD_HEADER, and no hello of its own
    finally:
        rack.close()
        client.close()
        ls.close()
        nic_emu.set_fabric(prev)
