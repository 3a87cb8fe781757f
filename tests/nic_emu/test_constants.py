"""The NIC's plain-int copies of libibverbs enum values (nic_emu/constants.py) equal the enums.

Every public int in ``nic_emu.constants`` must be listed here (a new one fails the first test
until it is), and each must equal the enum value it copies (``nic_emu.pyverbs.enums``, whose
values tests/nic_emu/test_api.py checks against <infiniband/verbs.h>).
"""

from __future__ import annotations

import pytest

from nic_emu import constants as c
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs.device import DeviceAttr

#: constant -> the enum member it copies
COPIES = {
    **{s: f"IBV_QPS_{s}" for s in ("RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR")},
    **{t: f"IBV_QPT_{t}" for t in ("RC", "UC", "UD")},
    "WR_WRITE": "IBV_WR_RDMA_WRITE",
    "WR_WRITE_IMM": "IBV_WR_RDMA_WRITE_WITH_IMM",
    "WR_SEND": "IBV_WR_SEND",
    "WR_SEND_IMM": "IBV_WR_SEND_WITH_IMM",
    "WR_READ": "IBV_WR_RDMA_READ",
    "WR_CAS": "IBV_WR_ATOMIC_CMP_AND_SWP",
    "WR_FAA": "IBV_WR_ATOMIC_FETCH_AND_ADD",
    "F_SIGNALED": "IBV_SEND_SIGNALED",
    "F_INLINE": "IBV_SEND_INLINE",
    **{f"A_{a}": f"IBV_ACCESS_{a}"
       for a in ("LOCAL_WRITE", "REMOTE_WRITE", "REMOTE_READ", "REMOTE_ATOMIC")},
    "S_OK": "IBV_WC_SUCCESS",
    "S_LOC_LEN": "IBV_WC_LOC_LEN_ERR",
    "S_LOC_QP_OP": "IBV_WC_LOC_QP_OP_ERR",
    "S_LOC_PROT": "IBV_WC_LOC_PROT_ERR",
    "S_FLUSH": "IBV_WC_WR_FLUSH_ERR",
    "S_REM_INV_REQ": "IBV_WC_REM_INV_REQ_ERR",
    "S_REM_ACCESS": "IBV_WC_REM_ACCESS_ERR",
    "S_REM_OP": "IBV_WC_REM_OP_ERR",
    "S_RETRY_EXC": "IBV_WC_RETRY_EXC_ERR",
    "S_RNR_RETRY_EXC": "IBV_WC_RNR_RETRY_EXC_ERR",
    "EVENT_SRQ_LIMIT_REACHED": "IBV_EVENT_SRQ_LIMIT_REACHED",
    **{f"WC_{w}": f"IBV_WC_{w}" for w in (
        "SEND", "RDMA_WRITE", "RDMA_READ", "COMP_SWAP", "FETCH_ADD", "RECV", "RECV_RDMA_WITH_IMM",
        "GRH", "WITH_IMM")},
    **{f"M_{m}": f"IBV_QP_{m}" for m in (
        "STATE", "CUR_STATE", "EN_SQD_ASYNC_NOTIFY", "ACCESS_FLAGS", "PKEY_INDEX", "PORT", "QKEY",
        "AV", "PATH_MTU", "TIMEOUT", "RETRY_CNT", "RNR_RETRY", "RQ_PSN", "MAX_QP_RD_ATOMIC",
        "ALT_PATH", "MIN_RNR_TIMER", "SQ_PSN", "MAX_DEST_RD_ATOMIC", "PATH_MIG_STATE", "CAP",
        "DEST_QPN", "RATE_LIMIT")},
}
#: rxe's limits: not enum copies, but what the device reports (ibv_query_device).
LIMITS = {
    "MAX_QP": "max_qp",
    "MAX_QP_WR": "max_qp_wr",
    "MAX_SGE": "max_sge",
    "MAX_CQ": "max_cq",
    "MAX_CQE": "max_cqe",
    "MAX_MR": "max_mr",
    "MAX_PD": "max_pd",
    "MAX_QP_RD_ATOM": "max_qp_rd_atom",
    "MAX_MR_SIZE": "max_mr_size",
    "MAX_MW": "max_mw",
    "MAX_SRQ": "max_srq",
    "MAX_SRQ_WR": "max_srq_wr",
    "MAX_SRQ_SGE": "max_srq_sge",
    "MAX_INLINE_DATA": None,  # not in ibv_device_attr; QPCap.max_inline_data's bound
}


def test_every_constant_is_checked() -> None:
    public = {n for n, v in vars(c).items() if n.isupper() and isinstance(v, int)}
    assert public == set(COPIES) | set(LIMITS)


@pytest.mark.parametrize(("name", "enum_name"), sorted(COPIES.items()))
def test_constant_equals_its_enum(name: str, enum_name: str) -> None:
    value = getattr(c, name)
    assert type(value) is int  # a plain int, not the enum member
    assert value == int(getattr(e, enum_name))


def test_mtu_codes_are_the_ibv_mtu_values() -> None:
    want = {n: int(getattr(e, f"IBV_MTU_{n}")) for n in (256, 512, 1024, 2048, 4096)}
    assert want == c.MTU_CODES


@pytest.mark.parametrize(("name", "attr"), sorted((n, a) for n, a in LIMITS.items() if a))
def test_limit_is_what_the_device_reports(name: str, attr: str) -> None:
    assert getattr(DeviceAttr(0), attr) == getattr(c, name)
