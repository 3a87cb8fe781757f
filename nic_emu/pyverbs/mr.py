"""pyverbs.mr: memory regions over emulated host memory.

Each machine has its own address space (``nic_emu.fabric.Machine.alloc``).  ``MR.buf`` is the
virtual address of the buffer, an ``int`` as in pyverbs, so that ``SGE(mr.buf, n, mr.lkey)`` and
``wr.set_wr_rdma(mr.rkey, mr.buf)`` read the same on both providers.  For direct access to the
bytes, ``nic_emu.provider.mr_view(mr)`` gives a writable memoryview (on either provider).

An ``MR`` holds the NIC's ``Region`` (``nic_mr``), which the machine's key table names; a bound
memory window is a ``Region`` of its own over the MR's memory.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from nic_emu.constants import MAX_MR_SIZE
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.base import PyverbsCM, check_alive
from nic_emu.pyverbs.pd import PD
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError
from nic_emu.transport.queues import Region

if TYPE_CHECKING:
    from nic_emu.fabric import Machine

_LOCAL_WRITE = e.IBV_ACCESS_LOCAL_WRITE
_NEEDS_LOCAL_WRITE = e.IBV_ACCESS_REMOTE_WRITE | e.IBV_ACCESS_REMOTE_ATOMIC
_SUPPORTED = (
    e.IBV_ACCESS_LOCAL_WRITE
    | e.IBV_ACCESS_REMOTE_WRITE
    | e.IBV_ACCESS_REMOTE_READ
    | e.IBV_ACCESS_REMOTE_ATOMIC
    | e.IBV_ACCESS_RELAXED_ORDERING
    | e.IBV_ACCESS_MW_BIND
)


class MR(PyverbsCM):
    """A registered memory region; ``MR(pd, length, access)`` allocates and registers."""

    __slots__ = ("_machine", "nic_mr", "pd")

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
        machine = creator.context.machine
        check_alive(machine, "register MR")
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
            abase, mem = found
            base = int(address)
        else:
            abase, mem = machine.alloc(length)
            base = abase
        self._machine: Machine = machine
        self.pd = creator
        self.nic_mr = Region(creator, abase, mem, base, base + length, access)
        machine.register(self.nic_mr)

    def close(self) -> None:
        if self.nic_mr.key >= 0:
            self._machine.deregister(self.nic_mr)
            self.nic_mr.key = -1

    @property
    def buf(self) -> int:
        return self.nic_mr.base

    @property
    def lkey(self) -> int:
        return self.nic_mr.key

    @property
    def rkey(self) -> int:
        return self.nic_mr.key

    @property
    def length(self) -> int:
        return self.nic_mr.end - self.nic_mr.base

    @property
    def handle(self) -> int:
        return self.nic_mr.key

    def _checked(self, length: int, offset: int) -> int:
        r = self.nic_mr
        if r.key < 0 or length < 0:
            raise PyverbsUserError(
                f"The MR buffer isn't allocated or length {length} is invalid"
            )
        if offset < 0:
            raise PyverbsUserError(f"Invalid offset {offset}")
        start = r.base - r.abase + offset
        if start + length > len(r.mem):
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
        self.nic_mr.view[start : start + length] = memoryview(data)[:length]

    def rereg(self, flags: int, pd: PD | None = None, addr: int = 0, length: int = 0,
              access: int = 0) -> None:
        """ibv_rereg_mr(3): rxe (6.1) has no rereg_user_mr, so the command fails as there."""
        raise PyverbsRDMAError("Failed to rereg MR: IBV_REREG_MR_ERR_CMD", errno.EOPNOTSUPP)

    def read(self, length: int, offset: int) -> bytes:
        """The buffer's bytes; lets the emulated fabric make progress first (like DMA would)."""
        fabric = self._machine.fabric
        if fabric.pending:
            fabric.progress()
        start = self._checked(length, offset)
        return bytes(self.nic_mr.view[start : start + length])



DMMR = unsupported("DMMR", __name__)
DmaBufMR = unsupported("DmaBufMR", __name__)


class MWBindInfo(PyverbsCM):
    """ibv_mw_bind_info: the MR range a window opens, and the window's access rights."""

    __slots__ = ("addr", "length", "mr", "mw_access_flags")

    def __init__(self, mr: MR, addr: int, length: int, mw_access_flags: int) -> None:
        self.mr = mr
        self.addr = int(addr)
        self.length = int(length)
        self.mw_access_flags = int(mw_access_flags)


