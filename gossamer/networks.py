"""Where the runtime's `Network` comes from (gossamer.runtime.network): `emulated(...)` over the
nic_emu fabric and `on_verbs(...)` over real pyverbs (Soft-RoCE, hardware).

This is the composition root: the one module of `gossamer` that names the emulator. The runtime
package itself asks its `Network` for everything (the verbs namespace, MR views, whether traffic
is pending) and imports no emulator module; `from_arguments` turns `Rack`'s keyword arguments
(`verbs=`, `fabric=`, `devices=`, `lag=`) into a network, with the emulator as the default.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nic_emu import fabric as emu_fabric
from nic_emu import procwire
from nic_emu.connect import connect_rc
from nic_emu.provider import mr_view, roce_v2_gid_index
from nic_emu.provider import verbs as load_verbs


class _VerbsBase:
    """The parts both networks share: the pyverbs helpers, written against the pyverbs API."""

    verbs: Any
    fabric: Any = None
    settles = False

    def view(self, mr: Any) -> memoryview:
        return mr_view(mr)

    def gid_index(self, device: str) -> int:
        return roce_v2_gid_index(device)

    def connect_rc(self, qp: Any, **attrs: Any) -> None:
        connect_rc(self.verbs, qp, **attrs)


class EmulatedNetwork(_VerbsBase):
    """A rack on the nic_emu fabric: deterministic, seeded, with fault injection (`fabric`)."""

    settles = True

    def __init__(self, fabric: emu_fabric.Fabric, verbs: Any = None) -> None:
        self.verbs = verbs if verbs is not None else load_verbs("emu")
        self.fabric = fabric

    def device_names(self, machines: int) -> list[str]:
        return [m.name for m in self.fabric.machines]

    def counters(self, ctx: Any) -> Any:
        return ctx.machine.counters()

    def busy(self) -> bool:
        return bool(self.fabric.pending)

    @contextmanager
    def activate(self) -> Iterator[Any]:
        with emu_fabric.use_fabric(self.fabric) as f:
            yield f

    def releases_on_collect(self) -> bool:
        return False


class VerbsNetwork(_VerbsBase):
    """A rack on real verbs: `GOSSAMER_DEVICES` (comma-separated) or every device of the host."""

    def __init__(self, verbs: Any = None, devices: list[str] | None = None) -> None:
        self.verbs = verbs if verbs is not None else load_verbs("pyverbs")
        self.devices = devices

    def device_names(self, machines: int) -> list[str]:
        """Two machines on one device are two contexts, each with its own PD, region and QPs,
        connected through the device's loopback like any other pair (the Soft-RoCE guest has
        rxe0 and rxe1, and the tests run racks of three machines)."""
        names = list(self.devices or ())
        if not names:
            names = [n for n in os.environ.get("GOSSAMER_DEVICES", "").split(",") if n]
        if not names:
            names = [d.name.decode() for d in self.verbs.device.get_device_list()]
        if not names:
            raise ValueError("no RDMA device found (GOSSAMER_VERBS=pyverbs needs one, e.g. rxe0)")
        return [names[m % len(names)] for m in range(machines)]

    def counters(self, ctx: Any) -> Any:
        return None

    def busy(self) -> bool:
        return False

    @contextmanager
    def activate(self) -> Iterator[Any]:
        yield None

    def releases_on_collect(self) -> bool:
        return True


def emulated(*, seed: int = 0, machines: int = 1, lag: float = 0.0) -> EmulatedNetwork:
    """A fresh emulated fabric of `machines` NICs (emu0, emu1, ...)."""
    return EmulatedNetwork(emu_fabric.Fabric(seed=seed, machines=machines, lag=lag))


def on_verbs(devices: list[str] | None = None) -> VerbsNetwork:
    """Real pyverbs on `devices` (default: `GOSSAMER_DEVICES`, else every device of the host)."""
    return VerbsNetwork(devices=devices)


class _Devices(EmulatedNetwork):
    """An emulated network whose devices are named by the caller (a rack hosting one machine of
    a two-machine session on a given emulated device)."""

    def __init__(self, fabric: Any, verbs: Any, devices: list[str]) -> None:
        super().__init__(fabric, verbs)
        self.devices = devices

    def device_names(self, machines: int) -> list[str]:
        return list(self.devices)


def from_arguments(*, verbs: Any = None, fabric: Any = None, devices: list[str] | None = None,
                   seed: int = 0, machines: int = 1, lag: float = 0.0) -> EmulatedNetwork | VerbsNetwork:
    """The network `Rack(verbs=, fabric=, devices=, lag=)` asks for: the provider chosen by
    `GOSSAMER_VERBS` unless `verbs` is given; on the emulator, `fabric` or a new one."""
    v = verbs if verbs is not None else load_verbs()
    # the emulator's namespace is a loaded module when `v` is it: asking sys.modules (not
    # importing it) keeps a rack on real pyverbs from loading the emulator's facade
    if v is not sys.modules.get("nic_emu.pyverbs"):
        return VerbsNetwork(v, devices)
    if fabric is None:
        fabric = emu_fabric.Fabric(seed=seed, machines=machines, lag=lag)
    if devices is not None:
        return _Devices(fabric, v, devices)
    return EmulatedNetwork(fabric, v)


class ProcessWireNetwork(EmulatedNetwork):
    """One machine of a rack of processes on one host, on the emulator: this process's fabric
    holds every machine, its own real and the others stand-ins reached over a socket wire
    (`nic_emu.procwire`: RC messages as Unix datagrams, as rxe carries RoCE in UDP)."""

    settles = False  # the other processes' messages arrive in real time

    def __init__(self, fabric: emu_fabric.Fabric, wire: procwire.SocketWire, device: str) -> None:
        super().__init__(fabric)
        self.wire = wire
        self.device = device
        #: work this process waits for in another one (a fiber spawned there): not a deadlock
        self.pending_elsewhere: Callable[[], bool] = lambda: False

    def device_names(self, machines: int) -> list[str]:
        return [self.device]

    def busy(self) -> bool:
        """Nothing ran this round: wait a little for the other processes' traffic instead of
        spinning (True when some arrived)."""
        return self.wire.wait(0.0005) or self.pending_elsewhere()

    def close(self) -> None:
        self.wire.close()


class ProcessVerbsNetwork(VerbsNetwork):
    """One machine of a rack of processes on real verbs (rxe, RoCE hardware): machine `m` uses the
    `m`-th device (round-robin) of `devices`, `GOSSAMER_DEVICES` or the host's list, so that the
    processes of a rack on one host with rxe0 and rxe1 alternate between them."""

    def __init__(self, verbs: Any, devices: list[str] | None, machine: int) -> None:
        super().__init__(verbs, devices)
        self.machine = machine
        #: work this process waits for in another one (a fiber spawned there): not a deadlock
        self.pending_elsewhere: Callable[[], bool] = lambda: False

    def device_names(self, machines: int) -> list[str]:
        names = super().device_names(self.machine + 1)
        return [names[self.machine]]

    def gid_index(self, device: str) -> int:
        """`GOSSAMER_GID_INDEX` when set (a host whose RoCE v2 address is not the first IPv4-mapped
        entry of its GID table), else the RoCE v2 IPv4-mapped entry the device's table shows."""
        forced = os.environ.get("GOSSAMER_GID_INDEX")
        return int(forced) if forced else super().gid_index(device)

    def busy(self) -> bool:
        time.sleep(0.0002)  # nothing ran this round: yield the core to the other processes
        return self.pending_elsewhere()

    def close(self) -> None:
        pass


def for_process(*, machine: int, machines: int, wire_dir: str | None, devices: list[str] | None = None,
                seed: int = 0) -> ProcessWireNetwork | ProcessVerbsNetwork:
    """The network of machine `machine` of a rack of `machines` processes: real verbs when
    `GOSSAMER_VERBS=pyverbs` (its device: `devices` or `GOSSAMER_DEVICES`, else the host's first),
    otherwise the emulator joined to the other processes through the socket wire in `wire_dir`."""
    v = load_verbs()
    if v is not sys.modules.get("nic_emu.pyverbs"):
        return ProcessVerbsNetwork(v, devices, machine)
    if wire_dir is None:
        raise ValueError("a rack of processes on the emulator needs a wire directory (GOSSAMER_EMU_WIRE)")
    fabric = emu_fabric.Fabric(seed=seed, machines=machines)
    wire = procwire.join(fabric, wire_dir, machine)
    return ProcessWireNetwork(fabric, wire, fabric.machines[machine].name)
