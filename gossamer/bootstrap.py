"""Bootstrap messages and version negotiation ([BOOT-1] .. [BOOT-4]).

Each message is a u32 length and one CBOR map. Sans-I/O: `BootstrapReader` is fed bytes and returns
decoded hellos; sockets live in the runtime.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import serial
from .buffer import U32
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError, show
from .shape import ranges_of, trustees_from_ranges
from .slot import MAX_SLOT_SIZE, MAX_TABLE_K, MIN_SLOT_SIZE, SlotConfig

PROTOCOL_VERSION = 1  # this document's version ([BOOT-1])
SUPPORTED_VERSIONS = (PROTOCOL_VERSION, PROTOCOL_VERSION)  # the range a hello announces
MAX_MESSAGE = 1 << 20  # [BOOT-4]
FALLBACK_SECRET_SIZE = 16  # [SEC-6]
_REQUIRED = ("versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit")


def negotiate(ours: tuple[int, int], theirs: tuple[int, int]) -> int:
    """Highest version in both ranges, else VERSION_MISMATCH ([BOOT-1])."""
    for lo_hi in (ours, theirs):  # [ADPT-19]: a range is [min, max] with min <= max
        if not (0 <= lo_hi[0] <= lo_hi[1]):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19",
                                     f"version range {show(lo_hi)} is not [min, max]")
    lo, hi = max(ours[0], theirs[0]), min(ours[1], theirs[1])
    if lo > hi:
        raise RemoteProtocolError(
            ErrorCode.VERSION_MISMATCH, "BOOT-1",
            f"no common protocol version: we speak {show(ours[0])}..{show(ours[1])}, "
            f"the peer {show(theirs[0])}..{show(theirs[1])}",
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
    #: the sender's trustee threads ([SHAPE-4]); None: the key is absent, every thread is one
    trustees: tuple[int, ...] | None = None

    @property
    def trustee_threads(self) -> tuple[int, ...]:
        """The sender's trustee threads: those `"trustees"` names, all `threads` without it."""
        return tuple(range(self.threads)) if self.trustees is None else self.trustees

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
        if self.trustees is not None:  # [SHAPE-4] canonical runs
            m["trustees"] = ranges_of(self.trustees)
        m.update(self.rdma)
        return m

    def encode(self) -> bytes:
        return encode_message(self.to_map())


def encode_message(item: Any) -> bytes:
    """One bootstrap message: a u32 length, then the item's CBOR ([BOOT-4]). `decode_message`
    and `BootstrapReader` read it back: the one home of gossamer's length-prefixed CBOR framing."""
    body = serial.dumps(item)
    return U32.pack(len(body)) + body


def _announced(buf: bytes | bytearray) -> int:
    """The body length a message's u32 prefix announces (4 bytes present); OVERSIZE past the cap."""
    (n,) = U32.unpack_from(buf, 0)
    if n > MAX_MESSAGE:
        raise RemoteProtocolError(ErrorCode.OVERSIZE, "BOOT-4", f"bootstrap message of {n} bytes")
    return int(n)


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
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-1", f"versions must be [min, max], got {show(v)}")
    ints = {k: m[k] for k in _REQUIRED[1:]}
    for k, x in ints.items():
        if not isinstance(x, int) or isinstance(x, bool) or x < 0:
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2",
                                      f"{k} must be a non-negative integer, got {show(x)}")
    s, k = ints["slot_size"], ints["table_k"]
    if not (MIN_SLOT_SIZE <= s <= MAX_SLOT_SIZE and s % 64 == 0):
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", f"slot_size {show(s)} breaks SLOT-3")
    if k > MAX_TABLE_K:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", f"table_k {show(k)} breaks VT-1")
    if ints["machine"] > 0xFFFF or not 1 <= ints["threads"] <= 0xFFFF:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", "machine is 16-bit, threads 1..0xFFFF")
    if ints["fallback_timeout_ms"] > 0xFFFFFFFF or ints["fallback_limit"] > 0xFFFFFFFF:  # [DEC-5] step 9
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "BOOT-2", "fallback timeout and limit are u32")
    # [SHAPE-4], [DEC-5] step 9: "trustees", when present, is canonical runs inside 0 .. threads-1
    trustees = trustees_from_ranges(m["trustees"], ints["threads"]) if "trustees" in m else None
    rdma = {key: val for key, val in m.items() if key not in _REQUIRED and key != "trustees"}
    return Hello(
        versions=(v[0], v[1]),
        machine=ints["machine"],
        threads=ints["threads"],
        config=SlotConfig(
            slot_size=s, table_k=k,
            fallback_timeout_ms=ints["fallback_timeout_ms"], fallback_limit=ints["fallback_limit"],
        ),
        rdma=rdma,
        trustees=trustees,
    )


