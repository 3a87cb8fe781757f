"""pyverbs.dma_util: MMIO and DMA barriers (no device registers to write: EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import not_supported

udma_to_dev_barrier = not_supported
udma_from_dev_barrier = not_supported
mmio_write64_as_be = not_supported
mmio_write32_as_be = not_supported
