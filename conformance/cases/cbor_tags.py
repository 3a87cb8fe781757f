"""Tags are data to a receiver ([SER-4], [DEC-6]): kept, never resolved, echoed as they came.

Reference tags (25 and 256 string references, 28 and 29 shared values) are never resolved: an echo
of `256(["abcd", 25(0)])` is that item again, not `["abcd", "abcd"]`, and one of `[28("x"), 29(0)]`
is not `["x", "x"]`. A tag whose content a decoder that knows the tag would refuse (tag 2 around a
text string) is still one well-formed item: accepted, and echoed with every tag of the item kept,
whatever its number (55799, the self-described CBOR tag, included). Also two well-formed items a
receiver must accept that sit next to refused ones in RFC 8949 appendix C: the simple value 0 in
one byte (`0xe0`) and a half-precision float whose two bytes are below 32 (`0xf9 0x00 0x1c`: only a
two-byte *simple value* below 32 is refused).
"""

from __future__ import annotations

from ..catalogue_closures import ADD, ECHO
from ..model import Case, err, ok
from ._wire import case, req_entry
from .limits import X, _execute, u64

#: (name, what, parameter): each is in core deterministic encoding, so its echo is itself ([SER-1])
ECHOED: list[tuple[str, str, bytes]] = [
    ("stringref", "a string reference inside its namespace, 256([\"abcd\", 25(0)])",
     bytes.fromhex("d9010082") + b"\x64abcd" + bytes.fromhex("d81900")),
    ("shared", "a shared value and a reference to it, [28(\"x\"), 29(0)]", bytes.fromhex("82d81c6178d81d00")),
    ("tag-2-text-self-described", "tag 2 around a text string next to 55799(1), [55799(1), 2(\"a\")]",
     bytes.fromhex("82d9d9f701c26161")),
    ("tag-2-text", "tag 2 around a text string, 2(\"a\")", bytes.fromhex("c26161")),
]

ACCEPT: list[tuple[str, str, bytes]] = [
    ("simple-0", "the simple value 0 in one byte", b"\xe0"),
    ("half-float-low", "a half-precision float whose argument is below 32", b"\xf9\x00\x1c"),
    ("half-float-zero", "the half-precision float +0.0", b"\xf9\x00\x00"),
]


def cases() -> list[Case]:
    out: list[Case] = []
    for name, title, param in ECHOED:
        p = _execute("at", "", f"{title}: accepted and echoed unchanged, its tags kept",
                     [(1, [req_entry(X, 0, b"", param), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                     [{"results": ["cbor", "u64"], "entries": [("OK", b"", param), ("OK", u64(11), b"")]}])
        out.append(case(f"cbor_tags.echo.{name}", p.title, ("SER-4", "DEC-6", "SER-1"), p.op, dict(p.args),
                        p.expect, tags=("trustee", "cbor"), check=p.check))
        out.append(case(f"cbor_tags.check.{name}", f"{title} is one well-formed item", ("SER-4", "DEC-6"),
                        "check_cbor", {"data": param}, ok({}), tags=("codec", "cbor")))
    for name, title, data in ACCEPT:
        out.append(case(f"cbor_tags.accept.{name}", f"receivers accept {title}", ("SER-2", "DEC-6"), "check_cbor",
                        {"data": data}, ok({}), tags=("codec", "cbor")))
    out.append(case("cbor_tags.refuse.simple-two-byte-31", "the simple value 31 in two bytes (below 32) is refused",
                    ("SER-2", "DEC-6"), "check_cbor", {"data": b"\xf8\x1f"}, err("MALFORMED_CBOR"),
                    tags=("codec", "cbor")))
    return out
