"""Trust ids and the per-property trust-id set ([TRUST-1], [TRUST-2], [TRUST-5]).

Reference counting by symmetric difference: clone and drop both *toggle* an id, so they can be sent
asynchronously and processed in any order that keeps each thread's requests in order ([TRUST-7]).
"""

from __future__ import annotations

import attrs

from .errors import ErrorCode, LocalProtocolError

COUNTER_MAX = 0xFFFFFFFF


def make_trust_id(machine: int, thread: int, counter: int) -> int:
    """machine (16 bits) | thread (16 bits) | counter (32 bits) ([TRUST-1])."""
    if not (0 <= machine <= 0xFFFF and 0 <= thread <= 0xFFFF and 1 <= counter <= COUNTER_MAX):
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "TRUST-1", f"trust id fields out of range: {machine}, {thread}, {counter}"
        )
    return (machine << 48) | (thread << 32) | counter


def split_trust_id(tid: int) -> tuple[int, int, int]:
    """(machine, thread, counter) of a trust id ([TRUST-1])."""
    return (tid >> 48) & 0xFFFF, (tid >> 32) & 0xFFFF, tid & 0xFFFFFFFF


@attrs.define(slots=True)
class TrustIdMinter:
    """Per-thread counter: ids are unique without coordination and never reused ([TRUST-1])."""

    machine: int
    thread: int
    counter: int = 0

    def mint(self) -> int:
        if self.counter >= COUNTER_MAX:
            raise LocalProtocolError(
                ErrorCode.BAD_ARGUMENT, "TRUST-1",
                f"thread {self.machine}.{self.thread} has minted 2^32-1 trust ids; its counter would wrap",
            )
        self.counter += 1
        return make_trust_id(self.machine, self.thread, self.counter)


@attrs.define(slots=True)
class TrustIdSet:
    """The set kept per property by its trustee ([TRUST-2]); created with the first id ([TRUST-3])."""

    ids: set[int]
    dropped: bool = False

    @classmethod
    def entrusted(cls, first_id: int) -> TrustIdSet:
        return cls(ids={first_id})

    def toggle(self, tid: int) -> bool:
        """Replace the set by its symmetric difference with {tid}; True when this emptied it ([TRUST-5])."""
        if self.dropped:
            raise LocalProtocolError(ErrorCode.BAD_PROPERTY, "TRUST-5", "toggle on a dropped property")
        self.ids ^= {tid}
        if not self.ids:
            self.dropped = True
            return True
        return False
