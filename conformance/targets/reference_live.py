"""`reference-live`: the reference live trustee, served and driven in this process over the emulated NIC.

The reference trustee machine of `peers/reference_trustee.py` (`Server`: the reference runtime
behind the TCP bootstrap of section 10) listens on a loopback port, on its own nic_emu fabric, and
the suite reaches it exactly as it reaches a trustee under test on real RDMA: `live:HOST:PORT`
(`LiveTarget`), one bootstrap connection and one session per case, its hello checked first
([ADPT-12], [ADPT-13]). Nothing runs in another thread or process: the server has no thread of its
own and the target runs its `poll` while it waits (`pump`), so a run is deterministic and a
forked child of the mutation tool (`python -m conformance.mutation run --target reference-live`)
runs the whole bootstrap of a mutant: `accept_hello`, `check_rdma` and the stream reader of
`gossamer/bootstrap.py` are reached only this way (the default target hands the reference trustee
its hello as bytes, without the bootstrap connection).

Only the trustee ops run (`land`, `execute`, `nic_*`); codec ops answer UNSUPPORTED and are
skipped. The fallback timeout is 250 ms ([FB-5], announced in the hello), as on the default target,
so that the timeout cases stay quick.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gossamer.slot import SlotConfig

from ..model import Outcome
from ..peers.reference_trustee import Server
from .live import LiveTarget

#: the fabric's seed: the same every run (nic_emu's losses and orders come from it)
SEED = 7


class ReferenceLiveTarget:
    name = "reference-live"

    def __init__(self, timeout: float = 5.0) -> None:
        import nic_emu
        from nic_emu.provider import verbs

        self.fabric = nic_emu.Fabric(seed=SEED, machines=2)
        self._prev = nic_emu.set_fabric(self.fabric)  # the suite's verbs peer on emu1 joins this fabric
        self.server: Server | None = None
        self.live: LiveTarget | None = None
        try:
            self.server = Server(verbs("emu"), "emu0", fabric=self.fabric, config=SlotConfig(fallback_timeout_ms=250))
            self.live = LiveTarget(f"127.0.0.1:{self.server.port}", device="emu1", pump=self.server.poll,
                                   timeout=timeout)
        except BaseException:
            self.close()
            raise

    @property
    def capabilities(self) -> frozenset[str]:
        assert self.live is not None
        return self.live.capabilities

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        assert self.live is not None
        return self.live.call(op, args)

    def close(self) -> None:
        import nic_emu

        try:
            if self.live is not None:
                self.live.close()
        finally:
            self.live = None
            if self.server is not None:
                self.server.close()
                self.server = None
            nic_emu.set_fabric(self._prev)
