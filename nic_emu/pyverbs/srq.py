"""pyverbs.srq: shared receive queues, as rxe (Linux 6.1) has them.

``SRQ(pd, SrqInitAttr(SrqAttr(max_wr, max_sge, srq_limit)))`` holds the NIC's
``SharedReceiveQueue`` (``nic_srq``); a QP created with ``QPInitAttr(srq=...)`` takes its
receives from it, in posting order whichever QP consumes.  What rxe does, measured on rxe0 with
rdma-core 44 and read in rxe_srq.c / rxe_resp.c:

* creation: ``max_wr`` 0 or above ``max_srq_wr``, ``max_sge`` above ``max_srq_sge`` (27): EINVAL;
  ``max_sge`` 0 becomes 1 and is written back into the init attributes (``max_wr`` is not); the
  queue holds ``roundup_pow_of_two(max_wr + 1) - 1`` WRs, which ``query`` reports; the limit is
  not checked at creation;
* ``post_recv``: more SGEs than ``max_sge``: EINVAL; queue full: ENOMEM; ``ibv_post_recv`` on a
  QP that has an SRQ: EINVAL;
* ``modify`` with IBV_SRQ_LIMIT arms the limit (above the queue's size: EINVAL); with
  IBV_SRQ_MAX_WR resizes (0, above the maximum, below the armed limit or the WRs queued: EINVAL);
* the limit event: when a responder takes a WQE and fewer than ``srq_limit`` remain, the limit is
  disarmed (``query`` then reports 0) and IBV_EVENT_SRQ_LIMIT_REACHED is queued for
  ``Context.get_async_event`` (rxe_resp.c get_srq_wqe);
* a QP with an SRQ that goes to ERR flushes nothing of the SRQ.

XRC SRQs (``SrqInitAttrEx``, ``SRQ(ctx, ...)``) are not modelled, as rxe has no XRC.
"""

from __future__ import annotations

import errno

from nic_emu.constants import MAX_SRQ_SGE, MAX_SRQ_WR
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject, check_alive
from nic_emu.pyverbs.pd import PD
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError
from nic_emu.pyverbs.wr import RecvWR
from nic_emu.transport.queues import SharedReceiveQueue, queue_slots


class SrqAttr(PyverbsObject):
    """ibv_srq_attr."""

    __slots__ = ("max_sge", "max_wr", "srq_limit")

    def __init__(self, max_wr: int = 100, max_sge: int = 1, srq_limit: int = 0) -> None:
        self.max_wr = max_wr
        self.max_sge = max_sge
        self.srq_limit = srq_limit


class SrqInitAttr(PyverbsObject):
    """ibv_srq_init_attr: its ``attr`` fields, read and written directly."""

    __slots__ = ("max_sge", "max_wr", "srq_limit")

    def __init__(self, attr: SrqAttr | None = None) -> None:
        a = attr if attr is not None else SrqAttr(0, 0, 0)
        self.max_wr = a.max_wr
        self.max_sge = a.max_sge
        self.srq_limit = a.srq_limit


SrqInitAttrEx = unsupported("SrqInitAttrEx", __name__)
OpsWr = unsupported("OpsWr", __name__)


class SRQ(PyverbsCM):
    """ibv_create_srq(3) on a PD."""

    __slots__ = ("nic_srq", "pd", "srq_context")

    def __init__(self, creator: object, attr: object, srq_context: object = None) -> None:
        if not isinstance(creator, PD):
            # ibv_create_srq_ex (XRC, tag matching): not on rxe.
            raise PyverbsRDMAError("Failed to create SRQ", errno.EOPNOTSUPP)
        if not isinstance(attr, SrqInitAttr):
            raise PyverbsUserError("SRQ(PD, SrqInitAttr)")
        machine = creator.context.machine
        check_alive(machine, "create SRQ")
        # rxe_srq.c rxe_srq_chk_init
        if not 0 < attr.max_wr <= MAX_SRQ_WR or not 0 <= attr.max_sge <= MAX_SRQ_SGE:
            raise PyverbsRDMAError("Failed to create SRQ", errno.EINVAL)
        if attr.max_sge == 0:
            attr.max_sge = 1  # RXE_MIN_SRQ_SGE, returned to the caller
        self.pd = creator
        self.srq_context = srq_context
        self.nic_srq = SharedReceiveQueue(machine, queue_slots(attr.max_wr), attr.max_sge,
                                          attr.srq_limit)
        self.nic_srq.srq_num = machine.next_handle()

    def close(self) -> None:
        self.nic_srq.clear()

    def get_srq_num(self) -> int:
        return self.nic_srq.srq_num

    def query(self) -> SrqAttr:
        check_alive(self.nic_srq.machine, "query SRQ")
        s = self.nic_srq
        return SrqAttr(s.max_wr, s.max_sge, s.limit)

    def modify(self, attr: SrqAttr, comp_mask: int) -> None:
        """ibv_modify_srq(3): IBV_SRQ_MAX_WR resizes, IBV_SRQ_LIMIT arms the limit."""
        s = self.nic_srq
        check_alive(s.machine, "modify SRQ")
        max_wr = s.max_wr
        if comp_mask & e.IBV_SRQ_MAX_WR:
            # rxe_srq_chk_attr; rxe_queue_resize refuses a queue smaller than its contents
            want = attr.max_wr
            if not 0 < want <= MAX_SRQ_WR or (s.limit and want < s.limit):
                raise PyverbsRDMAError("Failed to modify SRQ", errno.EINVAL)
            max_wr = queue_slots(want)
            if max_wr < len(s):
                raise PyverbsRDMAError("Failed to modify SRQ", errno.EINVAL)
        if comp_mask & e.IBV_SRQ_LIMIT and not 0 <= attr.srq_limit <= max_wr:
            raise PyverbsRDMAError("Failed to modify SRQ", errno.EINVAL)
        s.max_wr = max_wr
        if comp_mask & e.IBV_SRQ_LIMIT:
            s.limit = attr.srq_limit

    def post_recv(self, wr: RecvWR, bad_wr: RecvWR | None = None) -> None:
        """ibv_post_srq_recv(3): WRs in order; the first one refused stops the list."""
        s = self.nic_srq
        if not s.machine.alive:
            raise PyverbsRDMAError("Failed to post SRQ recv", errno.EIO)
        cur: RecvWR | None = wr
        while cur is not None:
            sges = cur._sges
            err = 0
            if len(s) >= s.max_wr:  # rxe_post_one_recv: full first, then the SGE count
                err = errno.ENOMEM
            elif len(sges) > s.max_sge:
                err = errno.EINVAL
            if err:
                if bad_wr is not None:
                    bad_wr._sges, bad_wr.wr_id, bad_wr.num_sge = sges, cur.wr_id, cur.num_sge
                raise PyverbsRDMAError("Failed to post SRQ recv", err)
            s.append((cur.wr_id, sges, sum(x[1] for x in sges)))
            cur = cur.next_wr
