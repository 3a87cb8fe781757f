"""Random programs on racks of 1 to 4 machines with 1 to 4 threads each, checked against a model.

A `RuleBasedStateMachine` (Hypothesis's stateful testing) writes a program as it goes: driver
fibers on chosen threads receive commands (entrust, apply, apply_then, clone, drop, spawn, large
captures that take the TCP fallback) and the rack is stepped between rules. Checked:

* every property's history is a sequential execution that keeps each fiber's requests in order,
  and every answer is the one that execution gives ([REQ-7]);
* every request is answered exactly once ([RSP-2], [FLOW-2]);
* a property is dropped exactly when its last Trust is dropped, never before ([TRUST-5], [TRUST-7]).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

import gossamer
from gossamer.runtime import DropEvent, Rack, Trust, entrust, spawn, yield_now
from gossamer.slot import SlotConfig

BIG = "x" * 1500  # with S = 1024 this request cannot fit a slot: it takes the fallback ([FB-1])


@gossamer.closure(capture="u32 u32", result="u64", name="tests.runtime.stateful:log_op")
def log_op(prop: list[list[int]], fiber: int, op: int) -> int:
    prop.append([fiber, op])
    return len(prop)


@gossamer.closure(capture="u32 u32", result="u64", param="cbor", name="tests.runtime.stateful:log_big")
def log_big(prop: list[list[int]], fiber: int, op: int, blob: str) -> int:
    assert blob == BIG
    prop.append([fiber, op])
    return len(prop)


@gossamer.closure(capture="u32 u32", result="cbor", name="tests.runtime.stateful:log_echo")
def log_echo(prop: list[list[int]], fiber: int, op: int) -> list[Any]:
    prop.append([fiber, op])
    return [len(prop), BIG]  # a result too large for the response slot: a fallback frame ([RSP-4])


class Harness:
    """The test's side: command queues of driver fibers, and the model."""

    def __init__(self) -> None:
        self.queues: dict[int, deque[tuple[Any, ...]]] = {}
        self.answers: dict[int, list[int]] = {}
        self.live: dict[int, int] = {}  # model property -> live Trusts (updated as commands run)
        self.where: dict[int, tuple[int, int, int]] = {}  # model property -> (machine, thread, pointer)
        self.dropped: dict[tuple[int, int, int], DropEvent] = {}
        self.prop_of: dict[int, int] = {}  # handle -> model property
        self.errors: list[str] = []

    def on_drop(self, ev: DropEvent) -> None:
        key = (ev.machine, ev.thread, ev.pointer)
        props = [p for p, w in self.where.items() if w == key]
        if len(props) != 1:
            self.errors.append(f"drop of unknown property {key}")
            return
        if self.live[props[0]] != 0:  # [TRUST-5] never before the last Trust is gone
            self.errors.append(f"property {props[0]} dropped with {self.live[props[0]]} live Trusts")
        self.dropped[key] = ev


HARNESS: list[Harness] = []


async def drive(key: int, *handed: Any) -> None:
    """A driver fiber: runs the commands the state machine queues for it, in order."""
    h = HARNESS[-1]
    trusts: dict[int, Trust] = {}
    if handed:
        trust, handle = handed
        trusts[handle] = trust
    q = h.queues[key]

    def answer(op: int) -> Any:
        return lambda r: h.answers.setdefault(op, []).append(r if isinstance(r, int) else r[0])

    while True:
        if not q:
            await yield_now()
            continue
        cmd = q.popleft()
        kind = cmd[0]
        if kind == "stop":
            return
        if kind == "entrust":
            _, handle, m, t = cmd
            trust = await entrust([], machine=m, thread=t)
            prop = h.prop_of[handle]
            h.where[prop] = (m, t, trust.pointer)
            h.live[prop] = 1
            trusts[handle] = trust
        elif kind in ("apply", "big", "echo"):
            _, handle, op = cmd
            fn = {"apply": log_op, "big": log_big, "echo": log_echo}[kind]
            kw = {"arg": BIG} if kind == "big" else {}
            r = await trusts[handle].apply(fn, key, op, **kw)
            answer(op)(r)
        elif kind == "apply_then":
            _, handle, op = cmd
            trusts[handle].apply_then(log_op, key, op, then=answer(op))
        elif kind == "clone":
            _, handle, new = cmd
            trusts[new] = trusts[handle].clone()
            h.live[h.prop_of[new]] += 1
        elif kind == "drop":
            _, handle = cmd
            h.live[h.prop_of[handle]] -= 1
            trusts.pop(handle).drop()
        elif kind == "spawn":
            _, handle, new, newkey, m, t = cmd
            h.live[h.prop_of[new]] += 1  # the hand-over clone exists from here on
            spawn(drive, newkey, trusts[handle], new, machine=m, thread=t)


