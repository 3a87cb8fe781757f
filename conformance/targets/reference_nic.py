"""The default target: the reference implementation, its trustee cases on the emulated NIC.

Codec ops are answered by `gossamer/` in process (`ReferenceTarget`); the trustee ops (`land`,
`execute`, `nic_*`) go through real request slots: a `VerbsPeer` drives the reference runtime's
trustee (`gossamer.runtime`, served by `conformance.peers.reference_trustee.ReferenceTrustee`) on a
nic_emu fabric in this process ([ADPT-12]), fallback frames over real loopback TCP ([FB-8]). An
`execute` case the verbs driver could not run would run on the sans-I/O trustee instead and be
counted in `sansio_fallbacks` (none does today), so no case is skipped on the reference.
The client cases (`client_run`, [ADPT-14]) run against the reference client in this process, the
suite playing the trustee machine (`client_role.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gossamer.slot import SlotConfig

from ..model import Outcome
from ..oracle.bootstrap import Hello, Reader
from ..peers.reference_trustee import ReferenceTrustee
from ..peers.suite_client import VerbsPeer
from .client_role import CLIENT_OPS, ClientRoleTarget
from .reference import ReferenceTarget
from .sessions import Session
from .verbs import OPS, VerbsTrusteeTarget


class ReferenceNicTarget:
    name = "reference"

    def __init__(self) -> None:
        self.codec = ReferenceTarget()
        self.verbs = VerbsTrusteeTarget("reference", self._session)
        self.verbs.bootstrap_endpoint = self._bootstrap_endpoint
        self._server: Any = None
        self.sansio_fallbacks: list[str] = []
        self._seed = 0
        self._client: ClientRoleTarget | None = None

    @property
    def client(self) -> ClientRoleTarget:
        """The client role ([ADPT-14]): the reference client in this process, opened on first use."""
        if self._client is None:
            self._client = ClientRoleTarget.in_process()
        return self._client

    def _session(self, placement: str, fallback_secret: bool = True) -> Session:
        self._seed += 1
        return EmulatedReferenceSession(placement, seed=self._seed, fallback_secret=fallback_secret)

    def _bootstrap_endpoint(self) -> tuple[str, int, Any, float]:
        """`nic_bootstrap`: the reference's bootstrap listener (`reference_trustee.Server` on its own
        emulated fabric, served in this process), reached over loopback TCP like a live trustee."""
        if self._server is None:
            import nic_emu
            from nic_emu.provider import verbs

            from ..peers.reference_trustee import Server

            self._server = Server(verbs("emu"), "emu0", fabric=nic_emu.Fabric(seed=0, machines=2))
        return "127.0.0.1", self._server.port, self._server.poll, 5.0

    @property
    def capabilities(self) -> frozenset[str]:
        return self.codec.capabilities | OPS | CLIENT_OPS

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        if op in CLIENT_OPS:
            return self.client.call(op, args)
        if op not in OPS:
            return self.codec.call(op, args)
        got = self.verbs.call(op, args)
        if got.get("error") == "UNSUPPORTED" and op in self.codec.capabilities:
            self.sansio_fallbacks.append(op)
            return self.codec.call(op, args)
        return got

    def close(self) -> None:
        self.codec.close()
        self.verbs.close()
        if self._server is not None:
            self._server.close()
        if self._client is not None:
            self._client.close()


class EmulatedReferenceSession:
    """The reference runtime as a trustee on its own emulated fabric, in this process.

    The hellos cross as encoded bytes, exactly as over TCP; `pump` runs one round of the
    runtime's pollers, since the emulated fabric moves only inside verbs calls.
    """

    timeout = 5.0
    fallback_host = "127.0.0.1"

    def __init__(self, placement: str = "default", threads: int = 2, seed: int = 0,
                 fallback_timeout_ms: int = 250, fallback_secret: bool = True) -> None:
        import nic_emu
        from nic_emu.provider import verbs

        v = verbs("emu")
        pl = nic_emu.fabric.Placement(model="any", chunk=8) if placement == "any" else None
        self.placement = "any" if placement == "any" else "whole"
        self.fabric = nic_emu.Fabric(seed=seed, machines=2, placement=pl)
        # a short fallback timeout ([FB-5], announced in the hello) keeps the timeout cases quick
        self.server = ReferenceTrustee(v, "emu0", threads=threads, fabric=self.fabric, seed=seed,
                                       config=SlotConfig(fallback_timeout_ms=fallback_timeout_ms))
        self.hello_map = Reader().feed(self.server.hello())[0]
        hello = Hello.from_map(self.hello_map)  # the suite reads the reference's hello with its oracle
        prev = nic_emu.set_fabric(self.fabric)
        try:
            self.peer = VerbsPeer(v, "emu1", hello, fallback_secret=fallback_secret)  # [SEC-6]
            self.server.connect(self.peer.hello().encode())
            self.peer.connect()
        finally:
            nic_emu.set_fabric(prev)
        self.peer.open_fallback(self.fallback_host)  # [FB-8] before the first batch

    def pump(self) -> object:
        return self.server.step()

    def close(self) -> None:
        self.peer.close()
        self.server.close()
