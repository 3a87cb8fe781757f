"""pyverbs.cmid: rdma_cm identifiers.

Not modelled yet: rdma-core's rdma_cm tests need the device's net interface
(``/sys/class/infiniband/<dev>/device/net``), which an emulated device does not have, so they
skip before creating any of these (as they do on rxe, whose device has no such folder)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

ConnParam = unsupported("ConnParam", __name__)
JoinMCAttrEx = unsupported("JoinMCAttrEx", __name__)
UDParam = unsupported("UDParam", __name__)
AddrInfo = unsupported("AddrInfo", __name__)
CMEvent = unsupported("CMEvent", __name__)
CMEventChannel = unsupported("CMEventChannel", __name__)
CMID = unsupported("CMID", __name__)
