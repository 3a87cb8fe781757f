"""pyverbs.cq: completion queues and work completions.

A ``CQ`` holds the NIC's ``CompletionQueue`` (``nic_cq``), where the transport queues
``Completion`` records; ``poll`` turns each into a ``WC``, the one place where the two meet.
"""

from __future__ import annotations

import errno
from collections import deque

from nic_emu.constants import MAX_CQE
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject, check_alive
from nic_emu.pyverbs.device import Context
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError
from nic_emu.transport.queues import CompletionQueue


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


class CompChannel(PyverbsCM):
    """ibv_comp_channel: where armed CQs deliver their completion events.

    A CQ armed with ``req_notify()`` queues one event here at its next completion.
    ``get_cq_event(cq)`` waits for the next event, letting the fabric make progress meanwhile;
    the emulator cannot block for another thread, so when the fabric is idle and no event can
    come it raises ``PyverbsRDMAError(EAGAIN)`` instead of hanging.
    """

    __slots__ = ("_closed", "_events", "context")

    def __init__(self, context: Context) -> None:
        check_alive(context.machine, "create a completion channel")
        self.context = context
        self._events: deque[CQ] = deque()
        self._closed = False

    def close(self) -> None:
        self._closed = True

    def get_cq_event(self, expected_cq: CQ) -> None:
        fabric = self.context.machine.fabric
        for _ in range(100_000):
            if self._events:
                break
            if not fabric.step():
                break
        if not self._events:
            raise PyverbsRDMAError("Failed to get CQ event", errno.EAGAIN)
        cq = self._events.popleft()
        if cq is not expected_cq:
            raise PyverbsRDMAError("Received event on an unexpected CQ", errno.EINVAL)
        cq.num_events += 1


def _check_cq_args(context: Context, cqe: float, comp_vector: int) -> int:
    n = int(cqe)
    if n < 1 or n > MAX_CQE or not 0 <= comp_vector < context.num_comp_vectors:
        raise PyverbsRDMAError("Failed to create a CQ", errno.EINVAL)
    return n


class CQ(PyverbsCM):
    """A completion queue of depth ``cqe``; ``poll(n)`` returns ``(npolled, [WC, ...])``."""

    __slots__ = ("_armed", "_closed", "_fabric", "_machine", "comp_channel", "context",
                 "nic_cq", "num_events")

    def __init__(
        self,
        context: Context,
        cqe: int,
        cq_context: object = None,
        channel: CompChannel | None = None,
        comp_vector: int = 0,
    ) -> None:
        machine = context.machine
        check_alive(machine, "create CQ")
        self._setup(context, _check_cq_args(context, cqe, comp_vector), channel)

    def _setup(self, context: Context, cqe: int, channel: CompChannel | None) -> None:
        machine = context.machine
        self.context = context
        self._machine = machine
        self._fabric = machine.fabric
        self.comp_channel = channel
        self._armed = False
        self.num_events = 0
        self.nic_cq = CompletionQueue(machine, cqe)
        if channel is not None:
            self.nic_cq.notify = self._completed
        self._closed = False

    def _completed(self) -> None:
        """A completion arrived: an armed CQ raises its event on its channel."""
        if self._armed and self.comp_channel is not None:
            self._armed = False
            self.comp_channel._events.append(self)

    @property
    def cqe(self) -> int:
        return self.nic_cq.depth

    @property
    def overflowed(self) -> bool:
        """Set when a completion arrived with the queue full (ibv_poll_cq(3) "CQ overrun")."""
        return self.nic_cq.overflowed

    def close(self) -> None:
        self._closed = True

    def poll(self, num_entries: int = 1) -> tuple[int, list[WC]]:
        """Take up to ``num_entries`` completions, oldest first, after letting the fabric run."""
        fabric = self._fabric
        if fabric.pending:
            fabric.progress()
        entries = self.nic_cq.entries
        if not entries:
            return 0, []
        if num_entries == 1:
            return 1, [WC(*entries.popleft())]
        out = [WC(*entries.popleft()) for _ in range(min(num_entries, len(entries)))]
        return len(out), out

    def resize(self, cqe: int) -> None:
        """ibv_resize_cq(3); fails with EINVAL below the number of completions it holds.

        The work posted so far is carried out first (a device would have done it by now)."""
        self._fabric.run_until_idle(max_steps=1000)
        cqe = int(cqe)
        if cqe < len(self.nic_cq.entries) or cqe < 1 or cqe > MAX_CQE:
            raise PyverbsRDMAError("Failed to resize CQ", errno.EINVAL)
        self.nic_cq.depth = cqe

    def req_notify(self, solicited_only: bool = False) -> None:
        """Arm the CQ: its next completion raises one event on its channel."""
        self._armed = True

    def ack_events(self, num_events: int) -> None:
        self.num_events -= num_events


