"""The pyverbs surface: enum values as in <infiniband/verbs.h>, module layout, the switch."""

from __future__ import annotations

import importlib
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest

from nic_emu.provider import install_as_pyverbs, is_emulated, provider_name, verbs
from nic_emu.pyverbs import enums as emu_enums

# A few values checked by hand against rdma-core v44 libibverbs/verbs.h.
VERBS_H = {
    "IBV_WR_RDMA_WRITE": 0, "IBV_WR_RDMA_WRITE_WITH_IMM": 1, "IBV_WR_SEND": 2,
    "IBV_WR_SEND_WITH_IMM": 3, "IBV_WR_RDMA_READ": 4, "IBV_WR_ATOMIC_CMP_AND_SWP": 5,
    "IBV_WR_ATOMIC_FETCH_AND_ADD": 6, "IBV_WC_SUCCESS": 0, "IBV_WC_LOC_LEN_ERR": 1,
    "IBV_WC_LOC_QP_OP_ERR": 2, "IBV_WC_LOC_PROT_ERR": 4, "IBV_WC_WR_FLUSH_ERR": 5,
    "IBV_WC_REM_INV_REQ_ERR": 9, "IBV_WC_REM_ACCESS_ERR": 10, "IBV_WC_REM_OP_ERR": 11,
    "IBV_WC_RETRY_EXC_ERR": 12, "IBV_WC_RNR_RETRY_EXC_ERR": 13, "IBV_WC_SEND": 0,
    "IBV_WC_RDMA_WRITE": 1, "IBV_WC_RDMA_READ": 2, "IBV_WC_COMP_SWAP": 3, "IBV_WC_FETCH_ADD": 4,
    "IBV_WC_RECV": 128, "IBV_WC_RECV_RDMA_WITH_IMM": 129, "IBV_WC_GRH": 1, "IBV_WC_WITH_IMM": 2,
    "IBV_ACCESS_LOCAL_WRITE": 1, "IBV_ACCESS_REMOTE_WRITE": 2, "IBV_ACCESS_REMOTE_READ": 4,
    "IBV_ACCESS_REMOTE_ATOMIC": 8, "IBV_QPT_RC": 2, "IBV_QPT_UC": 3, "IBV_QPT_UD": 4,
    "IBV_QPS_RESET": 0, "IBV_QPS_INIT": 1, "IBV_QPS_RTR": 2, "IBV_QPS_RTS": 3, "IBV_QPS_SQD": 4,
    "IBV_QPS_SQE": 5, "IBV_QPS_ERR": 6, "IBV_SEND_FENCE": 1, "IBV_SEND_SIGNALED": 2,
    "IBV_SEND_SOLICITED": 4, "IBV_SEND_INLINE": 8, "IBV_MTU_1024": 3, "IBV_MTU_4096": 5,
    "IBV_QP_STATE": 1, "IBV_QP_ACCESS_FLAGS": 8, "IBV_QP_AV": 128, "IBV_QP_DEST_QPN": 1 << 20,
    "IBV_QP_MAX_DEST_RD_ATOMIC": 1 << 17, "IBV_QP_SQ_PSN": 1 << 16,
}


@pytest.mark.parametrize("name", sorted(VERBS_H))
def test_enum_values(v: ModuleType, name: str) -> None:
    assert getattr(v.enums, name) == VERBS_H[name]


def test_flat_aliases_match_the_enum_classes() -> None:
    from enum import EnumType

    classes = [c for c in vars(emu_enums).values() if isinstance(c, EnumType) and
               c.__module__ == emu_enums.__name__]
    assert len(classes) > 10
    for cls in classes:
        members: list[Any] = list(cls)
        for member in members:
            assert member.name is not None
            assert getattr(emu_enums, member.name) is member


def test_pyverbs_layout_imports() -> None:
    for mod, names in {
        "device": ["Context", "get_device_list"], "pd": ["PD"], "mr": ["MR"], "cq": ["CQ", "WC"],
        "qp": ["QP", "QPInitAttr", "QPCap", "QPAttr"], "wr": ["SGE", "SendWR", "RecvWR"],
        "addr": ["AH", "AHAttr", "GlobalRoute", "GID"],
        "pyverbs_error": ["PyverbsError", "PyverbsRDMAError", "PyverbsUserError"],
    }.items():
        m = importlib.import_module(f"nic_emu.pyverbs.{mod}")
        for n in names:
            assert hasattr(m, n), f"{mod}.{n}"


def test_error_types_are_faithful() -> None:
    from nic_emu.pyverbs.pyverbs_error import PyverbsError, PyverbsRDMAError, PyverbsUserError

    err = PyverbsRDMAError("Failed to post send", 22)
    assert isinstance(err, PyverbsError) and err.error_code == 22
    assert str(err) == "Failed to post send. Errno: 22, Invalid argument"
    assert issubclass(PyverbsUserError, PyverbsError)


def test_provider_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSSAMER_VERBS", "emu")
    assert provider_name() == "emu" and is_emulated()
    assert verbs().__name__ == "nic_emu.pyverbs"
    monkeypatch.setenv("GOSSAMER_VERBS", "pyverbs")
    assert provider_name() == "pyverbs"
    monkeypatch.setenv("GOSSAMER_VERBS", "nonsense")
    with pytest.raises(ValueError, match="GOSSAMER_VERBS"):
        provider_name()


def test_install_as_pyverbs_in_a_fresh_interpreter() -> None:
    code = (
        "from nic_emu.provider import install_as_pyverbs; install_as_pyverbs()\n"
        "from pyverbs.qp import QP, QPInitAttr, QPCap, QPAttr\n"
        "import pyverbs.enums as e, pyverbs.device as d\n"
        "from pyverbs.pyverbs_error import PyverbsRDMAError\n"
        "assert e.IBV_QPT_RC == 2 and [x.name for x in d.get_device_list()] == [b'emu0', b'emu1']\n"
    )
    subprocess.run([sys.executable, "-bb", "-c", code], check=True)
    assert install_as_pyverbs is not None
