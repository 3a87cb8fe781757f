"""Which slot id names which (client thread, trustee thread) pair on a machine ([SLOT-1], [SLOT-5],
[SHAPE-2], [SHAPE-3]).

The numbering is the spec's ([SHAPE-2], `gossamer.shape`): a machine's ids are first the request
slots it hosts as a trustee machine, one per (client machine, client thread, local trustee thread),
then the response slots it hosts as a client machine, one per (local client thread, trustee
machine, trustee thread), over every machine of the rack. A slot's address is `base + slot_id * S`
([BOOT-3]). The spec reserves the ids of same-machine pairs and never announces them; this runtime
uses them for same-machine delegation, which so goes through the same images.

For a rack of `M` machines of `T` threads, all trustees, every machine numbers alike:
`(p*T + c)*T + t`, then `M*T*T + (c*M + p)*T + t`.
"""

from __future__ import annotations

from ..shape import RackShape, SlotUse

#: what a slot id on this machine is for ([SHAPE-3])
SlotOwner = SlotUse


class SlotMap:
    """The slot ids of one machine of a rack shape."""

    __slots__ = ("count", "machine", "machines", "requests", "shape", "threads")

    def __init__(self, machines: int | RackShape, threads: int = 0, machine: int = 0) -> None:
        """`SlotMap(M, T)`: a machine of a rack of `M` machines of `T` threads, all trustees (every
        machine numbers alike); `SlotMap(shape, 0, m)`: machine `m` of a mixed `RackShape`."""
        shape = machines if isinstance(machines, RackShape) else RackShape.uniform(machines, threads)
        self.shape = shape
        self.machine = machine
        self.machines = len(shape)
        self.threads = shape[machine].threads
        #: request slot ids are `0 .. requests-1`; response slot ids follow, up to `count`
        self.requests = shape.request_count(machine)
        self.count = shape.slot_count(machine)

    @classmethod
    def of(cls, shape: RackShape, machine: int) -> SlotMap:
        return cls(shape, 0, machine)

    def request_slot(self, client_machine: int, client_thread: int, trustee_thread: int) -> int:
        """Id, on this (the trustee's) machine, of the request slot of this pair."""
        return self.shape.request_slot(self.machine, client_machine, client_thread, trustee_thread)

    def response_slot(self, client_thread: int, trustee_machine: int, trustee_thread: int) -> int:
        """Id, on this (the client's) machine, of the response slot of this pair."""
        return self.shape.response_slot(self.machine, client_thread, trustee_machine, trustee_thread)

    def owner(self, slot_id: int) -> SlotOwner:
        use = self.shape.slot_use(self.machine, slot_id)
        if use is None:
            raise ValueError(f"slot id {slot_id} is not one of machine {self.machine}'s {self.count}")
        return use
