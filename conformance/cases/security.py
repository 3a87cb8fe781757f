"""Security considerations (SPEC.md section 15): what a receiver does with a hostile peer's bytes.

Shared-reference CBOR ([SER-4], [SEC-5]) is checked both as a bare item and as a parameter a trustee
echoes: the echo must be the item's own bytes (core deterministic encoding, references kept), and it
must come at once (the case's deadline catches a receiver that resolves 2^39 references). Hello
integers of 5000 digits ([SEC-1], [SEC-2]) must be refused with their code, not crash the decoder.
The response is judged by its bytes, never by resolving the item.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..catalogue_closures import ECHO, GET, standard
from ..model import Case, Outcome, err, ok
from ..oracle import codes, layout, response, slot
from ..oracle.bootstrap import check_fallback_secret
from ..oracle.errors import Rejected
from ._execute_op import X, b, entry, execute_check
from ._wire import case, cbor, cfg, frame, req_entry, stub
from .bootstrap import hello, msg
from .trust_ids import A1, A2

BIG = 10**5000  # repr() of it raises ValueError in Python: more than 4300 digits


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    width = next(w for w in (1, 2, 4, 8) if arg < 1 << (8 * w))
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[width]]) + arg.to_bytes(width, "big")


def shared_refs(n: int) -> bytes:
    """n shared values, each [ref(i-1), ref(i-1)]: 2^(n-1) leaves if resolved; deterministic encoding."""
    out = bytearray(_head(4, n)) + b"\xd8\x1c\x82\x00\x00"
    for i in range(1, n):
        ref = b"\xd8\x1d" + _head(0, i - 1)
        out += b"\xd8\x1c\x82" + ref + ref
    return bytes(out)


ITEM = shared_refs(40)


def echo_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected responses, got {str(got)[:200]}"
    have = got["ok"].get("responses")
    if not isinstance(have, list) or len(have) != 1:
        return f"expected 1 response image, got {str(have)[:200]}"
    try:
        rb = response.decode(have[0]["image"], [layout.Result.parse("cbor")], slot.Config.of(c.args["config"]), 1)
    except Rejected as e:
        return f"the response image does not decode: {e}"
    if rb.status or len(rb.responses) != 1 or rb.responses[0].status != codes.OK:
        return f"expected one OK entry, got batch status {rb.status:#04x}, entries {[r.status for r in rb.responses]}"
    if rb.responses[0].body != ITEM:
        return ("the echo is not the item's own bytes ([SER-4]: references are kept as tags, so the "
                "deterministic re-encoding of the item is the item)")
    return None


#: hellos whose RDMA keys a trustee must refuse before it uses them ([SEC-2], [BOOT-3], [BOOT-6],
#: [BOOT-8]), each broke the reference server before issue 13, and the code each is answered with
HOSTILE_HELLOS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("no slots", {"slots": None}, "MALFORMED_CBOR"),
    ("slots.base 'x'", {"slots": {"base": "x", "rkey": 1, "ids": [0, 1, 2, 3]}}, "BAD_HEADER"),
    ("an empty gid", {"gid": b""}, "BAD_HEADER"),
    ("no qpns", {"qpns": []}, "BAD_HEADER"),
    ("a 25-bit qpn", {"qpns": [1, 1 << 24]}, "BAD_HEADER"),
    ("a short slot row", {"response_slots": [[0], [2, 3]]}, "BAD_HEADER"),
    ("a slot id not in ids", {"response_slots": [[0, 1], [2, 9]]}, "BAD_HEADER"),
    ("a psn of 25 bits", {"psn": 1 << 24}, "BAD_HEADER"),
    ("slot_size of 5000 digits", {"slot_size": BIG}, "BAD_HEADER"),
    ("versions [7, 9]", {"versions": [7, 9]}, "VERSION_MISMATCH"),
)


def hostile_hello_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected the trustee's replies, got {str(got)[:200]}"
    replies = got["ok"].get("replies", [])
    if len(replies) != len(HOSTILE_HELLOS):
        return f"{len(replies)} replies for {len(HOSTILE_HELLOS)} hellos"
    for (what, _, code), r in zip(HOSTILE_HELLOS, replies, strict=True):
        reply = r.get("reply")
        want = codes.value(code)
        if not (isinstance(reply, dict) and reply.get("error") == want):
            return (f"a hello with {what}: expected {{\"error\": {want:#04x}}} ({code}) before the trustee closes, "
                    f"got {str(reply)[:100]} ([SEC-2], [BOOT-5])")
        if not r.get("closed"):
            return f"a hello with {what}: after its error the trustee did not close the connection ([BOOT-5])"
    if not got["ok"].get("still_serving"):
        return "after the hostile hellos the trustee no longer greets a new connection ([SEC-2], [ADPT-13])"
    return None


#: [SEC-6] hellos (the suite's, otherwise sound) whose fallback_secret breaks the 16-byte rule
SECRET_HELLOS: tuple[tuple[str, Any], ...] = (
    ("a 15-byte fallback_secret", bytes(15)),
    ("a 17-byte fallback_secret", bytes(17)),
    ("a text fallback_secret", "0123456789abcdef"),
    ("an integer fallback_secret", 16),
)


def secret_hello_check(c: Case, got: Outcome) -> str | None:
    """Each hello of SECRET_HELLOS answered with the oracle's code for its fallback_secret, then
    closed ([BOOT-5]); then the trustee still greets a newcomer ([SEC-2])."""
    if "ok" not in got:
        return f"expected the trustee's replies, got {str(got)[:200]}"
    replies = got["ok"].get("replies", [])
    if len(replies) != len(SECRET_HELLOS):
        return f"{len(replies)} replies for {len(SECRET_HELLOS)} hellos"
    for (what, value), r in zip(SECRET_HELLOS, replies, strict=True):
        try:
            check_fallback_secret({"fallback_secret": value})
            return f"the oracle accepts {what}: the case is wrong"
        except Rejected as e:
            want = e.value
        reply = r.get("reply")
        if not (isinstance(reply, dict) and reply.get("error") == want):
            return (f"a hello with {what}: expected {{\"error\": {want:#04x}}} before the trustee closes, got "
                    f"{str(reply)[:100]} ([SEC-6], [BOOT-5])")
        if not r.get("closed"):
            return f"a hello with {what}: after its error the trustee did not close the connection ([BOOT-5])"
    if not got["ok"].get("still_serving"):
        return "after those hellos the trustee no longer greets a new connection ([SEC-2], [ADPT-13])"
    return None


def cases() -> list[Case]:
    out: list[Case] = []
    out.append(case("sec.cbor-shared-refs", "2^39 leaves' worth of shared references is one well-formed item",
                    ["SER-4", "SEC-5", "DEC-6"], "check_cbor", {"data": ITEM}, ok({}), tags=("codec", "cbor")))
    args: dict[str, Any] = {"config": cfg(), "closures": standard(),
                            "properties": [{"pointer": X, "value": [0], "first": A1}],
                            "batches": [b(1, [req_entry(X, 0, b"", ITEM)], [ECHO.id])]}
    out.append(case("sec.echo-shared-refs", "a trustee echoes a shared-reference item as its bytes, at once",
                    ["SER-4", "SEC-5", "SEC-1"], "execute", args, ok({"responses": "(checked by bytes)"}),
                    tags=("trustee",), check=echo_check))
    for key in ("slot_size", "machine", "fallback_limit"):
        out.append(case(f"sec.hello-5000-digit-{key.replace('_', '-')}",
                        f"a hello whose {key} has 5000 digits is BAD_HEADER, not a crash",
                        ["SEC-1", "SEC-2", "BOOT-2"], "decode_hello", {"data": msg(hello(**{key: BIG}))},
                        err("BAD_HEADER"), tags=("codec", "bootstrap")))
    # [SEC-7]: a pointer is a name; a property entrusted by another machine's thread (trust id A2) runs
    # a request from whoever names its pointer
    out.append(case("sec.pointer-is-a-name", "a request naming a live pointer runs whoever entrusted it",
                    ["SEC-7", "REQ-1"], "execute",
                    {"config": cfg(), "closures": standard(),
                     "properties": [{"pointer": X, "value": [10], "first": A2}],
                     "batches": [b(1, [req_entry(X, 0)], [GET.id])],
                     "_want": [{"results": ["cbor"], "entries": [entry("OK", b"", 10)]}], "_live": None},
                    ok({"responses": "(checked by decoding)"}), tags=("trustee",), check=execute_check))
    # [FB-6] with [DEC-4]: one mis-sized frame fails its own entry; the other stub of the batch, whose
    # frame is right, runs (the execute op once failed every waiting entry for it)
    big = cbor(bytes(986))  # needs the fallback ([FB-1])
    out.append(case("sec.frame-wrong-length-own-entry", "a mis-sized frame fails only its own stub",
                    ["FB-6", "DEC-4", "SEC-1"], "execute",
                    {"config": cfg(), "closures": standard(),
                     "properties": [{"pointer": X, "value": [10], "first": A1}],
                     "batches": [b(1, [stub(X, 0, len(big) + 8), stub(X, 0, len(big))], [ECHO.id],
                                   frames=(frame(1, 0, 1, 0, big), frame(1, 0, 1, 1, big)))],
                     "_want": [{"results": ["cbor", "cbor"], "entries": [entry("BAD_FRAME"),
                                                                         entry("OK", b"", bytes(986))]}],
                     "_live": None},
                    ok({"responses": "(checked by decoding)"}), tags=("trustee", "fallback"),
                    check=execute_check))
    from .live import _hello

    out.append(case("sec.boot-hostile-hellos", "hellos whose RDMA keys are missing or broken, or whose integers "
                    "have 5000 digits: each answered with its code, then closed; the trustee goes on serving",
                    ["SEC-2", "SEC-1", "BOOT-3", "BOOT-5", "BOOT-6", "BOOT-8", "ADPT-13"], "nic_bootstrap",
                    {"hellos": [_hello(**over) for _, over, _ in HOSTILE_HELLOS]}, ok({"replies": "(checked)"}),
                    tags=("nic", "live", "trustee", "bootstrap"), check=hostile_hello_check))
    out.append(case("sec.hello-fallback-secret-size", "hellos whose fallback_secret is not 16 bytes (15, 17, a "
                    "text, an integer): each answered BAD_HEADER, then closed; the trustee goes on serving",
                    ["SEC-6", "SEC-2", "BOOT-5"], "nic_bootstrap",
                    {"hellos": [_hello(fallback_secret=v) for _, v in SECRET_HELLOS]}, ok({"replies": "(checked)"}),
                    tags=("nic", "live", "trustee", "bootstrap", "fallback"), check=secret_hello_check))
    from . import landing, live, nic

    return out + also([*landing.cases(), *nic.cases(), *live.cases()])


#: Checks of other areas that are also section 15's checks on one peer (the only peer a target
#: offers): each runs again under a sec.* id naming the security clause. A landing or frame from a
#: *second* machine needs a rack; tests/hostile/ checks that part on the runtime.
ALSO: dict[str, tuple[str, str]] = {
    "flow.client-idle-response-discarded": ("sec.client-idle-response", "SEC-4"),
    "flow.client-unsolicited": ("sec.client-unsolicited", "SEC-4"),
    "nic.fallback-stranger-refused": ("sec.fallback-stranger", "SEC-6"),
    "nic.fallback-own-connection": ("sec.fallback-own-connection", "SEC-6"),
    "live.slot-addresses": ("sec.slots-as-announced", "SEC-3"),
}


def also(found: list[Case]) -> list[Case]:
    """sec.* copies of the cases of ALSO found in `found` (the rest of the catalogue)."""
    out = []
    for c in found:
        if c.id in ALSO:
            cid, clause = ALSO[c.id]
            out.append(attrs.evolve(c, id=cid, clauses=(clause, *c.clauses)))
    return out
