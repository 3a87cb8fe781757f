"""pyverbs.providers.mlx5.mlx5dv: mlx5 direct verbs; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import not_supported, unsupported

Mlx5DVPortAttr = unsupported("Mlx5DVPortAttr", __name__)
Mlx5DVContextAttr = unsupported("Mlx5DVContextAttr", __name__)
Mlx5DevxObj = unsupported("Mlx5DevxObj", __name__)
Mlx5Context = unsupported("Mlx5Context", __name__, user_error="This is not an MLX5 device")
Mlx5DVContext = unsupported("Mlx5DVContext", __name__)
Mlx5DCIStreamInitAttr = unsupported("Mlx5DCIStreamInitAttr", __name__)
Mlx5DVDCInitAttr = unsupported("Mlx5DVDCInitAttr", __name__)
Mlx5DVQPInitAttr = unsupported("Mlx5DVQPInitAttr", __name__)
Mlx5QP = unsupported("Mlx5QP", __name__)
Mlx5DVCQInitAttr = unsupported("Mlx5DVCQInitAttr", __name__)
Mlx5CQ = unsupported("Mlx5CQ", __name__)
Mlx5VAR = unsupported("Mlx5VAR", __name__)
Mlx5PP = unsupported("Mlx5PP", __name__)
Mlx5UAR = unsupported("Mlx5UAR", __name__)
Mlx5DmOpAddr = unsupported("Mlx5DmOpAddr", __name__)
WqeSeg = unsupported("WqeSeg", __name__)
WqeCtrlSeg = unsupported("WqeCtrlSeg", __name__)
WqeDataSeg = unsupported("WqeDataSeg", __name__)
Wqe = unsupported("Wqe", __name__)
Mlx5UMEM = unsupported("Mlx5UMEM", __name__)
Mlx5Cqe64 = unsupported("Mlx5Cqe64", __name__)
Mlx5DevxMsiVector = unsupported("Mlx5DevxMsiVector", __name__)
Mlx5DevxEq = unsupported("Mlx5DevxEq", __name__)
qpts_to_str = not_supported
bitmask_to_str = not_supported
context_comp_mask_to_str = not_supported
context_flags_to_str = not_supported
swp_to_str = not_supported
cqe_comp_to_str = not_supported
tunnel_offloads_to_str = not_supported
dc_type_to_str = not_supported
qp_comp_mask_to_str = not_supported
qp_create_flags_to_str = not_supported
send_ops_flags_to_str = not_supported
