"""A kernel thread's client and trustee sides without a Rack: built from a `ThreadEnv`, driven by
hand through an in-memory slot network, returning what to send instead of sending it."""

from __future__ import annotations

from typing import Any

import pytest

import gossamer
from gossamer.closures import default_registry
from gossamer.errors import ErrorCode, GossamerError, RemoteProtocolError
from gossamer.runtime import Pending, make_request
from gossamer.runtime.client_side import ClientSide
from gossamer.runtime.env import Send, ThreadEnv
from gossamer.runtime.kthread import KThread
from gossamer.runtime.leaks import TrustLedger
from gossamer.runtime.slotmap import SlotMap
from gossamer.runtime.trustee_side import TrusteeSide
from gossamer.slot import SlotConfig
from gossamer.trust_ids import TrustIdMinter


@gossamer.closure(capture="u64", result="u64", name="tests.runtime.sides:add")
def add(c: list[int], k: int) -> int:
    c[0] += k
    return c[0]


class SlotMemory:
    """One machine's slots as a dict of images (the `SlotNet` of a one-machine rack)."""

    def __init__(self, smap: SlotMap) -> None:
        self.smap = smap
        self.images: dict[int, bytes] = {}

    def request_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int:
        return self.smap.request_slot(peer, client_thread, trustee_thread)

    def response_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int:
        return self.smap.response_slot(client_thread, peer, trustee_thread)

    def read_slot(self, slot_id: int) -> memoryview:
        return memoryview(self.images[slot_id])


class NoFallback:
    def take(self, machine: int, key: Any, link: Any) -> Any:
        raise AssertionError("no entry here needs a fallback frame")

    def discard_stale(self, machine: int, kind: int, slot_id: int, seq: int) -> None:
        return None


def _pair() -> tuple[ClientSide, TrusteeSide, SlotMemory, list[int]]:
    smap = SlotMap(1, 1)
    mem = SlotMemory(smap)
    created: list[int] = []
    env = ThreadEnv(config=SlotConfig(), registry=default_registry, smap=smap, net=mem, fallback=NoFallback(),
                    machine=0, thread=0, on_entrusted=created.append)
    return ClientSide(env), TrusteeSide(env), mem, created


def _deliver(mem: SlotMemory, out: Send) -> None:
    assert out.frames == () and out.dst == 0
    mem.images[out.slot_id] = out.image


def test_a_request_round_trips_through_the_sides_without_a_rack() -> None:
    client, trustee, mem, created = _pair()
    answers: list[tuple[Any, GossamerError | None]] = []
    tid = TrustIdMinter(0, 0).mint()
    entrust = default_registry.entrust
    client.submit(0, 0, Pending(make_request(default_registry, 0, entrust, (tid,), [40]), entrust,
                                lambda v, e: answers.append((v, e))))
    [out] = client.flush()
    assert client.flush() == []  # [FLOW-1]: one batch in flight per slot
    _deliver(mem, out)
    reply = trustee.on_landed(out.slot_id, out.imm)
    trustee.responded(out.slot_id)
    assert reply.slot_id == out.stage_slot and reply.stage_slot == out.slot_id
    _deliver(mem, reply)
    client.on_response(reply.slot_id, reply.imm)
    [(pointer, error)] = answers
    assert error is None and created == [pointer]

    client.submit(0, 0, Pending(make_request(default_registry, pointer, add, (2,)), add,
                                lambda v, e: answers.append((v, e))))
    [out] = client.flush()
    _deliver(mem, out)
    reply = trustee.on_landed(out.slot_id, out.imm)
    _deliver(mem, reply)
    client.on_response(reply.slot_id, reply.imm)
    assert answers[-1] == (42, None)
    assert client.outstanding == 0 and trustee.requests == 2


def test_a_callback_that_raises_is_reported_through_the_environment() -> None:
    smap = SlotMap(1, 1)
    crashes: list[str] = []
    env = ThreadEnv(config=SlotConfig(), registry=default_registry, smap=smap, net=SlotMemory(smap),
                    fallback=NoFallback(), machine=0, thread=0, on_crash=lambda what, exc: crashes.append(what))
    client = ClientSide(env)

    def boom(value: Any, error: GossamerError | None) -> None:
        raise RuntimeError("callback")

    client.submit(0, 0, Pending(make_request(default_registry, 1, add, (1,)), add, boom))
    assert client.fail_all(GossamerError(ErrorCode.PEER_FAILED, "ERR-1", "down")) == 1
    assert crashes == ["callback of tests.runtime.sides:add on m0.t0 raised"]


