"""pyverbs.providers.mlx5.mlx5dv_objects: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Mlx5DvPD = unsupported("Mlx5DvPD", __name__)
Mlx5DvCQ = unsupported("Mlx5DvCQ", __name__)
Mlx5DvQP = unsupported("Mlx5DvQP", __name__)
Mlx5DvSRQ = unsupported("Mlx5DvSRQ", __name__)
Mlx5DvObj = unsupported("Mlx5DvObj", __name__)
