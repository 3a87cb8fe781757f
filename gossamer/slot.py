"""Request slot parameters, sequence numbers and immediate data ([SLOT-3], [LAND-2], [LAND-4])."""

from __future__ import annotations

import attrs

from .errors import ErrorCode, LocalProtocolError

DEFAULT_SLOT_SIZE = 1024
DEFAULT_TABLE_K = 4
MIN_SLOT_SIZE = 64
MAX_SLOT_SIZE = 65536
MAX_TABLE_K = 32
MAX_COUNT = 255  # [LIM-1]
HEADER_SIZE = 8
TRAILER_SIZE = 8
FRAMING = HEADER_SIZE + TRAILER_SIZE
INLINE_REF = 0xFF  # [VT-4]
FLAG_FALLBACK = 0x01  # [REQ-2]
SEQ_MASK = 0xFFFFFFFF
DEFAULT_FALLBACK_TIMEOUT_MS = 5000
DEFAULT_FALLBACK_LIMIT = 64 * 1024 * 1024


def _check_slot_size(_: object, __: object, s: int) -> None:
    if not (MIN_SLOT_SIZE <= s <= MAX_SLOT_SIZE and s % 64 == 0):  # [SLOT-3]
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "SLOT-3",
            f"slot size {s}: must be a multiple of 64 in {MIN_SLOT_SIZE}..{MAX_SLOT_SIZE}",
        )


def _check_k(_: object, __: object, k: int) -> None:
    if not 0 <= k <= MAX_TABLE_K:  # [VT-1]
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "VT-1", f"table size K={k}: must be 0..{MAX_TABLE_K}"
        )


def _check_limit(_: object, __: object, f: int) -> None:
    if not 0 <= f <= SEQ_MASK:  # [ADPT-19]: payload_len is a u32 ([FB-2])
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", f"fallback limit {f} is not a u32")


@attrs.frozen(slots=True, kw_only=True)
class SlotConfig:
    """Connection parameters agreed at bootstrap ([BOOT-2])."""

    slot_size: int = attrs.field(default=DEFAULT_SLOT_SIZE, validator=_check_slot_size)
    table_k: int = attrs.field(default=DEFAULT_TABLE_K, validator=_check_k)
    fallback_timeout_ms: int = DEFAULT_FALLBACK_TIMEOUT_MS
    fallback_limit: int = attrs.field(default=DEFAULT_FALLBACK_LIMIT, validator=_check_limit)


def next_seq(seq: int) -> int:
    """The sequence number after `seq`: +1, wrapping 0xFFFFFFFF to 1, never 0 ([LAND-4]).

    `seq` 0 stands for "no batch yet" (the answer is 1); above 2^32-1 is BAD_ARGUMENT ([ADPT-19]).
    """
    if not 0 <= seq <= SEQ_MASK:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", f"seq {seq} is not a u32")
    return 1 if seq == SEQ_MASK else seq + 1


def make_imm(slot_id: int, seq: int) -> int:
    """Immediate data of a batch WRITE: slot id high, low 16 bits of seq low ([LAND-2], [RSP-1])."""
    if not 0 <= slot_id <= 0xFFFF:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SLOT-5", f"slot id {slot_id} not 16-bit")
    if not 0 <= seq <= SEQ_MASK:  # [ADPT-19]; 0 is the seq of [FLOW-7]'s answer
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", f"seq {seq} is not a u32")
    return (slot_id << 16) | (seq & 0xFFFF)


def parse_imm(imm: int) -> tuple[int, int]:
    """(slot id, low 16 bits of seq) from a 32-bit immediate ([LAND-2])."""
    return (imm >> 16) & 0xFFFF, imm & 0xFFFF
