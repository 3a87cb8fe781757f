"""pyverbs.xrcd: XRC domains (not modelled, as on rxe: EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

XRCD = unsupported("XRCD", __name__)
XRCDInitAttr = unsupported("XRCDInitAttr", __name__)
