"""The exception types of pyverbs, with the same names, bases and messages.

PyverbsRDMAError is what a failing verb raises (its ``error_code`` is the errno the C call
returned); PyverbsUserError is pyverbs refusing an argument before any verb runs.  The NIC layer
raises its own ``nic_emu.errors.NicError``, converted here by ``from_nic``.
"""

from __future__ import annotations

import os

from nic_emu.errors import NicError


class PyverbsError(Exception):
    """Base class of every pyverbs exception."""

    def __init__(self, msg: str, error_code: int = -1) -> None:
        if error_code != -1:
            msg = f"{msg}. Errno: {error_code}, {os.strerror(error_code)}"
        super().__init__(msg)


class PyverbsRDMAError(PyverbsError):
    """A verb returned an error; ``error_code`` is its errno."""

    def __init__(self, msg: str, error_code: int = -1) -> None:
        super().__init__(msg, error_code)
        self._error_code = error_code

    @property
    def error_code(self) -> int:
        return self._error_code


class PyverbsUserError(PyverbsError):
    """pyverbs refused the caller's input before calling into the provider."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)


def from_nic(err: NicError) -> PyverbsRDMAError:
    """The NIC's error as the verb reports it: same message, same errno (the one conversion)."""
    return PyverbsRDMAError(err.message, err.errno)
