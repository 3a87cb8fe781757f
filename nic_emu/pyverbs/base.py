"""Base classes of pyverbs objects: context managers with an explicit ``close()``."""

from __future__ import annotations

import errno as _errno
from types import TracebackType
from typing import TYPE_CHECKING

from nic_emu.errors import NicError
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, from_nic

if TYPE_CHECKING:
    from nic_emu.fabric import Machine


def PyverbsRDMAErrno(msg: str, error_code: int = _errno.EINVAL) -> PyverbsRDMAError:
    """pyverbs builds this from C's ``errno``; here the caller names the errno it models."""
    return PyverbsRDMAError(msg, error_code)


class PyverbsObject:
    """Root of the pyverbs class tree."""

    __slots__ = ("__weakref__",)

    def set_log_level(self, val: int) -> None:
        """pyverbs objects carry a logger; the emulator logs nothing, so this is a no-op."""


class PyverbsCM(PyverbsObject):
    """An object owning a verbs resource, released by ``close()`` or by leaving a ``with``."""

    __slots__ = ()

    def __enter__(self) -> PyverbsCM:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the resource; closing twice is harmless, as in pyverbs."""


def inc_rkey(rkey: int) -> int:
    """ibv_inc_rkey(3): the next rkey for a memory window bind (the low 8 bits, the key's tag,
    wrap around)."""
    return (rkey & ~0xFF) | ((rkey + 1) & 0xFF)


def check_alive(machine: Machine, what: str) -> None:
    """``PyverbsRDMAError(EIO)`` if the machine has crashed (every verb fails after that)."""
    try:
        machine.check_alive(what)
    except NicError as err:
        raise from_nic(err) from None
