"""Fibers: Python coroutines run by the runtime's own deterministic scheduler (thesis 3.2.2).

A fiber is an `async def` coroutine. It gives the kernel thread back by awaiting a `Future` (the
answer to a blocking apply, a join) or `yield_now()`. Nothing here is asyncio: the rack loop
(`rack.py`) decides, with a seeded RNG, which kernel thread runs next and which of its ready fibers
runs, so a run is a pure function of its seed and the program.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .kthread import KThread

T = TypeVar("T")

_PENDING = object()


class Future(Generic[T]):
    """A value that arrives later: `await fut` parks the fiber until `set_result` / `set_error`."""

    __slots__ = ("_callbacks", "_error", "_value")

    def __init__(self) -> None:
        self._value: Any = _PENDING
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[], None]] = []

    @property
    def done(self) -> bool:
        return self._value is not _PENDING or self._error is not None

    def set_result(self, value: T) -> None:
        if self.done:
            return
        self._value = value
        self._fire()

    def set_error(self, error: BaseException) -> None:
        if self.done:
            return
        self._error = error
        self._fire()

    def add_done_callback(self, cb: Callable[[], None]) -> None:
        if self.done:
            cb()
        else:
            self._callbacks.append(cb)

    def _fire(self) -> None:
        cbs, self._callbacks = self._callbacks, []
        for cb in cbs:
            cb()

    def result(self) -> T:
        if self._error is not None:
            raise self._error
        if self._value is _PENDING:
            raise RuntimeError("future is not done")
        return self._value  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        if not self.done:
            yield self
        return self.result()


class _YieldNow:
    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        yield None


def yield_now() -> _YieldNow:
    """`await yield_now()`: let the other fibers of this thread (and its poller) run."""
    return _YieldNow()


class Fiber:
    """One fiber: its coroutine, the kernel thread it lives on, and the future of its result."""

    __slots__ = ("coro", "done", "error", "id", "joined", "name", "thread")

    def __init__(self, fid: int, coro: Coroutine[Any, Any, Any], thread: KThread, name: str) -> None:
        self.id = fid
        self.coro = coro
        self.thread = thread
        self.name = name
        self.done: Future[Any] = Future()
        self.error: BaseException | None = None
        self.joined = False

    def __repr__(self) -> str:
        return f"<Fiber {self.id} {self.name} on {self.thread.label}>"

    def step(self) -> Any:
        """Run the coroutine up to its next await; returns what it yielded (a Future or None).

        Raises StopIteration (with the result) when it finished, or whatever it raised.
        """
        return self.coro.send(None)


class FiberHandle(Generic[T]):
    """What `spawn` returns: `await handle` joins the fiber and returns its result."""

    __slots__ = ("_fiber",)

    def __init__(self, fiber: Fiber) -> None:
        self._fiber = fiber

    @property
    def id(self) -> int:
        return self._fiber.id

    @property
    def placement(self) -> tuple[int, int]:
        return self._fiber.thread.machine, self._fiber.thread.index

    @property
    def finished(self) -> bool:
        return self._fiber.done.done

    def __await__(self) -> Generator[Any, None, T]:
        self._fiber.joined = True
        return self._fiber.done.__await__()
