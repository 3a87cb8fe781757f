"""pyverbs.providers.mlx5.mlx5dv_mkey: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Mlx5SigCrc = unsupported("Mlx5SigCrc", __name__)
Mlx5SigT10Dif = unsupported("Mlx5SigT10Dif", __name__)
Mlx5SigBlockDomain = unsupported("Mlx5SigBlockDomain", __name__)
Mlx5SigBlockAttr = unsupported("Mlx5SigBlockAttr", __name__)
Mlx5SigErr = unsupported("Mlx5SigErr", __name__)
Mlx5MkeyErr = unsupported("Mlx5MkeyErr", __name__)
Mlx5MkeyConfAttr = unsupported("Mlx5MkeyConfAttr", __name__)
Mlx5MrInterleaved = unsupported("Mlx5MrInterleaved", __name__)
Mlx5Mkey = unsupported("Mlx5Mkey", __name__)
