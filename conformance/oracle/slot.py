"""Headers, immediates and sequence numbers (sections 1.1, 2 and 5: [LAND-2], [LAND-4], [RSP-1])."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import Rejected

HDR = struct.Struct("<IHBB")  #: section 1.1 request header; section 5 response header (same shape)
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
SEQ_MAX = 0xFFFF_FFFF
SLOT_ID_MAX = 0xFFFF
MASK48 = (1 << 48) - 1
MIN_SLOT, MAX_SLOT = 64, 65536  #: [SLOT-3]
MAX_K = 32  #: [VT-1]
MAX_COUNT = 255  #: [LIM-1]


def align8(n: int) -> int:
    return (n + 7) & ~7


def pad8(b: bytes) -> bytes:
    return b + bytes(-len(b) % 8)


def next_seq(seq: int) -> int:
    """[LAND-4] seq + 1, wrapping from 0xFFFFFFFF to 1 (0 never names a batch)."""
    if not 0 <= seq <= SEQ_MAX:
        raise Rejected("BAD_ARGUMENT", "LAND-4", f"seq {seq} is not a u32")
    return 1 if seq == SEQ_MAX else seq + 1


def make_imm(slot_id: int, seq: int) -> int:
    """[LAND-2] `(slot_id << 16) | (seq & 0xFFFF)`."""
    if not 0 <= slot_id <= SLOT_ID_MAX:
        raise Rejected("BAD_ARGUMENT", "SLOT-5", f"slot id {slot_id} is not 16 bits")
    if not 0 <= seq <= SEQ_MAX:
        raise Rejected("BAD_ARGUMENT", "LAND-4", f"seq {seq} is not a u32")
    return (slot_id << 16) | (seq & 0xFFFF)


def parse_imm(imm: int) -> tuple[int, int]:
    """(slot id, low 16 bits of seq)."""
    return (imm >> 16) & 0xFFFF, imm & 0xFFFF


def check_config(slot_size: int, table_k: int) -> None:
    if slot_size % 64 or not MIN_SLOT <= slot_size <= MAX_SLOT:
        raise Rejected("BAD_HEADER", "SLOT-3", f"slot size {slot_size if slot_size < 1 << 64 else '>= 2^64'}")
    if not 0 <= table_k <= MAX_K:
        raise Rejected("BAD_HEADER", "VT-1", f"K = {table_k if table_k < 1 << 64 else '>= 2^64'}")


@attrs.frozen
class Config:
    """What one connection agrees at bootstrap ([BOOT-2]) and a codec is configured with ([ADPT-5])."""

    slot_size: int = 1024
    table_k: int = 4
    fallback_limit: int = 64 << 20
    fallback_timeout_ms: int = 5000

    @classmethod
    def of(cls, config: Mapping[str, Any] | None) -> Config:
        c = config or {}
        return cls(int(c.get("slot_size", 1024)), int(c.get("table_k", 4)), int(c.get("fallback_limit", 64 << 20)),
                   int(c.get("fallback_timeout_ms", 5000)))


def read_header(b: bytes, size: int, expected_seq: int | None, imm_seq16: int | None, *, decoder: str,
                seq_clause: str, imm_clause: str) -> tuple[int, int, int, int]:
    """Steps 1 to 6 of [DEC-1], which [DEC-2] step 1 repeats for responses: the header, the seq
    the slot expects, the immediate's low 16 bits, then the claimed length against S, 16 and the
    bytes given. Returns the four header fields; `decoder` and the clauses name who rejects."""
    if len(b) < HDR.size:
        raise Rejected("TRUNCATED", decoder, f"{len(b)} bytes hold no header")
    seq, words, count, byte7 = HDR.unpack_from(b)
    if expected_seq is not None and seq != expected_seq:
        raise Rejected("STALE_SEQUENCE", seq_clause, f"seq {seq}, expected {expected_seq}")
    if imm_seq16 is not None and (seq & 0xFFFF) != imm_seq16:
        raise Rejected("STALE_SEQUENCE", imm_clause, f"seq {seq} does not match the immediate's {imm_seq16:#06x}")
    length = 8 * words
    if length > size:
        raise Rejected("BAD_HEADER", "SLOT-4", f"header claims {length} bytes, S = {size}")
    if length < 16:
        raise Rejected("BAD_HEADER", decoder, f"header claims {length} bytes, less than header and trailer")
    if length > len(b):
        raise Rejected("TRUNCATED", decoder, f"header claims {length} bytes, the image has {len(b)}")
    return seq, words, count, byte7
