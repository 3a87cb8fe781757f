"""Client cases: the suite is the trustee machine, the implementation under test the client
([ADPT-14] .. [ADPT-17]).

Each case sends a workload of non-blocking calls ([ADPT-15]) to properties the suite announces,
expects the exact batch images the client must write for it (built here from SPEC.md's tables:
[SLOT-10] packing, [VT-3] tables, section 4 entries, [LAND-4] seqs, fallback stubs and frames),
answers each batch with a crafted response image (good ones, error entries, a batch-level error,
a `FALLBACK` entry with its frame, a stale, torn, short or unknown-status response) and compares
what the client reports it delivered to its callers ([ADPT-16]). A target runs them when it can
host a client (the default target, in process, or `live-client:PORT`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..catalogue_closures import ADD, BIG, ECHO, GET, NOP, RAISE, K, standard
from ..model import Case, Outcome, ok
from ._wire import HDR, U64, batch, case, cbor, cfg, code, error_response, frame, req_entry, rsp_batch, rsp_entry, stub

T = 2  # the suite's trustee threads; the client mirrors them ([BOOT-8])
X = 0x4000_0000_1000  # properties the suite announces ([ADPT-15])
Y = 0x4000_0000_2000
OK, FALLBACK = 0, 1
CODES = {n: code(n) for n in ("BAD_PROPERTY", "CLOSURE_RAISED", "UNKNOWN_CLOSURE")}  # SPEC.md's table


def slot(c: int, t: int) -> int:
    """The suite's request slot of (client thread c, trustee thread t) ([BOOT-6])."""
    return c * T + t


def call(c: int, t: int, pointer: int, closure: str, captured: list[Any] | None = None, **arg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"thread": c, "trustee": t, "pointer": pointer, "closure": closure,
                           "captured": captured or []}
    if "arg" in arg:
        out["arg"] = arg["arg"]
    return out


def u64(x: int) -> bytes:
    return U64.pack(x)


