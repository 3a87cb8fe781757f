"""pyverbs.srq: shared receive queues (not modelled: SRQ creation fails with EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

SRQ = unsupported("SRQ", __name__)
SrqInitAttr = unsupported("SrqInitAttr", __name__)
SrqInitAttrEx = unsupported("SrqInitAttrEx", __name__)
SrqAttr = unsupported("SrqAttr", __name__)
OpsWr = unsupported("OpsWr", __name__)
