"""pyverbs.qp: QP capabilities, init and modify attributes, and the queue pair itself.

The QP object is also the emulated NIC's queue pair: it owns its send and receive queues and its
connection state.  What the NIC does with the queues is in ``nic_emu.transport``; which state
changes are legal is the table in ``nic_emu.qp_states``.
"""

from __future__ import annotations

import errno
from collections import deque
from typing import TYPE_CHECKING

from nic_emu import qp_states, transport
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.addr import AHAttr
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject
from nic_emu.pyverbs.cq import CQ
from nic_emu.pyverbs.device import MAX_INLINE_DATA, MAX_QP_RD_ATOM, MAX_QP_WR, MAX_SGE
from nic_emu.pyverbs.pd import PD
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError
from nic_emu.pyverbs.wr import RecvWR, SendWR

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric, Machine


class QPCap(PyverbsObject):
    """ibv_qp_cap."""

    __slots__ = ("max_inline_data", "max_recv_sge", "max_recv_wr", "max_send_sge", "max_send_wr")

    def __init__(
        self,
        max_send_wr: int = 1,
        max_recv_wr: int = 10,
        max_send_sge: int = 1,
        max_recv_sge: int = 1,
        max_inline_data: int = 0,
    ) -> None:
        self.max_send_wr = max_send_wr
        self.max_recv_wr = max_recv_wr
        self.max_send_sge = max_send_sge
        self.max_recv_sge = max_recv_sge
        self.max_inline_data = max_inline_data

    def copy(self) -> QPCap:
        return QPCap(
            self.max_send_wr,
            self.max_recv_wr,
            self.max_send_sge,
            self.max_recv_sge,
            self.max_inline_data,
        )


class QPInitAttr(PyverbsObject):
    """ibv_qp_init_attr.  Note pyverbs' defaults: UD, and ``sq_sig_all=1``."""

    __slots__ = (
        "max_inline_data",
        "max_recv_sge",
        "max_recv_wr",
        "max_send_sge",
        "max_send_wr",
        "qp_context",
        "qp_type",
        "recv_cq",
        "send_cq",
        "sq_sig_all",
        "srq",
    )

    def __init__(
        self,
        qp_type: int = e.IBV_QPT_UD,
        qp_context: object = None,
        scq: CQ | None = None,
        rcq: CQ | None = None,
        srq: object = None,
        cap: QPCap | None = None,
        sq_sig_all: int = 1,
    ) -> None:
        for cq in (scq, rcq):
            if cq is not None and not isinstance(cq, CQ):
                raise PyverbsUserError(f"Expected CQ/CQEX, got {type(cq)}")
        # pyverbs leaves the caps zeroed when no QPCap is given.
        self.cap = cap if cap is not None else QPCap(0, 0, 0, 0, 0)
        self.qp_type = qp_type
        self.qp_context = qp_context
        self.send_cq = scq
        self.recv_cq = rcq
        self.srq = srq
        self.sq_sig_all = sq_sig_all

    @property
    def cap(self) -> QPCap:
        return QPCap(
            self.max_send_wr,
            self.max_recv_wr,
            self.max_send_sge,
            self.max_recv_sge,
            self.max_inline_data,
        )

    @cap.setter
    def cap(self, val: QPCap) -> None:
        self.max_send_wr = val.max_send_wr
        self.max_recv_wr = val.max_recv_wr
        self.max_send_sge = val.max_send_sge
        self.max_recv_sge = val.max_recv_sge
        self.max_inline_data = val.max_inline_data


