"""pyverbs.dmabuf: dmabuf allocation (no GPU behind the emulated device: EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

DmaBuf = unsupported("DmaBuf", __name__)
