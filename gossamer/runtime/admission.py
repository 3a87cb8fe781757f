"""Backpressure for `apply_then`: what it returns, and how a fiber yields on a full queue.

The thesis's asynchronous fiber "will yield the runtime when the pending queue is full, after which
the response polling fiber can run and send all of the requests" (3.2.4). A Python call can give
the kernel thread back only through `await`, so `apply_then` returns an awaitable `Admission`:

    for key in keys:
        await trust.apply_then(put, key, then=count)   # yields only when the queue is full

When the thread's pending queue has room, the request is queued and `apply_then` returns
`ADMITTED`, which is done: awaiting it does not yield. When the call filled the queue (see
`ThreadEnv.pending_limit`), it returns a `WaitForRoom`: awaiting it parks the fiber until the
poller has sent enough of the queue. The request itself is queued either way, so the order of a
fiber's requests never changes ([REQ-7]); the price is that fibers woken together each queue one
request before they see the queue full again, so the bound holds up to one request per fiber of
the thread. Code that cannot await (an `apply_then` callback, a
delegated closure) gets `ADMITTED` and may take the queue past its bound; a fiber that drops a
`WaitForRoom` without awaiting it gets a RuntimeWarning naming the call, like asyncio's
"coroutine ... was never awaited", because its queue then grows without bound.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator
from typing import Any, Protocol

from .fibers import Future


class RoomSource(Protocol):
    """What an admission waits on: the client side of the fiber's kernel thread."""

    @property
    def full(self) -> bool: ...

    def when_room(self, callback: Callable[[], None]) -> None: ...


class Admission:
    """What `apply_then` returns: `await` it to give the thread back when the queue is full."""

    __slots__ = ()

    @property
    def waiting(self) -> bool:
        """True when awaiting this parks the fiber (the pending queue was full)."""
        return False

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that ends at once: awaiting ADMITTED never yields

    def __repr__(self) -> str:
        return "ADMITTED"


#: the request was queued and the queue has room: awaiting it is free
ADMITTED = Admission()


class WaitForRoom(Admission):
    """The call filled its thread's pending queue: awaiting parks the fiber until there is room."""

    __slots__ = ("_awaited", "_filename", "_label", "_limit", "_lineno", "_registry", "_source")

    def __init__(self, source: RoomSource, label: str, limit: int, caller: Any) -> None:
        self._source = source
        self._label = label
        self._limit = limit
        self._awaited = False
        # the apply_then call, for the warning when this is never awaited (captured only here,
        # on the full-queue path, so a call with room costs nothing extra)
        self._filename: str = caller.f_code.co_filename
        self._lineno: int = caller.f_lineno
        self._registry: dict[Any, Any] = caller.f_globals.setdefault("__warningregistry__", {})

    @property
    def waiting(self) -> bool:
        return self._source.full

    def __await__(self) -> Generator[Any, None, None]:
        self._awaited = True
        source = self._source
        if source.full:
            room: Future[None] = Future()
            source.when_room(lambda: room.set_result(None))
            yield from room.__await__()

    def __repr__(self) -> str:
        return f"<WaitForRoom {self._label}: pending queue at its bound of {self._limit}>"

    def __del__(self) -> None:
        if not self._awaited:
            warnings.warn_explicit(
                f"apply_then on {self._label} filled its pending queue ({self._limit} requests) and "
                "was not awaited, so the fiber did not yield and the queue grows past its bound: "
                "write `await trust.apply_then(...)`",
                RuntimeWarning, self._filename, self._lineno, registry=self._registry,
            )
