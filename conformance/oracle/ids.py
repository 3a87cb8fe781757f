"""Closure ids ([CID-1]) and trust ids ([TRUST-1])."""

from __future__ import annotations

import hashlib

from .errors import Rejected

COUNTER_MAX = 0xFFFF_FFFF


def closure_id(name: str) -> int:
    """[CID-1] the first 8 bytes of SHA-256 over the UTF-8 name, as a little-endian u64."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def trust_id(machine: int, thread: int, counter: int) -> int:
    """[TRUST-1] bits 48-63 machine, 32-47 thread, 0-31 counter (which starts at 1)."""
    if not (0 <= machine <= 0xFFFF and 0 <= thread <= 0xFFFF and 1 <= counter <= COUNTER_MAX):
        raise Rejected("BAD_ARGUMENT", "TRUST-1", f"({machine}, {thread}, {counter}) is out of range")
    return (machine << 48) | (thread << 32) | counter


def split_trust_id(tid: int) -> tuple[int, int, int]:
    return tid >> 48, (tid >> 32) & 0xFFFF, tid & 0xFFFF_FFFF


def mint_after(machine: int, thread: int, counter: int) -> int:
    """The id minted after `counter` ids: counter + 1; a counter that would wrap fails locally."""
    if counter >= COUNTER_MAX:
        raise Rejected("BAD_ARGUMENT", "TRUST-1", "the trust-id counter would wrap")
    return trust_id(machine, thread, counter + 1)


def toggle(ids: set[int], x: int) -> bool:
    """[TRUST-2] A := A symmetric-difference {x}; True when the set is now empty."""
    ids.symmetric_difference_update({x})
    return not ids
