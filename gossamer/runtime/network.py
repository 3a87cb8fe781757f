"""The runtime's only seam to the NIC: a `Network` (the verbs namespace plus what the runtime may
ask of the fabric under it).

The runtime never names an emulator module, never tests a module's name and never reads a
private attribute of the fabric: it asks its `Network`. The two constructors live outside the
runtime package, in `gossamer.networks` (`emulated(...)` over the emulator, `on_verbs(...)` over real
pyverbs), the one module of `gossamer` that names the emulator.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol


class Network(Protocol):
    """What the rack and `MachineNet` need from the NIC layer."""

    #: the pyverbs namespace (`device`, `pd`, `mr`, `cq`, `qp`, `wr`, `enums`, `pyverbs_error`)
    verbs: Any
    #: True when the network moves only inside verbs calls (the emulated fabric): a rack with
    #: nothing to run and `busy()` False will never progress. False on real verbs, where the
    #: network takes real time and idleness is judged by the clock.
    settles: bool
    #: the emulated fabric (fault injection in tests), None on real verbs
    fabric: Any

    def device_names(self, machines: int) -> list[str]:
        """One device name per local machine (reused round-robin when the host has fewer)."""
        ...

    def view(self, mr: Any) -> memoryview:
        """A writable memoryview over a registered MR's bytes."""
        ...

    def gid_index(self, device: str) -> int:
        """The GID index to use for RoCE v2 on `device`."""
        ...

    def connect_rc(self, qp: Any, **attrs: Any) -> None:
        """Bring an RC QP through INIT, RTR and RTS to the given destination."""
        ...

    def counters(self, ctx: Any) -> Any:
        """NIC counters of a device context (`qps_open`, ...), or None when the NIC has none."""
        ...

    def busy(self) -> bool:
        """Traffic is queued or in flight in the network itself."""
        ...

    def activate(self) -> AbstractContextManager[Any]:
        """While active, verbs objects created are this network's (the emulator's current
        fabric); a no-op on real verbs."""
        ...

    def releases_on_collect(self) -> bool:
        """True when a `MachineNet` must close its verbs objects itself before garbage
        collection tears them down in any order (real pyverbs segfaults otherwise)."""
        ...