class QPAttr(PyverbsObject):
    """ibv_qp_attr: the attributes a modify sets (chosen by the mask) and a query returns."""

    __slots__ = (
        "_ah_attr",
        "_alt_ah_attr",
        "_cap",
        "alt_pkey_index",
        "alt_port_num",
        "alt_timeout",
        "cur_qp_state",
        "dest_qp_num",
        "en_sqd_async_notify",
        "max_dest_rd_atomic",
        "max_rd_atomic",
        "min_rnr_timer",
        "path_mig_state",
        "path_mtu",
        "pkey_index",
        "port_num",
        "qkey",
        "qp_access_flags",
        "qp_state",
        "rate_limit",
        "retry_cnt",
        "rnr_retry",
        "rq_psn",
        "sq_draining",
        "sq_psn",
        "timeout",
    )

    def __init__(
        self,
        qp_state: int = e.IBV_QPS_INIT,
        cur_qp_state: int = e.IBV_QPS_RESET,
        port_num: int = 1,
        path_mtu: int = e.IBV_MTU_1024,
    ) -> None:
        self.qp_state = qp_state
        self.cur_qp_state = cur_qp_state
        self.port_num = port_num
        self.path_mtu = path_mtu
        # Everything else is zero, as in the C struct pyverbs allocates.
        self.path_mig_state = 0
        self.qkey = 0
        self.rq_psn = 0
        self.sq_psn = 0
        self.dest_qp_num = 0
        self.qp_access_flags = 0
        self.pkey_index = 0
        self.alt_pkey_index = 0
        self.en_sqd_async_notify = 0
        self.sq_draining = 0
        self.max_rd_atomic = 0
        self.max_dest_rd_atomic = 0
        self.min_rnr_timer = 0
        self.timeout = 0
        self.retry_cnt = 0
        self.rnr_retry = 0
        self.alt_port_num = 0
        self.alt_timeout = 0
        self.rate_limit = 0
        self._cap = QPCap(0, 0, 0, 0, 0)
        self._ah_attr = AHAttr(port_num=0)
        self._alt_ah_attr = AHAttr(port_num=0)

    @property
    def cap(self) -> QPCap:
        return self._cap.copy()

    @cap.setter
    def cap(self, val: QPCap) -> None:
        self._cap = val.copy()

    @property
    def ah_attr(self) -> AHAttr:
        return self._ah_attr.copy()

    @ah_attr.setter
    def ah_attr(self, val: AHAttr) -> None:
        self._ah_attr = val.copy()

    @property
    def alt_ah_attr(self) -> AHAttr:
        return self._alt_ah_attr.copy()

    @alt_ah_attr.setter
    def alt_ah_attr(self, val: AHAttr) -> None:
        self._alt_ah_attr = val.copy()

    def copy(self) -> QPAttr:
        c = QPAttr()
        for name in QPAttr.__slots__:
            setattr(c, name, getattr(self, name))
        c._ah_attr = self._ah_attr.copy()
        return c


#: Attribute masks pyverbs' to_init/to_rtr/to_rts send, per QP type (pyverbs' _get_comp_mask).
_STEP_MASKS: dict[int, dict[str, int]] = {
    e.IBV_QPT_RC: {
        "INIT": e.IBV_QP_PKEY_INDEX | e.IBV_QP_PORT | e.IBV_QP_ACCESS_FLAGS,
        "RTR": e.IBV_QP_AV
        | e.IBV_QP_PATH_MTU
        | e.IBV_QP_DEST_QPN
        | e.IBV_QP_RQ_PSN
        | e.IBV_QP_MAX_DEST_RD_ATOMIC
        | e.IBV_QP_MIN_RNR_TIMER,
        "RTS": e.IBV_QP_TIMEOUT
        | e.IBV_QP_RETRY_CNT
        | e.IBV_QP_RNR_RETRY
        | e.IBV_QP_SQ_PSN
        | e.IBV_QP_MAX_QP_RD_ATOMIC,
    },
    e.IBV_QPT_UC: {
        "INIT": e.IBV_QP_PKEY_INDEX | e.IBV_QP_PORT | e.IBV_QP_ACCESS_FLAGS,
        "RTR": e.IBV_QP_AV | e.IBV_QP_PATH_MTU | e.IBV_QP_DEST_QPN | e.IBV_QP_RQ_PSN,
        "RTS": e.IBV_QP_SQ_PSN,
    },
    e.IBV_QPT_UD: {
        "INIT": e.IBV_QP_PKEY_INDEX | e.IBV_QP_PORT | e.IBV_QP_QKEY,
        "RTR": 0,
        "RTS": e.IBV_QP_SQ_PSN,
    },
}

_SUPPORTED_TYPES = (e.IBV_QPT_RC, e.IBV_QPT_UC, e.IBV_QPT_UD)


