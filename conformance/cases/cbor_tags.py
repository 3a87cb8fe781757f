"""Tags are data to a receiver ([SER-5], [SER-4], [DEC-6]): kept, never resolved, echoed as they came.

Every tag is opaque ([SER-5]): `conformance:echo` given a tagged item returns the same tag number
over the same content item, not what a CBOR library makes of the tag's meaning. Each of these came
back changed from a receiver that decoded known tags: 30([2, 4]) as 30([1, 2]); epoch times 1(n)
and 1(1.0) as tag-0 date strings; 0("...00.5Z") with six fraction digits; bignums 2(h'01') and
3(h'00') as the integers 1 and -1 (and a bignum key as a duplicate of the integer key 1); 4 and 5
re-expressed (5([-1, 3]) as 4([-1, 15])); 55799(1) as 1; 258 (a set) with its elements sorted;
260/261 (network addresses) as tag 52; 36 (MIME) not at all (the library could not encode it
again). An echo is in core deterministic encoding ([SER-1]), so a tag number or content sent in a
longer form than needed comes back in its preferred form: 24-prefixed tag 2 as `0xc2`, 1(1.0 as a
float64) with a half-precision 1.0.
A tagged item is not an integer where the spec asks for one: a hello whose slot_size is 2(h'0400'),
whose machine is 55799(2) or whose versions hold 2(h'01') is BAD_HEADER ([DEC-5]).

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

import struct

from ..catalogue_closures import ADD, ECHO
from ..model import Case, err, ok
from ._wire import case, cbor, req_entry
from .bootstrap import hello
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

#: [SER-5] tags with a registered meaning, each in core deterministic encoding: echoed byte for byte.
#: 32 .. 35 and 37 came back unchanged from the cbor2 6.3 reference even before [SER-5] (it leaves 32 .. 34
#: undecoded and 35/37 round-trip); they pin the rule against a library that decodes them.
KNOWN: list[tuple[str, str, bytes]] = [
    ("tag-0-fraction", "a date/time string with a fraction of a second, 0(\"2013-03-21T20:04:00.5Z\")",
     b"\xc0\x76" + b"2013-03-21T20:04:00.5Z"),
    ("tag-1-int", "an epoch time in integer seconds, 1(1363896240)", bytes.fromhex("c11a514b67b0")),
    ("tag-1-float-1.0", "an epoch time of 1.0 second as a half-precision float, 1(1.0)", bytes.fromhex("c1f93c00")),
    ("tag-1-float64", "an epoch time of 1363896240.5 seconds, a float64, 1(1363896240.5)",
     bytes.fromhex("c1fb41d452d9ec200000")),
    ("tag-2-one", "a positive bignum of one byte, 2(h'01')", bytes.fromhex("c24101")),
    ("tag-2-leading-zero", "a positive bignum with a leading zero byte, 2(h'0001')", bytes.fromhex("c2420001")),
    ("tag-3", "a negative bignum, 3(h'00') (the value -1)", bytes.fromhex("c34100")),
    ("tag-4-bignum-mantissa", "a decimal fraction whose mantissa is a bignum, 4([0, 2(h'05')])",
     bytes.fromhex("c48200c24105")),
    ("tag-5", "a bigfloat, 5([-1, 3]) (1.5)", bytes.fromhex("c5822003")),
    ("tag-30", "a rational not in lowest terms, 30([2, 4])", bytes.fromhex("d81e820204")),
    ("tag-32", "a URI with an upper-case scheme, 32(\"HTTP://a\")", b"\xd8\x20\x68HTTP://a"),
    ("tag-33", "base64url text, 33(\"aGk\")", b"\xd8\x21\x63aGk"),
    ("tag-34", "base64 text, 34(\"aGk=\")", b"\xd8\x22\x64aGk="),
    ("tag-35", "a regular expression, 35(\"a+\")", b"\xd8\x23\x62a+"),
    ("tag-36", "a MIME message, 36(\"MIME-Version: 1.0\\n\\nhello\")",
     b"\xd8\x24\x78\x18MIME-Version: 1.0\n\nhello"),
    ("tag-37", "a binary UUID, 37(h'00112233445566778899aabbccddeeff')",
     bytes.fromhex("d8255000112233445566778899aabbccddeeff")),
    ("tag-55799", "the self-described CBOR tag around 1, 55799(1)", bytes.fromhex("d9d9f701")),
    ("tag-258", "a set whose elements are not sorted, 258([2, 1])", bytes.fromhex("d90102820201")),
    ("tag-260", "a network address, 260(h'01020304')", bytes.fromhex("d901044401020304")),
    ("tag-261", "a network address mask, 261({h'c0a80000': 24})", bytes.fromhex("d90105a144c0a800001818")),
    ("nested", "tags inside tags, 55799(258([2(h'01'), 1]))", bytes.fromhex("d9d9f7d9010282c2410101")),
    ("array", "rational and epoch time side by side, [30([2, 4]), 1(1.0)]", bytes.fromhex("82d81e820204c1f93c00")),
    ("bignum-key", "a map whose keys are 1 and 2(h'01'): two keys, not one, {1: \"b\", 2(h'01'): \"a\"}",
     bytes.fromhex("a2016162c241016161")),
]

#: [SER-5] with [SER-1]: (name, what, parameter, echo) for items whose tag or content is not in preferred form
REENCODED: list[tuple[str, str, bytes, bytes]] = [
    ("tag-number-long", "tag 2 with its number in a one-byte argument, 0xd8 0x02 h'01'", bytes.fromhex("d8024101"),
     bytes.fromhex("c24101")),
    ("tag-1-float64-1.0", "1(1.0) with 1.0 as a float64", bytes.fromhex("c1fb3ff0000000000000"),
     bytes.fromhex("c1f93c00")),
]

#: [SER-5] in a hello: (name, what, the untagged bytes of a key and value, the same with a tagged value)
HELLO_TAGGED: list[tuple[str, str, bytes, bytes]] = [
    ("slot-size-bignum", "slot_size as the bignum 2(h'0400') (1024)", b"\x69slot_size\x19\x04\x00",
     b"\x69slot_size\xc2\x42\x04\x00"),
    ("machine-self-described", "machine as 55799(2)", b"\x67machine\x02", b"\x67machine\xd9\xd9\xf7\x02"),
    ("versions-bignum", "versions as [1, 2(h'01')]", b"\x68versions\x82\x01\x01", b"\x68versions\x82\x01\xc2\x41\x01"),
]

#: [DEC-6] step 5: maps whose keys, re-encoded in core deterministic encoding, repeat: MALFORMED_CBOR
#: (the cbor2 reference kept the last value, so an echo dropped a pair)
DUPLICATE: list[tuple[str, str, bytes]] = [
    ("int", "{1: \"a\", 1: \"b\"}", bytes.fromhex("a2016161016162")),
    ("text", "{\"k\": 1, \"k\": 2}", bytes.fromhex("a2616b01616b02")),
    ("nested", "a map in an array in a map, {\"v\": [{1: 1, 1: 2}]}", bytes.fromhex("a1617681a201010102")),
    ("in-key", "a map key that is itself a map with a repeated key, {{1: 1, 1: 2}: 0}",
     bytes.fromhex("a1a20101010200")),
    ("int-width", "1 and 1 in a one-byte argument (0x18 0x01), {1: \"a\", 0x1801: \"b\"}",
     bytes.fromhex("a201616118016162")),
    ("indefinite-text", "\"a\" and the indefinite text (_ \"a\"), in an indefinite map",
     bytes.fromhex("bf616101") + bytes.fromhex("7f6161ff02") + b"\xff"),
    ("float-width", "1.0 as a half float and as a float64", bytes.fromhex("a2f93c0001fb3ff000000000000002")),
    ("tagged", "2(h'01') twice, once with its tag number in a one-byte argument",
     bytes.fromhex("a2c2410101d802410102")),
    ("map-key-order", "two map keys {1: 0, 2: 0} and {2: 0, 1: 0}: the same map once re-encoded",
     bytes.fromhex("a2a2010002006161a2020001006162")),
    ("negint-width", "-1 and -1 in a one-byte argument (0x38 0x00), {-1: 0, 0x3800: 1}", bytes.fromhex("a22000380001")),
    ("indefinite-bytes-empty", "h'' and the indefinite byte string (_ h''), {h'': 0, (_ h''): 1}",
     bytes.fromhex("a240005f40ff01")),
]

#: [DEC-6] step 5: keys that are distinct items stay distinct (no Python-style 1 == 1.0 == true)
DISTINCT: list[tuple[str, str, bytes]] = [
    ("int-float-bignum", "{1: \"a\", 2(h'01'): \"c\", 1.0: \"b\"}", bytes.fromhex("a3016161c241016163f93c006162")),
    ("int-true", "{1: \"a\", true: \"b\"}", bytes.fromhex("a2016161f56162")),
    ("zero-false-negzero", "{0: 1, false: 2, 0.0: 3, -0.0: 4}", bytes.fromhex("a40001f402f9000003f9800004")),
    ("int-20-false", "{20: 1, false: 2} (false is the simple value 20)", bytes.fromhex("a21401f402")),
    ("float-key-top-tag", "{1: 18446744073709551615(0), 1.0: 0}: a float key next to the largest tag number",
     bytes.fromhex("a201dbffffffffffffffff00f93c0000")),
    ("int-heads-small", "{0: 0, 1: 0, 16: 0, -1: 0}: one-byte heads of major types 0 and 1",
     bytes.fromhex("a40000010010002000")),
    ("int-heads-wide", "{24: 0, -25: 0, 256: 0, -257: 0}: the same arguments in majors 0 and 1",
     bytes.fromhex("a41818003818001901000039010000")),
    ("array-one-byte-arg", "{[129, 0]: 0, [24, [0]]: 0}: 24 is 0x18 0x18, 129 is 0x18 0x81",
     bytes.fromhex("a28218810000821818810000")),
    ("array-two-byte-arg", "{[24, [0]]: 0, [6273, 0]: 0}: 24 is 0x18 0x18, 6273 is 0x19 0x18 0x81",
     bytes.fromhex("a2821818810000821918810000")),
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
    for name, title, param, echo in [(n, t, p, p) for n, t, p in KNOWN] + REENCODED:
        same = "echoed byte for byte" if echo == param else "echoed in preferred form, its tag kept"
        p = _execute("at", "", f"{title}: the tag is data, {same}",
                     [(1, [req_entry(X, 0, b"", param), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                     [{"results": ["cbor", "u64"], "entries": [("OK", b"", echo), ("OK", u64(11), b"")]}])
        out.append(case(f"cbor_tags.opaque.{name}", p.title, ("SER-5", "SER-1", "DEC-6"), p.op, dict(p.args),
                        p.expect, tags=("trustee", "cbor"), check=p.check))
    base = cbor(hello())
    for name, title, plain, tagged in HELLO_TAGGED:
        assert base.count(plain) == 1
        body = base.replace(plain, tagged)
        out.append(case(f"cbor_tags.hello.{name}", f"a hello with {title}: a tagged item is not an integer, BAD_HEADER",
                        ("SER-5", "DEC-5"), "decode_hello", {"data": struct.pack("<I", len(body)) + body},
                        err("BAD_HEADER"), tags=("codec", "bootstrap", "cbor")))
    for name, title, data in DUPLICATE:
        p = _execute("past", "", f"a parameter map with a key twice ({title}): MALFORMED_CBOR, the next entry runs",
                     [(1, [req_entry(X, 0, b"", data), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                     [{"results": ["cbor", "u64"], "entries": [("MALFORMED_CBOR", b"", b""), ("OK", u64(11), b"")]}])
        out.append(case(f"cbor_keys.echo.dup-{name}", p.title, ("DEC-6", "SER-2"), p.op, dict(p.args),
                        p.expect, tags=("trustee", "cbor"), check=p.check))
        out.append(case(f"cbor_keys.check.dup-{name}", f"a map with a key twice, {title}, is refused",
                        ("DEC-6", "SER-2"), "check_cbor", {"data": data}, err("MALFORMED_CBOR"),
                        tags=("codec", "cbor")))
    for name, title, data in DISTINCT:
        p = _execute("at", "", f"{title}: distinct keys, all kept, echoed byte for byte",
                     [(1, [req_entry(X, 0, b"", data), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                     [{"results": ["cbor", "u64"], "entries": [("OK", b"", data), ("OK", u64(11), b"")]}])
        out.append(case(f"cbor_keys.echo.distinct-{name}", p.title, ("DEC-6", "SER-5", "SER-1"), p.op,
                        dict(p.args), p.expect, tags=("trustee", "cbor"), check=p.check))
        out.append(case(f"cbor_keys.check.distinct-{name}", f"{title} is one valid item", ("DEC-6",), "check_cbor",
                        {"data": data}, ok({}), tags=("codec", "cbor")))
    for name, title, data in ACCEPT:
        out.append(case(f"cbor_tags.accept.{name}", f"receivers accept {title}", ("SER-2", "DEC-6"), "check_cbor",
                        {"data": data}, ok({}), tags=("codec", "cbor")))
    out.append(case("cbor_tags.refuse.simple-two-byte-31", "the simple value 31 in two bytes (below 32) is refused",
                    ("SER-2", "DEC-6"), "check_cbor", {"data": b"\xf8\x1f"}, err("MALFORMED_CBOR"),
                    tags=("codec", "cbor")))
    return out
