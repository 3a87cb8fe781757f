"""A live peer over verbs ([ADPT-12]): a trustee under test reached by the TCP bootstrap.

`live:HOST:PORT` connects to the trustee's bootstrap port once per case, exchanges the hellos of
section 10 ([BOOT-5] .. [BOOT-9]) and drives it with crafted batch images through a `VerbsPeer` on
the local device (`--device`, GID index `--gid-index`), over `nic_emu.provider.verbs()`: real
pyverbs when `GOSSAMER_VERBS=pyverbs`. Only the trustee ops run; codec ops answer UNSUPPORTED
(check a codec with an adapter, SPEC.md section 11), so they are skipped, never passed.

Opening the target is itself a check ([ADPT-12], [ADPT-13]): the trustee's hello must pass
`live_hello.check_trustee_hello` (else `HelloViolation`, exit 1), its `T`, `S` and `K` must be
those the catalogue drives (else `Undrivable`, exit 2: never a run passed with the cases skipped),
and one opening batch must come back with a proper immediate (else `LiveViolation`, exit 1,
naming a byte-swapped immediate, [GEN-1]).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..cases._wire import batch, req_entry
from ..catalogue_closures import NOP
from ..live_hello import LiveViolation, check_drivable
from ..model import Outcome
from ..peers.suite_client import bswap32
from .sessions import Session
from .verbs import OPS, TcpSession, VerbsTrusteeTarget


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
        self.verbs.bootstrap_endpoint = lambda: (self.host, self.port, self.pump, self.timeout)
        # fail at open time, not case by case: nobody listens, a hello that breaks section 10
        # (HelloViolation), a T, S or K the catalogue cannot drive (Undrivable), immediates the
        # trustee reads or writes byte-swapped (LiveViolation)
        probe = self._session("default")
        try:
            check_drivable(probe.hello_map)  # type: ignore[attr-defined]
            self.probe(probe)
        finally:
            probe.close()

    def probe(self, s: Session) -> None:
        """One batch through slot (0, 0) before any case: a trustee that never answers, or one
        that reads or writes the immediate byte-swapped ([GEN-1]), is told so now, in seconds,
        instead of by a time-out in every case."""
        peer = s.peer
        image = batch(1, [NOP.id], [req_entry(0xDEAD_0000_0000, 0)])
        slot, rslot = peer.request_slots[0][0], peer.response_slot(0, 0)
        imm = (slot << 16) | 1
        peer.write(0, 0, image, imm)
        got = peer.wait(rslot, min(self.timeout, 3.0), s.pump)
        resent = False
        if got is None:  # the same bytes again, the immediate as htonl() would have sent it
            peer.write(0, 0, image, bswap32(imm))
            resent = True
            got = peer.wait(rslot, self.timeout, s.pump)
        if got is None:
            raise LiveViolation(
                f"the trustee answered no batch within {min(self.timeout, 3.0) + self.timeout:.0f} s: not the "
                f"opening batch in slot {slot} (immediate {imm:#010x}), nor the same batch sent again with the "
                f"immediate byte-swapped ({bswap32(imm):#010x}) ([FLOW-2]; see [GEN-1], [LAND-2])")
        if resent and got.swapped:
            raise LiveViolation(
                f"immediate byte-swapped: the trustee ignored the batch whose immediate was {imm:#010x} and "
                f"answered the same batch sent with {bswap32(imm):#010x}, its response immediate {got.imm:#010x} "
                "byte-swapped too: it reads and writes immediates big-endian (htonl()/ntohl()). [GEN-1] makes "
                "the immediate little-endian; libibverbs declares imm_data __be32, so assign it without htonl()")
        if got.swapped:
            raise LiveViolation(peer.imm_faults[-1])
        # answered with a proper immediate after the resend: a slow trustee (it ignores an
        # immediate naming no slot of its own, [ERR-1]); nothing tells the two batches apart

    def _session(self, placement: str, fallback_secret: bool = True) -> Session:
        return TcpSession(self.host, self.port, self.v, self.device, self.gid_index, self.timeout, self.pump,
                          fallback_secret=fallback_secret)

    @property
    def capabilities(self) -> frozenset[str]:
        return OPS

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        return self.verbs.call(op, args)

    def close(self) -> None:
        self.verbs.close()
