"""The fallback side channel through the real transport ([FB-3] .. [FB-9]).

The suite's verbs peer opens one fallback connection per client thread with the caller hello of
[FB-8]; these tests check that the cases built on it catch trustees that get it wrong, and that the
runtime's hub serves a caller in another process.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conformance.cases import catalogue
from conformance.model import Verdict
from conformance.runner import run
from conformance.targets.reference_nic import ReferenceNicTarget
from gossamer.errors import ErrorCode
from gossamer.fallback import Frame, FrameKind
from gossamer.runtime.tcp import FallbackHub

FB_CASES = ("exec.fallback-frame", "exec.frame-for-nobody", "exec.frame-wrong-length", "exec.big-result",
            "nic.fallback-own-connection", "nic.fallback-caller-refused")


def _run(ids: tuple[str, ...]) -> dict[str, tuple[Verdict, str]]:
    target = ReferenceNicTarget()
    result = run(target, [c for c in catalogue() if c.id in ids])
    assert target.sansio_fallbacks == []  # every one went through the emulated NIC and real TCP
    return {r.case.id: (r.verdict, r.message) for r in result.results}


@pytest.mark.clause("FB-3", "FB-4", "FB-5", "FB-6", "FB-7", "FB-8", "FB-9", "RSP-4")
def test_fallback_cases_run_over_the_transport_on_the_default_target() -> None:
    got = _run(FB_CASES)
    assert set(got) == set(FB_CASES)
    assert all(v is Verdict.PASS for v, _ in got.values()), got


@pytest.mark.clause("FB-8")
def test_a_trustee_answering_on_a_connection_of_its_own_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub that keeps one connection per client machine answers thread 1's big results on
    thread 0's connection: nic.fallback-own-connection catches it (exec.* use thread 0 only)."""
    real = FallbackHub._caller

    def one_per_machine(self: FallbackHub, cm: int, ct: int, tm: int) -> object:
        return real(self, cm, 0, tm)

    monkeypatch.setattr(FallbackHub, "_caller", one_per_machine)
    got = _run(("nic.fallback-own-connection", "exec.big-result"))
    assert got["nic.fallback-own-connection"][0] is Verdict.FAIL
    assert "[FB-8]" in got["nic.fallback-own-connection"][1], got
    assert got["exec.big-result"][0] is Verdict.PASS


@pytest.mark.clause("FB-9")
def test_a_trustee_taking_frames_from_any_caller_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub that accepts any caller hello takes the frame sent on a connection whose hello names
    no client it serves: nic.fallback-stranger-refused catches it."""
    real = FallbackHub.serve_remote

    def lax(self: FallbackHub, *a: object, **kw: object) -> None:
        real(self, *a, **kw)  # type: ignore[arg-type]
        self.machines = self.threads = 0x10000

    monkeypatch.setattr(FallbackHub, "serve_remote", lax)
    verdict, message = _run(("nic.fallback-stranger-refused",))["nic.fallback-stranger-refused"]
    assert verdict is Verdict.FAIL, message


CALLER = """
import socket, struct, sys
from gossamer.fallback import Frame, FrameKind, FrameReader
port, machine = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(struct.pack("<HH", machine, 1))
s.sendall(Frame(kind=FrameKind.REQUEST, slot_id=3, seq=1, index=0, payload=b"from afar").encode())
r = FrameReader()
while True:
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    if not data:
        print("closed")
        break
    fs = r.feed(data)
    if fs:
        print(fs[0].kind, fs[0].slot_id, fs[0].payload.decode())
        break
"""


@pytest.mark.clause("FB-8", "FB-9", "FB-3")
def test_the_hub_serves_a_caller_in_another_process() -> None:
    """`serve_remote` listens on the served address (here 0.0.0.0); a client process connects,
    says who it is, sends a request frame and gets its response frame on the same connection; a
    process naming a machine that is not a peer is closed."""
    hub = FallbackHub(2, 1 << 20, 5000)
    try:
        hub.serve_remote(0, "0.0.0.0", clients=[1], threads=2)
        assert hub.listeners[0].getsockname()[0] == "0.0.0.0"
        port = hub.port(0)
        good = subprocess.Popen([sys.executable, "-c", CALLER, str(port), "1"], stdout=subprocess.PIPE, text=True)
        bad = subprocess.Popen([sys.executable, "-c", CALLER, str(port), "7"], stdout=subprocess.PIPE, text=True)
        try:
            assert hub.take(0, (int(FrameKind.REQUEST), 3, 1, 0), (1, 1, 0)) == b"from afar"
            hub.send(Frame(kind=FrameKind.RESPONSE, slot_id=2, seq=1, index=0, payload=b"back"), (1, 1), 0)
            for _ in range(200):
                hub.pump()
                if good.poll() is not None and bad.poll() is not None:
                    break
                time.sleep(0.01)
            out_good, _ = good.communicate(timeout=10)
            out_bad, _ = bad.communicate(timeout=10)
        finally:
            good.kill()
            bad.kill()
        assert out_good.split() == ["2", "2", "back"]
        assert out_bad.strip() == "closed" and hub.refused == 1
        # a client that never connected gets nothing, and the trustee does not hang on it ([FB-8])
        hub.timeout_ms = 50
        hub.send(Frame(kind=FrameKind.RESPONSE, slot_id=0, seq=1, index=0, payload=b"x"), (1, 0), 0)
        assert hub.undelivered == 1
        assert hub.take(0, (int(FrameKind.REQUEST), 0, 9, 0), (1, 0, 0)) is ErrorCode.FALLBACK_TIMEOUT
    finally:
        hub.close()
