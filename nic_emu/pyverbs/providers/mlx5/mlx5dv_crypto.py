"""pyverbs.providers.mlx5.mlx5dv_crypto: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Mlx5CryptoLoginAttr = unsupported("Mlx5CryptoLoginAttr", __name__)
Mlx5CryptoExtLoginAttr = unsupported("Mlx5CryptoExtLoginAttr", __name__)
Mlx5DEKInitAttr = unsupported("Mlx5DEKInitAttr", __name__)
Mlx5DEKAttr = unsupported("Mlx5DEKAttr", __name__)
Mlx5CryptoAttr = unsupported("Mlx5CryptoAttr", __name__)
Mlx5DEK = unsupported("Mlx5DEK", __name__)
Mlx5CryptoLogin = unsupported("Mlx5CryptoLogin", __name__)
