"""pyverbs.providers.efa.efadv: EFA direct verbs; the emulated device is not an EFA."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import not_supported, unsupported

EfaContext = unsupported("EfaContext", __name__)
EfaDVDeviceAttr = unsupported("EfaDVDeviceAttr", __name__)
EfaDVAHAttr = unsupported("EfaDVAHAttr", __name__)
EfaAH = unsupported("EfaAH", __name__)
SRDQP = unsupported("SRDQP", __name__)
EfaQPInitAttr = unsupported("EfaQPInitAttr", __name__)
SRDQPEx = unsupported("SRDQPEx", __name__)
EfaDVCQInitAttr = unsupported("EfaDVCQInitAttr", __name__)
EfaCQ = unsupported("EfaCQ", __name__)
dev_cap_to_str = not_supported
bitmask_to_str = not_supported