class MWBind(PyverbsCM):
    """ibv_mw_bind: a type 1 bind request for ``QP.bind_mw``."""

    __slots__ = ("bind_info", "send_flags", "wr_id")

    def __init__(self, info: MWBindInfo, send_flags: int, wr_id: int = 0) -> None:
        self.bind_info = info
        self.send_flags = int(send_flags)
        self.wr_id = wr_id


class MW(PyverbsCM):
    """A memory window (ibv_alloc_mw): type 1 (bound with ``QP.bind_mw``) or type 2 (bound with
    an IBV_WR_BIND_MW work request, invalidated with LOCAL_INV or SEND_WITH_INV).

    Model: binding, local invalidation and remote invalidation happen when the work request
    is posted (rxe does them when it reaches the head of the send queue, which is the same when
    the queue is empty, as in every use we know).  A window bound to a QP (type 2) is not
    restricted to that QP's requests here.
    """

    __slots__ = ("_bound", "_machine", "_rkey", "mw_type", "pd")

    def __init__(self, pd: PD, mw_type: int) -> None:
        machine = pd.context.machine
        check_alive(machine, "allocate MW")
        if mw_type not in (e.IBV_MW_TYPE_1, e.IBV_MW_TYPE_2):
            raise PyverbsRDMAError("Failed to allocate MW", errno.EINVAL)
        self.pd = pd
        self.mw_type = int(mw_type)
        self._machine = machine
        # A key from the same space as MR keys (rxe: one pool index, a variant byte).
        self._rkey = machine.new_key()
        #: What a bound window puts in the machine's key table: a ``Region`` that reads like an
        #: MR to the remote side (same buffer, narrower range, the window's own access), so the
        #: responder's checks (rkey, PD, bounds, access) are the MR checks.
        self._bound: Region | None = None

    @property
    def rkey(self) -> int:
        return self._rkey

    @property
    def handle(self) -> int:
        return self._rkey >> 8

    def close(self) -> None:
        """ibv_dealloc_mw(3): the window's rkey stops working."""
        self._unbind()
        self.pd = None  # type: ignore[assignment]

    def _unbind(self) -> None:
        if self._bound is not None:
            self._machine.deregister(self._bound)
            self._bound = None

    def _bind(self, qp_pd: PD, info: MWBindInfo, new_rkey: int) -> int:
        """Bind (rxe_bind_mw / rxe_check_bind_mw); 0 or an IBV_WC status."""
        mr = info.mr.nic_mr
        if self.pd is None or mr.key < 0:
            return int(e.IBV_WC_MW_BIND_ERR)
        if self.mw_type == e.IBV_MW_TYPE_2 and (new_rkey >> 8) != (self._rkey >> 8):
            return int(e.IBV_WC_MW_BIND_ERR)
        if self.mw_type == e.IBV_MW_TYPE_1 and self.pd is not qp_pd:
            return int(e.IBV_WC_MW_BIND_ERR)
        if not mr.access & e.IBV_ACCESS_MW_BIND or mr.pd is not qp_pd:
            return int(e.IBV_WC_MW_BIND_ERR)
        access = info.mw_access_flags
        # A window with remote write or atomic access needs an MR with local write.
        if access & _NEEDS_LOCAL_WRITE and not mr.access & _LOCAL_WRITE:
            return int(e.IBV_WC_MW_BIND_ERR)
        if info.length and (info.addr < mr.base or info.addr + info.length > mr.end):
            return int(e.IBV_WC_MW_BIND_ERR)
        self._unbind()
        self._rkey = new_rkey
        if info.length:  # type 1: a zero-length bind only invalidates
            self._bound = Region(mr.pd, mr.abase, mr.mem, info.addr, info.addr + info.length,
                                 access, window=self)
            self._machine.register(self._bound, new_rkey)
        return 0


def invalidate_rkey(machine: Machine, rkey: int) -> bool:
    """Invalidate the type 2 window with ``rkey`` on ``machine`` (LOCAL_INV / SEND_WITH_INV);
    False if no such bound window."""
    w = machine.mrs.get(rkey)
    mw = None if w is None else w.window
    if not isinstance(mw, MW) or mw.mw_type != e.IBV_MW_TYPE_2:
        return False
    mw._unbind()
    return True
