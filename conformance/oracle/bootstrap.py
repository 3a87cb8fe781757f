"""Bootstrap messages and the hello ([BOOT-1] .. [BOOT-4], [BOOT-6]).

SPEC.md [DEC-5]: a message is a `u32` little-endian length, then that many bytes of one CBOR map. A
length above 1 MiB is `OVERSIZE` as soon as the prefix is read ([BOOT-4]); a body that is not one
well-formed map, or a hello missing a required key, is `MALFORMED_CBOR`; a required value of the
wrong type or out of range ([SLOT-3], [VT-1], u16 machine and threads) is `BAD_HEADER` ([BOOT-2]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .cbor import dumps, loads, map_pairs
from .errors import Rejected
from .framing import Unframer, frame
from .slot import U32, Config, check_config

MAX_MESSAGE = 1 << 20  #: [BOOT-4]
VERSION = 1
REQUIRED = ("versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit")
#: [BOOT-3], [BOOT-6]: what an RDMA hello carries besides the required keys
RDMA_KEYS = ("gid", "qpns", "psn", "slots", "request_slots", "response_slots", "fallback_port")
READY = {"ready": True}


def message(m: Mapping[str, Any]) -> bytes:
    """One bootstrap message: u32 LE length, then the map in core deterministic CBOR."""
    return frame(dumps(dict(m)))


def _oversize(n: int) -> Rejected:
    return Rejected("OVERSIZE", "BOOT-4", f"a bootstrap message of {n} bytes")


class Reader:
    """[DEC-5] steps 1 to 5: whole messages out of a byte stream fed in pieces (steps 1 to 3, the
    prefix and the OVERSIZE check on it alone, are `framing.Unframer`'s)."""

    def __init__(self) -> None:
        self._frames = Unframer(MAX_MESSAGE, _oversize)

    @property
    def buffered(self) -> int:
        return self._frames.buffered

    def feed(self, data: bytes) -> list[Any]:
        return [body_map(body) for body in self._frames.feed(data)]


def body_map(body: bytes) -> dict[str, Any]:
    """[DEC-5] 4, 5: exactly one well-formed CBOR item, and a map."""
    m = loads(body, "DEC-5")
    if not isinstance(m, dict):
        raise Rejected("MALFORMED_CBOR", "DEC-5", "a bootstrap message is a map")
    if map_pairs(body) != len(m):  # 5: a key twice is refused, neither first nor last wins
        raise Rejected("MALFORMED_CBOR", "DEC-5", "a key occurs twice in the bootstrap map")
    if any(type(k) is not str for k in m):  # 5: text keys only (an integer, bytes, a tagged text)
        raise Rejected("MALFORMED_CBOR", "DEC-5", "a bootstrap map key that is not a text string")
    return m


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
    #: [SHAPE-4]: the runs as received, None when the hello has no "trustees"
    trustees: list[list[int]] | None = None

    def as_map(self) -> dict[str, Any]:
        c = self.config
        return {"versions": list(self.versions), "machine": self.machine, "threads": self.threads,
                "slot_size": c.slot_size, "table_k": c.table_k, "fallback_timeout_ms": c.fallback_timeout_ms,
                "fallback_limit": c.fallback_limit,
                **({} if self.trustees is None else {"trustees": self.trustees}), **self.rdma}

    def encode(self) -> bytes:
        return message(self.as_map())

    def required(self) -> dict[str, Any]:
        """The seven required fields ([BOOT-2]) and `"trustees"` when present ([SHAPE-4]), as
        `decode_hello` answers them ([ADPT-8])."""
        m = self.as_map()
        return {k: m[k] for k in (*REQUIRED, "trustees") if k in m}

    def trustee_threads(self) -> list[int]:
        """The sender's trustee threads: every thread without `"trustees"` ([SHAPE-4])."""
        if self.trustees is None:
            return list(range(self.threads))
        return [first + i for first, count in self.trustees for i in range(count)]

    @classmethod
    def from_map(cls, m: Any) -> Hello:
        """[DEC-5] steps 6 to 9 (negotiation, step 10, is the caller's: `negotiate`)."""
        if not isinstance(m, dict):
            raise Rejected("MALFORMED_CBOR", "DEC-5", "a hello is a map")
        missing = [k for k in REQUIRED if k not in m]
        if missing:  # 6
            raise Rejected("MALFORMED_CBOR", "BOOT-2", f"the hello lacks {missing}")
        v = m["versions"]
        if not (isinstance(v, list) and len(v) == 2 and all(_is_uint(x) for x in v) and v[0] <= v[1]):  # 7
            raise Rejected("BAD_HEADER", "DEC-5", f"versions {_show(v)} is not [min, max]")
        for k in REQUIRED[1:]:  # 8
            if not _is_uint(m[k]):
                raise Rejected("BAD_HEADER", "DEC-5", f"{k} {_show(m[k])} is not a non-negative integer")
        check_config(m["slot_size"], m["table_k"])  # 9
        if m["machine"] > 0xFFFF or not 1 <= m["threads"] <= 0xFFFF:
            raise Rejected("BAD_HEADER", "DEC-5", "machine is not a u16, or threads not 1 .. 0xFFFF")
        if m["fallback_timeout_ms"] > 0xFFFFFFFF or m["fallback_limit"] > 0xFFFFFFFF:
            raise Rejected("BAD_HEADER", "DEC-5", "the fallback timeout or limit is not a u32")
        trustees = None
        if "trustees" in m:  # 9, [SHAPE-4]
            trustees = check_trustees(m["trustees"], m["threads"])
        config = Config(m["slot_size"], m["table_k"], m["fallback_limit"], m["fallback_timeout_ms"])
        return cls(m["machine"], m["threads"], config, (v[0], v[1]),
                   {k: val for k, val in m.items() if k not in REQUIRED and k != "trustees"}, trustees)


def check_trustees(runs: Any, threads: int) -> list[list[int]]:
    """[SHAPE-4]: an array of [first, count] runs, count >= 1, first + count <= threads, each run
    starting after a gap past the one before (so one encoding per set); else BAD_HEADER."""
    if not isinstance(runs, list):
        raise Rejected("BAD_HEADER", "SHAPE-4", "trustees is not an array")
    after = 0  # the least first the next run may have
    for i, run in enumerate(runs):
        if not (isinstance(run, list) and len(run) == 2 and _is_uint(run[0]) and _is_uint(run[1])):
            raise Rejected("BAD_HEADER", "SHAPE-4", f"trustees run {i} is not [first, count]")
        first, count = run
        if count == 0 or first < after or first + count > threads:
            raise Rejected("BAD_HEADER", "SHAPE-4", f"trustees run {i} {run} is empty, out of order or past threads")
        after = first + count + 1
    return [list(r) for r in runs]


def _show(x: Any) -> str:
    """A peer's value in a message: repr() of an integer above 4300 digits raises ValueError ([SEC-1])."""
    try:
        return repr(x)[:40]
    except ValueError:
        return f"<{type(x).__name__} holding an integer too long to print>"


def _is_uint(x: Any) -> bool:
    """A CBOR major type 0 integer: `true`/`false` are not integers."""
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def decode_hello(data: bytes) -> Hello:
    """The adapter's `decode_hello` ([ADPT-8]): exactly one whole message, [DEC-5] steps 1 to 9."""
    b = bytes(data)
    if len(b) < 4:  # 1
        raise Rejected("TRUNCATED", "DEC-5", f"{len(b)} bytes hold no length prefix")
    n = U32.unpack_from(b)[0]
    if n > MAX_MESSAGE:  # 2
        raise Rejected("OVERSIZE", "BOOT-4", f"a bootstrap message of {n} bytes")
    if len(b) < 4 + n:  # 3
        raise Rejected("TRUNCATED", "DEC-5", f"{len(b) - 4} body bytes of {n}")
    if len(b) > 4 + n:
        raise Rejected("BAD_ARGUMENT", "DEC-5", "bytes after the one bootstrap message")
    return Hello.from_map(body_map(b[4:]))  # 4 .. 9


#: [SEC-6]: the optional hello key, its size, and the caller hello it follows ([FB-8])
FALLBACK_SECRET = "fallback_secret"
FALLBACK_SECRET_SIZE = 16
CALLER_HELLO_SIZE = 4


def check_fallback_secret(m: Mapping[str, Any]) -> bytes | None:
    """[SEC-6]: a hello's optional `"fallback_secret"` is a byte string of exactly 16 bytes, else
    BAD_HEADER. Returns the secret, or None when the hello carries none."""
    if FALLBACK_SECRET not in m:
        return None
    v = m[FALLBACK_SECRET]
    if not (isinstance(v, bytes) and len(v) == FALLBACK_SECRET_SIZE):
        raise Rejected("BAD_HEADER", "SEC-6", f"fallback_secret must be 16 bytes, got {_show(v)}")
    return v


def caller_hello(machine: int, thread: int, secret: bytes | None) -> bytes:
    """[FB-8], [SEC-6]: what a client thread sends first on its fallback connection: its machine and
    thread number (u16 little-endian each), then the secret its machine's hello announced, if any."""
    return machine.to_bytes(2, "little") + thread.to_bytes(2, "little") + (secret or b"")


def caller_accepted(data: bytes, clients: Mapping[int, bytes | None], threads: int | Mapping[int, int]) -> bool | None:
    """Whether a trustee machine keeps a fallback connection whose first bytes are `data` ([FB-9],
    [SEC-6], [FB-12]); `clients`: each bootstrapped client machine and the secret its hello carried
    (None: none); `threads`: each client machine's `T_m` (one int: every machine's). [FB-9] bounds
    the caller's thread by the thread count of the machine it names, not the trustee machine's.
    None when `data` is too short to decide (the trustee waits, up to the fallback timeout)."""
    if len(data) < CALLER_HELLO_SIZE:
        return None
    machine, thread = int.from_bytes(data[0:2], "little"), int.from_bytes(data[2:4], "little")
    t_m = threads if isinstance(threads, int) else threads.get(machine, 0)
    if machine not in clients or thread >= t_m:
        return False  # [FB-9]
    secret = clients[machine]
    if secret is None:
        return True
    if len(data) < CALLER_HELLO_SIZE + FALLBACK_SECRET_SIZE:
        return None
    return data[CALLER_HELLO_SIZE : CALLER_HELLO_SIZE + FALLBACK_SECRET_SIZE] == secret
