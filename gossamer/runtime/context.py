"""Where the running code is: one `RunContext` per running rack loop (the rack, the kernel thread
and fiber being run, and the delegated closure running right now, for [NESTED_APPLY]: a blocking
apply from inside a closure would hang).

The context lives in a `contextvars.ContextVar`, set and reset by one context manager,
`running(rack)`, which `Rack.step` and `Rack.serve_round` enter; the rack loop that entered it
is the only writer of `thread` and `fiber`, and `call_delegated` marks a closure's run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ErrorCode, LocalProtocolError

if TYPE_CHECKING:
    from .fibers import Fiber
    from .kthread import KThread
    from .rack import Rack

T = TypeVar("T")


class RunContext:
    """What runs right now, in one rack loop."""

    __slots__ = ("delegated", "fiber", "rack", "thread")

    def __init__(self, rack: Rack) -> None:
        self.rack = rack
        self.thread: KThread | None = None
        self.fiber: Fiber | None = None
        #: name of the delegated closure running right now, or None
        self.delegated: str | None = None


_current: ContextVar[RunContext | None] = ContextVar("gossamer_run_context", default=None)


@contextmanager
def running(rack: Rack) -> Iterator[RunContext]:
    """Enter one round of `rack`'s loop: the API functions see this rack until the block ends."""
    run = RunContext(rack)
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)


def call_delegated(name: str, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(*args)` as the delegated closure `name` (a blocking apply inside it is refused).
    A plain function, not a context manager: it runs once per request on the trustee."""
    run = _current.get()
    if run is None:
        return fn(*args)
    prev = run.delegated
    run.delegated = name
    try:
        return fn(*args)
    finally:
        run.delegated = prev


def current() -> RunContext | None:
    return _current.get()


def current_rack() -> Rack:
    run = _current.get()
    if run is None:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "API", "no Gossamer rack is running: call this from a fiber under launch()"
        )
    return run.rack


def current_thread() -> KThread:
    run = _current.get()
    if run is None or run.thread is None:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "API", "not on a Gossamer kernel thread: call this from a fiber under launch()"
        )
    return run.thread


def current_fiber() -> Fiber | None:
    run = _current.get()
    return None if run is None else run.fiber


def delegated_closure() -> str | None:
    run = _current.get()
    return None if run is None else run.delegated
