"""What a receiver accepts as CBOR, both ways ([SER-1], [SER-2], [DEC-6]).

Senders send core deterministic encoding; receivers accept every well-formed RFC 8949 item within
the depth limit: indefinite lengths, non-preferred integer, length and float widths, unsorted map
keys, any tag with any content, any simple value. They refuse what is not one
well-formed item: bytes after the item, indefinite length on integers and tags, a chunk of another
type, a missing or stray break, a two-byte simple value below 32, reserved additional information,
invalid UTF-8 (also when a character is split across chunks), a map with a key twice ([DEC-6] step 5,
cases in cbor_tags.py). Each is checked by `check_cbor`;
the important ones also as a parameter a trustee runs (`execute`: the entry is `MALFORMED_CBOR` and
the next entry runs, or `conformance:echo` answers the value re-encoded deterministically), as a
hello ([DEC-5]) and as an error response's detail, which is never checked ([ERR-3]).
"""

from __future__ import annotations

import struct

from ..catalogue_closures import ADD, ECHO
from ..model import Case, err, ok
from ._wire import HDR, U32, case, cbor, cfg, code, pad8, req_entry
from .bootstrap import hello
from .limits import X, _execute, u64

ACCEPT: list[tuple[str, str, bytes]] = [
    ("indef-array", "an indefinite-length array", b"\x9f\x01\x02\xff"),
    ("indef-array-empty", "an empty indefinite-length array", b"\x9f\xff"),
    ("indef-map", "an indefinite-length map", b"\xbf\x61a\x01\x61b\x02\xff"),
    ("indef-bytes", "an indefinite-length byte string of two chunks", b"\x5f\x41a\x42bc\xff"),
    ("indef-bytes-empty", "an indefinite-length byte string of no chunks", b"\x5f\xff"),
    ("indef-text", "an indefinite-length text string of two chunks", b"\x7f\x61a\x62bc\xff"),
    ("indef-nested", "indefinite containers inside indefinite containers", b"\x9f\xbf\x01\x9f\xff\xff\x5f\xff\xff"),
    ("int-1-byte", "the integer 1 in a 1-byte argument", b"\x18\x01"),
    ("int-2-byte", "the integer 1 in a 2-byte argument", b"\x19\x00\x01"),
    ("int-4-byte", "the integer 1 in a 4-byte argument", b"\x1a\x00\x00\x00\x01"),
    ("int-8-byte", "the integer 1 in an 8-byte argument", b"\x1b" + bytes(7) + b"\x01"),
    ("negative-wide", "the integer -1 in a 2-byte argument", b"\x39\x00\x00"),
    ("length-wide", "a 1-byte text string with a 2-byte length", b"\x79\x00\x01a"),
    ("float-wide", "1.0 as a float64", b"\xfb\x3f\xf0" + bytes(6)),
    ("float-half", "1.0 as a float16", b"\xf9\x3c\x00"),
    ("map-unsorted", "a map whose keys are not in deterministic order", b"\xa2\x02\x00\x01\x00"),
    ("tag-any", "tag 4000 around an array", b"\xd9\x0f\xa0\x82\x01\x02"),
    ("tag-0-int", "tag 0 (a date string) around an integer: any tag, any content", b"\xc0\x01"),
    ("tag-2-text", "tag 2 (a bignum) around a text string", b"\xc2\x61a"),
    ("tag-43000-int", "tag 43000 (a complex number to some decoders) around an integer", b"\xd9\xa7\xf8\x01"),
    ("tag-max-int", "tag 2^64 - 1 around an integer", b"\xdb" + b"\xff" * 8 + b"\x01"),
    ("simple-16", "the simple value 16", b"\xf0"),
    ("simple-255", "the simple value 255 in two bytes", b"\xf8\xff"),
    ("simple-32", "the simple value 32, the least one in two bytes", b"\xf8\x20"),
    ("chunk-1-byte-length", "an indefinite byte string whose chunk has a 1-byte length", b"\x5f\x58\x01a\xff"),
    ("chunk-8-byte-length", "an indefinite byte string whose chunk has an 8-byte length",
     b"\x5f\x5b" + bytes(7) + b"\x01a\xff"),
    ("text-chunk-1-byte-length", "an indefinite text string whose chunk has a 1-byte length", b"\x7f\x78\x01a\xff"),
    ("undefined", "undefined", b"\xf7"),
]

REFUSE: list[tuple[str, str, bytes]] = [
    ("trailing-int", "an integer and one byte after it", b"\x01\x00"),
    ("trailing-indef", "an indefinite-length array and one byte after it", b"\x9f\x01\xff\x00"),
    ("trailing-map", "a map and a break byte after it", b"\xa0\xff"),
    ("two-items", "two items", b"\x01\x02"),
    ("indef-int", "indefinite length on an unsigned integer", b"\x1f"),
    ("indef-negative", "indefinite length on a negative integer", b"\x3f"),
    ("indef-tag", "indefinite length on a tag", b"\xdf\x01"),
    ("chunk-wrong-type", "a text chunk inside an indefinite byte string", b"\x5f\x61a\xff"),
    ("chunk-indefinite", "an indefinite chunk inside an indefinite byte string", b"\x5f\x5f\xff\xff"),
    ("missing-break", "an indefinite-length array without its break", b"\x9f\x01"),
    ("string-missing-break", "an indefinite-length byte string without its break", b"\x5f\x41a"),
    ("stray-break", "a break byte as the item", b"\xff"),
    ("simple-two-byte-low", "a two-byte simple value below 32", b"\xf8\x10"),
    ("reserved-28", "additional information 28", b"\x1c"),
    ("reserved-29", "additional information 29 on a byte string", b"\x5d"),
    ("reserved-30", "additional information 30 on major type 7", b"\xfe"),
    ("utf8-invalid", "a text string that is not UTF-8", b"\x61\xff"),
    ("utf8-split", "a character split across two chunks of an indefinite text string", b"\x7f\x61\xc3\x61\xa9\xff"),
    ("truncated-argument", "an 8-byte argument with 7 bytes", b"\x1b" + bytes(7)),
]

