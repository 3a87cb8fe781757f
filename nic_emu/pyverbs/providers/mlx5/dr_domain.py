"""pyverbs.providers.mlx5.dr_domain: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

DrDomain = unsupported("DrDomain", __name__)