class RackPrograms(RuleBasedStateMachine):
    handles = Bundle("handles")

    def __init__(self) -> None:
        super().__init__()
        self.h = Harness()
        HARNESS.append(self.h)
        self.rack: Rack | None = None
        self.next = 0
        self.driver_of: dict[int, int] = {}
        self.drivers: list[int] = []
        self.live_handles: set[int] = set()
        self.ops: dict[int, tuple[int, int]] = {}  # op -> (driver, model property)

    def _id(self) -> int:
        self.next += 1
        return self.next

    @initialize(machines=st.integers(1, 4), threads=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
                roots=st.integers(1, 3), lag=st.sampled_from([0.0, 0.3]), data=st.data())
    def start(self, machines: int, threads: int, seed: int, roots: int, lag: float,
              data: st.DataObject) -> None:
        self.rack = Rack(machines, threads, seed=seed, config=SlotConfig(slot_size=1024), lag=lag)
        self.rack.drop_hooks.append(self.h.on_drop)

        async def main() -> None:
            return None

        self.rack.start(main)
        for _ in range(roots):
            key = self._new_driver()
            m = data.draw(st.integers(0, machines - 1))
            t = data.draw(st.integers(0, threads - 1))
            self.rack.spawn_external(drive, key, machine=m, thread=t, name=f"driver{key}")

    def _new_driver(self) -> int:
        key = self._id()
        self.h.queues[key] = deque()
        self.drivers.append(key)
        return key

    def _send(self, handle: int, *cmd: Any) -> None:
        self.h.queues[self.driver_of[handle]].append(cmd)

    def _place(self, data: st.DataObject) -> tuple[int, int]:
        assert self.rack is not None
        return (data.draw(st.integers(0, self.rack.machines_n - 1), label="machine"),
                data.draw(st.integers(0, self.rack.threads - 1), label="thread"))

    @rule(target=handles, data=st.data())
    def do_entrust(self, data: st.DataObject) -> int:
        driver = data.draw(st.sampled_from(self.drivers), label="driver")
        m, t = self._place(data)
        handle = self._id()
        self.driver_of[handle] = driver
        self.h.prop_of[handle] = handle
        self.h.queues[driver].append(("entrust", handle, m, t))
        self.live_handles.add(handle)
        return handle

    @rule(handle=handles, kind=st.sampled_from(["apply", "apply", "apply_then", "apply_then", "big", "echo"]))
    def do_apply(self, handle: int, kind: str) -> None:
        op = self._id()
        self.ops[op] = (self.driver_of[handle], self.h.prop_of[handle])
        self._send(handle, kind, handle, op)

    @rule(target=handles, handle=handles)
    def do_clone(self, handle: int) -> int:
        new = self._id()
        self.driver_of[new] = self.driver_of[handle]
        self.h.prop_of[new] = self.h.prop_of[handle]
        self._send(handle, "clone", handle, new)
        self.live_handles.add(new)
        return new

    @rule(target=handles, handle=handles, data=st.data())
    def do_spawn(self, handle: int, data: st.DataObject) -> int:
        new = self._id()
        key = self._new_driver()
        m, t = self._place(data)
        self.driver_of[new] = key
        self.h.prop_of[new] = self.h.prop_of[handle]
        self._send(handle, "spawn", handle, new, key, m, t)
        self.live_handles.add(new)
        return new

    @rule(handle=consumes(handles))
    def do_drop(self, handle: int) -> None:
        self._send(handle, "drop", handle)
        self.live_handles.discard(handle)

    @rule(rounds=st.integers(1, 12))
    def run(self, rounds: int) -> None:
        assert self.rack is not None
        for _ in range(rounds):
            self.rack.step()

    @invariant()
    def never_dropped_early(self) -> None:
        assert not self.h.errors, self.h.errors

    def teardown(self) -> None:
        rack = self.rack
        if rack is None:
            return
        try:
            for handle in sorted(self.live_handles):
                self._send(handle, "drop", handle)
            for key in self.drivers:
                self.h.queues[key].append(("stop",))
            for _ in range(20000):
                if rack.step():
                    break
            else:
                pytest.fail("the rack did not become quiet")
            self._check()
        finally:
            rack.close()
            HARNESS.remove(self.h)

    def _check(self) -> None:
        h = self.h
        assert not h.errors, h.errors
        # dropped exactly when the last Trust was dropped ([TRUST-5]): all are gone now
        for prop, where in h.where.items():
            assert h.live[prop] == 0
            assert where in h.dropped, f"property {prop} at {where} was never dropped"
        assert len(h.dropped) == len(h.where)
        # every request answered exactly once, with the answer of the sequential history
        histories = {prop: h.dropped[w].value for prop, w in h.where.items()}
        for op, (driver, prop) in self.ops.items():
            got = h.answers.get(op, [])
            assert len(got) == 1, f"op {op} answered {len(got)} times"
            hist = histories[prop]
            assert hist[got[0] - 1] == [driver, op], f"op {op}: answer {got[0]} names {hist[got[0] - 1]}"
        for prop, hist in histories.items():
            seen = [tuple(e) for e in hist]
            assert len(set(seen)) == len(seen), "an op ran twice"
            last: dict[int, int] = {}
            for driver, op in seen:  # [REQ-7] each fiber's requests in issue order
                assert op > last.get(driver, 0), f"fiber {driver}'s ops ran out of order in {prop}"
                last[driver] = op
            assert {op for _, op in seen} == {op for op, (_, p) in self.ops.items() if p == prop}


_DEFAULT = settings.default
assert _DEFAULT is not None
RackPrograms.TestCase.settings = settings(
    _DEFAULT,
    stateful_step_count=50,
    max_examples=_DEFAULT.max_examples,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRackPrograms = pytest.mark.clause(
    "REQ-7", "RSP-2", "FLOW-1", "FLOW-2", "TRUST-2", "TRUST-4", "TRUST-5", "TRUST-6", "TRUST-7", "FB-1",
    "FB-4", "FB-5", "RSP-4",
)(RackPrograms.TestCase)
