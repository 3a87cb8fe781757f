"""pyverbs.wr: scatter/gather elements and send/receive work requests.

As in pyverbs, a WR copies its SGEs when it is built (``copy_sg_array``): changing an SGE object
afterwards does not change the WR.  The copies are kept as ``(addr, length, lkey)`` tuples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nic_emu.errors import NicError
from nic_emu.fabric import current_fabric
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs.base import PyverbsCM, inc_rkey
from nic_emu.pyverbs.pyverbs_error import PyverbsUserError, from_nic

if TYPE_CHECKING:
    from nic_emu.pyverbs.addr import AH
    from nic_emu.pyverbs.mr import MW, MWBindInfo

SgeTuple = tuple[int, int, int]


class SGE(PyverbsCM):
    """ibv_sge: ``SGE(addr, length, lkey)``."""

    __slots__ = ("addr", "length", "lkey")

    def __init__(self, addr: int, length: int, lkey: int) -> None:
        self.addr = addr
        self.length = length
        self.lkey = lkey

    def read(self, length: int, offset: int) -> bytes:
        """Bytes at ``addr + offset`` of the process's memory (here: the current fabric's)."""
        try:
            return current_fabric().read_address(self.addr + offset, length)
        except NicError as err:
            raise from_nic(err) from None


def _copy_sg(sg: list[SGE] | None, num_sge: int) -> tuple[SgeTuple, ...]:
    if num_sge < 1 or sg is None:
        raise PyverbsUserError("A WR needs at least one SGE")
    if len(sg) < num_sge:
        raise PyverbsUserError(f"num_sge is {num_sge} but only {len(sg)} SGEs were given")
    return tuple((int(s.addr), int(s.length), int(s.lkey)) for s in sg[:num_sge])


class RecvWR(PyverbsCM):
    """ibv_recv_wr."""

    __slots__ = ("_sges", "next_wr", "num_sge", "wr_id")

    def __init__(
        self,
        wr_id: int = 0,
        num_sge: int = 0,
        sg: list[SGE] | None = None,
        next_wr: RecvWR | None = None,
    ) -> None:
        self._sges = _copy_sg(sg, num_sge)
        self.wr_id = wr_id
        self.num_sge = num_sge
        self.next_wr = next_wr


_MW_OPCODES = (e.IBV_WR_LOCAL_INV, e.IBV_WR_BIND_MW, e.IBV_WR_SEND_WITH_INV)


class SendWR(PyverbsCM):
    """ibv_send_wr; ``set_wr_rdma``, ``set_wr_atomic`` and ``set_wr_ud`` fill its unions."""

    __slots__ = (
        "_bind_info",
        "_compare_add",
        "_mw",
        "_remote_addr",
        "_rkey",
        "_sges",
        "_swap",
        "ah",
        "imm_data",
        "next_wr",
        "opcode",
        "remote_qkey",
        "remote_qpn",
        "send_flags",
        "wr_id",
    )

    def __init__(
        self,
        wr_id: int = 0,
        opcode: int = e.IBV_WR_SEND,
        num_sge: int = 0,
        imm_data: int = 0,
        sg: list[SGE] | None = None,
        send_flags: int = e.IBV_SEND_SIGNALED,
        next_wr: SendWR | None = None,
    ) -> None:
        if opcode in _MW_OPCODES and (num_sge < 1 or sg is None):
            self._sges: tuple[SgeTuple, ...] = ()
        else:
            self._sges = _copy_sg(sg, num_sge)
        self.wr_id = wr_id
        self.opcode = int(opcode)
        self.imm_data = imm_data
        self.send_flags = int(send_flags)
        self.next_wr = next_wr
        self._remote_addr = 0
        self._rkey = 0
        self._compare_add = 0
        self._swap = 0
        self.ah: AH | None = None
        self.remote_qpn = 0
        self.remote_qkey = 0
        self._mw: MW | None = None
        self._bind_info: MWBindInfo | None = None

    @property
    def num_sge(self) -> int:
        return len(self._sges)

    @num_sge.setter
    def num_sge(self, val: int) -> None:
        """As pyverbs sets ``ibv_send_wr.num_sge``: fewer than given uses the first ``val``
        (0: a WR without data).  More than were given would make C read past the list."""
        if not 0 <= val <= len(self._sges):
            raise PyverbsUserError(f"num_sge {val} but {len(self._sges)} SGEs were given")
        self._sges = self._sges[:val]

    @property
    def sg_list(self) -> None:
        raise AttributeError("sg_list is write-only in pyverbs")

    @sg_list.setter
    def sg_list(self, val: SGE) -> None:
        self._sges = ((int(val.addr), int(val.length), int(val.lkey)),)

    def set_wr_ud(self, ah: AH, rqpn: int, rqkey: int) -> None:
        self.ah = ah
        self.remote_qpn = rqpn
        self.remote_qkey = rqkey

    def set_wr_rdma(self, rkey: int, addr: int) -> None:
        self._rkey = rkey
        self._remote_addr = addr

    def set_wr_atomic(self, rkey: int, addr: int, compare_add: int, swap: int = 0) -> None:
        self._rkey = rkey
        self._remote_addr = addr
        self._compare_add = compare_add
        self._swap = swap

    def set_bind_wr(self, mw: MW, bind_info: MWBindInfo) -> None:
        """The bind_mw union: the window, and its next rkey (``inc_rkey(mw.rkey)``, as pyverbs)."""
        self._mw = mw
        self._bind_info = bind_info
        self._rkey = inc_rkey(mw.rkey)

    @property
    def rkey(self) -> int:
        """The bind_mw union's rkey (the key the window gets when the bind completes)."""
        return self._rkey

    def _copy_into(self, other: SendWR) -> None:
        for name in SendWR.__slots__:
            setattr(other, name, getattr(self, name))
