"""The QP state machine of ibv_modify_qp(3), as a table.

Everything that decides whether a modify is legal lives here (IB spec 1.4, vol. 1, 10.3.1 and
table 91 "QP state transition properties"; the same table as the kernel's ``qp_state_table`` in
drivers/infiniband/core/verbs.c).  A transition that is not in the table, a required attribute that
is missing, or an attribute that the transition does not accept, is EINVAL, which is what
ibv_modify_qp returns for them.  ``modify_qp``, which checks a modify against the table and the
attribute ranges and applies it to a ``QueuePair``, is here too.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Protocol

from nic_emu.constants import (
    ERR,
    INIT,
    M_ACCESS_FLAGS,
    M_ALT_PATH,
    M_AV,
    M_CAP,
    M_CUR_STATE,
    M_DEST_QPN,
    M_EN_SQD_ASYNC_NOTIFY,
    M_MAX_DEST_RD_ATOMIC,
    M_MAX_QP_RD_ATOMIC,
    M_MIN_RNR_TIMER,
    M_PATH_MIG_STATE,
    M_PATH_MTU,
    M_PKEY_INDEX,
    M_PORT,
    M_QKEY,
    M_RATE_LIMIT,
    M_RETRY_CNT,
    M_RNR_RETRY,
    M_RQ_PSN,
    M_SQ_PSN,
    M_STATE,
    M_TIMEOUT,
    MAX_QP_RD_ATOM,
    RC,
    RESET,
    RTR,
    RTS,
    SQD,
    SQE,
    UC,
    UD,
)
from nic_emu.transport.completions import to_error
from nic_emu.transport.queues import PSN_MASK

if TYPE_CHECKING:
    from nic_emu.fabric import Machine
    from nic_emu.transport.queues import QueuePair

_PKEY = M_PKEY_INDEX
_PORT = M_PORT
_ACC = M_ACCESS_FLAGS
_QKEY = M_QKEY
_AV = M_AV
_MTU = M_PATH_MTU
_DQPN = M_DEST_QPN
_RQPSN = M_RQ_PSN
_SQPSN = M_SQ_PSN
_MDRA = M_MAX_DEST_RD_ATOMIC
_MRA = M_MAX_QP_RD_ATOMIC
_RNRT = M_MIN_RNR_TIMER
_TMO = M_TIMEOUT
_RETRY = M_RETRY_CNT
_RNR = M_RNR_RETRY
_CUR = M_CUR_STATE
_ALT = M_ALT_PATH
_MIG = M_PATH_MIG_STATE
_SQDN = M_EN_SQD_ASYNC_NOTIFY
_CAP = M_CAP
_RATE = M_RATE_LIMIT

#: (current, next) -> qp_type -> (required attribute mask, optional attribute mask).
TRANSITIONS: dict[tuple[int, int], dict[int, tuple[int, int]]] = {
    (RESET, INIT): {
        RC: (_PKEY | _PORT | _ACC, 0),
        UC: (_PKEY | _PORT | _ACC, 0),
        UD: (_PKEY | _PORT | _QKEY, 0),
    },
    (INIT, INIT): {
        RC: (0, _PKEY | _PORT | _ACC),
        UC: (0, _PKEY | _PORT | _ACC),
        UD: (0, _PKEY | _PORT | _QKEY),
    },
    (INIT, RTR): {
        RC: (_AV | _MTU | _DQPN | _RQPSN | _MDRA | _RNRT, _ALT | _ACC | _PKEY),
        UC: (_AV | _MTU | _DQPN | _RQPSN, _ALT | _ACC | _PKEY),
        UD: (0, _PKEY | _QKEY),
    },
    (RTR, RTS): {
        RC: (_SQPSN | _TMO | _RETRY | _RNR | _MRA, _CUR | _ALT | _ACC | _RNRT | _MIG | _RATE),
        UC: (_SQPSN, _CUR | _ALT | _ACC | _MIG | _RATE),
        UD: (_SQPSN, _CUR | _QKEY | _RATE),
    },
    (RTS, RTS): {
        RC: (0, _CUR | _ACC | _ALT | _MIG | _RNRT | _RATE),
        UC: (0, _CUR | _ACC | _ALT | _MIG | _RATE),
        UD: (0, _CUR | _QKEY | _RATE),
    },
    (RTS, SQD): {RC: (0, _SQDN), UC: (0, _SQDN), UD: (0, _SQDN)},
    (SQD, RTS): {
        RC: (0, _CUR | _ACC | _ALT | _MIG | _RNRT),
        UC: (0, _CUR | _ACC | _ALT | _MIG),
        UD: (0, _CUR | _QKEY),
    },
    (SQD, SQD): {
        RC: (0, _AV | _TMO | _RETRY | _RNR | _MRA | _MDRA | _CUR | _ALT | _ACC | _PKEY | _RNRT),
        UC: (0, _AV | _CUR | _ALT | _ACC | _PKEY | _MIG),
        UD: (0, _PKEY | _QKEY),
    },
    # SQE exists only for unreliable transports (an RC send error takes the whole QP to ERR).
    (SQE, RTS): {UC: (0, _CUR | _ACC), UD: (0, _CUR | _QKEY)},
}
# "Any state -> RESET" and "any state -> ERR" are always legal and take no attributes.
for _s in (RESET, INIT, RTR, RTS, SQD, SQE, ERR):
    TRANSITIONS[(_s, RESET)] = {RC: (0, 0), UC: (0, 0), UD: (0, 0)}
    TRANSITIONS[(_s, ERR)] = {RC: (0, 0), UC: (0, 0), UD: (0, 0)}

_NAMES: dict[int, str] = {
    RESET: "RESET", INIT: "INIT", RTR: "RTR", RTS: "RTS", SQD: "SQD", SQE: "SQE", ERR: "ERR"
}


def state_name(state: int) -> str:
    return _NAMES.get(state, f"UNKNOWN({state})")


def check_transition(qp_type: int, cur: int, new: int, mask: int) -> str | None:
    """None if ``cur -> new`` with attribute ``mask`` is legal, else why not (for EINVAL)."""
    per_type = TRANSITIONS.get((cur, new))
    if per_type is None or qp_type not in per_type:
        return f"can't move a QP from {state_name(cur)} to {state_name(new)}"
    required, optional = per_type[qp_type]
    given = mask & ~(M_STATE | _CAP)
    missing = required & ~given
    if missing:
        return f"{state_name(cur)}->{state_name(new)} needs attributes {missing:#x}"
    extra = given & ~(required | optional)
    if extra:
        return f"{state_name(cur)}->{state_name(new)} does not take attributes {extra:#x}"
    return None


class ModifyAttrs(Protocol):
    """The ibv_qp_attr fields a modify reads (pyverbs' ``QPAttr`` has them)."""

    @property
    def qp_state(self) -> int: ...
    @property
    def cur_qp_state(self) -> int: ...
    @property
    def port_num(self) -> int: ...
    @property
    def pkey_index(self) -> int: ...
    @property
    def path_mtu(self) -> int: ...
    @property
    def qp_access_flags(self) -> int: ...
    @property
    def qkey(self) -> int: ...
    @property
    def rq_psn(self) -> int: ...
    @property
    def sq_psn(self) -> int: ...
    @property
    def dest_qp_num(self) -> int: ...
    @property
    def max_rd_atomic(self) -> int: ...
    @property
    def max_dest_rd_atomic(self) -> int: ...
    @property
    def retry_cnt(self) -> int: ...
    @property
    def rnr_retry(self) -> int: ...
    @property
    def timeout(self) -> int: ...
    @property
    def min_rnr_timer(self) -> int: ...


#: An address vector as a modify passes it: (is_global, sgid_index, dgid as 16 bytes).
AddressVector = tuple[bool, int, bytes]


def modify_qp(qp: QueuePair, attr: ModifyAttrs, mask: int, av: AddressVector | None) -> int:
    """ibv_modify_qp: check the change (table, attribute ranges, address vector) and apply it
    to the NIC's queue pair; 0 or an errno.  ``av`` is needed when ``mask`` has IBV_QP_AV."""
    m = qp.machine
    if not m.alive:
        return errno.EIO
    cur = qp.state
    new = int(attr.qp_state) if mask & M_STATE else cur
    if mask & M_CUR_STATE and attr.cur_qp_state != cur:
        return errno.EINVAL
    if check_transition(qp.qp_type, cur, new, mask) is not None:
        return errno.EINVAL
    fabric = qp.fabric
    if mask & M_PORT and attr.port_num != 1:
        return errno.EINVAL
    if mask & M_PKEY_INDEX and attr.pkey_index != 0:
        return errno.EINVAL
    if mask & M_PATH_MTU and not 1 <= attr.path_mtu <= 5:
        return errno.EINVAL
    if mask & M_MAX_QP_RD_ATOMIC and not 0 <= attr.max_rd_atomic <= MAX_QP_RD_ATOM:
        return errno.EINVAL
    if mask & M_MAX_DEST_RD_ATOMIC and not 0 <= attr.max_dest_rd_atomic <= MAX_QP_RD_ATOM:
        return errno.EINVAL
    if mask & M_RETRY_CNT and not 0 <= attr.retry_cnt <= 7:
        return errno.EINVAL
    if mask & M_RNR_RETRY and not 0 <= attr.rnr_retry <= 7:
        return errno.EINVAL
    peer: Machine | None = None
    if mask & M_AV:
        assert av is not None
        is_global, sgid_index, dgid = av
        # RoCE: the address vector must carry a GRH (the GID is the IP address).
        if not is_global or not 0 <= sgid_index < len(m.gids):
            return errno.EINVAL
        peer = fabric.machine_by_gid(dgid)
        if peer is None:
            # The neighbour (ARP) lookup for the destination never answers.
            return errno.ETIMEDOUT
    # Accepted: apply.
    if mask & M_AV:
        qp.peer = peer
    if mask & M_DEST_QPN:
        qp.dest_qp_num = attr.dest_qp_num
    if mask & M_ACCESS_FLAGS:
        qp.access = int(attr.qp_access_flags)
    if mask & M_QKEY:
        qp.qkey = attr.qkey
    if mask & M_PATH_MTU:
        # The path MTU cannot exceed the port's active MTU.
        qp.mtu = min(128 << attr.path_mtu, fabric.mtu)
    if mask & M_RQ_PSN:
        qp.rq_psn = attr.rq_psn & PSN_MASK
    if mask & M_SQ_PSN:
        qp.sq_psn = attr.sq_psn & PSN_MASK
    if mask & M_MAX_QP_RD_ATOMIC:
        qp.max_rd_atomic = attr.max_rd_atomic
    if mask & M_MAX_DEST_RD_ATOMIC:
        qp.max_dest_rd_atomic = attr.max_dest_rd_atomic
    if mask & M_RETRY_CNT:
        qp.retry_cnt = attr.retry_cnt
    if mask & M_TIMEOUT:
        qp.timeout = attr.timeout
    if mask & M_MIN_RNR_TIMER:
        qp.min_rnr_timer = attr.min_rnr_timer
    if mask & M_RNR_RETRY:
        qp.rnr_retry = attr.rnr_retry
    if qp.qp_type == UD:
        qp.mtu = fabric.mtu
    if new == RESET:
        fabric.unschedule(qp)
        qp.reset()
    elif new == ERR:
        # Again in ERR too: rxe_qp_error schedules the QP's tasks, which flush what was posted
        # since (receives posted in ERR wait for that: see posting.post_recv_one).
        to_error(qp)
    else:
        qp.state = new
        if new == RTS and qp.sq and not qp.scheduled:
            fabric.schedule(qp)
        if new in (RTR, RTS):
            m.note_connected()
    return 0
