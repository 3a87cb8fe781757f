"""Landing, flow control, slots and fallback connections over a NIC ([LAND-1], [LAND-3], [LAND-6],
[FLOW-4], [SLOT-1], [SLOT-2], [RSP-1], [BOOT-6], [FB-8], [FB-9], [ADPT-12]).

These cases need a target that owns request slots and QPs: the reference on the emulated NIC
(the default target) or a live peer (`live:HOST:PORT`); a codec-only target skips them. Their
answers carry the transport facts the driver saw (response immediates, lengths, the slot tables
of the trustee's hello), and the checks below judge them, not the target.
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, BIG, ECHO, GET, NOP, standard
from ..model import Case, Outcome, ok
from ..oracle import codes, layout, response
from ..oracle.bootstrap import caller_hello
from ..oracle.errors import Rejected
from ..oracle.slot import Config
from ._execute_op import X, b, entry, execute_check
from ._wire import HDR, batch, case, cbor, cfg, frame, req_entry, stub
from .requests import u64
from .trust_ids import A1, A2

#: the machine number the suite's client peer announces ([ADPT-12])
SUITE_MACHINE = 1

Y = 0x5000_0000_2000  # a property the case seeds on trustee thread 1


def transport_check(c: Case, got: Outcome) -> str | None:
    why = execute_check(c, got)
    if why is not None:
        return why
    tr = got["ok"].get("transport")
    if not isinstance(tr, dict):
        return "the answer carries no transport facts"
    t, ids = tr["threads"], set(tr["slot_ids"])
    table = tr["request_slots"]
    flat = [i for row in table for i in row]
    # [SLOT-1] exactly one request slot per (client thread, trustee thread) pair, announced ([BOOT-6])
    if len(table) != t or any(len(row) != t for row in table) or len(set(flat)) != t * t:
        return f"[SLOT-1] request_slots is not {t}x{t} distinct ids: {table}"
    if not set(flat) <= ids:
        return f"[BOOT-6] request slot ids {sorted(set(flat) - ids)} are not among the announced slots"
    for i, (imm, n, slot, resp) in enumerate(zip(tr["imms"], tr["byte_lens"], tr["slots"],
                                                 got["ok"]["responses"], strict=True)):
        seq = c.args["batches"][i]["seq"]
        want = (tr["response_slot"] << 16) | (seq & 0xFFFF)
        if imm != want:  # [RSP-1]
            return f"response {i}: immediate {imm:#010x}, expected {want:#010x} ([RSP-1])"
        if slot != tr["response_slot"]:
            return f"response {i} landed in slot {slot}, not {tr['response_slot']}"
        if n != len(resp["image"]):  # [RSP-1]/[LAND-1]: one WRITE WITH IMMEDIATE of exactly L bytes
            return f"response {i}: the WRITE carried {n} bytes for an image of {len(resp['image'])}"
    return None


def fallback_check(c: Case, got: Outcome) -> str | None:
    """[FB-8]: every response frame came on the connection its batch's client thread opened;
    [FB-9]: a connection with a bad caller hello was closed, the suite's own ones were not."""
    if "ok" not in got:
        return f"expected responses, got {got}"
    fb = got["ok"].get("fallback")
    if not isinstance(fb, dict):
        return "the answer carries no fallback-connection facts"
    config = Config.of(c.args["config"])
    for i, (bt, names, w, h) in enumerate(zip(c.args["batches"], fb.get("came_on", []), c.args["_want"],
                                              got["ok"]["responses"], strict=True)):
        own = f"thread{bt.get('thread', 0)}"
        specs = [layout.Result.parse(r) for r in w["results"]]
        try:
            rb = response.decode(h["image"], specs, config, bt["seq"])
        except Rejected:
            return execute_check(c, got) or f"batch {i}: the response does not decode"
        want = sum(r.status == codes.FALLBACK for r in rb.responses)  # [RSP-4]: one frame each
        if not want or names != [own] * want:
            return (f"batch {i} (client thread {bt.get('thread', 0)}): {want} response frame(s) expected on "
                    f"{own}'s connection, they came on {names} ([FB-8])")
    if c.args.get("callers"):
        if fb.get("callers_closed") != [True] * len(c.args["callers"]):
            return f"a connection with a bad caller hello was not closed: {fb.get('callers_closed')} ([FB-9])"
        if not all(fb.get("links_open", [])):
            return f"the suite's own fallback connections were closed too: {fb.get('links_open')} ([FB-9])"
    return execute_check(c, got)


