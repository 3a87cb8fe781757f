"""pyverbs.mr: memory regions over emulated host memory.

Each machine has its own address space (``nic_emu.fabric.Machine.alloc``).  ``MR.buf`` is the
virtual address of the buffer, an ``int`` as in pyverbs, so that ``SGE(mr.buf, n, mr.lkey)`` and
``wr.set_wr_rdma(mr.rkey, mr.buf)`` read the same on both providers.  For direct access to the
bytes, ``nic_emu.provider.mr_view(mr)`` gives a writable memoryview (on either provider).
"""

from __future__ import annotations

import errno

from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.base import PyverbsCM
from nic_emu.pyverbs.device import MAX_MR_SIZE
from nic_emu.pyverbs.pd import PD
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError

_LOCAL_WRITE = 1
_NEEDS_LOCAL_WRITE = e.IBV_ACCESS_REMOTE_WRITE | e.IBV_ACCESS_REMOTE_ATOMIC
_SUPPORTED = (
    e.IBV_ACCESS_LOCAL_WRITE
    | e.IBV_ACCESS_REMOTE_WRITE
    | e.IBV_ACCESS_REMOTE_READ
    | e.IBV_ACCESS_REMOTE_ATOMIC
    | e.IBV_ACCESS_RELAXED_ORDERING
)


class MR(PyverbsCM):
    """A registered memory region; ``MR(pd, length, access)`` allocates and registers."""

    __slots__ = (
        "_abase",
        "_access",
        "_base",
        "_end",
        "_key",
        "_machine",
        "_mem",
        "_view",
        "pd",
    )

    def __init__(
        self,
        creator: PD,
        length: int = 0,
        access: int = 0,
        address: int | None = None,
        implicit: bool = False,
        **kwargs: object,
    ) -> None:
        if not isinstance(creator, PD):
            raise PyverbsUserError("nic_emu registers MRs on a PD only")
        machine = creator.context._machine
        machine.check_alive("register MR")
        access = int(access)
        fail = f"Failed to register a MR. length: {length}, access flags: {access}"
        # ibv_reg_mr(3): "If IBV_ACCESS_REMOTE_WRITE or IBV_ACCESS_REMOTE_ATOMIC is set, then
        # IBV_ACCESS_LOCAL_WRITE must be set too." (rxe: EINVAL, measured.)
        if access & _NEEDS_LOCAL_WRITE and not access & _LOCAL_WRITE:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        if access & ~_SUPPORTED or implicit or kwargs.get("handle") is not None:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        if length < 0 or length > MAX_MR_SIZE:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        if address:
            found = machine.find_allocation(int(address), length)
            if found is None:
                # Registering memory the process does not have: the kernel's pin fails.
                raise PyverbsRDMAError(fail, errno.EFAULT)
            self._abase, self._mem = found
            self._base = int(address)
        else:
            self._abase, self._mem = machine.alloc(length)
            self._base = self._abase
        self._end = self._base + length
        self._view = memoryview(self._mem)
        self._access = access
        self._machine = machine
        self.pd = creator
        self._key = machine.register_mr(self)

    def close(self) -> None:
        if self._key >= 0:
            self._machine.deregister_mr(self)
            self._key = -1

    @property
    def buf(self) -> int:
        return self._base

    @property
    def lkey(self) -> int:
        return self._key

    @property
    def rkey(self) -> int:
        return self._key

    @property
    def length(self) -> int:
        return self._end - self._base

    @property
    def handle(self) -> int:
        return self._key

    def _checked(self, length: int, offset: int) -> int:
        if self._key < 0 or length < 0:
            raise PyverbsUserError(
                f"The MR buffer isn't allocated or length {length} is invalid"
            )
        if offset < 0:
            raise PyverbsUserError(f"Invalid offset {offset}")
        start = self._base - self._abase + offset
        if start + length > len(self._mem):
            # In C this would read past the buffer; the emulator refuses instead.
            raise PyverbsUserError(f"Access of {length} bytes at {offset} is out of the buffer")
        return start

    def write(
        self, data: bytes | bytearray | memoryview | str, length: int, offset: int = 0
    ) -> None:
        """memcpy ``length`` bytes of ``data`` into the buffer at ``offset`` (as pyverbs)."""
        if isinstance(data, str):
            data = data.encode()
        start = self._checked(length, offset)
        self._view[start : start + length] = memoryview(data)[:length]

    def read(self, length: int, offset: int) -> bytes:
        """The buffer's bytes; lets the emulated fabric make progress first (like DMA would)."""
        fabric = self._machine.fabric
        if fabric._pending:
            fabric.progress()
        start = self._checked(length, offset)
        return bytes(self._view[start : start + length])


DMMR = unsupported("DMMR", __name__)
DmaBufMR = unsupported("DmaBufMR", __name__)
MW = unsupported("MW", __name__)
MWBind = unsupported("MWBind", __name__)
MWBindInfo = unsupported("MWBindInfo", __name__)
