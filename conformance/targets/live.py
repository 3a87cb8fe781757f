"""A live peer over verbs ([ADPT-12]): not implemented yet.

What it needs: the suite's own RC QP and response slots (pyverbs), the TCP bootstrap of section 10
(`gossamer.bootstrap.Hello` already encodes and validates it), and a real RDMA device, which on this
machine exists only inside the Soft-RoCE QEMU guest of `nic_emu/softroce/`. Until then the `nic_*`
cases are skipped on every target, never passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Outcome


class LiveTarget:
    name = "live"

    def __init__(self, address: str) -> None:
        raise RuntimeError(
            f"live target {address!r}: driving a peer over real RDMA is not implemented yet "
            "(needs pyverbs and a Soft-RoCE/RoCE device; see conformance/targets/live.py)"
        )

    @property
    def capabilities(self) -> frozenset[str]:  # pragma: no cover - never constructed
        return frozenset()

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:  # pragma: no cover
        return {"error": "UNSUPPORTED"}

    def close(self) -> None:  # pragma: no cover
        pass
