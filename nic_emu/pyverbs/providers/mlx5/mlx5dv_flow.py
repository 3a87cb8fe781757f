"""pyverbs.providers.mlx5.mlx5dv_flow: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Mlx5FlowMatchParameters = unsupported("Mlx5FlowMatchParameters", __name__)
Mlx5FlowMatcherAttr = unsupported("Mlx5FlowMatcherAttr", __name__)
Mlx5FlowMatcher = unsupported("Mlx5FlowMatcher", __name__)
Mlx5PacketReformatFlowAction = unsupported("Mlx5PacketReformatFlowAction", __name__)
Mlx5FlowActionAttr = unsupported("Mlx5FlowActionAttr", __name__)
Mlx5Flow = unsupported("Mlx5Flow", __name__)
