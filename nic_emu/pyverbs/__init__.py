"""The pyverbs API over the emulated NIC; same module layout, names and signatures as pyverbs.

Import submodules as with pyverbs (``from nic_emu.pyverbs.qp import QP``), or make this package
``pyverbs`` itself with ``nic_emu.provider.install_as_pyverbs()``.
"""

__version__ = "44.0+nic_emu"
