"""pyverbs.providers.mlx5.mlx5dv_sched: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Mlx5dvSchedAttr = unsupported("Mlx5dvSchedAttr", __name__)
Mlx5dvSchedNode = unsupported("Mlx5dvSchedNode", __name__)
Mlx5dvSchedLeaf = unsupported("Mlx5dvSchedLeaf", __name__)