class QP(PyverbsCM):
    """A queue pair: ``QP(pd, QPInitAttr(...), qp_attr=None)``."""

    __slots__ = (
        "_access",
        "_attr",
        "_c_bytes_rx",
        "_c_bytes_tx",
        "_c_completions",
        "_c_errors",
        "_c_recv_wr",
        "_c_send_wr",
        "_fabric",
        "_machine",
        "_max_dest_rd_atomic",
        "_max_inline",
        "_max_rd_atomic",
        "_max_recv_sge",
        "_max_recv_wr",
        "_max_send_sge",
        "_max_send_wr",
        "_mtu",
        "_peer",
        "_qkey",
        "_retry_at",
        "_retry_cnt",
        "_rnr_retry",
        "_rnr_tries",
        "_rq",
        "_rq_psn",
        "_scheduled",
        "_sq",
        "_sq_psn",
        "_tries",
        "context",
        "init_attr",
        "pd",
        "qp_num",
        "qp_state",
        "qp_type",
        "rcq",
        "scq",
        "sq_sig_all",
    )

    def __init__(
        self, creator: PD, init_attr: QPInitAttr, qp_attr: QPAttr | None = None
    ) -> None:
        if not isinstance(creator, PD) or not isinstance(init_attr, QPInitAttr):
            # QPInitAttrEx / ibv_create_qp_ex is not modelled.
            raise PyverbsUserError("nic_emu creates QPs as QP(PD, QPInitAttr)")
        machine = creator.context._machine
        machine.check_alive("create QP")
        fail = "Failed to create QP"
        if init_attr.qp_type not in _SUPPORTED_TYPES:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        if init_attr.srq is not None:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        scq, rcq = init_attr.send_cq, init_attr.recv_cq
        if scq is None or rcq is None:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        if scq._machine is not machine or rcq._machine is not machine:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        cap = init_attr.cap
        if (
            not 0 <= cap.max_send_wr <= MAX_QP_WR
            or not 0 <= cap.max_recv_wr <= MAX_QP_WR
            or not 0 <= cap.max_send_sge <= MAX_SGE
            or not 0 <= cap.max_recv_sge <= MAX_SGE
            or not 0 <= cap.max_inline_data <= MAX_INLINE_DATA
        ):
            raise PyverbsRDMAError(fail, errno.EINVAL)
        self._machine: Machine = machine
        self._fabric: Fabric = machine.fabric
        self.context = creator.context
        self.pd = creator
        self.scq = scq
        self.rcq = rcq
        self.qp_type = int(init_attr.qp_type)
        self.sq_sig_all = 1 if init_attr.sq_sig_all else 0
        self.init_attr = init_attr
        self._max_send_wr = cap.max_send_wr
        self._max_recv_wr = cap.max_recv_wr
        self._max_send_sge = cap.max_send_sge
        self._max_recv_sge = cap.max_recv_sge
        self._max_inline = cap.max_inline_data
        self._sq: deque[transport.Wqe] = deque()
        self._rq: deque[transport.Rqe] = deque()
        self._scheduled = False
        self._c_send_wr = self._c_recv_wr = self._c_bytes_tx = self._c_bytes_rx = 0
        self._c_completions = self._c_errors = 0
        self._reset_state()
        self.qp_num = machine.add_qp(self)
        if qp_attr is not None:
            if self.qp_type == e.IBV_QPT_UD:
                self.to_rts(qp_attr)
            else:
                self.to_init(qp_attr)

    def _reset_state(self) -> None:
        self.qp_state: int = e.IBV_QPS_RESET
        self._attr = QPAttr(qp_state=e.IBV_QPS_RESET, port_num=1)
        self._access = 0
        self._qkey = 0
        self._mtu = 1024
        self._peer: Machine | None = None
        self._sq_psn = 0
        self._rq_psn = 0
        self._max_rd_atomic = 0
        self._max_dest_rd_atomic = 0
        self._retry_cnt = 0
        self._rnr_retry = 0
        self._tries = 0
        self._rnr_tries = 0
        self._retry_at = 0
        self._sq.clear()
        self._rq.clear()

    def close(self) -> None:
        if self.qp_num >= 0:
            self._machine.remove_qp(self)
            self._sq.clear()
            self._rq.clear()
            self.qp_num = -1

    # -- state changes ---------------------------------------------------------------------

    def _step_mask(self, dst: str) -> int:
        return _STEP_MASKS[self.qp_type][dst] | e.IBV_QP_STATE

    def to_init(self, qp_attr: QPAttr) -> None:
        qp_attr.qp_state = e.IBV_QPS_INIT
        err = transport.modify_qp(self, qp_attr, self._step_mask("INIT"))
        if err:
            raise PyverbsRDMAError("Failed to modify QP state to init", err)

    def to_rtr(self, qp_attr: QPAttr) -> None:
        if self.qp_state != e.IBV_QPS_INIT:  # assume RESET, as pyverbs does
            self.to_init(qp_attr)
        qp_attr.qp_state = e.IBV_QPS_RTR
        err = transport.modify_qp(self, qp_attr, self._step_mask("RTR"))
        if err:
            raise PyverbsRDMAError("Failed to modify QP state to RTR", err)

    def to_rts(self, qp_attr: QPAttr) -> None:
        if self.qp_state != e.IBV_QPS_RTR:
            self.to_rtr(qp_attr)
        qp_attr.qp_state = e.IBV_QPS_RTS
        err = transport.modify_qp(self, qp_attr, self._step_mask("RTS"))
        if err:
            raise PyverbsRDMAError("Failed to modify QP state to RTS", err)

    def modify(self, qp_attr: QPAttr, comp_mask: int) -> None:
        err = transport.modify_qp(self, qp_attr, int(comp_mask))
        if err:
            raise PyverbsRDMAError("Failed to modify QP", err)

    def query(self, attr_mask: int) -> tuple[QPAttr, QPInitAttr]:
        self._machine.check_alive("query QP")
        attr = self._attr.copy()
        attr.qp_state = attr.cur_qp_state = self.qp_state
        attr.sq_psn = self._sq_psn
        attr.rq_psn = self._rq_psn
        attr.cap = self.init_attr.cap
        init = QPInitAttr(
            qp_type=self.qp_type,
            qp_context=self.init_attr.qp_context,
            scq=self.scq,
            rcq=self.rcq,
            cap=self.init_attr.cap,
            sq_sig_all=self.sq_sig_all,
        )
        return attr, init

    # -- posting ---------------------------------------------------------------------------

    def post_send(self, wr: SendWR, bad_wr: SendWR | None = None) -> None:
        """ibv_post_send(3): WRs are taken in order; the first one refused stops the list."""
        # Fast path: one plain WRITE/SEND/READ on a ready RC/UC QP with room in the queue; the
        # checks are those of transport.post_send_one, in the same order.
        if (
            self.qp_state == 3
            and wr.next_wr is None
            and wr.opcode <= 4
            and not wr.send_flags & 8
            and self.qp_type != 4
            and len(wr._sges) <= self._max_send_sge
            and len(self._sq) < self._max_send_wr
            and self._machine.alive
        ):
            sges = wr._sges
            self._sq.append((
                wr.wr_id, wr.opcode, bool(self.sq_sig_all or wr.send_flags & 2), sges,
                sges[0][1] if len(sges) == 1 else sum(s[1] for s in sges), wr._remote_addr,
                wr._rkey, wr.imm_data, 0, 0, None, None,
            ))
            self._c_send_wr += 1
            if not self._scheduled:
                self._fabric._schedule(self)
            return
        if not self._machine.alive:
            raise PyverbsRDMAError("Failed to post send", errno.EIO)
        cur: SendWR | None = wr
        while cur is not None:
            err = transport.post_send_one(self, cur)
            if err:
                if bad_wr is not None:
                    cur._copy_into(bad_wr)
                raise PyverbsRDMAError("Failed to post send", err)
            cur = cur.next_wr

    def post_recv(self, wr: RecvWR, bad_wr: RecvWR | None = None) -> None:
        """ibv_post_recv(3)."""
        if not self._machine.alive:
            raise PyverbsRDMAError("Failed to post recv", errno.EIO)
        cur: RecvWR | None = wr
        while cur is not None:
            err = transport.post_recv_one(self, cur)
            if err:
                if bad_wr is not None:
                    bad_wr._sges, bad_wr.wr_id, bad_wr.num_sge = cur._sges, cur.wr_id, cur.num_sge
                raise PyverbsRDMAError("Failed to post recv", err)
            cur = cur.next_wr

    def __str__(self) -> str:
        return f"QP {self.qp_num} type {self.qp_type} state {qp_states.state_name(self.qp_state)}"


__all__ = ["MAX_QP_RD_ATOM", "QP", "QPAttr", "QPCap", "QPInitAttr"]

QPEx = unsupported("QPEx", __name__)
QPInitAttrEx = unsupported("QPInitAttrEx", __name__)