def check_sender(h: Hello, machine: int) -> None:
    """[BOOT-11], [DEC-5] step 11: the hello names the machine the connection is with."""
    if h.machine != machine:
        raise RemoteProtocolError(
            ErrorCode.BAD_HEADER, "BOOT-11", f"the hello names machine {h.machine}; this connection is with "
            f"machine {machine}"
        )


def accept_hello(m: Any, threads: int, versions: tuple[int, int] = SUPPORTED_VERSIONS,
                 trustees: tuple[int, ...] | None = None, machine: int | None = None) -> Hello:
    """The acceptor's checks of a connector's hello, [DEC-5] steps 6 to 12: the hello's keys, the
    version, the machine it names (`machine`: the one the acceptor identified the connection
    with, [BOOT-11]; None: not checked here) and the connector's shape: the `threads` (and, when
    given, the trustee threads) the acceptor's configuration holds for it ([BOOT-10], [SHAPE-5])."""
    h = hello_from_map(m)
    negotiate(versions, h.versions)
    if machine is not None:
        check_sender(h, machine)
    if h.threads != threads:
        raise RemoteProtocolError(
            ErrorCode.BAD_HEADER, "BOOT-10", f"the peer runs {h.threads} threads, the rack's shape gives it {threads}"
            " ([SHAPE-5])"
        )
    if trustees is not None and h.trustee_threads != tuple(trustees):
        raise RemoteProtocolError(
            ErrorCode.BAD_HEADER, "SHAPE-5", f"the peer's trustee threads {ranges_of(h.trustee_threads)} are not "
            f"the rack shape's {ranges_of(trustees)}"
        )
    return h


_RDMA_KEYS = ("gid", "qpns", "psn", "slots", "request_slots", "response_slots", "fallback_port")


