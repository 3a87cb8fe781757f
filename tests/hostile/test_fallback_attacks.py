"""A hostile machine on the fallback channel ([SEC-6], [FB-8], [FB-9], [FB-10]).

Machine 1's client thread 0 is honest; machine 2 is the attacker. It reaches machine 0's fallback
port like any machine of the rack and sends frames naming machine 1's slot, first under its own
caller hello, then claiming to be machine 1: without machine 1's fallback secret, or with a wrong
one. Machine 1's hello to machine 0 carried SECRET (the hub has read it, as the rack does).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from conformance.oracle.bootstrap import caller_accepted, caller_hello
from gossamer.bootstrap import BootstrapReader
from gossamer.errors import ErrorCode
from gossamer.fallback import Frame, FrameKind
from gossamer.runtime.slotmap import SlotMap, SlotOwner
from gossamer.runtime.tcp import MAX_KEPT, FallbackHub

SLOT, KEY = 4, (int(FrameKind.REQUEST), 4, 1, 0)
SECRET = bytes(range(100, 116))


@pytest.fixture
def hub() -> Iterator[FallbackHub]:
    h = FallbackHub(3, 1 << 20, 300)
    h.expect_secret(1, 0, SECRET)  # [SEC-6] machine 0 has read machine 1's hello
    smap = SlotMap(3, 2)  # slot 4 is the request slot of client (1, 0) to trustee thread 0
    assert smap.owner(SLOT) == SlotOwner(True, 0, 1, 0)
    h.slot_owner = lambda m, s: smap.owner(s) if s < smap.count else None  # as the rack sets it
    try:
        yield h
    finally:
        h.close()


def _attacker(hub: FallbackHub, claims: tuple[int, int], payload: bytes, secret: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", hub.port(0)))
    s.sendall(struct.pack("<HH", *claims) + secret)
    s.sendall(Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=1, index=0, payload=payload).encode())
    for _ in range(20):
        hub.pump()
    return s


@pytest.mark.clause("SEC-6", "FB-7", "FB-10")
def test_frames_for_another_callers_slot_are_not_taken(hub: FallbackHub) -> None:
    s = _attacker(hub, (2, 0), b"evil!")  # its own identity, the victim's slot
    hub.send(Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=1, index=0, payload=b"honest"), (1, 0), 0)
    assert hub.take(0, KEY, (1, 0, 0)) == b"honest"
    assert hub.discarded == 1  # [FB-7]: counted
    s.close()


def _refused_for_the_secret(hub: FallbackHub) -> None:
    assert hub.refused == 1
    why = hub.refusals[-1]
    assert (why.code, why.clause) == (ErrorCode.BAD_FRAME, "SEC-6"), why


@pytest.mark.clause("SEC-6", "FB-8", "FB-9")
def test_a_caller_hello_claiming_another_client_without_its_secret_is_refused(hub: FallbackHub) -> None:
    """The attacker claims machine 1's thread 0 with the 4-byte caller hello alone (its frame's first
    16 bytes stand where the secret should be): closed, its frame not taken; machine 1's own
    connection, opened with SECRET, delivers the honest frame. Before [SEC-6]'s secret the
    attacker's payload was taken as machine 1's."""
    s = _attacker(hub, (1, 0), b"evil!")  # claims to be machine 1's thread 0
    hub.send(Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=1, index=0, payload=b"honest"), (1, 0), 0)
    assert hub.take(0, KEY, (1, 0, 0)) == b"honest"
    _refused_for_the_secret(hub)
    s.close()


@pytest.mark.clause("SEC-6", "FB-9")
def test_a_caller_hello_with_a_wrong_secret_is_refused(hub: FallbackHub) -> None:
    s = _attacker(hub, (1, 0), b"evil!", secret=bytes(16))
    hub.send(Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=1, index=0, payload=b"honest"), (1, 0), 0)
    assert hub.take(0, KEY, (1, 0, 0)) == b"honest"
    _refused_for_the_secret(hub)
    s.close()


@pytest.mark.clause("SEC-6", "FB-8")
def test_a_caller_whose_machine_sent_no_secret_uses_the_4_byte_hello(hub: FallbackHub) -> None:
    """Machine 1's hello carried no fallback_secret: its caller hello is 4 bytes ([FB-8]), and a
    frame right after it is taken (which is why, without the secret, the hello binds nothing)."""
    hub.expect_secret(1, 0, None)
    s = _attacker(hub, (1, 0), b"frame")
    assert hub.take(0, KEY, (1, 0, 0)) == b"frame"
    assert hub.refused == 0
    s.close()


@pytest.mark.clause("SEC-6")
def test_a_local_client_machine_presents_the_secret_it_announced() -> None:
    """In a rack, machine 1's hello to machine 0 carries the secret the hub draws for the pair, and
    machine 0 expects it: the honest connection is accepted, a 4-byte claim is not."""
    from gossamer.runtime import Rack

    rack = Rack(2, 1, seed=3)
    try:
        hub = rack.fallback
        hello = BootstrapReader().feed(rack.hello_for(1, 0))[0]
        assert hello["fallback_secret"] == hub.secrets[(1, 0)] and len(hello["fallback_secret"]) == 16
        assert hub.secrets[(0, 1)] != hub.secrets[(1, 0)]  # one per pair and direction
        hub.send(Frame(kind=FrameKind.REQUEST, slot_id=0, seq=1, index=0, payload=b"ok"), (1, 0), 0)
        s = _attacker(hub, (1, 0), b"evil!")
        assert hub.refused == 1 and hub.refusals[-1].clause == "SEC-6"
        s.close()
    finally:
        rack.close()


@pytest.mark.clause("SEC-1", "FB-10", "FB-7")
def test_a_caller_flooding_its_own_slot_with_frames_is_held_to_255(hub: FallbackHub) -> None:
    """Machine 1 (its own secret, its own slot) sends 1000 frames of 1000 seqs before any batch: the
    trustee keeps at most MAX_KEPT (255, a batch's most entries) per slot and discards and counts the
    rest ([FB-7]); before, it kept them all (memory without bound, [SEC-1])."""
    s = socket.create_connection(("127.0.0.1", hub.port(0)))
    s.sendall(struct.pack("<HH", 1, 0) + SECRET)
    s.sendall(b"".join(Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=q, index=0, payload=b"x" * 64).encode()
                       for q in range(1, 1001)))
    for _ in range(200):
        hub.pump()
        if len(hub.store[0]) + hub.discarded >= 1000:
            break
    assert len(hub.store[0]) == MAX_KEPT
    assert hub.discarded == 1000 - MAX_KEPT
    s.close()


@pytest.mark.clause("SEC-1", "FB-3", "FB-8")
def test_a_callers_newer_connection_closes_its_older_one(hub: FallbackHub) -> None:
    """One connection per (client thread, trustee machine) ([FB-3]): a caller that opens another is
    served on the newest, and the older is closed instead of held open (a bound on what one caller
    can make the trustee hold)."""
    first = _attacker(hub, (1, 0), b"one", secret=SECRET)
    second = _attacker(hub, (1, 0), b"two", secret=SECRET)
    first.settimeout(2.0)
    assert first.recv(16) == b""  # closed by the trustee
    assert len([e for e in hub.ends if e.link == (1, 0, 0)]) == 1
    first.close()
    second.close()


@pytest.mark.clause("SEC-6", "FB-9", "FB-8")
@pytest.mark.parametrize("first", [
    caller_hello(1, 0, SECRET), caller_hello(1, 0, bytes(16)), caller_hello(1, 1, SECRET[::-1]),
    caller_hello(2, 0, None), caller_hello(2, 5, None), caller_hello(7, 0, None), caller_hello(0, 0, None),
], ids=["secret", "zeros", "reversed", "no-secret-machine", "thread-5", "machine-7", "itself"])
def test_the_hub_keeps_a_connection_when_the_oracle_does(hub: FallbackHub, first: bytes) -> None:
    """The suite's oracle (conformance.oracle.bootstrap.caller_accepted, written from SPEC.md alone)
    and the hub agree on which first bytes open a fallback connection: machine 1 announced SECRET,
    machine 2 no secret, 2 threads each."""
    hub.threads = 2
    hub.expect_secret(2, 0, None)
    s = socket.create_connection(("127.0.0.1", hub.port(0)))
    s.sendall(first + Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=1, index=0, payload=b"x").encode())
    for _ in range(50):
        hub.pump()
        if hub.refused or hub.callers:
            break
    assert caller_accepted(first, {1: SECRET, 2: None}, 2) is (hub.refused == 0 and bool(hub.callers))
    s.close()


@pytest.mark.clause("FB-9", "SEC-6")
def test_a_caller_hello_naming_no_client_is_refused_and_nothing_taken(hub: FallbackHub) -> None:
    """What the 4-byte hello does bind today: a machine number outside the rack is refused."""
    hub.threads = 1
    s = _attacker(hub, (7, 0), b"evil!")
    assert hub.refused == 1
    assert KEY not in hub.store[0]
    s.close()


MIXED = (2, 5, 3)  #: T_m of machines 0 (the trustee machine), 1 and 2: client machines run more threads


@pytest.mark.clause("FB-9", "FB-12", "SHAPE-1")
@pytest.mark.parametrize("first", [
    caller_hello(1, 4, SECRET), caller_hello(1, 5, SECRET), caller_hello(2, 2, None), caller_hello(2, 3, None),
    caller_hello(2, 4, None), caller_hello(1, 2, SECRET),
], ids=["m1-t4-last", "m1-t5-past", "m2-t2-last", "m2-t3-past", "m2-t4-past", "m1-t2-above-own-T"])
def test_a_callers_thread_is_bounded_by_its_own_machines_threads(hub: FallbackHub, first: bytes) -> None:
    """[FB-9] in a mixed rack: the caller's thread is bounded by `T_m` of the machine it names, not by
    the trustee machine's own `T` (2 here). The oracle, written from SPEC.md alone, decides; under
    the other reading (the trustee's own `T`), thread 4 of machine 1 would be refused."""
    hub.threads = list(MIXED)
    hub.expect_secret(2, 0, None)
    s = socket.create_connection(("127.0.0.1", hub.port(0)))
    s.sendall(first + Frame(kind=FrameKind.REQUEST, slot_id=SLOT, seq=1, index=0, payload=b"x").encode())
    for _ in range(50):
        hub.pump()
        if hub.refused or hub.callers:
            break
    want = caller_accepted(first, {1: SECRET, 2: None}, dict(enumerate(MIXED)))
    assert want is (hub.refused == 0 and bool(hub.callers))
    if first[2:4] in (b"\x04\x00", b"\x02\x00") and first[:2] != b"\x02\x00":
        assert want is True  # the reading this test pins: threads above the trustee's own T are served
    s.close()
