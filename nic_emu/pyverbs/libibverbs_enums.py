"""pyverbs.libibverbs_enums: the enum classes, as newer rdma-core releases expose them."""

from nic_emu.pyverbs.enums import *  # noqa: F403
