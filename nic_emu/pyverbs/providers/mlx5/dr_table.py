"""pyverbs.providers.mlx5.dr_table: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

DrTable = unsupported("DrTable", __name__)
