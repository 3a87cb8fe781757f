"""Bootstrap and version negotiation ([BOOT-1] .. [BOOT-4])."""

from __future__ import annotations

import struct
from typing import Any

from ..model import Case, err, ok
from ._wire import case, cbor


def hello(**over: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"versions": [1, 1], "machine": 2, "threads": 4, "slot_size": 1024, "table_k": 4,
                         "fallback_timeout_ms": 5000, "fallback_limit": 64 << 20}
    m.update(over)
    return {k: v for k, v in m.items() if v is not None}


def msg(m: Any) -> bytes:
    body = cbor(m)
    return struct.pack("<I", len(body)) + body


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict, expect: dict) -> None:  # type: ignore[type-arg]
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "bootstrap")))

    add("boot.negotiate-highest", "the highest version in both ranges", ["BOOT-1"], "negotiate",
        {"ours": [1, 3], "theirs": [2, 5]}, ok({"version": 3}))
    add("boot.negotiate-v1", "two version-1 peers speak version 1", ["BOOT-1"], "negotiate",
        {"ours": [1, 1], "theirs": [1, 1]}, ok({"version": 1}))
    add("boot.negotiate-disjoint", "ranges that do not overlap", ["BOOT-1"], "negotiate",
        {"ours": [1, 1], "theirs": [2, 3]}, err("VERSION_MISMATCH"))
    rdma = {"gid": bytes(16), "qpns": [17, 18], "psn": 0x123456,
            "slots": {"base": 0x7F00_0000_0000, "rkey": 0x1234, "ids": [0, 1]},
            "request_slots": [[0], [1]], "response_slots": [[], []], "fallback_port": 7471}
    want = dict(hello().items())
    add("boot.hello-valid", "a well-formed hello with its RDMA keys", ["BOOT-2", "BOOT-3", "BOOT-6"], "decode_hello",
        {"data": msg(hello(**rdma))}, ok(want))
    add("boot.hello-slot-size", "slot_size 100 breaks SLOT-3", ["BOOT-2", "SLOT-3"], "decode_hello",
        {"data": msg(hello(slot_size=100))}, err("BAD_HEADER"))
    add("boot.hello-slot-size-max", "slot_size 65536 is the largest allowed", ["BOOT-2", "SLOT-3"],
        "decode_hello", {"data": msg(hello(slot_size=65536))}, ok({**want, "slot_size": 65536}))
    add("boot.hello-table-k", "table_k 33 breaks VT-1", ["BOOT-2", "VT-1"], "decode_hello",
        {"data": msg(hello(table_k=33))}, err("BAD_HEADER"))
    add("boot.hello-missing-key", "a hello without slot_size", ["BOOT-2"], "decode_hello",
        {"data": msg(hello(slot_size=None))}, err("MALFORMED_CBOR"))
    add("boot.hello-not-cbor", "a hello that is not well-formed CBOR", ["BOOT-2"], "decode_hello",
        {"data": struct.pack("<I", 3) + b"\xa1\x61"  + b"\xff"}, err("MALFORMED_CBOR"))
    add("boot.hello-oversize", "a bootstrap message longer than 1 MiB", ["BOOT-4"], "decode_hello",
        {"data": struct.pack("<I", (1 << 20) + 1) + b"\xa0"}, err("OVERSIZE"))
    good = msg(hello())
    add("boot.hello-at-1mib", "a prefix of exactly 1 MiB is not OVERSIZE (the body is then missing)",
        ["BOOT-4", "DEC-5"], "decode_hello", {"data": struct.pack("<I", 1 << 20) + good[4:]}, err("TRUNCATED"))
    add("boot.hello-no-prefix", "three bytes: no length prefix", ["DEC-5"], "decode_hello",
        {"data": good[:3]}, err("TRUNCATED"))
    add("boot.hello-incomplete", "a message cut short", ["DEC-5"], "decode_hello", {"data": good[:-1]},
        err("TRUNCATED"))
    add("boot.hello-trailing", "bytes after the one message", ["DEC-5"], "decode_hello", {"data": good + b"\0"},
        err("BAD_ARGUMENT"))
    add("boot.hello-prefix-big-endian", "the length prefix is little-endian: big-endian reads as > 1 MiB",
        ["DEC-5", "GEN-1", "BOOT-4"], "decode_hello",
        {"data": struct.pack(">I", len(good) - 4) + good[4:]}, err("OVERSIZE"))
    add("boot.hello-versions-three", "versions must be exactly [min, max]", ["DEC-5", "BOOT-1"], "decode_hello",
        {"data": msg(hello(versions=[1, 1, 1]))}, err("BAD_HEADER"))
    add("boot.hello-versions-negative", "versions are non-negative integers", ["DEC-5", "BOOT-1"], "decode_hello",
        {"data": msg(hello(versions=[-1, 1]))}, err("BAD_HEADER"))
    add("boot.hello-bool-is-not-int", "threads true is not an integer", ["DEC-5", "BOOT-2"], "decode_hello",
        {"data": msg(hello(threads=True))}, err("BAD_HEADER"))
    add("boot.hello-threads-17-bit", "threads above 16 bits", ["DEC-5", "BOOT-2"], "decode_hello",
        {"data": msg(hello(threads=0x10000))}, err("BAD_HEADER"))
    add("boot.hello-missing-before-range", "a missing key is judged before a bad slot size", ["DEC-5", "BOOT-2"],
        "decode_hello", {"data": msg(hello(slot_size=100, fallback_limit=None))}, err("MALFORMED_CBOR"))
    add("boot.hello-not-a-map", "a hello that is an array", ["DEC-5", "BOOT-2"], "decode_hello",
        {"data": msg([1, 2, 3])}, err("MALFORMED_CBOR"))
    add("boot.hello-extra-keys", "keys beyond the seven are not answered", ["ADPT-8", "DEC-5"], "decode_hello",
        {"data": msg(hello(color="blue"))}, ok(want))
    # [DEC-5] step 9 ranges, step 5 duplicate keys; [ADPT-19] negotiate's ranges
    for cid, title, over in [
        ("boot.hello-threads-zero", "threads 0: no thread can match the acceptor's T", {"threads": 0}),
        ("boot.hello-timeout-over-u32", "a fallback timeout above 32 bits", {"fallback_timeout_ms": 1 << 32}),
        ("boot.hello-limit-over-u32", "a fallback limit above 32 bits (payload_len is a u32)",
         {"fallback_limit": 1 << 32}),
    ]:
        add(cid, f"{title} is BAD_HEADER", ["DEC-5", "BOOT-2", "BOOT-10"], "decode_hello", {"data": msg(hello(**over))},
            err("BAD_HEADER"))
    top = hello(fallback_limit=0xFFFFFFFF, fallback_timeout_ms=0xFFFFFFFF, threads=1)
    add("boot.hello-u32-max", "a fallback timeout and limit of 2^32-1 and one thread are accepted", ["DEC-5"],
        "decode_hello", {"data": msg(top)}, ok(top))
    base = cbor(hello())
    dup = bytes([base[0] + 1]) + base[1:] + cbor("slot_size") + cbor(2048)  # one more pair: slot_size again
    add("boot.hello-duplicate-key", "a hello naming slot_size twice is MALFORMED_CBOR (neither first nor last wins)",
        ["DEC-5"], "decode_hello", {"data": struct.pack("<I", len(dup)) + dup}, err("MALFORMED_CBOR"))
    add("boot.negotiate-from-zero", "a range may start at version 0", ["ADPT-19", "BOOT-1"], "negotiate",
        {"ours": [0, 1], "theirs": [1, 2]}, ok({"version": 1}))
    add("boot.negotiate-min-over-max", "a version range whose min exceeds its max is BAD_ARGUMENT",
        ["ADPT-19", "BOOT-1"], "negotiate", {"ours": [2, 1], "theirs": [1, 3]}, err("BAD_ARGUMENT"))
    add("boot.negotiate-negative", "a version range starting below 0 is BAD_ARGUMENT", ["ADPT-19", "BOOT-1"],
        "negotiate", {"ours": [-1, 1], "theirs": [1, 1]}, err("BAD_ARGUMENT"))
    add("boot.negotiate-ours-wider", "the common range's low end is the higher minimum, its high end the lower "
        "maximum", ["BOOT-1"], "negotiate", {"ours": [1, 3], "theirs": [2, 2]}, ok({"version": 2}))
    # [DEC-5] step 5 counts a map's pairs against its keys: maps of 23, 24 and 25 pairs (the count in
    # the initial byte, then in one more byte), and counts written wider than they need ([DEC-6]
    # accepts non-preferred widths; a sender still sends the shortest, [SER-1])
    for n in (23, 24, 25):
        m = hello(**{f"x{i:02}": i for i in range(n - 7)})
        add(f"boot.hello-{n}-keys", f"a hello of {n} distinct keys (extra keys are not answered)", ["DEC-5", "DEC-6"],
            "decode_hello", {"data": msg(m)}, ok(want))
    body = cbor(hello())
    assert body[0] == 0xA7  # seven pairs, the count in the initial byte
    for width, ib in ((2, 0xB9), (8, 0xBB)):
        wide = bytes([ib]) + (7).to_bytes(width, "big") + body[1:]
        add(f"boot.hello-count-{width}-bytes", f"a hello map whose count is written in {width} bytes",
            ["DEC-5", "DEC-6"], "decode_hello", {"data": struct.pack("<I", len(wide)) + wide}, ok(want))
    m25 = cbor(hello(**{f"x{i:02}": i for i in range(17)}))  # 24 pairs: 0xB8 0x18
    dup25 = b"\xb8\x19" + m25[2:] + cbor("x00") + cbor(0)
    add("boot.hello-duplicate-key-25", "a map of 25 pairs naming x00 twice is MALFORMED_CBOR", ["DEC-5"],
        "decode_hello", {"data": struct.pack("<I", len(dup25)) + dup25}, err("MALFORMED_CBOR"))
    add("boot.hello-a-text", "a text naming the seven keys is not a hello map", ["DEC-5", "BOOT-2"], "decode_hello",
        {"data": msg("versions machine threads slot_size table_k fallback_timeout_ms fallback_limit")},
        err("MALFORMED_CBOR"))
    add("boot.hello-empty-body", "a message of length 0 holds no CBOR item", ["DEC-5"], "decode_hello",
        {"data": struct.pack("<I", 0)}, err("MALFORMED_CBOR"))
    # [DEC-5] step 5: a bootstrap map has text keys; an indefinite-length text key is a text key
    for cid, title, key in [("int-key", "an integer key 1", cbor(1)), ("bytes-key", "a byte-string key", cbor(b"x")),
                            ("tagged-key", "a tagged text key (tag 6)", b"\xc6" + cbor("color"))]:
        odd = bytes([base[0] + 1]) + base[1:] + key + cbor(0)
        add(f"boot.hello-{cid}", f"a hello with {title} besides its seven keys is MALFORMED_CBOR", ["DEC-5"],
            "decode_hello", {"data": struct.pack("<I", len(odd)) + odd}, err("MALFORMED_CBOR"))
    indef = bytes([base[0] + 1]) + base[1:] + b"\x7f\x63col\x62or\xff" + cbor(0)
    add("boot.hello-indefinite-key", "a hello with an extra indefinite-length text key: accepted", ["DEC-5"],
        "decode_hello", {"data": struct.pack("<I", len(indef)) + indef}, ok(want))
    tagged = b"\xc6" + base
    add("boot.hello-tagged-map", "a hello map under a tag is not a map: MALFORMED_CBOR", ["DEC-5"], "decode_hello",
        {"data": struct.pack("<I", len(tagged)) + tagged}, err("MALFORMED_CBOR"))
    return out
