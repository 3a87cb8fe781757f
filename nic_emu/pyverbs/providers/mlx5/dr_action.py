"""pyverbs.providers.mlx5.dr_action: mlx5 only; the emulated device is not an mlx5."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

DrAction = unsupported("DrAction", __name__)
DrActionQp = unsupported("DrActionQp", __name__)
DrActionFlowCounter = unsupported("DrActionFlowCounter", __name__)
DrActionDrop = unsupported("DrActionDrop", __name__)
DrActionModify = unsupported("DrActionModify", __name__)
DrActionTag = unsupported("DrActionTag", __name__)
DrActionDestTable = unsupported("DrActionDestTable", __name__)
DrActionPopVLan = unsupported("DrActionPopVLan", __name__)
DrActionPushVLan = unsupported("DrActionPushVLan", __name__)
DrActionDestAttr = unsupported("DrActionDestAttr", __name__)
DrActionDestArray = unsupported("DrActionDestArray", __name__)
DrActionDefMiss = unsupported("DrActionDefMiss", __name__)
DrActionVPort = unsupported("DrActionVPort", __name__)
DrActionIBPort = unsupported("DrActionIBPort", __name__)
DrActionDestTir = unsupported("DrActionDestTir", __name__)
DrActionPacketReformat = unsupported("DrActionPacketReformat", __name__)
DrFlowSamplerAttr = unsupported("DrFlowSamplerAttr", __name__)
DrActionFlowSample = unsupported("DrActionFlowSample", __name__)
