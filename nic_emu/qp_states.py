"""The QP state machine of ibv_modify_qp(3), as a table.

Everything that decides whether a modify is legal lives here (IB spec 1.4, vol. 1, 10.3.1 and
table 91 "QP state transition properties"; the same table as the kernel's ``qp_state_table`` in
drivers/infiniband/core/verbs.c).  A transition that is not in the table, a required attribute that
is missing, or an attribute that the transition does not accept, is EINVAL, which is what
ibv_modify_qp returns for them.
"""

from __future__ import annotations

from nic_emu.pyverbs import enums as e

RESET, INIT, RTR, RTS, SQD, SQE, ERR = (
    e.IBV_QPS_RESET,
    e.IBV_QPS_INIT,
    e.IBV_QPS_RTR,
    e.IBV_QPS_RTS,
    e.IBV_QPS_SQD,
    e.IBV_QPS_SQE,
    e.IBV_QPS_ERR,
)
RC, UC, UD = e.IBV_QPT_RC, e.IBV_QPT_UC, e.IBV_QPT_UD

_PKEY = e.IBV_QP_PKEY_INDEX
_PORT = e.IBV_QP_PORT
_ACC = e.IBV_QP_ACCESS_FLAGS
_QKEY = e.IBV_QP_QKEY
_AV = e.IBV_QP_AV
_MTU = e.IBV_QP_PATH_MTU
_DQPN = e.IBV_QP_DEST_QPN
_RQPSN = e.IBV_QP_RQ_PSN
_SQPSN = e.IBV_QP_SQ_PSN
_MDRA = e.IBV_QP_MAX_DEST_RD_ATOMIC
_MRA = e.IBV_QP_MAX_QP_RD_ATOMIC
_RNRT = e.IBV_QP_MIN_RNR_TIMER
_TMO = e.IBV_QP_TIMEOUT
_RETRY = e.IBV_QP_RETRY_CNT
_RNR = e.IBV_QP_RNR_RETRY
_CUR = e.IBV_QP_CUR_STATE
_ALT = e.IBV_QP_ALT_PATH
_MIG = e.IBV_QP_PATH_MIG_STATE
_SQDN = e.IBV_QP_EN_SQD_ASYNC_NOTIFY
_CAP = e.IBV_QP_CAP
_RATE = e.IBV_QP_RATE_LIMIT

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
    given = mask & ~(e.IBV_QP_STATE | _CAP)
    missing = required & ~given
    if missing:
        return f"{state_name(cur)}->{state_name(new)} needs attributes {missing:#x}"
    extra = given & ~(required | optional)
    if extra:
        return f"{state_name(cur)}->{state_name(new)} does not take attributes {extra:#x}"
    return None
