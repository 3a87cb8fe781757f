"""Run the Soft-RoCE runner without importing ``nic_emu/__init__.py``.

``python -m nic_emu.softroce`` imports the parent package first, and that imports the emulator,
which needs attrs: on a fresh machine, before ``prepare`` has installed anything, use

    python3 nic_emu/softroce/standalone.py prepare     (same arguments as python -m ...)

It registers a bare ``nic_emu`` package (its __init__ not run) and calls the same main().
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path.pop(0)  # the script's folder would shadow nothing, but keep sys.path clean
    pkg_dir = here.parent
    if "nic_emu" not in sys.modules:
        bare = types.ModuleType("nic_emu")
        bare.__path__ = [str(pkg_dir)]
        sys.modules["nic_emu"] = bare
    cli = importlib.import_module("nic_emu.softroce.__main__")
    result: int = cli.main(sys.argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main())
