"""One structure, every decoding path: inputs that a fast decoder and a step-by-step one must read
alike ([DEC-1]: "a fast path ... as long as it gives the same result and the same code").

A decoder may take short cuts: decode a run of entries that name the same table closure with one
precompiled struct, or the whole rest of an image in one pass when it is exactly `rest` entries of
one size. Those short cuts must not change what an entry means. Each scenario here is a list of
requests whose entries a run-based decoder would group: table references mixed with property
pointers below, at and above 2^47 (where a shift by 47 instead of 48 mixes pointer bit 47 into the
ref), fallback stubs and reserved flags of the same 16-byte size as a `u64`-capture entry, inline
ids, padding with garbage in it. Every scenario is sent three ways, with the same decoded requests
expected from each: `paths.<name>.table` (K = 4, refs into the table: the run and bulk paths),
`paths.<name>.tail` (the same entries and one more entry of another size at the end, so that the
rest of the image is never exactly `rest` entries of one size), and `paths.<name>.inline` (K = 0:
every closure id inline, no run at all). `paths.<name>.encode` checks that the table image is the
one the encoder writes ([VT-3]).
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, ECHO, FLAG, NOP, K, standard
from ..model import Case, err, ok
from ._wire import U64, batch, case, cbor, cfg, dreq, pad8, req, req_entry, stub, word

LO = 0x0000_1234_5678_9AB0  # bit 47 clear
HI = 0x0000_9234_5678_9AB0  # bit 47 set: >= 2^47
B47 = 1 << 47  # exactly 2^47
TOP = (1 << 48) - 1
JUST = B47 - 1  # 2^47 - 1
CL = standard(*K[:4])
KS = [k.id for k in K[:4]]


def u64(x: int) -> bytes:
    return U64.pack(x)


class Entry:
    """One request of a scenario, with what it decodes to; `raw` overrides the entry bytes."""

    def __init__(self, ptr: int, closure: int, captured: bytes = b"", param: bytes | None = None, *,
                 fallback: int | None = None, raw: bytes | None = None) -> None:
        self.ptr, self.closure, self.captured, self.param = ptr, closure, captured, param
        self.fallback, self.raw = fallback, raw

    def wire(self, table: list[int]) -> bytes:
        inline = self.closure not in table
        ref = 0 if inline else table.index(self.closure)
        iid = self.closure if inline else None
        if self.fallback is not None:
            return stub(self.ptr, ref, self.fallback, inline_id=iid)
        if self.raw is not None:  # entry bytes with garbage in their padding
            w = word(self.ptr, 0xFF if inline else ref)
            return w + (u64(self.closure) if inline else b"") + self.raw
        return req_entry(self.ptr, ref, self.captured, self.param, inline_id=iid)

    def decoded(self) -> dict[str, Any]:
        if self.fallback is not None:
            return dreq(self.ptr, self.closure, b"", None, self.fallback)
        return dreq(self.ptr, self.closure, self.captured, self.param)

    def request(self) -> dict[str, Any]:
        return req(self.ptr, self.closure, self.captured, self.param)


def k(i: int, ptr: int, x: int) -> Entry:
    """An entry of closure `K[i]`; after `TABLE4` its ref is `i`."""
    return Entry(ptr, KS[i], u64(x))


#: four entries that put K[0] .. K[3] in the table in that order, so that `k(i, ...)` has ref `i`
TABLE4 = [k(0, LO, 100), k(1, LO, 101), k(2, LO, 102), k(3, LO, 103)]


def scenarios() -> dict[str, tuple[str, list[Entry]]]:
    big = cbor(bytes(986))  # needs the fallback at S = 1024 ([FB-1])
    return {
        "refs-by-bit47": (
            "table refs 2, 1, 0, 3, 1, 0 with pointers on both sides of 2^47: every entry keeps its own closure",
            [*TABLE4, k(2, LO, 1), k(1, LO, 2), k(0, HI, 3), k(3, HI, 4), k(1, HI, 5), k(0, B47, 6), k(0, TOP, 7),
             k(0, JUST, 8), k(2, HI, 9), k(3, LO, 10), k(2, B47, 11)]),
        "same-ref-high-pointers": (
            "one closure, pointers 2^47 - 1, 2^47, 2^48 - 1 and others: the whole tail in one pass",
            [*TABLE4, k(0, LO, 1), k(0, JUST, 2), k(0, B47, 3), k(0, TOP, 4), k(0, HI, 5), k(0, 0, 6), k(0, 8, 7)]),
        "ref-pairs": (
            "pairs of refs whose values differ only above bit 48 once pointer bit 47 is shifted in",
            [*TABLE4, k(1, LO, 1), k(0, HI, 2), k(1, LO, 3), k(2, LO, 4), k(1, LO, 5), k(3, LO, 6), k(1, HI, 7),
             k(2, HI, 8), k(3, B47, 9)]),
        "tail-ref1-after-ref2": (
            "ref 2, then a tail of ref 1 with pointers below 2^47 (ref 1 << 1 | bit 47 would read as 2)",
            [*TABLE4, k(2, LO, 1), k(1, LO, 2), k(1, JUST, 3), k(1, 0, 4)]),
        "tail-ref0-after-ref1": (
            "ref 1, then a tail of ref 0 with pointers at and above 2^47 (would read as 1)",
            [*TABLE4, k(1, LO, 1), k(0, HI, 2), k(0, B47, 3), k(0, TOP, 4)]),
        "tail-ref1-after-ref3": (
            "ref 3, then a tail of ref 1 with pointers above 2^47 (would read as 3)",
            [*TABLE4, k(3, LO, 1), k(1, HI, 2), k(1, TOP, 3)]),
        "stub-in-run": (
            "a fallback stub is 16 bytes like a u64-capture entry: inside a run it is still a stub",
            [Entry(LO, ADD.id, u64(1)), Entry(HI, ADD.id, u64(2)), Entry(HI, ECHO.id, big, fallback=len(big)),
             Entry(HI, ADD.id, u64(3)), Entry(TOP, ADD.id, u64(4))]),
        "stub-same-closure": (
            "a stub of the very closure of the run (ref 0, flags 1) with a pointer >= 2^47",
            [Entry(LO, ADD.id, u64(1)), Entry(LO, ADD.id, u64(2)), Entry(HI, ADD.id, fallback=8),
             Entry(B47, ADD.id, u64(3))]),
        "inline-in-run": (
            "the table is full: entries naming a closure inline (24 bytes) between entries of a table closure",
            [k(0, HI, 1), k(1, HI, 2), k(2, HI, 3), k(3, HI, 4), k(0, HI, 5), Entry(HI, ADD.id, u64(6)),
             k(0, B47, 7), Entry(TOP, NOP.id), k(0, TOP, 8), k(0, LO, 9)]),
        "param-breaks-run": (
            "a parameter entry between runs of one closure",
            [Entry(LO, ADD.id, u64(1)), Entry(HI, ADD.id, u64(2)), Entry(HI, ECHO.id, b"", cbor([1, 2])),
             Entry(B47, ADD.id, u64(3)), Entry(TOP, ADD.id, u64(4))]),
        "padding-garbage": (
            "a run of 1-byte captures whose padding holds garbage, pointers >= 2^47",
            [Entry(HI, FLAG.id, b"\x01", raw=b"\x01" + b"\xa5" * 7), Entry(TOP, FLAG.id, b"\x00",
                                                                              raw=b"\x00" + b"\x5a" * 7),
             Entry(B47, FLAG.id, b"\x01", raw=b"\x01" + b"\xff" * 7), Entry(LO, FLAG.id, b"\x00",
                                                                          raw=b"\x00" + b"\x01" * 7)]),
    }


def _table(entries: list[Entry], k_: int) -> list[int]:
    out: list[int] = []
    for e in entries:
        if e.closure not in out and len(out) < k_:
            out.append(e.closure)
    return out


def cases() -> list[Case]:
    out: list[Case] = []
    closures = standard(*K[:4])

    def add(cid: str, title: str, op: str, args: dict[str, Any], expect: dict[str, Any],
            clauses: tuple[str, ...] = ("DEC-1", "VT-4", "REQ-1", "LIM-1")) -> None:
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "decoder-paths")))

    for name, (title, entries) in scenarios().items():
        table = _table(entries, 4)
        image = batch(1, table, [e.wire(table) for e in entries])
        want = [e.decoded() for e in entries]
        add(f"paths.{name}.table", f"{title} (table refs: the run and whole-tail paths)", "decode_request_batch",
            {"config": cfg(), "closures": closures, "image": image}, ok({"seq": 1, "table": table, "requests": want}))
        last = Entry(LO, ECHO.id, b"", cbor("end"))  # 16 bytes + its own size: never a multiple of the run
        tail = [*entries, last]
        table_t = _table(tail, 4)
        add(f"paths.{name}.tail", f"{title}, then an entry of another size (no whole-tail pass)",
            "decode_request_batch", {"config": cfg(), "closures": closures,
                                     "image": batch(2, table_t, [e.wire(table_t) for e in tail])},
            ok({"seq": 2, "table": table_t, "requests": [*want, last.decoded()]}))
        add(f"paths.{name}.inline", f"{title}, every closure id inline (K = 0: no table, no run)",
            "decode_request_batch", {"config": cfg(table_k=0), "closures": closures,
                                     "image": batch(3, [], [e.wire([]) for e in entries])},
            ok({"seq": 3, "table": [], "requests": want}))
        if all(e.raw is None for e in entries):
            frames = [e for e in entries if e.fallback is not None]
            if not frames:
                add(f"paths.{name}.encode", f"{title}: the encoder writes exactly the table image",
                    "encode_request_batch", {"config": cfg(), "closures": closures, "seq": 1, "slot_id": 0,
                                             "requests": [e.request() for e in entries]},
                    ok({"image": image, "frames": []}), ("VT-3", "REQ-1", "GEN-2"))
    # a reserved flag bit on an entry the size of the run's entries is still BAD_HEADER ([REQ-2])
    run = [req_entry(HI, 0, u64(1)), req_entry(HI, 0, u64(2))]
    for flags, name in ((0x02, "flag2"), (0x80, "flag80"), (0x03, "flag3")):
        bad = word(HI, 0, flags) + u64(3)
        add(f"paths.reserved-{name}-in-run", f"flags {flags:#04x} on a 16-byte entry inside a run: BAD_HEADER",
            "decode_request_batch", {"config": cfg(), "closures": closures,
                                     "image": batch(1, [ADD.id], [*run, bad, req_entry(HI, 0, u64(4))])},
            err("BAD_HEADER"), ("DEC-1", "REQ-2"))
        add(f"paths.reserved-{name}-in-tail", f"flags {flags:#04x} on the last of equal-size entries: BAD_HEADER",
            "decode_request_batch", {"config": cfg(), "closures": closures,
                                     "image": batch(1, [ADD.id], [*run, bad])},
            err("BAD_HEADER"), ("DEC-1", "REQ-2"))
    # a ref past the table inside a run of equal-size entries ([VT-4])
    add("paths.ref-past-table-in-run", "ref 1 with a one-entry table, between entries of ref 0: BAD_HEADER",
        "decode_request_batch", {"config": cfg(), "closures": closures,
                                 "image": batch(1, [ADD.id], [*run, req_entry(LO, 1, u64(3)), run[0]])},
        err("BAD_HEADER"), ("DEC-1", "VT-4"))
    # the last entry of a run runs into the trailer: TRUNCATED, not a read of the trailer as captured data
    short = batch(1, [ADD.id], [*run, run[0]], count=4)
    add("paths.run-into-trailer", "count claims one more entry of the run than the image holds: TRUNCATED",
        "decode_request_batch", {"config": cfg(), "closures": closures, "image": short}, err("TRUNCATED"),
        ("DEC-1", "SLOT-8"))
    # leftover bytes after a run: BAD_HEADER
    add("paths.run-leftover", "a run of three entries and 8 bytes left before the trailer: BAD_HEADER",
        "decode_request_batch", {"config": cfg(), "closures": closures,
                                 "image": batch(1, [ADD.id], [*run, pad8(run[0] + bytes(8))], count=3)},
        err("BAD_HEADER"), ("DEC-1", "SLOT-8"))
    return out