#: The ibv_wc_ex fields rxe can report (IBV_WC_STANDARD_FLAGS); others are EOPNOTSUPP.
_WC_EX_SUPPORTED = int(e.IBV_WC_STANDARD_FLAGS)
_CQ_ATTR_FLAGS_SUPPORTED = int(e.IBV_CREATE_CQ_ATTR_SINGLE_THREADED)
_CQ_INIT_ATTR_MASK_FLAGS = int(e.IBV_CQ_INIT_ATTR_MASK_FLAGS)
_CQ_INIT_ATTR_MASK_PD = int(e.IBV_CQ_INIT_ATTR_MASK_PD)


class CqInitAttrEx(PyverbsObject):
    """ibv_cq_init_attr_ex."""

    __slots__ = ("comp_channel", "comp_mask", "comp_vector", "cq_context", "cqe", "flags",
                 "parent_domain", "wc_flags")

    def __init__(self, cqe: int = 100, channel: CompChannel | None = None, comp_vector: int = 0,
                 wc_flags: int = 0, comp_mask: int = 0, flags: int = 0,
                 parent_domain: object = None) -> None:
        self.cqe = cqe
        self.comp_channel = channel
        self.comp_vector = comp_vector
        self.wc_flags = wc_flags
        self.comp_mask = comp_mask
        self.flags = flags
        self.parent_domain = parent_domain
        self.cq_context = None


class PollCqAttr(PyverbsObject):
    """ibv_poll_cq_attr (``comp_mask`` must be 0)."""

    __slots__ = ("comp_mask",)

    def __init__(self) -> None:
        self.comp_mask = 0


class CQEX(CQ):
    """An extended CQ (ibv_create_cq_ex): completions are read one at a time through
    ``start_poll`` / ``poll_next`` / ``end_poll`` (0, or ENOENT when there is none) and the
    ``read_*`` accessors.

    Internally it is a CQ (QPs feed it the same way); pyverbs' CQEX is a separate class, which
    only matters to code that tests ``isinstance(x, CQ)``."""

    __slots__ = ("_cur", "_polling", "wc_flags")

    def __init__(self, context: Context, init_attr: CqInitAttrEx | None = None) -> None:
        check_alive(context.machine, "create extended CQ")
        attr = init_attr if init_attr is not None else CqInitAttrEx()
        fail = "Failed to create extended CQ"
        if attr.comp_mask & ~(_CQ_INIT_ATTR_MASK_FLAGS | _CQ_INIT_ATTR_MASK_PD):
            raise PyverbsRDMAError(fail, errno.EINVAL)
        if attr.parent_domain is not None or attr.comp_mask & _CQ_INIT_ATTR_MASK_PD:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        if attr.wc_flags & ~_WC_EX_SUPPORTED:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        if attr.comp_mask & _CQ_INIT_ATTR_MASK_FLAGS and attr.flags & ~_CQ_ATTR_FLAGS_SUPPORTED:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        try:
            cqe = _check_cq_args(context, attr.cqe, attr.comp_vector)
        except PyverbsRDMAError:
            raise PyverbsRDMAError(fail, errno.EINVAL) from None
        self._setup(context, cqe, attr.comp_channel)
        self.wc_flags = attr.wc_flags
        self._cur: WC | None = None
        self._polling = False

    def start_poll(self, attr: PollCqAttr | None = None) -> int:
        if self._polling:
            raise PyverbsRDMAError("start_poll twice without end_poll", errno.EINVAL)
        fabric = self._fabric
        if fabric.pending:
            fabric.progress()
        entries = self.nic_cq.entries
        if not entries:
            return errno.ENOENT
        self._polling = True
        self._cur = WC(*entries.popleft())
        return 0

    def poll_next(self) -> int:
        if not self._polling:
            raise PyverbsRDMAError("poll_next outside start_poll/end_poll", errno.EINVAL)
        fabric = self._fabric
        entries = self.nic_cq.entries
        if not entries and fabric.pending:
            fabric.progress()
        if not entries:
            return errno.ENOENT
        self._cur = WC(*entries.popleft())
        return 0

    def end_poll(self) -> None:
        self._polling = False

    def _wc(self) -> WC:
        if self._cur is None:
            raise PyverbsRDMAError("No completion was polled", errno.EINVAL)
        return self._cur

    @property
    def status(self) -> int:
        return self._wc().status

    @property
    def wr_id(self) -> int:
        return self._wc().wr_id

    def read_opcode(self) -> int:
        return self._wc().opcode

    def read_vendor_err(self) -> int:
        return self._wc().vendor_err

    def read_byte_len(self) -> int:
        return self._wc().byte_len

    def read_imm_data(self) -> int:
        return self._wc().imm_data

    def read_qp_num(self) -> int:
        return self._wc().qp_num

    def read_src_qp(self) -> int:
        return self._wc().src_qp

    def read_wc_flags(self) -> int:
        return self._wc().wc_flags

    def read_slid(self) -> int:
        return self._wc().slid

    def read_sl(self) -> int:
        return self._wc().sl

    def read_dlid_path_bits(self) -> int:
        return self._wc().dlid_path_bits
