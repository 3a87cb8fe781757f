"""The suite's value types: a case, a target's outcome, a case's result ([ADPT-1] .. [ADPT-4]).

A case is data (an adapter op, its arguments, the expected outcome) plus an optional check
function; a target is anything that answers adapter ops. Outcomes are plain CBOR-able values, the
same ones the adapter protocol carries, so the reference, a mutant and a C codec are judged alike.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

#: An outcome as the adapter carries it: {"ok": value} or {"error": "<ERROR_CODE_NAME>"}.
Outcome = dict[str, Any]


def ok(value: Any) -> Outcome:
    return {"ok": value}


def err(name: str) -> Outcome:
    return {"error": name}


class Verdict(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"  #: the target crashed, hung, or broke the adapter protocol ([ERR-1])


class Target(Protocol):
    """An implementation under test. `call` answers one adapter op ([ADPT-3]).

    A target may also offer `take_stderr() -> str`: what it wrote to its standard error since the
    last call (an adapter subprocess does); the runner records it with each case. One that offers
    `set_deadline(seconds)` enforces the runner's per-case deadline itself (an adapter, per answer);
    any other gets it as SIGALRM (`runner.case_deadline`). `case_deadline` (seconds), when a target
    has it, replaces the CLI's deadline for its cases (live targets wait for several responses).
    """

    name: str

    @property
    def capabilities(self) -> frozenset[str]: ...

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome: ...

    def close(self) -> None: ...


class TargetBroken(Exception):
    """The target did not answer according to the adapter protocol (crash, hang, bad frame)."""


class CaseTimeout(BaseException):
    """A case overran its deadline (`runner.case_deadline`). A BaseException, like
    KeyboardInterrupt, so that the `except Exception` of the code it interrupts does not swallow it."""

    def __init__(self, seconds: float, where: str = "") -> None:
        at = f" (interrupted in {where})" if where else ""
        super().__init__(f"case overran its deadline of {seconds:g} s{at}")
        self.seconds = seconds
        self.where = where


#: A check compares an outcome with what the case expects; returns None or a failure message.
Check = Callable[["Case", Outcome], str | None]


@attrs.frozen(kw_only=True)
class Case:
    """One conformance case: stable id, title, the clauses it checks, and how to run it.

    `op`/`args` are sent to the target; `expect` is the outcome it must answer. A case whose `op`
    is not in the target's capabilities is skipped, never passed. `check` replaces the exact
    comparison when the spec leaves parts of the answer free (detail texts, [ERR-3]).
    """

    id: str
    title: str
    clauses: tuple[str, ...]
    op: str
    args: Mapping[str, Any]
    expect: Outcome
    tags: frozenset[str] = frozenset()
    check: Check | None = None
    source: str = "catalogue"
    #: the op the target must offer for the case to run (default: `op` itself)
    requires: str | None = None

    @property
    def sent(self) -> bytes | None:
        """The bytes this case hands to the target, for the report."""
        for key in ("image", "data"):
            v = self.args.get(key)
            if isinstance(v, bytes):
                return v
        batches = self.args.get("batches") or self.args.get("landings")
        if batches and isinstance(batches[0], Mapping):
            v = batches[-1].get("image")
            if isinstance(v, bytes):
                return v
        return None

    @property
    def capability(self) -> str:
        return self.requires or self.op


@attrs.frozen(kw_only=True)
class CaseResult:
    case: Case
    verdict: Verdict
    message: str = ""
    received: Outcome | None = None
    seconds: float = 0.0
    #: what the target wrote to its standard error during this case (adapters; "" otherwise)
    stderr: str = ""

    @property
    def request(self) -> dict[str, Any]:
        """The request as sent: `{"op": ..., **arguments}` ([ADPT-3])."""
        return {"op": self.case.op, **wire_args(self.case)}

    @property
    def expected_bytes(self) -> bytes | None:
        return primary_bytes(self.case.expect)

    @property
    def received_bytes(self) -> bytes | None:
        return primary_bytes(self.received) if self.received is not None else None


def wire_args(case: Case) -> dict[str, Any]:
    """The arguments sent to the target; keys starting with `_` are the check's own data."""
    return {k: v for k, v in case.args.items() if not k.startswith("_")}


def primary_bytes(outcome: Outcome | None) -> bytes | None:
    """The main byte string of an outcome (an encoded image or frame), if it has one."""
    if not outcome or "ok" not in outcome:
        return None
    v = outcome["ok"]
    if isinstance(v, Mapping):
        for key in ("image", "frame", "data"):
            b = v.get(key)
            if isinstance(b, bytes):
                return b
    return None
