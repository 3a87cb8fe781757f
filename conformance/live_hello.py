"""What the suite demands of a live trustee's hello before it drives anything ([BOOT-1] .. [BOOT-8],
[ADPT-13]).

Written from SPEC.md section 10 alone (nothing here imports `gossamer`): `check_trustee_hello`
takes the decoded hello map a trustee sent first on the bootstrap connection ([BOOT-5]) and
raises `HelloViolation` naming the first clause it breaks, with the code the suite answers with
(`{"error": code, "detail": text}`, [BOOT-5]) before it closes. `check_drivable` then says whether
the suite can drive a trustee of that shape at all: the catalogue is written for `T >= 2`,
`S = 1024`, `K = 4` ([ADPT-13]); anything else is refused (`Undrivable`), never run with most
cases skipped.

The map is also validated against the CDDL rule `hello` (`protocol/schemas/bootstrap.cddl`, through
`conformance.schemas`, pycddl) after the checks that name a clause; a failure names the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .oracle import codes
from .oracle.bootstrap import check_fallback_secret
from .oracle.errors import Rejected

#: the protocol versions the suite speaks ([BOOT-1]; this document is version 1)
SUITE_VERSIONS = (1, 1)
#: [BOOT-2]'s seven required keys
REQUIRED = ("versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit")
#: [BOOT-3] and [BOOT-6]: what a trustee's hello carries for RDMA
RDMA_KEYS = ("gid", "qpns", "psn", "slots", "request_slots", "response_slots", "fallback_port")
#: the trustee under test is machine 0, the suite machine 1 ([ADPT-13], [BOOT-11])
TRUSTEE_MACHINE = 0
#: the shape of trustee the catalogue is written for ([ADPT-13])
DRIVABLE = {"min_threads": 2, "slot_size": 1024, "table_k": 4}

MALFORMED_CBOR, BAD_HEADER, VERSION_MISMATCH = (codes.value(n) for n in ("MALFORMED_CBOR", "BAD_HEADER",
                                                                           "VERSION_MISMATCH"))


class HelloViolation(Exception):
    """The trustee's hello breaks a clause of section 10: bootstrap fails, the run fails (exit 1)."""

    exit_status = 1

    def __init__(self, clause: str, code: int, message: str) -> None:
        super().__init__(f"bootstrap refused: {message} ([{clause}])")
        self.clause = clause
        self.code = code
        self.detail = message


class LiveViolation(Exception):
    """The opening probe caught the trustee breaking a clause before any case ran (exit 1)."""

    exit_status = 1


class Undrivable(Exception):
    """A conformant trustee the catalogue cannot drive (its T, S or K): refused (exit 2)."""

    exit_status = 2


