"""pyverbs.mr: memory regions over emulated host memory.

Each machine has its own address space (``nic_emu.fabric.Machine.alloc``).  ``MR.buf`` is the
virtual address of the buffer, an ``int`` as in pyverbs, so that ``SGE(mr.buf, n, mr.lkey)`` and
``wr.set_wr_rdma(mr.rkey, mr.buf)`` read the same on both providers.  For direct access to the
bytes, ``nic_emu.provider.mr_view(mr)`` gives a writable memoryview (on either provider).
"""

from __future__ import annotations

import errno
from typing import cast

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
    | e.IBV_ACCESS_MW_BIND
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

    def rereg(self, flags: int, pd: PD | None = None, addr: int = 0, length: int = 0,
              access: int = 0) -> None:
        """ibv_rereg_mr(3): rxe (6.1) has no rereg_user_mr, so the command fails as there."""
        raise PyverbsRDMAError("Failed to rereg MR: IBV_REREG_MR_ERR_CMD", errno.EOPNOTSUPP)

    def read(self, length: int, offset: int) -> bytes:
        """The buffer's bytes; lets the emulated fabric make progress first (like DMA would)."""
        fabric = self._machine.fabric
        if fabric._pending:
            fabric.progress()
        start = self._checked(length, offset)
        return bytes(self._view[start : start + length])



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


class _Window:
    """What a bound window puts in the machine's key table: it reads like an MR to the remote
    side (same buffer, narrower range, the window's own access), so the responder's checks
    (rkey, PD, bounds, access) are the MR checks."""

    __slots__ = ("_abase", "_access", "_base", "_end", "_key", "_mem", "_view", "mw", "pd")

    def __init__(self, mw: MW, mr: MR, addr: int, length: int, access: int, key: int) -> None:
        self.mw = mw
        self.pd = mr.pd
        self._abase, self._mem, self._view = mr._abase, mr._mem, mr._view
        self._base, self._end = addr, addr + length
        self._access = access
        self._key = key


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
        machine = pd.context._machine
        machine.check_alive("allocate MW")
        if mw_type not in (e.IBV_MW_TYPE_1, e.IBV_MW_TYPE_2):
            raise PyverbsRDMAError("Failed to allocate MW", errno.EINVAL)
        self.pd = pd
        self.mw_type = int(mw_type)
        self._machine = machine
        # A key from the same space as MR keys (rxe: one pool index, a variant byte).
        placeholder = object()
        self._rkey = machine.register_mr(placeholder)  # type: ignore[arg-type]
        machine.mrs.pop(self._rkey, None)
        self._bound: _Window | None = None

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
            if cast(object, self._machine.mrs.get(self._bound._key)) is self._bound:
                self._machine.mrs.pop(self._bound._key, None)
            self._bound = None

    def _bind(self, qp_pd: PD, info: MWBindInfo, new_rkey: int) -> int:
        """Bind (rxe_bind_mw / rxe_check_bind_mw); 0 or an IBV_WC status."""
        mr = info.mr
        if self.pd is None or mr._key < 0:
            return int(e.IBV_WC_MW_BIND_ERR)
        if self.mw_type == e.IBV_MW_TYPE_2 and (new_rkey >> 8) != (self._rkey >> 8):
            return int(e.IBV_WC_MW_BIND_ERR)
        if self.mw_type == e.IBV_MW_TYPE_1 and self.pd is not qp_pd:
            return int(e.IBV_WC_MW_BIND_ERR)
        if not mr._access & e.IBV_ACCESS_MW_BIND or mr.pd is not qp_pd:
            return int(e.IBV_WC_MW_BIND_ERR)
        access = info.mw_access_flags
        # A window with remote write or atomic access needs an MR with local write.
        if access & _NEEDS_LOCAL_WRITE and not mr._access & _LOCAL_WRITE:
            return int(e.IBV_WC_MW_BIND_ERR)
        if info.length and (info.addr < mr._base or info.addr + info.length > mr._end):
            return int(e.IBV_WC_MW_BIND_ERR)
        self._unbind()
        self._rkey = new_rkey
        if info.length:  # type 1: a zero-length bind only invalidates
            self._bound = _Window(self, mr, info.addr, info.length, access, new_rkey)
            self._machine.mrs[new_rkey] = self._bound  # type: ignore[assignment]
        return 0


def invalidate_rkey(machine: object, rkey: int) -> bool:
    """Invalidate the type 2 window with ``rkey`` on ``machine`` (LOCAL_INV / SEND_WITH_INV);
    False if no such bound window."""
    mrs = getattr(machine, "mrs", {})
    w = mrs.get(rkey)
    if not isinstance(w, _Window) or w.mw.mw_type != e.IBV_MW_TYPE_2:
        return False
    w.mw._unbind()
    return True
