"""pyverbs.providers.mlx5.mlx5_vfio: mlx5 over VFIO; there is no such PCI device."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Mlx5VfioAttr = unsupported("Mlx5VfioAttr", __name__)
Mlx5VfioContext = unsupported("Mlx5VfioContext", __name__)
