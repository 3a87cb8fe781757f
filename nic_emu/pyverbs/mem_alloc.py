"""pyverbs.mem_alloc: raw memory for MRs registered by address.

On nic_emu the process's memory is the memory of the machine it runs on: the first machine of
the current fabric (the only one in rdma-core's suite).  Addresses are ints, as in pyverbs, and
an MR can be registered over them (``MR(pd, length, access, address=...)``).  Huge pages are not
modelled (``MAP_HUGETLB_`` fails with ``MemoryError``, as mmap does without reserved huge pages).
"""

from __future__ import annotations

import mmap as _mm
import struct

from nic_emu.fabric import current_fabric
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError

PROT_EXEC_ = _mm.PROT_EXEC
PROT_READ_ = _mm.PROT_READ
PROT_WRITE_ = _mm.PROT_WRITE
PROT_NONE_ = 0
MAP_PRIVATE_ = _mm.MAP_PRIVATE
MAP_SHARED_ = _mm.MAP_SHARED
MAP_FIXED_ = 0x10
MAP_ANONYMOUS_ = _mm.MAP_ANONYMOUS
MAP_STACK_ = 0x20000
MAP_LOCKED_ = 0x2000
MAP_HUGETLB_ = 0x40000
MAP_POPULATE_ = 0x8000
MAP_NORESERVE_ = 0x4000
MAP_GROWSDOWN_ = 0x100


def _alloc(length: int) -> int:
    machines = current_fabric().machines
    if not machines:
        raise MemoryError("Failed to allocate memory (no emulated machine)")
    base, _ = machines[0].alloc(max(int(length), 1))
    return base


def mmap(addr: int = 0, length: int = 100, prot: int = PROT_READ_ | PROT_WRITE_,
         flags: int = MAP_PRIVATE_ | MAP_ANONYMOUS_, fd: int = 0, offset: int = 0) -> int:
    if flags & MAP_HUGETLB_:
        raise MemoryError("Failed to mmap memory")
    return _alloc(length)


def munmap(addr: int, length: int) -> None:
    """Emulated memory is reclaimed with its fabric."""


def malloc(size: int) -> int:
    return _alloc(size)


def posix_memalign(size: int, alignment: int = 8) -> int:
    return _alloc(size)  # page-aligned, so aligned to any power of two up to 4096


def free(ptr: int) -> None:
    """Emulated memory is reclaimed with its fabric."""


def _find(addr: int, length: int) -> tuple[int, bytearray]:
    for m in current_fabric().machines:
        found = m.find_allocation(addr, length)
        if found is not None:
            return found
    raise PyverbsRDMAError(f"Address {addr:#x} is not mapped", 14)


def write(addr: int, data: bytes | str, length: int, offset: int = 0) -> None:
    raw = data.encode() if isinstance(data, str) else bytes(data)
    base, mem = _find(addr + offset, length)
    start = addr + offset - base
    mem[start : start + length] = raw[:length]


def read(addr: int, length: int, offset: int = 0) -> bytes:
    base, mem = _find(addr + offset, length)
    start = addr + offset - base
    return bytes(mem[start : start + length])


def writebe32(addr: int, val: int, offset: int = 0) -> None:
    write(addr, struct.pack(">I", val), 4, offset * 4)


def writebe64(addr: int, val: int, offset: int = 0) -> None:
    write(addr, struct.pack(">Q", val), 8, offset * 8)


def read32(addr: int, offset: int = 0) -> int:
    return int(struct.unpack("=I", read(addr, 4, offset * 4))[0])


def read64(addr: int, offset: int = 0) -> int:
    return int(struct.unpack("=Q", read(addr, 8, offset * 8))[0])