def _uint(v: Any, bits: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < (1 << bits)


def check_trustee_hello(m: Any) -> None:
    """Raise HelloViolation for the first clause the trustee's hello map breaks."""
    # [BOOT-2] "one missing a required key or whose map is not well-formed CBOR with MALFORMED_CBOR"
    if not isinstance(m, Mapping):
        raise HelloViolation("BOOT-2", MALFORMED_CBOR, f"the trustee's hello is not a CBOR map: {m!r:.80}")
    missing = [k for k in REQUIRED if k not in m]
    if missing:
        raise HelloViolation("BOOT-2", MALFORMED_CBOR, f"the trustee's hello lacks the required key(s) {missing}")
    v = m["versions"]
    if not (isinstance(v, list) and len(v) == 2 and all(_uint(x, 64) for x in v) and v[0] <= v[1]):
        raise HelloViolation("BOOT-1", BAD_HEADER, f"versions must be [min, max], got {v!r:.60}")
    for k, bits in (("machine", 16), ("threads", 16), ("slot_size", 32), ("table_k", 8),
                    ("fallback_timeout_ms", 64), ("fallback_limit", 64)):
        if not _uint(m[k], bits):
            raise HelloViolation("BOOT-2", BAD_HEADER, f"{k} must be a u{bits}, got {m[k]!r:.40}")
    s, k, t = m["slot_size"], m["table_k"], m["threads"]
    if not (64 <= s <= 65536 and s % 64 == 0):  # [SLOT-3]
        raise HelloViolation("BOOT-2", BAD_HEADER, f"slot_size {s} breaks [SLOT-3] (a multiple of 64 in 64..65536)")
    if k > 32:  # [VT-1]
        raise HelloViolation("BOOT-2", BAD_HEADER, f"table_k {k} breaks [VT-1] (0..32)")
    if t < 1:
        raise HelloViolation("BOOT-8", BAD_HEADER, "threads is 0: a trustee machine runs at least one thread")
    # [DEC-5] step 10, after the ranges of steps 7 to 9: [BOOT-1] "Both use the highest version in
    # both ranges; if the ranges do not overlap ... VERSION_MISMATCH"
    if max(v[0], SUITE_VERSIONS[0]) > min(v[1], SUITE_VERSIONS[1]):
        raise HelloViolation("BOOT-1", VERSION_MISMATCH,
                             f"the trustee announces versions {list(v)}; this document is version 1 and the suite "
                             f"speaks {list(SUITE_VERSIONS)}: no common version")
    # [DEC-5] step 11, [BOOT-11]: the suite connected to the trustee under test, machine 0 ([ADPT-13])
    if m["machine"] != TRUSTEE_MACHINE:
        raise HelloViolation("BOOT-11", BAD_HEADER, f"the trustee's hello names machine {m['machine']}; the suite "
                                                    f"connected to the trustee under test, machine {TRUSTEE_MACHINE}")
    # [DEC-5] step 12 the suite does not make: it mirrors the trustee's shape ([SHAPE-5], [ADPT-12])
    # [BOOT-3] "The hello also carries, for RDMA: gid, qpns, psn, slots ... and fallback_port"
    missing = [key for key in RDMA_KEYS if key not in m]
    if missing:
        clause = "BOOT-3" if any(key not in ("request_slots", "response_slots") for key in missing) else "BOOT-6"
        raise HelloViolation(clause, MALFORMED_CBOR, f"the trustee's hello lacks {missing}")
    gid = m["gid"]
    if not (isinstance(gid, bytes) and len(gid) == 16):
        raise HelloViolation("BOOT-3", BAD_HEADER, f"gid must be 16 bytes, got {gid!r:.60}")
    if not _uint(m["psn"], 24):
        raise HelloViolation("BOOT-9", BAD_HEADER, f"psn must be a 24-bit value, got {m['psn']!r:.30}")
    port = m["fallback_port"]
    if not (_uint(port, 16) and port > 0):
        raise HelloViolation("BOOT-3", BAD_HEADER, f"fallback_port must be a TCP port (1..65535), got {port!r:.30}")
    qpns = m["qpns"]
    # [BOOT-8] "qpns holds T QP numbers"
    if not (isinstance(qpns, list) and len(qpns) == t and all(_uint(q, 24) for q in qpns)):
        raise HelloViolation("BOOT-8", BAD_HEADER, f"qpns must hold {t} QP numbers (24-bit), got {qpns!r:.80}")
    _check_slots(m, s, t)
    try:  # [SEC-6] an optional fallback_secret, after the tables ([ADPT-12])
        check_fallback_secret(m)
    except Rejected as e:
        raise HelloViolation("SEC-6", BAD_HEADER, f"the trustee's hello: {e}") from None
    _check_schema(m)


def _check_schema(m: Mapping[str, Any]) -> None:
    """The CDDL rule `hello` of protocol/schemas/ (UX's `conformance.schemas`, pycddl), after the
    checks above have named the clause of anything they know; skipped where pycddl is missing
    (the Soft-RoCE guest's Python)."""
    try:
        from .schemas import SchemaError, SchemasUnavailable, validate
    except ImportError:
        return
    try:
        validate("hello", dict(m), root="hello")
    except SchemasUnavailable:
        return
    except SchemaError as e:  # names the failing path: hello.slots.rkey: expected ... ([ADPT-12]: BAD_HEADER)
        raise HelloViolation("ADPT-18", BAD_HEADER, f"the hello does not match protocol/schemas/bootstrap.cddl: "
                                                    f"{e}") from None


def _check_slots(m: Mapping[str, Any], s: int, t: int) -> None:
    """[BOOT-6]: the region, the ids, and both tables."""
    slots = m["slots"]
    if not (isinstance(slots, Mapping) and {"base", "rkey", "ids"} <= set(slots)):
        raise HelloViolation("BOOT-6", MALFORMED_CBOR, f"slots must be {{base, rkey, ids}}, got {slots!r:.80}")
    base, rkey, ids = slots["base"], slots["rkey"], slots["ids"]
    if not (_uint(base, 64) and _uint(rkey, 32)):
        raise HelloViolation("BOOT-6", BAD_HEADER, f"slots.base must be a u64 and slots.rkey a u32: {base!r}, {rkey!r}")
    if not (isinstance(ids, list) and ids and all(_uint(i, 16) for i in ids)):
        raise HelloViolation("BOOT-6", BAD_HEADER, f"slots.ids must be a non-empty array of u16, got {ids!r:.80}")
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise HelloViolation("BOOT-6", BAD_HEADER, f"slots.ids names slot(s) {dup} twice")
    # "slot i starts at base + i * S": every announced slot must be an address, not a wrap-around
    if base + (max(ids) + 1) * s > 1 << 64:
        raise HelloViolation("BOOT-6", BAD_HEADER,
                             f"slot {max(ids)} at base {base:#x} + {max(ids)} * {s} lies past the 64-bit address space")
    known = set(ids)
    req = m["request_slots"]
    # [BOOT-6] "one array per client thread c of the peer whose element t is the id of the request slot"
    if not (isinstance(req, list) and len(req) == t and all(isinstance(r, list) and len(r) == t for r in req)):
        raise HelloViolation("BOOT-6", BAD_HEADER, f"request_slots must be a {t} x {t} table, got {req!r:.80}")
    flat = [i for row in req for i in row]
    stray = [i for i in flat if i not in known]
    if stray:
        raise HelloViolation("BOOT-6", BAD_HEADER, f"request_slots names slot id(s) {stray} that are not in slots.ids")
    if len(set(flat)) != len(flat):  # [SLOT-1] exactly one request slot per pair
        raise HelloViolation("BOOT-6", BAD_HEADER, f"request_slots gives two pairs the same slot: {req}")
    rsp = m["response_slots"]
    if not (isinstance(rsp, list) and len(rsp) == t and all(isinstance(r, list) and len(r) in (0, t) for r in rsp)):
        raise HelloViolation("BOOT-6", BAD_HEADER,
                             f"response_slots must have {t} rows of {t} ids (or empty rows), got {rsp!r:.80}")
    stray = [i for row in rsp for i in row if i not in known]
    if stray:
        raise HelloViolation("BOOT-6", BAD_HEADER, f"response_slots names slot id(s) {stray} that are not in slots.ids")


def check_drivable(m: Mapping[str, Any]) -> None:
    """Raise Undrivable when the catalogue cannot drive a trustee of this T, S and K ([ADPT-13])."""
    t, s, k = m["threads"], m["slot_size"], m["table_k"]
    want = DRIVABLE
    if t >= want["min_threads"] and s == want["slot_size"] and k == want["table_k"]:
        return
    bad = [f"T = {t} (needs >= {want['min_threads']})" if t < want["min_threads"] else "",
           f"S = {s} (needs {want['slot_size']})" if s != want["slot_size"] else "",
           f"K = {k} (needs {want['table_k']})" if k != want["table_k"] else ""]
    raise Undrivable(
        "the suite cannot drive this trustee: " + ", ".join(b for b in bad if b)
        + ". The catalogue's live cases are written for T >= 2 threads, S = 1024, K = 4 ([ADPT-13]); restart the "
        "trustee with that configuration (e.g. reference_trustee --threads 2 --slot-size 1024 --table-k 4). "
        "Nothing was run.")
