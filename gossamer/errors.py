"""Error codes and the two error families (SPEC.md section 9).

Like h11: `LocalProtocolError` is misuse by the local caller, `RemoteProtocolError` is a peer that
broke the protocol. Both carry the spec's error code and the clause id they enforce, so a decoder
never lets a bare `ValueError` or `struct.error` escape ([ERR-1]).
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.IntEnum):
    """Wire status and error codes, `u8` (SPEC.md section 9, [ERR-1], [ERR-2])."""

    OK = 0x00  #: entry succeeded
    FALLBACK = 0x01  #: entry body travels as a fallback frame ([RSP-4])
    UNKNOWN_CLOSURE = 0x10  #: [VT-5], batch level
    BAD_PROPERTY = 0x11  #: [REQ-1], [TRUST-5], entry level
    TRUNCATED = 0x12  #: [SLOT-8], [REQ-5], batch level
    STALE_SEQUENCE = 0x13  #: [LAND-5], [RSP-6], batch level
    MALFORMED_CBOR = 0x14  #: [SER-2], entry level
    OVERSIZE = 0x15  #: [REQ-5], [FB-6], batch level
    FALLBACK_TIMEOUT = 0x16  #: [FB-5], entry level
    TORN = 0x17  #: [SLOT-7], batch level
    BAD_HEADER = 0x18  #: [SLOT-4], [SLOT-6], [VT-2], [VT-4], [REQ-2], batch level
    CLOSURE_RAISED = 0x19  #: the delegated closure raised, entry level
    VERSION_MISMATCH = 0x1A  #: [BOOT-1]
    BAD_FRAME = 0x1B  #: [FB-6]
    PEER_FAILED = 0x1C  #: local: connection or peer machine failed
    NESTED_APPLY = 0x1D  #: [ERR-5]: blocking apply inside a delegated closure; local, and entry level
    NOREF = 0x1E  #: local: capture layout breaks NoRef ([LAYOUT-3])
    BAD_ARGUMENT = 0x1F  #: local: values do not match the layout ([SER-3])
    SLOT_BUSY = 0x20  #: local: slot written before its response ([FLOW-1])
    BAD_CAPTURE = 0x21  #: [LAYOUT-4], entry level
    BAD_RESULT = 0x22  #: closure result does not fit its layout, entry level

    @property
    def is_batch_level(self) -> bool:
        """True for the codes that reject a whole batch ([ERR-2], [REQ-6])."""
        return self in BATCH_LEVEL


BATCH_LEVEL = frozenset(
    {
        ErrorCode.UNKNOWN_CLOSURE,
        ErrorCode.TRUNCATED,
        ErrorCode.STALE_SEQUENCE,
        ErrorCode.OVERSIZE,
        ErrorCode.TORN,
        ErrorCode.BAD_HEADER,
    }
)

#: Codes a trustee may put in a response entry ([RSP-4], section 9 "entry" rows).
ENTRY_STATUSES = frozenset(
    {
        ErrorCode.OK,
        ErrorCode.FALLBACK,
        ErrorCode.BAD_PROPERTY,
        ErrorCode.MALFORMED_CBOR,
        ErrorCode.FALLBACK_TIMEOUT,
        ErrorCode.CLOSURE_RAISED,
        ErrorCode.BAD_CAPTURE,
        ErrorCode.BAD_RESULT,
        # [FB-6]: entries still waiting on a broken fallback stream fail "with that code"
        ErrorCode.BAD_FRAME,
        ErrorCode.OVERSIZE,
        # [ERR-5]: a closure that let a nested blocking apply's failure escape
        ErrorCode.NESTED_APPLY,
    }
)


class GossamerError(Exception):
    """Base of every error the protocol code raises: a spec code, a clause id and a message."""

    def __init__(self, code: ErrorCode, clause: str, message: str) -> None:
        super().__init__(f"{code.name} [{clause}]: {message}")
        self.code = code
        self.clause = clause
        self.message = message


class LocalProtocolError(GossamerError):
    """The local caller misused the API or asked for something the spec forbids."""


class RemoteProtocolError(GossamerError):
    """The bytes came from a peer that broke the protocol."""


class DelegationError(GossamerError):
    """A delegated request failed on its trustee; raised to the caller of apply."""


def show(value: Any, limit: int = 80) -> str:
    """A peer's value for an error message, never raising and at most about `limit` characters.

    `repr` of an integer above 4300 digits raises ValueError (Python's int-to-str limit), and a
    1 MiB value would make a 1 MiB message: every message built from peer bytes goes through here.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<integer of {value.bit_length()} bits>"
    try:
        text = repr(value)
    except Exception as e:  # a nested huge integer, a hostile __repr__: say what it is instead
        return f"<{type(value).__name__}: {type(e).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
