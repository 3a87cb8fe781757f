"""pyverbs.cq: completion queues and work completions."""

from __future__ import annotations

import errno
from collections import deque

from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject
from nic_emu.pyverbs.device import MAX_CQE, Context
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError


class WC(PyverbsObject):
    """ibv_wc: one work completion (fields as pyverbs names them)."""

    __slots__ = (
        "byte_len",
        "dlid_path_bits",
        "imm_data",
        "opcode",
        "pkey_index",
        "qp_num",
        "sl",
        "slid",
        "src_qp",
        "status",
        "vendor_err",
        "wc_flags",
        "wr_id",
    )

    def __init__(
        self,
        wr_id: int = 0,
        status: int = 0,
        opcode: int = 0,
        vendor_err: int = 0,
        byte_len: int = 0,
        qp_num: int = 0,
        src_qp: int = 0,
        imm_data: int = 0,
        wc_flags: int = 0,
        pkey_index: int = 0,
        slid: int = 0,
        sl: int = 0,
        dlid_path_bits: int = 0,
    ) -> None:
        self.wr_id = wr_id
        self.status = status
        self.opcode = opcode
        self.vendor_err = vendor_err
        self.byte_len = byte_len
        self.qp_num = qp_num
        self.src_qp = src_qp
        self.imm_data = imm_data
        self.wc_flags = wc_flags
        self.pkey_index = pkey_index
        self.slid = slid
        self.sl = sl
        self.dlid_path_bits = dlid_path_bits

    def __repr__(self) -> str:
        return (
            f"WC(wr_id={self.wr_id}, status={self.status}, opcode={self.opcode}, "
            f"byte_len={self.byte_len}, qp_num={self.qp_num}, src_qp={self.src_qp}, "
            f"imm_data={self.imm_data}, wc_flags={self.wc_flags})"
        )


class CQ(PyverbsCM):
    """A completion queue of depth ``cqe``; ``poll(n)`` returns ``(npolled, [WC, ...])``."""

    __slots__ = ("_closed", "_fabric", "_machine", "_wcs", "context", "cqe", "overflowed")

    def __init__(
        self,
        context: Context,
        cqe: int,
        cq_context: object = None,
        channel: object = None,
        comp_vector: int = 0,
    ) -> None:
        machine = context._machine
        machine.check_alive("create CQ")
        if channel is not None:
            raise PyverbsRDMAError("Failed to create a CQ", errno.EOPNOTSUPP)
        if cqe < 1 or cqe > MAX_CQE or comp_vector != 0:
            raise PyverbsRDMAError("Failed to create a CQ", errno.EINVAL)
        self.context = context
        self.cqe = cqe
        self._machine = machine
        self._fabric = machine.fabric
        self._wcs: deque[WC] = deque()
        self._closed = False
        #: Set when a completion arrived with the queue full (ibv_poll_cq(3) "CQ overrun").
        self.overflowed = False

    def close(self) -> None:
        self._closed = True

    def poll(self, num_entries: int = 1) -> tuple[int, list[WC]]:
        """Take up to ``num_entries`` completions, oldest first, after letting the fabric run."""
        fabric = self._fabric
        if fabric._pending:
            fabric.progress()
        wcs = self._wcs
        if not wcs:
            return 0, []
        if num_entries == 1:
            return 1, [wcs.popleft()]
        out = [wcs.popleft() for _ in range(min(num_entries, len(wcs)))]
        return len(out), out

    def resize(self, cqe: int) -> None:
        if cqe < len(self._wcs) or cqe < 1 or cqe > MAX_CQE:
            raise PyverbsRDMAError("Failed to resize CQ", errno.EINVAL)
        self.cqe = cqe

    def req_notify(self, solicited_only: bool = False) -> None:
        """Completion channels are not modelled; poll instead."""


CQEX = unsupported("CQEX", __name__)
CompChannel = unsupported("CompChannel", __name__)
CqInitAttrEx = unsupported("CqInitAttrEx", __name__)
PollCqAttr = unsupported("PollCqAttr", __name__)