def _uint(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def check_rdma(h: Hello, threads: int, slot_size: int, trustees: int | None = None) -> None:
    """Validate a hello's RDMA keys before any of them is used ([BOOT-3], [BOOT-6], [BOOT-8], [SEC-2]).

    `threads` is the receiving side's `T`, `trustees` how many trustee threads it runs (None: all)
    and `slot_size` the `S` in effect (the acceptor's); the sender's `T_p` and trustee threads `R_p`
    come from the hello ([SHAPE-4]). In [ADPT-12]'s order: a key absent is MALFORMED_CBOR; `gid` not
    16 bytes, `psn` not 24-bit, `fallback_port` not 1..65535, `qpns` not `max(T, T_p)` 24-bit
    numbers ([SHAPE-5]), `slots` not {base u64, rkey u32, ids: distinct u16} with every slot inside
    the 64-bit address space, `request_slots` not `T` rows each empty or of `|R_p|` ids of `ids`,
    `response_slots` not `T_p` rows each empty or of `R` ids (request slots distinct): BAD_HEADER.
    """
    r = h.rdma
    missing = [k for k in _RDMA_KEYS if k not in r]
    if missing:  # [BOOT-3] "a side MUST reject a hello that lacks one of these keys ... with MALFORMED_CBOR"
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "BOOT-3", f"hello lacks {', '.join(missing)}")

    def bad(clause: str, why: str) -> RemoteProtocolError:
        return RemoteProtocolError(ErrorCode.BAD_HEADER, clause, why)

    if not isinstance(r["gid"], bytes) or len(r["gid"]) != 16:
        raise bad("BOOT-3", "gid is not 16 bytes")
    if not (_uint(r["psn"]) and r["psn"] < 1 << 24):
        raise bad("BOOT-3", f"psn {show(r['psn'])} is not 24-bit")
    # a side without trustee threads (empty request_slots rows, like the suite's verbs peer) has no
    # fallback listener and announces port 0; anyone else must name a TCP port
    serves = isinstance(r["request_slots"], list) and any(row for row in r["request_slots"])
    if not (_uint(r["fallback_port"]) and (1 if serves else 0) <= r["fallback_port"] <= 0xFFFF):
        raise bad("BOOT-3", f"fallback_port {show(r['fallback_port'])} is not a TCP port")
    q, nq = r["qpns"], max(threads, h.threads)  # [SHAPE-5] one QP pair per thread of the larger side
    if not (isinstance(q, list) and len(q) == nq and all(_uint(x) and x < 1 << 24 for x in q)):
        raise bad("BOOT-8", f"qpns must be {nq} 24-bit QP numbers, got {show(q)}")
    sl = r["slots"]
    if not (isinstance(sl, dict) and set(sl) == {"base", "rkey", "ids"}):
        raise bad("BOOT-6", f"slots must be {{base, rkey, ids}}, got {show(sl)}")
    base, rkey, ids = sl["base"], sl["rkey"], sl["ids"]
    if not (_uint(base) and base < 1 << 64 and _uint(rkey) and rkey < 1 << 32):
        raise bad("BOOT-6", "slots.base must be u64 and slots.rkey u32")
    if not (isinstance(ids, list) and all(_uint(i) and i <= 0xFFFF for i in ids) and len(set(ids)) == len(ids)):
        raise bad("BOOT-6", "slots.ids must be distinct u16 slot ids")
    if ids and base + (max(ids) + 1) * slot_size > 1 << 64:
        raise bad("BOOT-6", "a slot lies outside the 64-bit address space")
    known = set(ids)
    # [BOOT-6], [SHAPE-5]: request_slots has a row per client thread of ours, an id per trustee
    # thread of the sender; response_slots a row per client thread of the sender, an id per ours
    mine = threads if trustees is None else trustees
    for key, rows, cols in (("request_slots", threads, len(h.trustee_threads)),
                            ("response_slots", h.threads, mine)):
        table = r[key]
        rows_ok = isinstance(table, list) and len(table) == rows and all(
            isinstance(row, list) and len(row) in (0, cols) and all(_uint(i) and i in known for i in row)
            for row in table
        )
        if not rows_ok:
            raise bad("BOOT-6", f"{key} must be {rows} rows, each empty or {cols} ids of slots.ids")
    used = [i for row in r["request_slots"] for i in row]
    if len(set(used)) != len(used):
        raise bad("BOOT-6", "request_slots names a slot twice")
    # [SEC-6] optional: 16 bytes the sender's client threads present after their caller hellos
    secret = r.get("fallback_secret")
    if "fallback_secret" in r and not (isinstance(secret, bytes) and len(secret) == FALLBACK_SECRET_SIZE):
        raise bad("SEC-6", f"fallback_secret must be {FALLBACK_SECRET_SIZE} bytes, got {show(secret)}")


def decode_message(data: bytes) -> Any:
    """Exactly one whole bootstrap message, length prefix included ([DEC-5] steps 1 to 5)."""
    if len(data) < 4:
        raise RemoteProtocolError(ErrorCode.TRUNCATED, "DEC-5", f"{len(data)} bytes: no length prefix")
    n = _announced(data)
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


def _refuse_duplicate_keys(body: bytes, item: Any) -> None:
    """[DEC-5] step 5: a bootstrap map whose key is not a text string is MALFORMED_CBOR (a bootstrap
    map has text keys). A key twice never gets here: `serial.loads` refused it ([DEC-6] step 5)."""
    if isinstance(item, dict) and not all(isinstance(k, str) for k in item):
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "DEC-5", "a key of the bootstrap map is not a text string")


class BootstrapReader:
    """Length-prefixed CBOR messages from a byte stream ([BOOT-4])."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        out: list[Any] = []
        while len(self._buf) >= 4:
            n = _announced(self._buf)
            if len(self._buf) < 4 + n:
                break
            body = bytes(self._buf[4 : 4 + n])
            del self._buf[: 4 + n]
            item = serial.loads(body)
            _refuse_duplicate_keys(body, item)
            out.append(item)
        return out
