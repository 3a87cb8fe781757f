"""Bootstrap messages and the hello ([BOOT-1] .. [BOOT-4], [BOOT-6]).

A message is a `u32` little-endian length, then that many bytes of one CBOR map with text keys. A
length above 1 MiB is `OVERSIZE` as soon as the prefix is read ([BOOT-4]); a body that is not one
well-formed map, or a hello missing a required key, is `MALFORMED_CBOR`; a hello whose `slot_size` or
`table_k` breaks [SLOT-3] or [VT-1] is `BAD_HEADER` ([BOOT-2]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .cbor import dumps, loads
from .errors import Rejected
from .slot import U32, Config, check_config

MAX_MESSAGE = 1 << 20  #: [BOOT-4]
VERSION = 1
REQUIRED = ("versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit")
#: [BOOT-3], [BOOT-6]: what an RDMA hello carries besides the required keys
RDMA_KEYS = ("gid", "qpns", "psn", "slots", "request_slots", "response_slots", "fallback_port")
READY = {"ready": True}


def message(m: Mapping[str, Any]) -> bytes:
    """One bootstrap message: u32 LE length, then the map in core deterministic CBOR."""
    body = dumps(dict(m))
    return U32.pack(len(body)) + body


class Reader:
    """Whole messages out of a byte stream fed in pieces."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        out: list[Any] = []
        while len(self._buf) >= 4:
            n = U32.unpack_from(self._buf)[0]
            if n > MAX_MESSAGE:
                raise Rejected("OVERSIZE", "BOOT-4", f"a bootstrap message of {n} bytes")
            if len(self._buf) < 4 + n:
                break
            body = bytes(self._buf[4 : 4 + n])
            del self._buf[: 4 + n]
            m = loads(body, "BOOT-2")
            if not isinstance(m, dict):
                raise Rejected("MALFORMED_CBOR", "BOOT-2", "a bootstrap message is a map")
            out.append(m)
        return out


def negotiate(ours: tuple[int, int], theirs: tuple[int, int]) -> int:
    """[BOOT-1] the highest version in both ranges, else VERSION_MISMATCH."""
    lo, hi = max(ours[0], theirs[0]), min(ours[1], theirs[1])
    if lo > hi:
        raise Rejected("VERSION_MISMATCH", "BOOT-1", f"{list(ours)} and {list(theirs)} do not overlap")
    return hi


@attrs.frozen
class Hello:
    machine: int
    threads: int
    config: Config
    versions: tuple[int, int] = (VERSION, VERSION)
    rdma: Mapping[str, Any] = attrs.field(factory=dict)

    def as_map(self) -> dict[str, Any]:
        c = self.config
        return {"versions": list(self.versions), "machine": self.machine, "threads": self.threads,
                "slot_size": c.slot_size, "table_k": c.table_k, "fallback_timeout_ms": c.fallback_timeout_ms,
                "fallback_limit": c.fallback_limit, **self.rdma}

    def encode(self) -> bytes:
        return message(self.as_map())

    def required(self) -> dict[str, Any]:
        """The seven required fields ([BOOT-2]), as `decode_hello` answers them ([ADPT-8])."""
        m = self.as_map()
        return {k: m[k] for k in REQUIRED}

    @classmethod
    def from_map(cls, m: Any) -> Hello:
        """[BOOT-2]: every required key present (else MALFORMED_CBOR), S and K in range (else BAD_HEADER)."""
        if not isinstance(m, dict):
            raise Rejected("MALFORMED_CBOR", "BOOT-2", "a hello is a map")
        missing = [k for k in REQUIRED if k not in m]
        if missing:
            raise Rejected("MALFORMED_CBOR", "BOOT-2", f"the hello lacks {missing}")
        v = m["versions"]
        ints = [m[k] for k in REQUIRED[1:]]
        if (not isinstance(v, list) or len(v) != 2 or not all(_is_uint(x) for x in v)
                or not all(_is_uint(x) for x in ints)):
            raise Rejected("MALFORMED_CBOR", "BOOT-2", "a required field has the wrong type")
        check_config(m["slot_size"], m["table_k"])
        config = Config(m["slot_size"], m["table_k"], m["fallback_limit"], m["fallback_timeout_ms"])
        return cls(m["machine"], m["threads"], config, (v[0], v[1]),
                   {k: val for k, val in m.items() if k not in REQUIRED})


def _is_uint(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def decode_hello(data: bytes) -> Hello:
    """Exactly one message, length prefix included ([ADPT-8]): its hello."""
    r = Reader()
    msgs = r.feed(data)
    if not msgs:
        raise Rejected("TRUNCATED", "BOOT-4", "no complete bootstrap message")
    if len(msgs) > 1 or r.buffered:
        raise Rejected("TRUNCATED", "BOOT-4", "bytes after the one bootstrap message")
    return Hello.from_map(msgs[0])
