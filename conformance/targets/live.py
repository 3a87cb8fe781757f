"""A live peer over verbs ([ADPT-12]): a trustee under test reached by the TCP bootstrap.

`live:HOST:PORT` connects to the trustee's bootstrap port once per case, exchanges the hellos of
section 10 ([BOOT-5] .. [BOOT-9]) and drives it with crafted batch images through a `VerbsPeer` on
the local device (`--device`, GID index `--gid-index`), over `nic_emu.provider.verbs()`: real
pyverbs when `GOSSAMER_VERBS=pyverbs`. Only the trustee ops run; codec ops answer UNSUPPORTED
(check a codec with an adapter, SPEC.md section 11), so they are skipped, never passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..model import Outcome
from .verbs import OPS, Session, TcpSession, VerbsTrusteeTarget


class LiveTarget:
    def __init__(self, address: str, device: str | None = None, gid_index: int = 1, timeout: float = 10.0,
                 pump: Callable[[], object] | None = None) -> None:
        """`pump`: for a trustee in this same process (tests on the emulated NIC), its step."""
        from nic_emu.provider import verbs

        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"live target {address!r}: expected HOST:PORT")
        self.host, self.port = host, int(port)
        self.v = verbs()
        if device is None:
            devs = self.v.device.get_device_list()
            if not devs:
                raise RuntimeError("no verbs device (use --device; real RDMA needs GOSSAMER_VERBS=pyverbs)")
            d = devs[0].name
            device = d.decode() if isinstance(d, bytes) else str(d)
        self.device = device
        self.gid_index = gid_index
        self.timeout = timeout
        self.pump = pump
        self.name = f"live:{address} via {device}"
        self.verbs = VerbsTrusteeTarget(self.name, self._session)
        probe = self._session("default")  # fail at open time, not case by case, when nobody listens
        probe.close()

    def _session(self, placement: str) -> Session:
        return TcpSession(self.host, self.port, self.v, self.device, self.gid_index, self.timeout, self.pump)

    @property
    def capabilities(self) -> frozenset[str]:
        return OPS

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        return self.verbs.call(op, args)

    def close(self) -> None:
        self.verbs.close()
