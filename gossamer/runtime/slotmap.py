"""Which slot id names which (client thread, trustee thread) pair on a machine ([SLOT-1], [SLOT-5]).

Every machine numbers its slots the same way, in one registered region of `2 * M * T * T` slots of
`S` bytes: first the request slots it hosts as a trustee machine, one per (client machine, client
thread, local trustee thread), then the response slots it hosts as a client machine, one per
(local client thread, trustee machine, trustee thread). A slot's address is `base + slot_id * S`
([BOOT-3]). Same-machine pairs get slots too: local delegation goes through the same images.
"""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class SlotOwner:
    """What a slot id on this machine is for: the local thread that consumes it, and the peer."""

    is_request: bool  #: a request slot (consumed by a trustee thread) or a response slot
    local_thread: int  #: trustee thread (request slot) or client thread (response slot)
    peer_machine: int  #: client machine (request slot) or trustee machine (response slot)
    peer_thread: int  #: client thread (request slot) or trustee thread (response slot)


@attrs.frozen(slots=True)
class SlotMap:
    machines: int
    threads: int

    @property
    def requests(self) -> int:
        return self.machines * self.threads * self.threads

    @property
    def count(self) -> int:
        return 2 * self.requests

    def request_slot(self, client_machine: int, client_thread: int, trustee_thread: int) -> int:
        """Id, on the trustee's machine, of the request slot of this pair."""
        t = self.threads
        return (client_machine * t + client_thread) * t + trustee_thread

    def response_slot(self, client_thread: int, trustee_machine: int, trustee_thread: int) -> int:
        """Id, on the client's machine, of the response slot of this pair."""
        t = self.threads
        return self.requests + (client_thread * self.machines + trustee_machine) * t + trustee_thread

    def owner(self, slot_id: int) -> SlotOwner:
        t = self.threads
        if slot_id < self.requests:
            pair, trustee_thread = divmod(slot_id, t)
            cm, ct = divmod(pair, t)
            return SlotOwner(True, trustee_thread, cm, ct)
        rest = slot_id - self.requests
        pair, trustee_thread = divmod(rest, t)
        ct, tm = divmod(pair, self.machines)
        return SlotOwner(False, ct, tm, trustee_thread)