def client_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected a client report, got {got}"
    o = got["ok"]
    want = c.args["_want"]
    for b in o["batches"]:
        if b["early"]:  # [FLOW-1]
            return (f"[FLOW-1] slot ({b['thread']}, {b['trustee']}): batch seq {b['seq']} was written before the "
                    "suite answered the batch in flight there")
    if o.get("stray_imms"):
        return f"[LAND-2] immediates naming no slot of ours: {[hex(i) for i in o['stray_imms']]}"
    landed: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for b in o["batches"]:
        landed[(b["thread"], b["trustee"])].append(b)
    expected: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for w in want["batches"]:
        expected[(w["thread"], w["trustee"])].append(w)
    for key in sorted(set(landed) | set(expected)):
        got_b, want_b = landed.get(key, []), expected.get(key, [])
        seqs, want_seqs = [g["seq"] for g in got_b], [w["seq"] for w in want_b]
        if seqs != want_seqs[: len(seqs)]:
            return f"slot {key}: batch seqs {seqs}, expected {want_seqs} ([LAND-4])"
        if len(got_b) != len(want_b):
            return (f"slot {key}: {len(got_b)} batches written (seqs {[b['seq'] for b in got_b]}, counts "
                    f"{[HDR.unpack_from(b['image'])[2] for b in got_b if len(b['image']) >= 8]}), expected "
                    f"{len(want_b)} ([SLOT-10], [ADPT-15])")
        for g, w in zip(got_b, want_b, strict=True):
            where = f"slot {key} batch {w['seq']}"
            img, exp = g["image"], w["image"]
            if g["seq"] != w["seq"]:
                return f"{where}: header seq {g['seq']}, expected {w['seq']} ([LAND-4])"
            want_imm = (slot(*key) << 16) | (w["seq"] & 0xFFFF)
            if g["imm"] != want_imm:
                return f"{where}: immediate {g['imm']:#010x}, expected {want_imm:#010x} ([LAND-2])"
            if g["qp"] != key[0]:
                return f"{where}: written on QP {g['qp']}, not the client thread's QP {key[0]} ([BOOT-8])"
            if g["byte_len"] != len(exp):
                return f"{where}: the WRITE carried {g['byte_len']} bytes, the image is {len(exp)} ([LAND-1])"
            if len(img) < 16 or img[:8] != img[len(img) - 8 :]:
                return f"{where}: trailer differs from header ([SLOT-7])"
            gh, wh = HDR.unpack_from(img), HDR.unpack_from(exp)
            if gh != wh:
                return (f"{where}: header (seq, words, count, table_len) {gh}, expected {wh} "
                        "([SLOT-10], [VT-3])")
            tl = 8 + 8 * wh[3]
            if img[8:tl] != exp[8:tl]:
                return f"{where}: table {img[8:tl].hex()}, expected {exp[8:tl].hex()} ([VT-3])"
            if img != exp:
                first = next(i for i, (x, y) in enumerate(zip(img, exp, strict=True)) if x != y)
                return f"{where}: entries differ from offset {first} (section 4, [REQ-2], [FB-2])"
            if g["frames"] != w.get("frames", []):
                return (f"{where}: request frames {[f[:20].hex() for f in g['frames']]} expected "
                        f"{[f[:20].hex() for f in w.get('frames', [])]} (sent before the WRITE: [FB-4], [FB-3])")
            for who in g["frame_callers"]:
                if who is None or who[1] != key[0]:
                    return f"{where}: a request frame came on the connection of caller {who} ([FB-8])"
    if o.get("early_fallback"):
        return (f"{o['early_fallback']} fallback connections were opened before the client read the suite's ready "
                "([FB-13])")
    threads = sorted(t for _, t in o["callers"])
    if threads != list(range(o["threads"])):
        return f"fallback connections opened for client threads {threads}, expected one per thread ([FB-8], [ADPT-14])"
    if o.get("client_secret"):
        unbound = [c for c, ok_ in zip(o["callers"], o.get("callers_secret", []), strict=True) if not ok_]
        if unbound:
            return (f"the fallback connections of callers {unbound} did not send the fallback_secret of the "
                    f"client's hello right after their caller hello ([SEC-6])")
    if o["results"] != want["results"]:
        diffs = [(i, g, w) for i, (g, w) in enumerate(zip(o["results"], want["results"], strict=False)) if g != w]
        if len(o["results"]) != len(want["results"]):
            return f"the report has {len(o['results'])} outcomes for {len(want['results'])} calls ([ADPT-16])"
        i, g, w = diffs[0]
        return f"call {i}: the client delivered {_short(g)}, expected {_short(w)} ([ADPT-16])"
    return None


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], workload: list[dict[str, Any]],
            batches: list[dict[str, Any]], answers: list[dict[str, Any]], results: list[Outcome]) -> None:
        args = {"config": cfg(), "closures": standard(*K[:5]), "threads": T, "workload": workload,
                "answers": answers, "_want": {"batches": batches, "results": results}}
        out.append(case(cid, title, clauses, "client_run", args, ok({"results": results}),
                        tags=("client",), check=client_check))

    def b(c: int, t: int, seq: int, table: list[int], entries: list[bytes], frames: list[bytes] = ()  # type: ignore[assignment]
          ) -> dict[str, Any]:
        return {"thread": c, "trustee": t, "seq": seq, "image": batch(seq, table, entries), "frames": list(frames)}

    def ans(c: int, t: int, seq: int, image: bytes, **kw: Any) -> dict[str, Any]:
        return {"thread": c, "trustee": t, "seq": seq, "image": image, **kw}

    # -- the batches of a good client, answered well ------------------------------------------
    add("client.batches",
        "a client's batches: one per slot, tables in first-appearance order, seq 1, results delivered",
        ["ADPT-14", "ADPT-15", "ADPT-16", "ADPT-17", "LAND-1", "LAND-2", "LAND-4", "SLOT-2", "SLOT-10", "VT-3",
         "RSP-1", "RSP-2", "BOOT-5", "BOOT-7", "BOOT-8", "FB-8", "FB-13"],
        [call(0, 0, X, ADD.name, [5]), call(0, 0, X, GET.name), call(1, 1, Y, NOP.name),
         call(0, 0, X, ECHO.name, arg="hi"), call(0, 0, X, ADD.name, [2])],
        [b(0, 0, 1, [ADD.id, GET.id, ECHO.id],
           [req_entry(X, 0, u64(5)), req_entry(X, 1), req_entry(X, 2, b"", cbor("hi")), req_entry(X, 0, u64(2))]),
         b(1, 1, 1, [NOP.id], [req_entry(Y, 0)])],
        [ans(0, 0, 1, rsp_batch(1, [rsp_entry(OK, u64(15)), rsp_entry(OK, b"", cbor(15)),
                                    rsp_entry(OK, b"", cbor("hi")), rsp_entry(OK, u64(17))])),
         ans(1, 1, 1, rsp_batch(1, [rsp_entry(OK)]))],
        [ok(15), ok(15), ok(None), ok("hi"), ok(17)])
    # -- [FLOW-1]: 70 calls to one slot make two batches; the first is answered late ----------
    xs = list(range(1, 71))
    per = (1024 - 24) // 16  # 62 entries of 16 bytes fill the slot ([SLOT-10])
    first, second = xs[:per], xs[per:]
    add("client.flow-one-batch-in-flight",
        "70 calls to one trustee thread: 62 fill the slot, the other 8 wait for its late response ([FLOW-1])",
        ["FLOW-1", "SLOT-10", "LAND-4", "FLOW-3", "ADPT-17"],
        [call(0, 1, X, ADD.name, [x]) for x in xs],
        [b(0, 1, 1, [ADD.id], [req_entry(X, 0, u64(x)) for x in first]),
         b(0, 1, 2, [ADD.id], [req_entry(X, 0, u64(x)) for x in second])],
        [ans(0, 1, 1, rsp_batch(1, [rsp_entry(OK, u64(x * 10)) for x in first]), hold_ms=150),
         ans(0, 1, 2, rsp_batch(2, [rsp_entry(OK, u64(x * 10)) for x in second]))],
        [ok(x * 10) for x in xs])
    # -- [VT-3]: five distinct closures, K = 4: the fifth goes inline -------------------------
    order = [2, 0, 2, 1, 3, 4, 0]
    ids = [K[i].id for i in (2, 0, 1, 3)]
    entries = [req_entry(X, ids.index(K[i].id), u64(n)) if K[i].id in ids else
               req_entry(X, 0, u64(n), inline_id=K[i].id) for n, i in enumerate(order)]
    add("client.table-order",
        "the table holds the first K distinct closure ids in order of first appearance; the fifth goes inline",
        ["VT-3", "VT-4", "CID-1", "ADPT-17"],
        [call(1, 0, X, K[i].name, [n]) for n, i in enumerate(order)],
        [b(1, 0, 1, ids, entries)],
        [ans(1, 0, 1, rsp_batch(1, [rsp_entry(OK, u64(100 + n)) for n in range(len(order))]))],
        [ok(100 + n) for n in range(len(order))])
    # -- error entries and a batch-level error ------------------------------------------------
    add("client.entry-errors",
        "error entries fail only their own call, with their code; the others deliver their results",
        ["ERR-2", "RSP-2", "ADPT-16"],
        [call(1, 1, Y, GET.name), call(1, 1, 0x4000_0000_9000, GET.name), call(1, 1, Y, RAISE.name)],
        [b(1, 1, 1, [GET.id, RAISE.id], [req_entry(Y, 0), req_entry(0x4000_0000_9000, 0), req_entry(Y, 1)])],
        [ans(1, 1, 1, rsp_batch(1, [rsp_entry(OK, b"", cbor([1, 2])),
                                    rsp_entry(CODES["BAD_PROPERTY"], b"", cbor("no such property")),
                                    rsp_entry(CODES["CLOSURE_RAISED"], b"", cbor("it raised"))]))],
        [ok([1, 2]), {"error": "BAD_PROPERTY"}, {"error": "CLOSURE_RAISED"}])
    add("client.batch-error",
        "a batch-level error response fails every call of its batch with its code ([RSP-5])",
        ["RSP-5", "ERR-2", "ADPT-16"],
        [call(0, 0, X, ADD.name, [1]), call(0, 0, X, GET.name)],
        [b(0, 0, 1, [ADD.id, GET.id], [req_entry(X, 0, u64(1)), req_entry(X, 1)])],
        [ans(0, 0, 1, error_response(1, CODES["UNKNOWN_CLOSURE"], "not registered here"))],
        [{"error": "UNKNOWN_CLOSURE"}, {"error": "UNKNOWN_CLOSURE"}])
    # -- the fallback channel, both ways ------------------------------------------------------
    payload = cbor(bytes(2000))
    add("client.fallback-response",
        "a FALLBACK response entry: the result comes as a frame on the client thread's own connection",
        ["FB-3", "FB-8", "RSP-4", "FB-5", "ADPT-16"],
        [call(1, 0, X, BIG.name, arg=2000), call(1, 0, X, GET.name)],
        [b(1, 0, 1, [BIG.id, GET.id], [req_entry(X, 0, b"", cbor(2000)), req_entry(X, 1)])],
        [ans(1, 0, 1, rsp_batch(1, [rsp_entry(FALLBACK, n=len(payload)), rsp_entry(OK, b"", cbor(7))]),
             frames_out=[{"index": 0, "payload": payload}])],
        [ok(bytes(2000)), ok(7)])
    big = cbor(bytes(986))  # 988 bytes: the request needs the fallback ([FB-1])
    add("client.fallback-request",
        "a call too big for the slot goes as a stub, its payload as a frame on its thread's connection first",
        ["FB-1", "FB-2", "FB-4", "FB-3", "FB-8", "ADPT-15"],
        [call(1, 1, Y, ADD.name, [3]), call(1, 1, Y, ECHO.name, arg=bytes(986)), call(1, 1, Y, GET.name)],
        [b(1, 1, 1, [ADD.id, ECHO.id, GET.id], [req_entry(Y, 0, u64(3)), stub(Y, 1, len(big)), req_entry(Y, 2)],
           frames=[frame(1, slot(1, 1), 1, 1, big)])],
        [ans(1, 1, 1, rsp_batch(1, [rsp_entry(OK, u64(3)), rsp_entry(OK, b"", cbor("big")),
                                    rsp_entry(OK, b"", cbor(3))]), frames_in=[1])],
        [ok(3), ok("big"), ok(3)])
    # -- responses the client must reject ([RSP-6], [ERR-4]) -----------------------------------
    two = [call(0, 0, X, ADD.name, [1]), call(0, 0, X, GET.name)]
    two_b = [b(0, 0, 1, [ADD.id, GET.id], [req_entry(X, 0, u64(1)), req_entry(X, 1)])]
    good = [rsp_entry(OK, u64(11)), rsp_entry(OK, b"", cbor(11))]
    good_img = rsp_batch(1, good)
    add("client.stale-response",
        "a response carrying another batch's seq is rejected: no result delivered, both calls STALE_SEQUENCE",
        ["RSP-6", "RSP-1", "ADPT-16"], two, two_b,
        [ans(0, 0, 1, rsp_batch(2, good), imm_seq=2)],
        [{"error": "STALE_SEQUENCE"}] * 2)
    add("client.stale-imm",
        "a response whose immediate names another seq is rejected as stale ([RSP-1], [LAND-5])",
        ["RSP-1", "RSP-6", "LAND-5"], two, two_b,
        [ans(0, 0, 1, good_img, imm_seq=7)],
        [{"error": "STALE_SEQUENCE"}] * 2)
    torn = good_img[:-8] + HDR.pack(1, len(good_img) // 8, 1, 0)
    add("client.torn-response",
        "a response whose trailer differs from its header is rejected: both calls TORN",
        ["RSP-6", "SLOT-7", "LAND-7", "ADPT-16"], two, two_b,
        [ans(0, 0, 1, torn)], [{"error": "TORN"}] * 2)
    add("client.short-response",
        "a response with fewer entries than the batch had requests is rejected: BAD_HEADER",
        ["RSP-6", "RSP-2"], two, two_b,
        [ans(0, 0, 1, rsp_batch(1, good[:1]))], [{"error": "BAD_HEADER"}] * 2)
    add("client.unknown-entry-status",
        "an entry status no section 9 code names makes the whole response a protocol error: BAD_HEADER",
        ["ERR-4", "RSP-6"], two, two_b,
        [ans(0, 0, 1, rsp_batch(1, [good[0], rsp_entry(0x7E, b"", cbor(11))]))], [{"error": "BAD_HEADER"}] * 2)
    return out
