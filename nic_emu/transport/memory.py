"""Memory as the NIC sees it: key lookup with its checks, gather, scatter, and placement of
data in one step.

Regions live in their machine's key table (``Machine.mrs``: MRs and bound memory windows).  A
local key names the requester's own buffers (gather, scatter), a remote key the responder's
(``mr_for`` with the remote access right); the caller picks the WC status of a failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nic_emu.constants import A_LOCAL_WRITE, S_LOC_PROT, S_LOC_QP_OP, S_OK

if TYPE_CHECKING:
    from nic_emu.fabric import Machine
    from nic_emu.transport.placement import Target
    from nic_emu.transport.queues import Region, Sge


def mr_for(m: Machine, pd: object, key: int, addr: int, ln: int, need: int) -> Region | None:
    """The region that ``key`` names on machine ``m``, if it is in ``pd``, grants ``need`` and
    holds [addr, addr + ln); else None (the caller picks the WC status: local or remote).

    For a remote key these are the responder's checks (IB spec 9.7.5.1.3: R_Key valid, in the
    QP's PD, range inside the region, the right access right)."""
    mr = m.mrs.get(key)
    if (
        mr is None
        or mr.pd is not pd
        or not mr.access & need
        or addr < mr.base
        or addr + ln > mr.end
    ):
        return None
    return mr


def gather(m: Machine, pd: object, sges: tuple[Sge, ...]) -> memoryview | bytes | int:
    """The bytes the SGEs name, or the requester's status if they cannot be read.

    As rxe (Linux 6.1) does it: the requester copies the payload with ``copy_data``, and
    ``rxe_requester`` turns its error into the WQE's status: "if (err == -EFAULT) wqe->status =
    IB_WC_LOC_PROT_ERR; else wqe->status = IB_WC_LOC_QP_OP_ERR" (rxe_req.c).  An unknown lkey or
    an MR of another PD fails ``lookup_mr`` (-EINVAL: LOC_QP_OP_ERR, measured on rxe with a bad
    lkey); a range outside the MR fails ``mr_check_range`` (-EFAULT: LOC_PROT_ERR)."""
    if len(sges) == 1:
        addr, ln, lkey = sges[0]
        if not ln:
            return b""
        mr = m.mrs.get(lkey)
        if mr is None or mr.pd is not pd:
            return S_LOC_QP_OP
        if addr < mr.base or addr + ln > mr.end:
            return S_LOC_PROT
        o = addr - mr.abase
        return mr.view[o : o + ln]
    parts: list[bytes] = []
    for addr, ln, lkey in sges:
        if not ln:
            continue
        mr = m.mrs.get(lkey)
        if mr is None or mr.pd is not pd:
            return S_LOC_QP_OP
        if addr < mr.base or addr + ln > mr.end:
            return S_LOC_PROT
        o = addr - mr.abase
        parts.append(bytes(mr.view[o : o + ln]))
    return b"".join(parts)


def scatter_targets(
    m: Machine, pd: object, sges: tuple[Sge, ...], length: int
) -> list[Target] | int:
    """(memory, offset, length) for the parts of the SGEs that ``length`` bytes fill (which need
    LOCAL_WRITE), or a WC status.

    As rxe's copy_data: only what the data reaches is looked up and range-checked, so an SGE
    past the data (or the tail of one beyond the MR's end, or an empty one) with a bad key does
    not matter, and nothing is checked for an empty message (trace oracle, seed 229)."""
    targets: list[Target] = []
    left = length
    for addr, ln, lkey in sges:
        if left <= 0:
            break
        if not ln:
            continue
        take = ln if ln < left else left
        mr = mr_for(m, pd, lkey, addr, take, A_LOCAL_WRITE)
        if mr is None:
            return S_LOC_PROT
        targets.append((mr.view, addr - mr.abase, take))
        left -= take
    if left > 0:
        # more data than the SGEs hold: only a READ or atomic posted with IBV_SEND_INLINE gets
        # here (its WQE keeps no SGEs); rxe's copy_data fails and the completer reports
        # LOC_PROT_ERR (rxe_comp.c do_read / do_atomic; trace oracle, seed 492)
        return S_LOC_PROT
    return targets


def scatter(m: Machine, pd: object, sges: tuple[Sge, ...], data: bytes | memoryview) -> int:
    """Write ``data`` across the SGEs (which need LOCAL_WRITE); a WC status.

    SGE by SGE, as rxe's copy_data: what precedes a bad SGE has been written when it fails
    (trace oracle, seed 206: a READ whose second SGE runs past its MR's end fills the first)."""
    left = len(data)
    pos = 0
    for addr, ln, lkey in sges:
        if left <= 0:
            break
        if not ln:
            continue
        take = ln if ln < left else left
        mr = mr_for(m, pd, lkey, addr, take, A_LOCAL_WRITE)
        if mr is None:
            return S_LOC_PROT
        o = addr - mr.abase
        mr.view[o : o + take] = data[pos : pos + take]
        pos += take
        left -= take
    return S_LOC_PROT if left > 0 else S_OK


def read(mr: Region, addr: int, length: int) -> bytes:
    """What ``[addr, addr + length)`` of ``mr`` holds now (a READ's response data)."""
    o = addr - mr.abase
    return bytes(mr.view[o : o + length])


def place(mr: Region, addr: int, data: bytes | memoryview) -> None:
    """Land an RDMA WRITE's data in the target memory, as one DMA.

    The single placement step of the ``whole`` model; the relaxed models land data chunk by
    chunk instead (``placement.Landing``).
    """
    o = addr - mr.abase
    mr.view[o : o + len(data)] = data
