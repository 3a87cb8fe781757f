"""The wire under UC and UD: reachability, and the fault plan's drops, delays and reordering.

``send_unreliable`` puts a message on the wire: an unreachable or dropped one vanishes (counted
at the destination); with a fault plan some are held back a few ticks as ``InFlight`` and
delivered by ``deliver_due`` at a later tick, so they may overtake each other.  RC never loses a
message silently: its faults are links, cuts and crashes (``Fabric.reachable``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric, Machine


class InFlight:
    """A UC/UD message held back by a fault plan until tick ``at``."""

    __slots__ = ("at", "deliver", "dst", "seq")

    def __init__(self, at: int, seq: int, dst: Machine, deliver: Callable[[], None]) -> None:
        self.at = at
        self.seq = seq
        self.dst = dst
        self.deliver = deliver


def send_unreliable(
    fabric: Fabric, src: Machine, dst: Machine, deliver: Callable[[], None]
) -> None:
    """Put a UC/UD message on the wire: unreachable or dropped messages vanish; with a fault
    plan, some are held back a few ticks (and so may overtake each other)."""
    if not fabric.reachable(src, dst):
        dst.messages_dropped += 1
        return
    faults = fabric.faults
    if faults.any:
        rng = fabric.rng
        if faults.drop and rng.random() < faults.drop:
            dst.messages_dropped += 1
            return
        at = fabric.now
        if faults.delay and rng.random() < faults.delay:
            at += rng.randint(1, faults.max_delay)
        if at > fabric.now or faults.reorder:
            fabric.seq += 1
            fabric.in_flight.append(InFlight(at + 1 if faults.reorder else at, fabric.seq,
                                             dst, deliver))
            fabric.pending = True
            return
    deliver()


def deliver_due(fabric: Fabric, now: int) -> None:
    """Deliver the held-back messages due at tick ``now`` (shuffled if the plan reorders)."""
    due = [f for f in fabric.in_flight if f.at <= now]
    if not due:
        return
    fabric.in_flight = [f for f in fabric.in_flight if f.at > now]
    due.sort(key=lambda f: (f.at, f.seq))
    faults = fabric.faults
    if faults.reorder and len(due) > 1 and fabric.rng.random() < faults.reorder:
        fabric.rng.shuffle(due)
    for f in due:
        if fabric.reachable(f.dst, f.dst):
            f.deliver()
        else:
            f.dst.messages_dropped += 1
