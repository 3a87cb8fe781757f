"""Where the running code is: the current kernel thread and fiber, and whether a delegated
closure is running (for [NESTED_APPLY]: a blocking apply from inside a closure would hang).

The whole rack runs in one OS thread, so these are plain module globals set by the rack loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ErrorCode, LocalProtocolError

if TYPE_CHECKING:
    from .fibers import Fiber
    from .rack import KThread, Rack

_rack: Rack | None = None
_thread: KThread | None = None
_fiber: Fiber | None = None
#: name of the delegated closure running right now, or None
_delegated: str | None = None


def current_rack() -> Rack:
    if _rack is None:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "API", "no Gossamer rack is running: call this from a fiber under launch()"
        )
    return _rack


def current_thread() -> KThread:
    if _thread is None:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "API", "not on a Gossamer kernel thread: call this from a fiber under launch()"
        )
    return _thread


def current_fiber() -> Fiber | None:
    return _fiber


def delegated_closure() -> str | None:
    return _delegated