def test_make_request_refuses_a_plain_function() -> None:
    with pytest.raises(GossamerError) as info:
        make_request(default_registry, 1, print, ())  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.BAD_ARGUMENT


class LoopbackNet(SlotMemory):
    """The NIC side of a one-machine rack for a `KThread`: a WRITE WITH IMMEDIATE lands in this
    machine's slot at once, and the next `poll` reports it."""

    def __init__(self, smap: SlotMap) -> None:
        super().__init__(smap)
        self.inbox: list[tuple[int, int]] = []
        self.writes = 0

    def poll(self, thread: int) -> list[tuple[int, int]]:
        out, self.inbox = self.inbox, []
        return out

    def write(self, thread: int, dst: int, slot_id: int, image: bytes, imm: int, stage_slot: int) -> None:
        self.writes += 1
        self.images[slot_id] = bytes(image)
        self.inbox.append((slot_id, imm))


class NoHub:
    def send(self, frame: Any, client: Any, trustee_machine: int) -> None:
        raise AssertionError("no entry here needs a fallback frame")


def _kthread() -> tuple[KThread, LoopbackNet, list[tuple[str, BaseException]]]:
    smap = SlotMap(1, 1)
    net = LoopbackNet(smap)
    crashes: list[tuple[str, BaseException]] = []
    env = ThreadEnv(config=SlotConfig(), registry=default_registry, smap=smap, net=net, fallback=NoFallback(),
                    machine=0, thread=0, on_crash=lambda what, exc: crashes.append((what, exc)))
    return KThread(env, net, NoHub(), TrustLedger("ignore")), net, crashes  # type: ignore[arg-type]


def _entrust(th: KThread, answers: list[tuple[Any, GossamerError | None]]) -> None:
    entrust = default_registry.entrust
    req = make_request(default_registry, 0, entrust, (th.minter.mint(),), [1])
    th.client.submit(0, 0, Pending(req, entrust, lambda v, e: answers.append((v, e))))


def test_a_kernel_thread_polls_without_a_rack() -> None:
    """Ownership one way: a KThread is built from its ThreadEnv and what it uses (NIC side, hub,
    ledger); the rack only calls it. Three polls: send the batch, run it and answer, match."""
    th, net, crashes = _kthread()
    assert not hasattr(th, "rack")
    answers: list[tuple[Any, GossamerError | None]] = []
    _entrust(th, answers)
    assert th.poll() and net.writes == 1 and not answers
    assert th.poll() and net.writes == 2 and not answers
    assert th.poll() and [e for _, e in answers] == [None] and 0 < answers[0][0] < 1 << 48
    assert not th.poll() and not crashes


def test_a_halted_kernel_thread_processes_and_sends_nothing() -> None:
    th, net, _ = _kthread()
    answers: list[tuple[Any, GossamerError | None]] = []
    _entrust(th, answers)
    th.poll()
    th.halted = True  # the rack went down (fate sharing)
    _entrust(th, answers)
    assert th.poll()  # the landed batch is not run
    assert net.writes == 1 and not answers


def test_a_protocol_error_from_a_peer_goes_to_fate_sharing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer's protocol error raised while a landing is handled is reported through `on_crash`
    (the rack goes down: fate sharing) instead of escaping the poller."""
    th, net, crashes = _kthread()

    def broken(slot_id: int, imm: int) -> None:
        raise RemoteProtocolError(ErrorCode.STALE_SEQUENCE, "RSP-6", f"response rejected in slot {slot_id}")

    monkeypatch.setattr(th.client, "on_response", broken)
    slot = net.smap.response_slot(0, 0, 0)
    net.inbox.append((slot, slot << 16 | 1))
    assert th.poll()
    [(what, exc)] = crashes
    assert isinstance(exc, RemoteProtocolError) and f"slot {slot}" in what
