"""Fibers on machines of other processes ([PROC-7], SPEC.md 10.1): the handle `spawn` returns.

`spawn(fn, *args, machine=m)` for a machine another process runs sends the function by name
(`module:qualname`, every process imports the same modules) and the arguments as CBOR to that
process, through the rack's `remote_spawner` (set by whoever owns the bootstrap connections,
`gossamer.procrack`); awaiting the handle returns the fiber's result. An uncaught error in that
fiber brings the application down ([PROC-5]), so a joiner then sees PEER_FAILED, as every fiber of
a rack does when a thread panics.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from ..errors import ErrorCode, LocalProtocolError
from .fibers import Future

T = TypeVar("T")

#: (function name, arguments as [kind, value] pairs, machine, thread) -> the future of its result
RemoteSpawner = Callable[[str, list[list[Any]], int, int], "Future[Any]"]


def function_name(fn: Callable[..., Any]) -> str:
    """`module:qualname` of a module-level function, which every process of the rack can import."""
    mod, qual = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not (isinstance(mod, str) and isinstance(qual, str)) or "<" in qual or mod == "__main__":
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "PROC-7",
            f"{fn!r} cannot be spawned on another process: pass a function defined at the top level "
            "of an importable module (not a lambda, a nested function or __main__)")
    return f"{mod}:{qual}"


class RemoteFiberHandle(Generic[T]):
    """What `spawn` returns for a machine of another process: `await handle` joins the fiber."""

    __slots__ = ("_done", "_placement")

    def __init__(self, done: Future[T], placement: tuple[int, int]) -> None:
        self._done = done
        self._placement = placement

    @property
    def placement(self) -> tuple[int, int]:
        return self._placement

    @property
    def finished(self) -> bool:
        return self._done.done

    def __await__(self) -> Generator[Any, None, T]:
        return self._done.__await__()
