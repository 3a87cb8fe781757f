"""nic_emu: an in-process RDMA NIC emulator that speaks the pyverbs API.

The verbs themselves live in ``nic_emu.pyverbs`` (laid out like pyverbs); the fabric of machines
that they run on, its seed and its faults are in ``nic_emu.fabric``; the switch between the
emulator and real pyverbs is ``nic_emu.provider``.  See ``nic_emu/README.md``.
"""

from nic_emu.fabric import (
    Fabric,
    FaultPlan,
    Machine,
    NicCounters,
    QPCounters,
    current_fabric,
    qp_counters,
    set_fabric,
    use_fabric,
)
from nic_emu.provider import install_as_pyverbs, mr_view, verbs

__all__ = [
    "Fabric",
    "FaultPlan",
    "Machine",
    "NicCounters",
    "QPCounters",
    "current_fabric",
    "install_as_pyverbs",
    "mr_view",
    "qp_counters",
    "set_fabric",
    "use_fabric",
    "verbs",
]
