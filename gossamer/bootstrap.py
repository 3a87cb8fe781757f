"""Bootstrap messages and version negotiation ([BOOT-1] .. [BOOT-4]).

Each message is a u32 length and one CBOR map. Sans-I/O: `BootstrapReader` is fed bytes and returns
decoded hellos; sockets live in the runtime.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import serial
from .buffer import U32
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .slot import MAX_SLOT_SIZE, MAX_TABLE_K, MIN_SLOT_SIZE, SlotConfig

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1, 1)
MAX_MESSAGE = 1 << 20  # [BOOT-4]
_REQUIRED = ("versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit")


def negotiate(ours: tuple[int, int], theirs: tuple[int, int]) -> int:
    """Highest version in both ranges, else VERSION_MISMATCH ([BOOT-1])."""
    for lo_hi in (ours, theirs):  # [ADPT-19]: a range is [min, max] with min <= max
        if not (0 <= lo_hi[0] <= lo_hi[1]):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", f"version range {lo_hi!r} is not [min, max]")
    lo, hi = max(ours[0], theirs[0]), min(ours[1], theirs[1])
    if lo > hi:
        raise RemoteProtocolError(
            ErrorCode.VERSION_MISMATCH, "BOOT-1",
            f"no common protocol version: we speak {ours[0]}..{ours[1]}, the peer {theirs[0]}..{theirs[1]}",
        )
    return hi


@attrs.frozen(slots=True, kw_only=True)
class Hello:
    """A bootstrap hello ([BOOT-1] .. [BOOT-3])."""

    versions: tuple[int, int] = SUPPORTED_VERSIONS
    machine: int
    threads: int
    config: SlotConfig = attrs.field(factory=SlotConfig)
    rdma: dict[str, Any] = attrs.field(factory=dict)  # gid, qpns, psn, slots, fallback_port

    def to_map(self) -> dict[str, Any]:
        m: dict[str, Any] = {
            "versions": list(self.versions),
            "machine": self.machine,
            "threads": self.threads,
            "slot_size": self.config.slot_size,
            "table_k": self.config.table_k,
            "fallback_timeout_ms": self.config.fallback_timeout_ms,
            "fallback_limit": self.config.fallback_limit,
        }
        m.update(self.rdma)
        return m

    def encode(self) -> bytes:
        body = serial.dumps(self.to_map())
        return U32.pack(len(body)) + body


def hello_from_map(m: Any) -> Hello:
    """Validate a decoded hello map ([BOOT-2])."""
    if not isinstance(m, dict):
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "BOOT-2", "hello is not a CBOR map")
    missing = [k for k in _REQUIRED if k not in m]
    if missing:
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "BOOT-2", f"hello lacks {', '.join(missing)}")
    v = m["versions"]
    ints_ok = isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v)
    if not (ints_ok and len(v) == 2 and v[0] <= v[1]):
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-1", f"versions must be [min, max], got {v!r}")
    ints = {k: m[k] for k in _REQUIRED[1:]}
    for k, x in ints.items():
        if not isinstance(x, int) or isinstance(x, bool) or x < 0:
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", f"{k} must be a non-negative integer, got {x!r}")
    s, k = ints["slot_size"], ints["table_k"]
    if not (MIN_SLOT_SIZE <= s <= MAX_SLOT_SIZE and s % 64 == 0):
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", f"slot_size {s} breaks SLOT-3")
    if k > MAX_TABLE_K:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", f"table_k {k} breaks VT-1")
    if ints["machine"] > 0xFFFF or not 1 <= ints["threads"] <= 0xFFFF:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", "machine is 16-bit, threads 1..0xFFFF")
    if ints["fallback_timeout_ms"] > 0xFFFFFFFF or ints["fallback_limit"] > 0xFFFFFFFF:  # [DEC-5] step 9
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", "fallback timeout and limit are u32")
    rdma = {key: val for key, val in m.items() if key not in _REQUIRED}
    return Hello(
        versions=(v[0], v[1]),
        machine=ints["machine"],
        threads=ints["threads"],
        config=SlotConfig(
            slot_size=s, table_k=k,
            fallback_timeout_ms=ints["fallback_timeout_ms"], fallback_limit=ints["fallback_limit"],
        ),
        rdma=rdma,
    )


def accept_hello(m: Any, threads: int, versions: tuple[int, int] = SUPPORTED_VERSIONS) -> Hello:
    """The acceptor's checks of a connector's hello ([BOOT-10]): [DEC-5], the version, the same `T`."""
    h = hello_from_map(m)
    negotiate(versions, h.versions)
    if h.threads != threads:
        raise RemoteProtocolError(
            ErrorCode.BAD_HEADER, "BOOT-10", f"the peer runs {h.threads} threads, this side {threads} ([BOOT-8])"
        )
    return h


def decode_message(data: bytes) -> Any:
    """Exactly one whole bootstrap message, length prefix included ([DEC-5] steps 1 to 5)."""
    if len(data) < 4:
        raise RemoteProtocolError(ErrorCode.TRUNCATED, "DEC-5", f"{len(data)} bytes: no length prefix")
    (n,) = U32.unpack_from(data, 0)
    if n > MAX_MESSAGE:
        raise RemoteProtocolError(ErrorCode.OVERSIZE, "BOOT-4", f"bootstrap message of {n} bytes")
    if len(data) < 4 + n:
        raise RemoteProtocolError(ErrorCode.TRUNCATED, "DEC-5", f"message of {n} bytes, {len(data) - 4} given")
    if len(data) > 4 + n:
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "DEC-5", f"{len(data) - 4 - n} bytes after the one message"
        )
    body = bytes(data[4:])
    item = serial.loads(body)
    _refuse_duplicate_keys(body, item)
    return item


def _map_pairs(body: bytes) -> int:
    """The number of key/value pairs of the top-level map in `body` (one well-formed item)."""
    ib = body[0]
    info = ib & 0x1F
    if info < 24:
        return info
    if info <= 27:
        return int.from_bytes(body[1 : 1 + (1 << (info - 24))], "big")
    pos, pairs = 1, 0  # indefinite length: walk the items up to the break
    while body[pos] != 0xFF:
        pos = serial.item_end(body, serial.item_end(body, pos))
        pairs += 1
    return pairs


def _refuse_duplicate_keys(body: bytes, item: Any) -> None:
    """[DEC-5] step 5: a bootstrap map whose key occurs twice is MALFORMED_CBOR (no first/last wins)."""
    if isinstance(item, dict) and _map_pairs(body) != len(item):
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "DEC-5", "a key occurs twice in the bootstrap map")


class BootstrapReader:
    """Length-prefixed CBOR messages from a byte stream ([BOOT-4])."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        out: list[Any] = []
        while len(self._buf) >= 4:
            (n,) = U32.unpack_from(self._buf, 0)
            if n > MAX_MESSAGE:
                raise RemoteProtocolError(ErrorCode.OVERSIZE, "BOOT-4", f"bootstrap message of {n} bytes")
            if len(self._buf) < 4 + n:
                break
            body = bytes(self._buf[4 : 4 + n])
            del self._buf[: 4 + n]
            item = serial.loads(body)
            _refuse_duplicate_keys(body, item)
            out.append(item)
        return out
