"""The one exception of the NIC layer.

``NicError`` is what the fabric raises when a verb cannot be carried out at all (a crashed
machine, an address nobody allocated); it carries the errno the verb would return.  The pyverbs
facade converts it into ``PyverbsRDMAError`` with the same message and errno
(``nic_emu.pyverbs.pyverbs_error.from_nic``), the one place where the two meet.
"""

from __future__ import annotations


class NicError(Exception):
    """A verb failed in the NIC: ``errno`` is what the C call returns, ``message`` says why."""

    def __init__(self, message: str, errno: int) -> None:
        super().__init__(message, errno)
        self.message = message
        self.errno = errno

    def __str__(self) -> str:
        return f"{self.message} (errno {self.errno})"
