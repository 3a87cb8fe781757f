"""pyverbs.flow: flow steering (not modelled: EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Flow = unsupported("Flow", __name__)
FlowAttr = unsupported("FlowAttr", __name__)
FlowAction = unsupported("FlowAction", __name__)
