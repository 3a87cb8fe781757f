"""pyverbs.fork: ibv_fork_init(3).  nic_emu has no pinned pages, so fork is never a problem:
``ibv_is_fork_initialized`` answers IBV_FORK_UNNEEDED, as on kernels with copy-on-fork."""

from __future__ import annotations

from nic_emu.pyverbs import enums as e


def fork_init() -> None:
    """Nothing to do (the kernel's FOLL_... copy-on-fork makes it unneeded)."""


def is_fork_initialized() -> int:
    return int(e.IBV_FORK_UNNEEDED)
