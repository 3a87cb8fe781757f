"""One tick of the NIC: deliver what is due, place data, run the send queues.

``tick`` is what ``Fabric.progress`` does; ``run_send_queue`` executes the WQEs at the head of
one queue with the transport of its QP (``rc``, ``unreliable``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nic_emu.constants import RC, RTS, UC
from nic_emu.transport.completions import release_held
from nic_emu.transport.placement import place_chunks
from nic_emu.transport.rc import exec_rc, rc_write_burst
from nic_emu.transport.unreliable import exec_uc, exec_ud
from nic_emu.transport.wire import deliver_due

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric
    from nic_emu.transport.queues import QueuePair


def run_send_queue(qp: QueuePair, now: int, limit: int) -> bool:
    """Execute WQEs from the head (at most ``limit``, 0 = all); True to stay scheduled."""
    sq = qp.sq
    done = 0
    qpt = qp.qp_type
    if qpt == RC and not limit and qp.fabric.fast:
        rc_write_burst(qp)
    while sq:
        if qp.state != RTS:
            # SQD: drained, waits for RTS again (modify_qp reschedules); ERR/SQE: flushed.
            return False
        wqe = sq[0]
        if qpt == RC:
            ok = exec_rc(qp, wqe, now)
        elif qpt == UC:
            ok = exec_uc(qp, wqe, now)
        else:
            ok = exec_ud(qp, wqe, now)
        if not ok:
            return True
        done += 1
        if done == limit:
            break
    return bool(sq) and qp.state == RTS


def tick(fabric: Fabric) -> None:
    """One tick: deliver what is due, place data, then serve every send queue that may run.
    With ``lag``, queues are served in a seeded order, one WQE each, some held back."""
    fabric.now += 1
    now = fabric.now
    wire = fabric.wire
    if wire is not None:  # machines in other processes (nic_emu.procwire): what they sent us
        wire.pump()
    if fabric.in_flight:
        deliver_due(fabric, now)
    if fabric.streams or fabric.held:
        place_chunks(fabric)
        release_held(fabric)
    active = fabric.active
    if active:
        lag = fabric.lag
        if lag:
            rng = fabric.rng
            order = list(active)
            rng.shuffle(order)
            keep = []
            for qp in order:
                if rng.random() < lag or qp.retry_at > now or run_send_queue(qp, now, 1):
                    keep.append(qp)
                else:
                    qp.scheduled = False
        else:
            keep = []
            for qp in active:
                if qp.retry_at > now or run_send_queue(qp, now, 0):
                    keep.append(qp)
                else:
                    qp.scheduled = False
        # Queues scheduled during this tick (none today: nothing posts from inside) stay.
        fabric.active = keep
    # a fabric joined to other processes never settles: their messages may arrive at any tick
    fabric.pending = bool(fabric.active or fabric.in_flight or fabric.streams or fabric.held) or wire is not None
