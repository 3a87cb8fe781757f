"""pyverbs.qp: QP capabilities, init and modify attributes, and the queue pair itself.

A ``QP`` holds the emulated NIC's queue pair (``nic_qp``, a ``nic_emu.transport.queues.QueuePair``)
and translates: verbs calls into the transport's functions (``post_send_one``, ``post_recv_one``,
``nic_emu.qp_states.modify_qp``), their errnos into ``PyverbsRDMAError``.  What the NIC does with
the queues is in ``nic_emu.transport``; which state changes are legal is the table in
``nic_emu.qp_states``.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from nic_emu.constants import MAX_INLINE_DATA, MAX_QP_RD_ATOM, MAX_QP_WR, MAX_SGE
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs.addr import AHAttr
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject, check_alive
from nic_emu.pyverbs.cq import CQ
from nic_emu.pyverbs.device import Context
from nic_emu.pyverbs.mr import invalidate_rkey
from nic_emu.pyverbs.pd import PD
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError
from nic_emu.pyverbs.wr import SGE, RecvWR, SendWR
from nic_emu.qp_states import modify_qp, state_name
from nic_emu.transport.completions import push, to_error
from nic_emu.transport.posting import post_recv_one, post_send_one
from nic_emu.transport.queues import QueuePair, UdDest, completion, rounded_caps

if TYPE_CHECKING:
    from nic_emu.fabric import Machine
    from nic_emu.pyverbs.addr import AH
    from nic_emu.pyverbs.mr import MW, MWBind, MWBindInfo


def _pow2(n: int) -> int:
    """roundup_pow_of_two, 0 staying 0."""
    return 1 << (n - 1).bit_length() if n > 0 else 0


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


class _CapFields(PyverbsObject):
    """The `cap` view shared by QPInitAttr and QPInitAttrEx: the five ibv_qp_cap fields."""

    __slots__ = ("max_inline_data", "max_recv_sge", "max_recv_wr", "max_send_sge", "max_send_wr")

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


class QPInitAttr(_CapFields):
    """ibv_qp_init_attr.  Note pyverbs' defaults: UD, and ``sq_sig_all=1``."""

    __slots__ = (
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


class QPInitAttrEx(_CapFields):
    """ibv_qp_init_attr_ex, for ``QP(context, QPInitAttrEx(...))`` (ibv_create_qp_ex)."""

    __slots__ = (
        "comp_mask",
        "create_flags",
        "hash_conf",
        "ind_table",
        "max_tso_header",
        "pd",
        "qp_context",
        "qp_type",
        "recv_cq",
        "send_cq",
        "send_ops_flags",
        "source_qpn",
        "sq_sig_all",
        "srq",
        "xrcd",
    )

    def __init__(
        self,
        qp_type: int = e.IBV_QPT_UD,
        qp_context: object = None,
        scq: CQ | None = None,
        rcq: CQ | None = None,
        srq: object = None,
        cap: QPCap | None = None,
        sq_sig_all: int = 0,
        comp_mask: int = 0,
        pd: PD | None = None,
        xrcd: object = None,
        create_flags: int = 0,
        max_tso_header: int = 0,
        source_qpn: int = 0,
        hash_conf: object = None,
        ind_table: object = None,
        send_ops_flags: int = 0,
    ) -> None:
        for cq in (scq, rcq):
            if cq is not None and not isinstance(cq, CQ):
                raise PyverbsUserError(f"Expected CQ/CQEX, got {type(cq)}")
        self.cap = cap if cap is not None else QPCap(0, 0, 0, 0, 0)
        self.qp_type = qp_type
        self.qp_context = qp_context
        self.send_cq = scq
        self.recv_cq = rcq
        self.srq = srq
        self.sq_sig_all = sq_sig_all
        self.comp_mask = comp_mask
        self.pd = pd
        self.xrcd = xrcd
        self.create_flags = create_flags
        self.max_tso_header = max_tso_header
        self.source_qpn = source_qpn
        self.hash_conf = hash_conf
        self.ind_table = ind_table
        self.send_ops_flags = send_ops_flags


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

#: The attributes a modify records for ``query``, by mask bit.
_MASK_FIELDS = {
    e.IBV_QP_ACCESS_FLAGS: "qp_access_flags",
    e.IBV_QP_PKEY_INDEX: "pkey_index",
    e.IBV_QP_PORT: "port_num",
    e.IBV_QP_QKEY: "qkey",
    e.IBV_QP_PATH_MTU: "path_mtu",
    e.IBV_QP_TIMEOUT: "timeout",
    e.IBV_QP_RETRY_CNT: "retry_cnt",
    e.IBV_QP_RNR_RETRY: "rnr_retry",
    e.IBV_QP_RQ_PSN: "rq_psn",
    e.IBV_QP_MAX_QP_RD_ATOMIC: "max_rd_atomic",
    e.IBV_QP_MIN_RNR_TIMER: "min_rnr_timer",
    e.IBV_QP_SQ_PSN: "sq_psn",
    e.IBV_QP_MAX_DEST_RD_ATOMIC: "max_dest_rd_atomic",
    e.IBV_QP_DEST_QPN: "dest_qp_num",
}

_SUPPORTED_TYPES = (e.IBV_QPT_RC, e.IBV_QPT_UC, e.IBV_QPT_UD)
_MW_WC_OPCODE: dict[int, int] = {e.IBV_WR_BIND_MW: e.IBV_WC_BIND_MW, e.IBV_WR_LOCAL_INV: e.IBV_WC_LOCAL_INV,
                 e.IBV_WR_ATOMIC_WRITE: e.IBV_WC_ATOMIC_WRITE}
#: Opcodes qp.py carries out itself: the memory-window ones, and ATOMIC_WRITE, which rxe's
#: user library accepts but the Linux 6.1 kernel does not carry (it completes with
#: IBV_WC_LOC_QP_OP_ERR, as measured: rdma-core's test_qp_ex_rc_atomic_write).
_MW_OPS = frozenset((e.IBV_WR_BIND_MW, e.IBV_WR_LOCAL_INV, e.IBV_WR_SEND_WITH_INV,
                     e.IBV_WR_ATOMIC_WRITE))

_INIT_ATTR_PD = int(e.IBV_QP_INIT_ATTR_PD)
_INIT_ATTR_XRCD = int(e.IBV_QP_INIT_ATTR_XRCD)
_INIT_ATTR_SEND_OPS = int(e.IBV_QP_INIT_ATTR_SEND_OPS_FLAGS)
#: rxe's provider accepts these comp_mask bits of ibv_create_qp_ex (providers/rxe/rxe.c).
_INIT_ATTR_SUPPORTED = _INIT_ATTR_PD | int(e.IBV_QP_INIT_ATTR_CREATE_FLAGS) | _INIT_ATTR_SEND_OPS
_OPS_UD = int(e.IBV_QP_EX_WITH_SEND | e.IBV_QP_EX_WITH_SEND_WITH_IMM)
_OPS_UC = _OPS_UD | int(
    e.IBV_QP_EX_WITH_RDMA_WRITE
    | e.IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM
    | e.IBV_QP_EX_WITH_BIND_MW
    | e.IBV_QP_EX_WITH_LOCAL_INV
    | e.IBV_QP_EX_WITH_SEND_WITH_INV
)
#: The send_ops_flags rxe supports per QP type (RXE_SUP_*_QP_SEND_OPS_FLAGS).
_SEND_OPS: dict[int, int] = {
    e.IBV_QPT_UD: _OPS_UD,
    e.IBV_QPT_UC: _OPS_UC,
    e.IBV_QPT_RC: _OPS_UC | int(
        e.IBV_QP_EX_WITH_RDMA_READ
        | e.IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP
        | e.IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD
        | e.IBV_QP_EX_WITH_ATOMIC_WRITE
    ),
}


class QP(PyverbsCM):
    """A queue pair: ``QP(pd, QPInitAttr(...), qp_attr=None)``.

    The NIC's side of it is ``nic_qp`` (``nic_emu.transport.queues.QueuePair``); this object
    checks and translates the verbs calls, and keeps what only the API has: the attributes a
    query returns, and libibverbs' cached ``qp_state``.
    """

    __slots__ = (
        "_attr",
        "_cap",
        "_machine",
        "context",
        "init_attr",
        "nic_qp",
        "pd",
        "qp_num",
        "qp_state",
        "qp_type",
        "rcq",
        "scq",
        "sq_sig_all",
    )

    def __init__(
        self,
        creator: PD | Context,
        init_attr: QPInitAttr | QPInitAttrEx,
        qp_attr: QPAttr | None = None,
    ) -> None:
        fail = "Failed to create QP"
        if isinstance(creator, Context) and isinstance(init_attr, QPInitAttrEx):
            # ibv_create_qp_ex: the PD (or an XRC domain) comes in the attributes.
            machine = creator.machine
            check_alive(machine, "create QP")
            mask = int(init_attr.comp_mask)
            if init_attr.xrcd is not None or mask & _INIT_ATTR_XRCD:
                raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
            if mask & ~_INIT_ATTR_SUPPORTED or init_attr.create_flags:
                raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
            if not mask & _INIT_ATTR_PD or not isinstance(init_attr.pd, PD):
                raise PyverbsRDMAError(fail, errno.EINVAL)
            ops = int(init_attr.send_ops_flags) if mask & _INIT_ATTR_SEND_OPS else 0
            if ops & ~_SEND_OPS.get(int(init_attr.qp_type), 0):
                raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
            pd = init_attr.pd
            if pd.context.machine is not machine:
                raise PyverbsRDMAError(fail, errno.EINVAL)
        elif isinstance(creator, PD) and isinstance(init_attr, QPInitAttr):
            pd = creator
            machine = pd.context.machine
            check_alive(machine, "create QP")
        else:
            raise PyverbsUserError("QP(PD, QPInitAttr) or QP(Context, QPInitAttrEx)")
        if init_attr.qp_type not in _SUPPORTED_TYPES:
            raise PyverbsRDMAError(fail, errno.EOPNOTSUPP)
        srq = init_attr.srq
        nic_srq = None
        if srq is not None:
            nic_srq = getattr(srq, "nic_srq", None)
            if nic_srq is None or nic_srq.machine is not machine:
                raise PyverbsRDMAError(fail, errno.EINVAL)
        scq, rcq = init_attr.send_cq, init_attr.recv_cq
        if scq is None or rcq is None:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        if scq.nic_cq.machine is not machine or rcq.nic_cq.machine is not machine:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        cap = init_attr.cap
        if nic_srq is not None:
            # rxe_qp_chk_cap skips the receive caps of a QP with an SRQ; a query reports 0.
            cap.max_recv_wr = cap.max_recv_sge = 0
        if (
            not 0 <= cap.max_send_wr <= MAX_QP_WR
            or not 0 <= cap.max_recv_wr <= MAX_QP_WR
            or not 0 <= cap.max_send_sge <= MAX_SGE
            or not 0 <= cap.max_recv_sge <= MAX_SGE
            or not 0 <= cap.max_inline_data <= MAX_INLINE_DATA
        ):
            raise PyverbsRDMAError(fail, errno.EINVAL)
        self._machine: Machine = machine
        self.context = pd.context
        self.pd = pd
        self.scq = scq
        self.rcq = rcq
        self.qp_type = int(init_attr.qp_type)
        self.sq_sig_all = 1 if init_attr.sq_sig_all else 0
        self.init_attr = init_attr
        # rxe rounds the capabilities up (rounded_caps) and a query reports them.  Linux 6.1
        # writes the send SGE count and the inline size back into the caller's init attributes
        # (rxe_qp_init_req: "qp->sq.max_sge = init->cap.max_send_sge = ..."), not the WR
        # counts (measured on rxe0: max_send_wr=5 stays 5 there, queries as 7).
        send_wr, recv_wr, send_sge, recv_sge, inline = rounded_caps(
            cap.max_send_wr, cap.max_recv_wr, cap.max_send_sge, cap.max_recv_sge,
            cap.max_inline_data)
        self._cap = QPCap(send_wr, recv_wr, send_sge, recv_sge, inline)
        init_attr.cap = QPCap(cap.max_send_wr, cap.max_recv_wr, send_sge, recv_sge, inline)
        self.nic_qp = QueuePair(
            machine, self.qp_type, pd, scq.nic_cq, rcq.nic_cq, bool(self.sq_sig_all),
            send_wr, recv_wr, send_sge, recv_sge, inline, nic_srq,
        )
        self._reset_attr()
        self.qp_num = machine.add_qp(self.nic_qp)
        if qp_attr is not None:
            if self.qp_type == e.IBV_QPT_UD:
                self.to_rts(qp_attr)
            else:
                self.to_init(qp_attr)

    def _reset_attr(self) -> None:
        #: libibverbs' cached ``ibv_qp.state``, which pyverbs' ``QP.qp_state`` returns
        #: (rdma-core v44 pyverbs/qp.pyx: ``return self.qp.state``): set by a successful
        #: ibv_modify_qp or ibv_query_qp whose mask has IBV_QP_STATE, never by the device. After
        #: an error completion moved the QP to ERR it still says RTS until a query.  The true
        #: state is the NIC's (``nic_qp.state``).
        self.qp_state: int = e.IBV_QPS_RESET
        #: The attributes given to modify, as a query returns them.
        self._attr = QPAttr(qp_state=e.IBV_QPS_RESET, port_num=1)

    def close(self) -> None:
        if self.qp_num >= 0:
            nic = self.nic_qp
            self._machine.remove_qp(nic)
            nic.sq.clear()
            if nic.srq is None:
                nic.rq.clear()
            self.qp_num = nic.qp_num = -1

    # -- state changes ---------------------------------------------------------------------

    def _step_mask(self, dst: str) -> int:
        return _STEP_MASKS[self.qp_type][dst] | e.IBV_QP_STATE

    def _modify(self, attr: QPAttr, mask: int, what: str) -> None:
        """ibv_modify_qp: the NIC checks and applies the change; this object then records the
        attributes for ``query`` and libibverbs' cached state."""
        av = None
        if mask & e.IBV_QP_AV:
            ah = attr._ah_attr
            av = (bool(ah.is_global), int(ah.sgid_index), ah.dgid.raw)
        err = modify_qp(self.nic_qp, attr, mask, av)
        if err:
            raise PyverbsRDMAError(what, err)
        new = int(attr.qp_state) if mask & e.IBV_QP_STATE else None
        if new == e.IBV_QPS_RESET:
            self._reset_attr()
        else:
            for bit, name in _MASK_FIELDS.items():
                if mask & bit:
                    setattr(self._attr, name, getattr(attr, name))
            if mask & e.IBV_QP_AV:
                self._attr._ah_attr = attr._ah_attr.copy()
        state = self.nic_qp.state
        self._attr.qp_state = self._attr.cur_qp_state = state
        if new is not None:
            # libibverbs' ibv_modify_qp: "if (attr_mask & IBV_QP_STATE) qp->state =
            # attr->qp_state" after the provider accepted the change.
            self.qp_state = new

    def to_init(self, qp_attr: QPAttr) -> None:
        qp_attr.qp_state = e.IBV_QPS_INIT
        self._modify(qp_attr, self._step_mask("INIT"), "Failed to modify QP state to init")

    def to_rtr(self, qp_attr: QPAttr) -> None:
        if self.qp_state != e.IBV_QPS_INIT:  # assume RESET, as pyverbs does
            self.to_init(qp_attr)
        qp_attr.qp_state = e.IBV_QPS_RTR
        self._modify(qp_attr, self._step_mask("RTR"), "Failed to modify QP state to RTR")

    def to_rts(self, qp_attr: QPAttr) -> None:
        if self.qp_state != e.IBV_QPS_RTR:
            self.to_rtr(qp_attr)
        qp_attr.qp_state = e.IBV_QPS_RTS
        self._modify(qp_attr, self._step_mask("RTS"), "Failed to modify QP state to RTS")

    def modify(self, qp_attr: QPAttr, comp_mask: int) -> None:
        self._modify(qp_attr, int(comp_mask), "Failed to modify QP")

    def query(self, attr_mask: int) -> tuple[QPAttr, QPInitAttr]:
        check_alive(self._machine, "query QP")
        nic = self.nic_qp
        attr = self._attr.copy()
        attr.qp_state = attr.cur_qp_state = nic.state
        if attr_mask & e.IBV_QP_STATE:
            # libibverbs' ibv_query_qp refreshes the cached ibv_qp.state (see _reset_attr).
            self.qp_state = nic.state
        attr.sq_psn = nic.sq_psn
        attr.rq_psn = nic.rq_psn
        attr.cap = self._cap
        # rxe_qp_from_attr keeps roundup_pow_of_two of both, which a query reports
        attr.max_rd_atomic = _pow2(attr.max_rd_atomic)
        attr.max_dest_rd_atomic = _pow2(attr.max_dest_rd_atomic)
        init = QPInitAttr(
            qp_type=self.qp_type,
            qp_context=self.init_attr.qp_context,
            scq=self.scq,
            rcq=self.rcq,
            cap=self._cap,
            sq_sig_all=self.sq_sig_all,
        )
        return attr, init

    # -- posting ---------------------------------------------------------------------------

    def post_send(self, wr: SendWR, bad_wr: SendWR | None = None) -> None:
        """ibv_post_send(3): WRs are taken in order; the first one refused stops the list."""
        nic = self.nic_qp
        if not nic.machine.alive:
            raise PyverbsRDMAError("Failed to post send", errno.EIO)
        cur = wr
        while True:
            op = cur.opcode
            if op in _MW_OPS:
                err = self._post_mw_op(cur)
            else:
                ah = cur.ah
                err = post_send_one(
                    nic, cur.wr_id, op, cur.send_flags, cur._sges, cur._remote_addr, cur._rkey,
                    cur.imm_data, cur._compare_add, cur._swap,
                    None if ah is None else _ud_dest(cur, ah),
                )
            if err:
                if bad_wr is not None:
                    cur._copy_into(bad_wr)
                raise PyverbsRDMAError("Failed to post send", err)
            nxt = cur.next_wr
            if nxt is None:
                return
            cur = nxt

    # -- memory windows (ibv_bind_mw(3), IBV_WR_BIND_MW / LOCAL_INV / SEND_WITH_INV) ---------

    def _post_mw_op(self, wr: SendWR) -> int:
        """The memory-window opcodes; carried out at post time (see ``nic_emu.pyverbs.mr.MW``).

        0 or an errno, as post_send_one."""
        op = wr.opcode
        nic = self.nic_qp
        if nic.state < e.IBV_QPS_RTS:
            return errno.EINVAL
        if self.qp_type == e.IBV_QPT_UD:
            return errno.EINVAL  # rxe: these opcodes are for connected QPs only
        if len(nic.sq) >= nic.max_send_wr:
            return errno.ENOMEM
        if op == e.IBV_WR_SEND_WITH_INV:
            # Posted as a plain SEND; the immediate field holds the rkey to invalidate.
            err = post_send_one(nic, wr.wr_id, e.IBV_WR_SEND, wr.send_flags, wr._sges, 0, 0, 0,
                                0, 0, None)
            if not err and nic.peer is not None and nic.state == e.IBV_QPS_RTS:
                # The responder invalidates the rkey named in the packet (IB spec 9.4.1.2).
                invalidate_rkey(nic.peer, wr.imm_data)
            return err
        signaled = bool(self.sq_sig_all or wr.send_flags & e.IBV_SEND_SIGNALED)
        if nic.state != e.IBV_QPS_RTS:  # SQE / ERR: flushed
            push(nic.scq, completion(wr.wr_id, e.IBV_WC_WR_FLUSH_ERR, _MW_WC_OPCODE[op], 0,
                                     self.qp_num), nic)
            return 0
        if op == e.IBV_WR_BIND_MW:
            mw, info = wr._mw, wr._bind_info
            if mw is None or info is None:
                return errno.EINVAL
            status = mw._bind(self.pd, info, wr._rkey)
            wc_op = e.IBV_WC_BIND_MW
        elif op == e.IBV_WR_ATOMIC_WRITE:
            status, wc_op = int(e.IBV_WC_LOC_QP_OP_ERR), e.IBV_WC_ATOMIC_WRITE
        else:
            ok = invalidate_rkey(self._machine, wr.imm_data)
            status = 0 if ok else int(e.IBV_WC_LOC_QP_OP_ERR)
            wc_op = e.IBV_WC_LOCAL_INV
        nic.send_wrs += 1
        if status or signaled:
            push(nic.scq, completion(wr.wr_id, status, wc_op, 0, self.qp_num), nic)
        if status:
            to_error(nic)
        return 0

    def bind_mw(self, mw: MW, mw_bind: MWBind) -> None:
        """ibv_bind_mw(3): bind a type 1 window (rxe posts it as a bind WR with the next rkey)."""
        if mw.mw_type != e.IBV_MW_TYPE_1:
            raise PyverbsRDMAError("Failed to Bind MW", errno.EINVAL)
        wr = SendWR(wr_id=mw_bind.wr_id, opcode=e.IBV_WR_BIND_MW, send_flags=mw_bind.send_flags)
        wr.set_bind_wr(mw, mw_bind.bind_info)
        err = self._post_mw_op(wr)
        if err:
            raise PyverbsRDMAError("Failed to Bind MW", err)

    def query_data_in_order(self, op: int, flags: int = 0) -> int:
        """ibv_query_qp_data_in_order(3): rxe's provider does not implement it, so 0 ("not
        guaranteed"), which is also the honest answer once placement models reorder data."""
        return 0

    def post_recv(self, wr: RecvWR, bad_wr: RecvWR | None = None) -> None:
        """ibv_post_recv(3)."""
        nic = self.nic_qp
        if not nic.machine.alive:
            raise PyverbsRDMAError("Failed to post recv", errno.EIO)
        cur: RecvWR | None = wr
        while cur is not None:
            err = post_recv_one(nic, cur.wr_id, cur._sges)
            if err:
                if bad_wr is not None:
                    bad_wr._sges, bad_wr.wr_id, bad_wr.num_sge = cur._sges, cur.wr_id, cur.num_sge
                raise PyverbsRDMAError("Failed to post recv", err)
            cur = cur.next_wr

    def __str__(self) -> str:
        return f"QP {self.qp_num} type {self.qp_type} state {state_name(self.qp_state)}"


def _ud_dest(wr: SendWR, ah: AH) -> UdDest:
    """Where a UD send goes: its address handle's GID, source GID index, hop limit and
    traffic class, and the WR's remote QPN and Q_Key."""
    a = ah._attr
    return UdDest(a.dgid.raw, wr.remote_qpn, wr.remote_qkey, a.sgid_index, a.hop_limit,
                  a.traffic_class)


class QPEx(QP):
    """An extended QP (ibv_qp_ex): work requests built with ``wr_start``, ``wr_<opcode>`` and
    ``wr_set_*``, then posted together by ``wr_complete`` (ibv_wr_post(3))."""

    __slots__ = ("_batch", "comp_mask", "ind_table", "wr_flags", "wr_id")

    def __init__(
        self,
        creator: PD | Context,
        init_attr: QPInitAttr | QPInitAttrEx,
        qp_attr: QPAttr | None = None,
    ) -> None:
        super().__init__(creator, init_attr, qp_attr)
        self.ind_table = getattr(init_attr, "ind_table", None)
        self.comp_mask = 0
        self.wr_id = 0
        self.wr_flags = 0
        self._batch: list[SendWR] = []

    def _new(self, opcode: int) -> SendWR:
        wr = SendWR(wr_id=self.wr_id, opcode=e.IBV_WR_BIND_MW, send_flags=self.wr_flags)
        wr.opcode = int(opcode)
        self._batch.append(wr)
        return wr

    def _cur(self) -> SendWR:
        if not self._batch:
            raise PyverbsUserError("wr_set_* needs a wr_<opcode> first")
        return self._batch[-1]

    def wr_start(self) -> None:
        self._batch = []

    def wr_abort(self) -> None:
        self._batch = []

    def wr_complete(self) -> None:
        """Post the batch; the first WR refused fails the call (its errno), as ibv_wr_complete."""
        batch, self._batch = self._batch, []
        for wr in batch:
            if not self._machine.alive:
                raise PyverbsRDMAError("ibv_wr_complete failed.", errno.EIO)
            try:
                self.post_send(wr)
            except PyverbsRDMAError as err:
                raise PyverbsRDMAError("ibv_wr_complete failed.", err.error_code) from None

    def wr_send(self) -> None:
        self._new(e.IBV_WR_SEND)

    def wr_send_imm(self, data: int) -> None:
        # pyverbs converts the immediate to big-endian (htobe32) before the verb.
        self._new(e.IBV_WR_SEND_WITH_IMM).imm_data = _htobe32(data)

    def wr_send_inv(self, invalidate_rkey: int) -> None:
        self._new(e.IBV_WR_SEND_WITH_INV).imm_data = int(invalidate_rkey)

    def wr_rdma_write(self, rkey: int, remote_addr: int) -> None:
        self._new(e.IBV_WR_RDMA_WRITE).set_wr_rdma(int(rkey), int(remote_addr))

    def wr_rdma_write_imm(self, rkey: int, remote_addr: int, data: int) -> None:
        wr = self._new(e.IBV_WR_RDMA_WRITE_WITH_IMM)
        wr.set_wr_rdma(int(rkey), int(remote_addr))
        wr.imm_data = _htobe32(data)

    def wr_rdma_read(self, rkey: int, remote_addr: int) -> None:
        self._new(e.IBV_WR_RDMA_READ).set_wr_rdma(int(rkey), int(remote_addr))

    def wr_atomic_cmp_swp(self, rkey: int, remote_addr: int, compare: int, swap: int) -> None:
        self._new(e.IBV_WR_ATOMIC_CMP_AND_SWP).set_wr_atomic(
            int(rkey), int(remote_addr), int(compare), int(swap))

    def wr_atomic_fetch_add(self, rkey: int, remote_addr: int, add: int) -> None:
        self._new(e.IBV_WR_ATOMIC_FETCH_AND_ADD).set_wr_atomic(int(rkey), int(remote_addr), int(add))

    def wr_atomic_write(self, rkey: int, remote_addr: int, atomic_wr: bytes) -> None:
        """IBV_WR_ATOMIC_WRITE: not modelled (nor carried by rxe on Linux 6.1): posting it fails."""
        self._new(e.IBV_WR_ATOMIC_WRITE).set_wr_rdma(int(rkey), int(remote_addr))

    def wr_bind_mw(self, mw: MW, rkey: int, bind_info: MWBindInfo) -> None:
        wr = self._new(e.IBV_WR_BIND_MW)
        wr._mw, wr._bind_info, wr._rkey = mw, bind_info, int(rkey)

    def wr_local_inv(self, invalidate_rkey: int) -> None:
        self._new(e.IBV_WR_LOCAL_INV).imm_data = int(invalidate_rkey)

    def wr_set_sge(self, sge: SGE) -> None:
        cur = self._cur()
        cur._sges = ((int(sge.addr), int(sge.length), int(sge.lkey)),)
        cur.num_sge = 1

    def wr_set_sge_list(self, num_sge: int, sg_list: list[SGE]) -> None:
        cur = self._cur()
        cur._sges = tuple((int(g.addr), int(g.length), int(g.lkey)) for g in sg_list[:num_sge])
        cur.num_sge = num_sge

    def wr_set_inline_data(self, addr: int, length: int) -> None:
        cur = self._cur()
        cur._sges = ((int(addr), int(length), 0),)
        cur.num_sge = 1
        cur.send_flags |= e.IBV_SEND_INLINE

    def wr_set_ud_addr(self, ah: AH, remote_qpn: int, remote_qkey: int) -> None:
        self._cur().set_wr_ud(ah, remote_qpn, remote_qkey)

    def wr_set_xrc_srqn(self, remote_srqn: int) -> None:
        raise PyverbsRDMAError("XRC is not supported by nic_emu", errno.EOPNOTSUPP)


def _htobe32(val: int) -> int:
    return int.from_bytes(int(val).to_bytes(4, "little"), "big")


__all__ = ["MAX_QP_RD_ATOM", "QP", "QPAttr", "QPCap", "QPEx", "QPInitAttr", "QPInitAttrEx"]
