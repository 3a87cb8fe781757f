"""pyverbs.utils: the printing helpers pyverbs code uses (same tables as pyverbs)."""

from __future__ import annotations

import struct

from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs.pyverbs_error import PyverbsUserError


def be64toh(num: int) -> int:
    return int(struct.unpack("Q", struct.pack("!Q", num))[0])


def gid_str(subnet_prefix: int, interface_id: int) -> str:
    h = f"{be64toh(subnet_prefix):016x}{be64toh(interface_id):016x}"
    return ":".join(h[i : i + 4] for i in range(0, 32, 4))


def gid_str_to_array(val: str) -> list[str]:
    words = val.split(":")
    if len(words) != 8 or any(len(w) != 4 for w in words):
        raise PyverbsUserError(f"Invalid GID value ({words})")
    return [half for w in words for half in (w[0:2], w[2:4])]


def qp_type_to_str(qp_type: int) -> str:
    types = {2: "RC", 3: "UC", 4: "UD", 8: "Raw Packet", 9: "XRCD_SEND", 10: "XRCD_RECV",
             0xFF: "Driver QP"}
    return types.get(qp_type, f"Unknown ({qp_type})")


def qp_state_to_str(qp_state: int) -> str:
    states = {0: "Reset", 1: "Init", 2: "RTR", 3: "RTS", 4: "SQD", 5: "SQE", 6: "Error",
              7: "Unknown"}
    return states.get(qp_state, f"Unknown ({qp_state})")


def mtu_to_str(mtu: int) -> int:
    return {1: 256, 2: 512, 3: 1024, 4: 2048, 5: 4096}.get(mtu, 0)


def access_flags_to_str(flags: int) -> str:
    names = {1: "Local write", 2: "Remote write", 4: "Remote read", 8: "Remote atomic",
             16: "MW bind", 32: "Zero based", 64: "On demand"}
    return "".join(f"{n} " for f, n in names.items() if flags & f)


def mig_state_to_str(mig: int) -> str:
    return {0: "Migrated", 1: "Re-arm", 2: "Armed"}.get(mig, f"Unknown ({mig})")


def rereg_error_to_str(error: int) -> str:
    names: dict[int, str] = {e.IBV_REREG_MR_ERR_INPUT: "IBV_REREG_MR_ERR_INPUT",
             e.IBV_REREG_MR_ERR_DONT_FORK_NEW: "IBV_REREG_MR_ERR_DONT_FORK_NEW",
             e.IBV_REREG_MR_ERR_DO_FORK_OLD: "IBV_REREG_MR_ERR_DO_FORK_OLD",
             e.IBV_REREG_MR_ERR_CMD: "IBV_REREG_MR_ERR_CMD",
             e.IBV_REREG_MR_ERR_CMD_AND_DO_FORK_NEW: "IBV_REREG_MR_ERR_CMD_AND_DO_FORK_NEW"}
    return names.get(error, f"Unknown error ({error})")