def credits_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected responses, got {got}"
    rounds = got["ok"]["responses"]
    t = got["ok"]["threads"]
    if len(rounds) != c.args["rounds"]:
        return f"{len(rounds)} rounds answered of {c.args['rounds']}"
    for r, row in enumerate(rounds):
        if len(row) != t * t:
            return f"round {r}: {len(row)} responses for {t * t} slots"
        for i, img in enumerate(row):
            if len(img) < 16 or img[:8] != img[len(img) - 8 :]:
                return f"round {r} slot {i}: torn response {img[:16].hex()}"
            seq, _, count, status = HDR.unpack_from(img)
            if (seq, count, status) != (r + 1, 1, 0):
                return f"round {r} slot {i}: response header seq={seq} count={count} status={status:#x}"
    return None


def cases() -> list[Case]:
    out: list[Case] = []
    props = [{"pointer": X, "value": [10], "first": A1}]

    def add(cid: str, title: str, clauses: list[str], op: str, batches: list[dict[str, Any]],
            want: list[dict[str, Any]]) -> None:
        args = {"config": cfg(), "closures": standard(), "properties": props, "batches": batches,
                "_want": want, "_live": [X]}
        out.append(case(cid, title, clauses, op, args, ok({"responses": "(checked by decoding)"}),
                        tags=("nic", "landing", "trustee"), check=transport_check))

    add("nic.write-with-imm",
        "batches land by one WRITE WITH IMMEDIATE each; responses come back the same way into our slot",
        ["LAND-1", "LAND-2", "SLOT-1", "SLOT-2", "RSP-1", "BOOT-5", "BOOT-6", "BOOT-7", "BOOT-8", "BOOT-9",
         "ADPT-12", "ADPT-13"], "nic_roundtrip",
        [b(1, [req_entry(X, 0, u64(5))], [ADD.id]),
         b(2, [req_entry(X, 0, u64(7)), req_entry(X, 1)], [ADD.id, GET.id]),
         b(3, [req_entry(X, 0)], [GET.id])],
        [{"results": ["u64"], "entries": [entry("OK", u64(15))]},
         {"results": ["u64", "cbor"], "entries": [entry("OK", u64(22)), entry("OK", b"", 22)]},
         {"results": ["cbor"], "entries": [entry("OK", b"", 22)]}])
    # full slots: 60 requests of 16 bytes (984 of 1024 bytes); every byte matters to the results
    batches, want, total = [], [], 10
    for seq in range(1, 5):
        xs = [seq * 1000 + i * 7 for i in range(60)]
        batches.append(b(seq, [req_entry(X, 0, u64(x)) for x in xs], [ADD.id]))
        results = []
        for x in xs:
            total += x
            results.append(entry("OK", u64(total)))
        want.append({"results": ["u64"] * 60, "entries": results})
    add("nic.any-placement",
        "full-slot batches whose bytes are placed in any order; the trustee reads only after the completion",
        ["LAND-3", "LAND-6", "LAND-5"], "nic_placement", batches, want)
    # [FB-8] fallback connections: one per client thread, each opened with its caller hello
    big = cbor(bytes(986))  # 988 bytes: a request that needs the fallback ([FB-1])
    props2 = [{"pointer": X, "value": [10], "first": A1}, {"pointer": Y, "value": [20], "first": A2, "trustee": 1}]

    def fb(cid: str, title: str, clauses: list[str], batches: list[dict[str, Any]], want: list[dict[str, Any]],
           callers: tuple[bytes, ...] = (), **more: Any) -> None:
        args = {"config": cfg(), "closures": standard(), "properties": props2, "batches": batches,
                "callers": list(callers), "_want": want, "_live": [X, Y], **more}
        out.append(case(cid, title, clauses, "nic_fallback", args, ok({"responses": "(checked by decoding)"}),
                        tags=("nic", "fallback", "trustee"), check=fallback_check))

    def on(c: int, seq: int, prop: int, n: int, *, frames: bool = True, via: int | None = None) -> dict[str, Any]:
        """A batch on slot (c, c) of client thread c: a fallback echo and a result of n bytes."""
        bt = b(seq, [stub(prop, 0, len(big)), req_entry(prop, 1, b"", cbor(n))], [ECHO.id, BIG.id],
               frames=(frame(1, 3 * c, seq, 0, big),) if frames else (), slot=3 * c)
        return {**bt, "thread": c, "trustee": c, "via": via}

    ok2 = {"results": ["cbor", "cbor"], "entries": [entry("OK", b"", bytes(986)), entry("OK", b"", bytes(2000))]}
    fb("nic.fallback-own-connection",
       "each client thread's frames go on the connection it opened; its big results come back on it",
       ["FB-8", "FB-3", "FB-4", "RSP-4"],
       [on(1, 1, Y, 2000), on(0, 1, X, 2000), on(1, 2, Y, 2000)], [ok2, ok2, ok2])
    timeout_then_ok = {"results": ["cbor", "cbor"],
                       "entries": [entry("FALLBACK_TIMEOUT"), entry("OK", b"", bytes(2000))]}
    fb("nic.fallback-caller-refused",
       "a connection whose first bytes are a frame, not a caller hello, is closed; its frame is not taken",
       ["FB-9", "FB-8", "FB-5"],
       [on(0, 1, X, 2000, via=0), on(1, 1, Y, 2000), on(0, 2, X, 2000)], [timeout_then_ok, ok2, ok2],
       callers=(b"",))
    fb("nic.fallback-stranger-refused",
       "a connection whose caller hello names no client of this trustee (machine 7) is closed; its frame is not taken",
       ["FB-9", "FB-8", "FB-7"],
       [on(0, 1, X, 2000, via=0), on(1, 1, Y, 2000), on(0, 2, X, 2000)], [timeout_then_ok, ok2, ok2],
       callers=((7).to_bytes(2, "little") + (1).to_bytes(2, "little"),))
    # [SEC-6] the suite's hello carries a fallback_secret (16 random bytes) and its own connections
    # present it after their caller hellos; a trustee that does not read it takes those 16 bytes for
    # a frame header and breaks the suite's own connections ([FB-6])
    fb("nic.fallback-secret-present",
       "the suite's hello announces a fallback_secret; its connections present it and serve as usual",
       ["SEC-6", "FB-8"], [on(0, 1, X, 2000), on(1, 1, Y, 2000)], [ok2, ok2], suite_secret=True)
    fb("nic.fallback-secret-absent",
       "the suite's hello carries no fallback_secret; its 4-byte caller hellos serve as usual",
       ["SEC-6", "FB-8"], [on(0, 1, X, 2000), on(1, 1, Y, 2000)], [ok2, ok2], suite_secret=False)
    # another connection claims the suite's own thread 0 (machine 1) without the secret, or with a
    # wrong one: the trustee closes it and takes no frame from it; the suite's own connections and
    # its later batches are not affected (a trustee that let it in sent thread 0's response frames
    # there: the newest connection of a caller wins), nor closed the suite's own before it checked
    # the secret ([FB-12]: the newest serves only once it passed [FB-9] and [SEC-6])
    for cid, what, secret in (("nic.fallback-secret-missing", "without the fallback_secret", None),
                              ("nic.fallback-secret-wrong", "with a wrong fallback_secret", bytes(16))):
        fb(cid, f"a connection claiming the suite's own client thread 0 {what} is closed; its frame is not taken",
           ["SEC-6", "FB-9", "FB-8", "FB-12"],
           [on(0, 1, X, 2000, via=0), on(1, 1, Y, 2000), on(0, 2, X, 2000)], [timeout_then_ok, ok2, ok2],
           callers=(caller_hello(SUITE_MACHINE, 0, secret),))
    rounds = 8
    out.append(case("nic.receive-credits",
                    "a batch in every request slot at once, 8 rounds: no batch meets an empty receive queue",
                    ["FLOW-4", "FLOW-1", "BOOT-8"], "nic_credits",
                    {"config": cfg(), "rounds": rounds,
                     "image_for_seq": [batch(s, [NOP.id], [req_entry(0xDEAD_0000_0000, 0)])
                                       for s in range(1, rounds + 1)]},
                    ok({"responses": "(checked by headers)"}), tags=("nic", "landing", "trustee"),
                    check=credits_check))
    return out
