"""nic_emu: an in-process RDMA NIC emulator that speaks the pyverbs API.

The verbs themselves live in ``nic_emu.pyverbs`` (laid out like pyverbs); the fabric of machines
that they run on, its seed and its faults are in ``nic_emu.fabric``; the switch between the
emulator and real pyverbs is ``nic_emu.provider``.  See ``nic_emu/README.md``.

The emulator's names (``nic_emu.Fabric``, ``nic_emu.use_fabric``, ...) are imported on first use
(PEP 562 module ``__getattr__``): the emulator needs attrs, and ``python -m nic_emu.softroce
prepare``, which installs attrs on a fresh machine, must be able to import this package first.
``nic_emu.provider`` needs only the standard library and is imported eagerly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nic_emu.provider import install_as_pyverbs, mr_view, verbs

if TYPE_CHECKING:
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

#: name -> the module that defines it, imported when the name is first looked up
_LAZY = dict.fromkeys(
    ("Fabric", "FaultPlan", "Machine", "NicCounters", "QPCounters", "current_fabric", "qp_counters",
     "set_fabric", "use_fabric"),
    "nic_emu.fabric",
)
_SUBMODULES = frozenset({"constants", "errors", "fabric", "transport", "qp_states", "pyverbs",
                         "provider", "softroce", "rdma_core_tests"})

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:  # `import nic_emu; nic_emu.fabric.Placement` as before
        return importlib.import_module(f"nic_emu.{name}")
    raise AttributeError(f"module 'nic_emu' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