#: parameters a trustee takes, and the deterministic encoding `conformance:echo` answers with
ECHOED: list[tuple[str, bytes, bytes]] = [
    ("indef-array", b"\x9f\x01\x02\xff", b"\x82\x01\x02"),
    ("indef-map", b"\xbf\x61a\x01\x61b\x02\xff", b"\xa2\x61a\x01\x61b\x02"),
    ("indef-text", b"\x7f\x61a\x62bc\xff", b"\x63abc"),
    ("int-wide", b"\x19\x00\x05", b"\x05"),
    ("map-unsorted", b"\xa2\x02\x00\x01\x00", b"\xa2\x01\x00\x02\x00"),
    ("float-wide", b"\xfb\x3f\xf0" + bytes(6), b"\xf9\x3c\x00"),
    ("tag-0-int", b"\xc0\x01", b"\xc0\x01"),
]


def cases() -> list[Case]:
    out: list[Case] = []
    for name, title, data in ACCEPT:
        out.append(case(f"cbor_wf.accept.{name}", f"receivers accept {title}", ("SER-2", "DEC-6"), "check_cbor",
                        {"data": data}, ok({}), tags=("codec", "cbor")))
    for name, title, data in REFUSE:
        out.append(case(f"cbor_wf.refuse.{name}", f"not one well-formed item: {title}", ("SER-2", "DEC-6"),
                        "check_cbor", {"data": data}, err("MALFORMED_CBOR"), tags=("codec", "cbor")))
    # -- as a parameter a trustee runs ([SER-2]: entry-level, the next entry runs)
    for name, param, canon in ECHOED:
        p = _execute("at", "", f"a parameter with {name}: accepted, echoed in deterministic encoding",
                     [(1, [req_entry(X, 0, b"", param), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                     [{"results": ["cbor", "u64"], "entries": [("OK", b"", canon), ("OK", u64(11), b"")]}])
        out.append(case(f"cbor_wf.execute.accept-{name}", p.title, ("SER-1", "SER-2", "DEC-6"), p.op,
                        dict(p.args), p.expect, tags=("trustee", "cbor"), check=p.check))
    for name, param in (("trailing-byte", b"\x9f\x01\xff\x00"), ("two-items", b"\x01\x02"), ("empty", b""),
                        ("utf8-split", b"\x7f\x61\xc3\x61\xa9\xff"), ("indef-int", b"\x1f")):
        p = _execute("past", "", f"a parameter that is not one item ({name}): MALFORMED_CBOR, the next entry runs",
                     [(1, [req_entry(X, 0, b"", param), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id])],
                     [{"results": ["cbor", "u64"], "entries": [("MALFORMED_CBOR", b"", b""), ("OK", u64(11), b"")]}])
        out.append(case(f"cbor_wf.execute.refuse-{name}", p.title, ("SER-2", "ERR-2"), p.op, dict(p.args), p.expect,
                        tags=("trustee", "cbor"), check=p.check))
    # -- a hello in indefinite-length and wide encodings ([DEC-5] step 4 is [DEC-6])
    h = hello()
    body = b"\xbf" + b"".join(cbor(k) + (b"\x19" + struct.pack(">H", v) if isinstance(v, int) and v < 65536
                                           else cbor(v)) for k, v in h.items()) + b"\xff"
    out.append(case("cbor_wf.hello-indefinite", "a hello as an indefinite-length map with 2-byte integers",
                    ("BOOT-2", "DEC-5", "DEC-6"), "decode_hello", {"data": struct.pack("<I", len(body)) + body},
                    ok(h), tags=("codec", "cbor", "bootstrap")))
    bad = cbor(h) + b"\x00"
    out.append(case("cbor_wf.hello-trailing", "a hello body with one byte after its map: MALFORMED_CBOR",
                    ("BOOT-2", "DEC-5"), "decode_hello", {"data": struct.pack("<I", len(bad)) + bad},
                    err("MALFORMED_CBOR"), tags=("codec", "cbor", "bootstrap")))

    # -- an error response's detail is never checked ([ERR-3], [DEC-2] step 3.5)
    def err_img(detail: bytes) -> bytes:
        b = pad8(U32.pack(len(detail)) + detail)
        hd = HDR.pack(5, (16 + len(b)) // 8, 0, code("TORN"))
        return hd + b + hd

    for name, detail, text in (("indef-text", b"\x7f\x62no\x61!\xff", "no!"), ("not-cbor", b"\xff\xfe\x1c", ""),
                               ("not-text", cbor([1, 2]), "")):
        out.append(case(f"cbor_wf.detail-{name}", f"an error response whose detail is {name}: decoded, never refused",
                        ("ERR-3", "DEC-2", "RSP-5"), "decode_response_batch",
                        {"config": cfg(), "results": ["u64"], "image": err_img(detail)},
                        ok({"seq": 5, "status": code("TORN"), "responses": [], "detail": text}),
                        tags=("codec", "cbor", "response")))
    return out
