"""The one switch between the emulator and real pyverbs.

``verbs()`` returns the namespace code imports verbs from: ``nic_emu.pyverbs`` by default, the
real ``pyverbs`` package when ``GOSSAMER_VERBS=pyverbs``.  Both have the same submodules
(``device``, ``pd``, ``mr``, ``cq``, ``qp``, ``wr``, ``addr``, ``enums``, ``pyverbs_error``), so
code written as ``v = verbs(); v.qp.QP(...)`` runs on either.  ``install_as_pyverbs()`` goes one
step further and makes ``import pyverbs.qp`` itself resolve to the emulator (for code, such as
rdma-core's own tests, that imports ``pyverbs`` by name).

``mr_view(mr)`` is the portable way to touch registered memory directly: a writable memoryview
over the MR's bytes (the emulator's buffer, or ctypes over ``mr.buf`` on real verbs).
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

ENV_VAR = "GOSSAMER_VERBS"
_SUBMODULES = ("pyverbs_error", "enums", "libibverbs_enums", "base", "addr", "device", "pd",
               "mr", "cq", "wr", "qp", "srq")


def provider_name() -> str:
    """``"emu"`` or ``"pyverbs"``, from ``GOSSAMER_VERBS`` (default ``emu``)."""
    name = os.environ.get(ENV_VAR, "emu").strip().lower() or "emu"
    if name not in ("emu", "pyverbs"):
        raise ValueError(f"{ENV_VAR} must be 'emu' or 'pyverbs', not {name!r}")
    return name


def verbs(name: str | None = None) -> ModuleType:
    """The verbs namespace (a package whose submodules mirror pyverbs')."""
    name = name or provider_name()
    if name == "pyverbs":
        pkg = importlib.import_module("pyverbs")
        for sub in ("pyverbs_error", "enums", "addr", "device", "pd", "mr", "cq", "wr", "qp",
                    "srq"):
            importlib.import_module(f"pyverbs.{sub}")
        return pkg
    pkg = importlib.import_module("nic_emu.pyverbs")
    for sub in _SUBMODULES:
        importlib.import_module(f"nic_emu.pyverbs.{sub}")
    return pkg


def is_emulated() -> bool:
    return provider_name() == "emu"


class _PyverbsAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves any ``pyverbs.X.Y`` to the module object ``nic_emu.pyverbs.X.Y`` (one module,
    two names: classes stay identical, so ``isinstance`` works whichever name code imports)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("pyverbs."):
            return None
        target_name = "nic_emu." + fullname
        if importlib.util.find_spec(target_name) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=False)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module("nic_emu." + spec.name)

    def exec_module(self, module: ModuleType) -> None:
        """Already executed under its nic_emu name."""


def install_as_pyverbs() -> None:
    """Make ``import pyverbs`` / ``from pyverbs.qp import QP`` resolve to the emulator.

    Every submodule of ``nic_emu.pyverbs`` (``cmid``, ``srq``, ``providers.mlx5.mlx5dv``, ...)
    becomes importable as ``pyverbs.<name>``.
    """
    pkg = verbs("emu")
    sys.modules["pyverbs"] = pkg
    for sub in _SUBMODULES:
        sys.modules[f"pyverbs.{sub}"] = sys.modules[f"nic_emu.pyverbs.{sub}"]
    if not any(isinstance(f, _PyverbsAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, _PyverbsAlias())


#: where Linux lists a device's GIDs and their types (rdma-core's ``ibv_query_gid_type`` reads it)
SYSFS_IB = "/sys/class/infiniband"


def roce_v2_gid_index(device: str, port: int = 1, *, sysfs: str = SYSFS_IB) -> int:
    """The GID index to use for RoCE v2 on ``device``: the first entry whose type is "RoCE v2"
    and whose GID is an IPv4-mapped address (``::ffff:a.b.c.d``), else the first "RoCE v2" entry
    at all, else 1.

    On rxe, index 0 is the link-local RoCE v1 GID and index 1 the IPv4-mapped RoCE v2 one, but
    the table follows the netdev's addresses (an IPv6 address added later takes more entries), so
    real devices are asked through sysfs. The emulator's table is rxe's fixed layout: 1.
    """
    if device.startswith("emu") or not os.path.isdir(f"{sysfs}/{device}"):
        return 1
    types_dir = f"{sysfs}/{device}/ports/{port}/gid_attrs/types"
    any_v2: int | None = None
    try:
        entries = sorted(int(n) for n in os.listdir(types_dir) if n.isdigit())
    except OSError:
        return 1
    for i in entries:
        try:
            with open(f"{types_dir}/{i}") as f:
                kind = f.read().strip()
            with open(f"{sysfs}/{device}/ports/{port}/gids/{i}") as f:
                gid = f.read().strip()
        except OSError:  # unused entries raise EINVAL on read
            continue
        if kind.lower() != "roce v2" or gid.replace(":", "").strip("0") == "":
            continue
        if gid.startswith("0000:0000:0000:0000:0000:ffff:"):
            return i
        if any_v2 is None:
            any_v2 = i
    return 1 if any_v2 is None else any_v2


def mr_view(mr: Any) -> memoryview:
    """A writable memoryview of the MR's registered bytes, on either provider."""
    region = getattr(mr, "nic_mr", None)  # nic_emu: the NIC's Region of the MR
    if region is not None:
        start = region.base - region.abase
        view: memoryview = region.view[start : start + mr.length]
        return view
    buf = (ctypes.c_char * mr.length).from_address(mr.buf)
    return memoryview(buf).cast("B")
