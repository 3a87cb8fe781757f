"""pyverbs.wq: work queues and RSS indirection tables (not modelled: EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

WQ = unsupported("WQ", __name__)
WQInitAttr = unsupported("WQInitAttr", __name__)
WQAttr = unsupported("WQAttr", __name__)
RwqIndTable = unsupported("RwqIndTable", __name__)
RwqIndTableInitAttr = unsupported("RwqIndTableInitAttr", __name__)
RxHashConf = unsupported("RxHashConf", __name__)
