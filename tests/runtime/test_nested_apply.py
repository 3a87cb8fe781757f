"""[ERR-5] end to end: a blocking apply (or entrust) inside a delegated closure fails at once with
NESTED_APPLY, and a closure that lets it escape is answered with the entry status NESTED_APPLY,
which reaches the caller as that code (never CLOSURE_RAISED with the name in the text), on every
path an answer can take: another machine, the caller's own thread, a blocking apply or an
apply_then's on_error, a detail too long for the slot (dropped, the status kept, [RSP-4])."""

from __future__ import annotations

from typing import Any

import pytest

import gossamer
from gossamer.errors import DelegationError, ErrorCode, GossamerError, LocalProtocolError
from gossamer.runtime import Trust, entrust, launch, yield_now
from tests.nic_emu.helpers import emulator_only

#: the Trust that the nested closures apply to (a module global: closures capture only bytes)
OUTER: list[Trust] = []


@gossamer.closure(capture="u64", result="u64", name="tests.runtime.nested:get")
def get(d: dict[str, int], k: int) -> int:
    return d.get(str(k), 0)


def _deep_helper(depth: int) -> None:
    if depth:
        _deep_helper(depth - 1)
    else:
        OUTER[0].apply(get, 1)  # reached through code the closure calls ([ERR-5] "directly or through")


@gossamer.closure(capture="", result="u64", name="tests.runtime.nested:direct")
def direct(d: Any) -> int:
    OUTER[0].apply(get, 1)
    return 0


@gossamer.closure(capture="", result="u64", name="tests.runtime.nested:through_helpers")
def through_helpers(d: Any) -> int:
    _deep_helper(5)
    return 0


@gossamer.closure(capture="", result="u64", name="tests.runtime.nested:nested_entrust")
def nested_entrust(d: Any) -> int:
    entrust({"x": 1})
    return 0


@gossamer.closure(capture="", result="cbor", name="tests.runtime.nested:caught")
def caught(d: Any) -> list[Any]:
    """Catches the failure: it came at once, inside the closure, with its code and clause."""
    try:
        OUTER[0].apply(get, 1)
    except LocalProtocolError as e:
        return [int(e.code), e.clause]
    return []


CLOSURES = {"direct": direct, "through_helpers": through_helpers, "nested_entrust": nested_entrust}


def _nested_code(name: str, machine: int, thread: int, *, then: bool, slot_size: int = 1024,
                 machines: int = 2) -> tuple[ErrorCode, str, str]:
    """Launch a rack whose gsm-main applies closure `name` to a property on (machine, thread);
    returns what the caller saw: (code, clause, message)."""
    seen: list[GossamerError] = []

    async def main() -> None:
        t = await entrust({"1": 5}, machine=machine, thread=thread)
        OUTER[:] = [t]
        if then:
            t.apply_then(CLOSURES[name], on_error=seen.append, then=lambda v: None)
            while not seen:
                await yield_now()
        else:
            try:
                await t.apply(CLOSURES[name])
            except DelegationError as e:
                seen.append(e)
        t.drop()

    launch(main, machines=machines, threads=2, slot_size=slot_size)
    OUTER.clear()
    (err,) = seen
    return err.code, err.clause, err.message


@pytest.mark.clause("ERR-5")
@pytest.mark.parametrize("name", [  # the other two on the emulator only: same path, fewer racks on rxe
    "direct", *(pytest.param(n, marks=emulator_only) for n in sorted(CLOSURES) if n != "direct")])
@pytest.mark.parametrize("where", [(1, 1), (0, 0)], ids=["other-machine", "own-thread"])
@pytest.mark.parametrize("then", [False, True], ids=["apply", "apply_then"])
def test_a_nested_blocking_call_reaches_the_caller_as_nested_apply(
        name: str, where: tuple[int, int], then: bool) -> None:
    code, clause, message = _nested_code(name, *where, then=then)
    assert code is ErrorCode.NESTED_APPLY
    assert clause == "ERR-5"
    assert "CLOSURE_RAISED" not in message and "raised" not in message
    assert f"tests.runtime.nested:{name}" in message


@pytest.mark.clause("ERR-5", "RSP-4")
def test_nested_apply_whose_detail_does_not_fit_the_slot_keeps_its_code() -> None:
    """A 128-byte slot cannot hold the detail inline: the entry goes as a bare NESTED_APPLY."""
    code, clause, message = _nested_code("through_helpers", 1, 0, then=False, slot_size=128)
    assert (code, clause) == (ErrorCode.NESTED_APPLY, "ERR-5")
    assert "blocking" not in message  # the detail was dropped ([RSP-4]); the status was not


@pytest.mark.clause("ERR-5")
def test_the_nested_failure_is_raised_at_once_inside_the_closure() -> None:
    async def main() -> list[Any]:
        t = await entrust({"1": 5}, machine=1)
        OUTER[:] = [t]
        got: list[Any] = await t.apply(caught)
        t.drop()
        return got

    assert launch(main, machines=2) == [int(ErrorCode.NESTED_APPLY), "ERR-5"]
    OUTER.clear()
