"""What binds a live trustee, each clause with a case ([ADPT-12], [ADPT-13]).

These cases drive a trustee through its real slots (`nic_live` on the default target and on
`live:HOST:PORT`; the `land` ones on any target with `land`) and judge what the suite saw:

- malformed batches (`live.land-*`) and fallback frames (`live.frame-*`), and a WRITE shorter
  than its header claims (`live.short-write`): the trustee must answer with an [RSP-5] error
  response, or an error entry, carrying the right code byte;
- where the trustee must read and answer: the slot at `base + id * S` ([BOOT-6]), on QP `t`
  ([BOOT-8]), with zero padding ([GEN-2]), response frames before the response WRITE ([RSP-4]);
- what it must keep per thread (a property lives on the trustee thread it was entrusted to,
  [REQ-1]) and how long it waits for a frame ([FB-5]);
- what names no batch and must get no answer (a SEND, an unannounced slot id, [LAND-8]), a 0-byte
  WRITE ([FLOW-7]), the seq kept after `STALE_SEQUENCE` ([FLOW-6]), fresh pointers ([TRUST-8]);
- its hello ([BOOT-1] .. [BOOT-8], `live.hello`) and its answers to ours ([BOOT-10]'s thread count
  among them, `live.boot-bad-hellos`).

Each is proven against a wrong trustee that takes the other reading (`conformance/mutants/live.py`,
`tests/conformance/test_live_mutants.py`). Expected values come from SPEC.md's tables; nothing
here imports `gossamer`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import cbor2

from ..catalogue_closures import ADD, BIG, ECHO, ENTRUST, GET, NOP, RAISE, TOGGLE, standard
from ..live_hello import HelloViolation, check_trustee_hello
from ..live_wire import FALLBACK, Walked, fixed_size, walk_response
from ..model import Case, Outcome, ok
from ..oracle import codes
from ._wire import FRAME, HDR, MAGIC, U32, batch, case, cbor, cfg, frame, req_entry, stub, word

#: section 9's codes as bytes on the wire (cases compare wire values)
CODE = {c.name: c.value for c in codes.TABLE}  # parsed from SPEC.md's table (conformance.oracle.codes)
NAME = {v: k for k, v in CODE.items()}
X = 0x5000_0000_1000  # a property the case seeds on trustee thread 0
TRUST_ID = 0x0001_0001_0000_0001  # machine 1, thread 1, counter 1 ([TRUST-1])
FIRST = 0x0001_0001_0000_0002  # the trust id X is seeded with
BIGP = cbor(bytes(986))  # a 988-byte parameter: it needs the fallback ([FB-1])
ANY = object()
NONZERO48 = object()


def u64(x: int) -> bytes:
    return struct.pack("<Q", x)


def name(code: int) -> str:
    return NAME.get(code, f"{code:#04x}")


# -- judging ------------------------------------------------------------------------------------


def rsp5_problem(image: bytes, code: int, seq: int | None = None) -> str | None:
    """None when `image` is the [RSP-5] answer with `code`: count 0, status = the code, `u32 n`
    and n bytes of one CBOR text string, zero padding ([GEN-2]), trailer = header."""
    w = walk_response(image)
    if w.problem:
        return f"not an [RSP-5] error response: {w.problem}"
    if not w.trailer_ok:
        return "the error response's trailer differs from its header ([RSP-5], [SLOT-7])"
    if w.status != code:
        return f"expected an [RSP-5] error response with status {code:#04x} ({name(code)}), got status " \
               f"{w.status:#04x} ({name(w.status)})" + (f" with {w.count} entries" if not w.status else "")
    if w.count:
        return f"an [RSP-5] error response has count 0, this one {w.count}"
    if seq is not None and w.seq != seq:
        return f"the error response names seq {w.seq}, not {seq} ([RSP-1])"
    n = struct.unpack_from("<I", image, 8)[0]
    try:
        detail = cbor2.loads(image[12 : 12 + n])
    except Exception:
        detail = None
    if not isinstance(detail, str):
        return f"the [RSP-5] detail ({n} bytes) is not one CBOR text string"
    if any(w.padding):
        return f"the error response's padding is not zero: {w.padding.hex()} ([GEN-2])"
    return None


def _value(e: Any, layout: str, frames: dict[int, bytes]) -> tuple[int, Any]:
    """(status, value) of an entry; a FALLBACK entry's value comes from its response frame."""
    status, body = e.status, e.body
    if status == FALLBACK and e.index in frames:
        status, body = CODE["OK"], frames[e.index]
    if status != CODE["OK"]:
        return status, None
    r = fixed_size(layout)
    if layout == "cbor":
        try:
            return status, cbor2.loads(body[r:])
        except Exception:
            return status, f"<not CBOR: {body[r:].hex()}>"
    return status, body[:r]


def _frames(blobs: list[bytes]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    data = b"".join(blobs)
    while len(data) >= FRAME.size:
        _, _, _, _, _, index, _, n = FRAME.unpack_from(data)
        out[index] = data[FRAME.size : FRAME.size + n]
        data = data[FRAME.size + n :]
    return out


def batch_problem(i: int, want: dict[str, Any], resp: dict[str, Any], fact: dict[str, Any],
                  results: list[str]) -> str | None:
    image = resp["image"]
    where = f"batch {i} (slot ({fact['thread']}, {fact['trustee']}))"
    if want.get("none"):
        if fact.get("answered"):
            return (f"{where}: {fact['what']}: it names no batch, yet the trustee answered it: a response landed in "
                    f"{', '.join(fact['answered'])} ([LAND-8]: read no slot, answer nothing)")
        return None
    if "batch_error" in want:
        why = rsp5_problem(image, CODE[want["batch_error"]], fact["seq"])
        return f"{where}: {why}" if why else None
    w: Walked = walk_response(image, results)
    if w.problem or not w.trailer_ok:
        return f"{where}: the response does not parse: {w.problem or 'its trailer differs from its header'}"
    if w.status:
        return f"{where}: expected entries, got an error response {name(w.status)}"
    if w.seq != fact["seq"]:
        return f"{where}: the response names seq {w.seq}, not {fact['seq']} ([RSP-1])"
    entries = want["entries"]
    if w.count != len(entries):
        return f"{where}: {w.count} response entries for {len(entries)} requests ([RSP-2])"
    frames = _frames(resp.get("frames", []))
    for e, (st, val), layout in zip(w.entries, entries, results, strict=True):
        status, value = _value(e, layout, frames)
        if status != CODE[st]:
            return f"{where} entry {e.index}: expected {st}, got {name(status)}"
        if val is NONZERO48:
            v = int.from_bytes(value or b"", "little")
            if not 0 < v < 1 << 48:
                return f"{where} entry {e.index}: pointer {v:#x} is not a nonzero 48-bit value ([TRUST-3])"
        elif val is not ANY and value != val:
            return f"{where} entry {e.index}: result {value!r:.60} != {val!r:.60}"
    return None


Extra = Callable[[Case, dict[str, Any]], str | None]


def live_check(extra: Extra | None = None) -> Callable[[Case, Outcome], str | None]:
    def check(c: Case, got: Outcome) -> str | None:
        if "ok" not in got:
            return f"expected responses, got {got}"
        out = got["ok"]
        if out.get("unsolicited"):
            return (f"the trustee wrote responses no batch asked for: {out['unsolicited'][:3]} ([FLOW-2]: exactly "
                    "one response batch per request batch)")
        want = c.args["_want"]
        if len(out.get("responses", [])) != len(want):
            return f"expected {len(want)} responses, got {len(out.get('responses', []))}"
        for i, (w, r, f, b) in enumerate(zip(want, out["responses"], out["facts"], c.args["batches"], strict=True)):
            why = batch_problem(i, w, r, f, b.get("results", []))
            if why is not None:
                hint = c.args.get("_hint")
                return why + (f"; {hint.format(**f)}" if hint else "")
        return extra(c, out) if extra is not None else None

    return check


def qp_extra(c: Case, out: dict[str, Any]) -> str | None:
    for i, f in enumerate(out["facts"]):
        if "qp" in f and f["qp"] != f["trustee"]:  # [BOOT-8] "trustee thread t writes its response batches on its QP t"
            return (f"batch {i}: the response of trustee thread {f['trustee']} to client thread {f['thread']} came "
                    f"on QP {f['qp']}, not QP {f['trustee']} ([BOOT-8])")
    return None


def pointers_extra(c: Case, out: dict[str, Any]) -> str | None:
    seen: dict[int, set[bytes]] = {}
    for i, (f, r) in enumerate(zip(out["facts"], out["responses"], strict=True)):
        for e in walk_response(r["image"], ["u64"] * 8).entries:
            mine = seen.setdefault(f["trustee"], set())
            # [TRUST-3] "a nonzero 48-bit pointer that it has not returned for any other live property"
            if e.body in mine:
                return f"batch {i}: trustee thread {f['trustee']} returned pointer {e.body.hex()} twice ([TRUST-3])"
            mine.add(e.body)
    return None


def fresh_extra(c: Case, out: dict[str, Any]) -> str | None:
    dropped = out.get("pointers", {}).get(X)
    w = walk_response(out["responses"][0]["image"], ["u8", "u64", "cbor"])
    new = int.from_bytes(w.entries[1].body, "little") if len(w.entries) > 1 else None
    if dropped is None or new == dropped:  # [TRUST-8] "MUST NOT return ... a pointer it has returned before"
        return (f"the property entrusted after the drop got pointer {new:#x}, the dropped property's ([TRUST-8]: "
                "a pointer names at most one property in a session)" if new is not None else
                "the seeded property's pointer is unknown")
    return None


def padding_extra(c: Case, out: dict[str, Any]) -> str | None:
    for i, (r, b) in enumerate(zip(out["responses"], c.args["batches"], strict=True)):
        w = walk_response(r["image"], b.get("results", []))
        if any(w.padding):
            return f"batch {i}: the error response's padding is {w.padding.hex()}, not zero ([GEN-2])"
        for e in w.entries:
            if any(e.reserved):  # section 5: "u8 status, three zero bytes, u32 n"
                return f"batch {i} entry {e.index}: the three bytes after the status are {e.reserved.hex()}, not zero"
            if any(e.padding):  # [GEN-2] "the padding bytes ... MUST be written as zero by the sender"
                return f"batch {i} entry {e.index}: padding {e.padding.hex()} is not zero ([GEN-2])"
    return None


def frames_first_extra(c: Case, out: dict[str, Any]) -> str | None:
    for i, f in enumerate(out["facts"]):
        if not f["frames_ready"]:
            return (f"batch {i}: the response landed before its response frames: none had arrived "
                    "when its completion was polled ([RSP-7]: a trustee sends a batch's response frames "
                    "before it posts the response WRITE, as [FB-4] says for requests)")
        if f["frames_on"] != [f"thread{f['thread']}"] * len(f["frames_on"]) or not f["frames_on"]:
            return f"batch {i}: response frames came on {f['frames_on']} ([FB-8])"
    return None


def waited_extra(c: Case, out: dict[str, Any]) -> str | None:
    t = out["fallback_timeout_ms"] / 1000.0
    for i, (f, b) in enumerate(zip(out["facts"], c.args["batches"], strict=True)):
        frac = b.get("frame_delay_frac")
        if frac is not None and f["elapsed"] < 0.9 * frac * t:
            return f"batch {i}: answered {f['elapsed']:.3f} s after the WRITE, before its frame was sent ([FB-5])"
    return None


def timeout_extra(c: Case, out: dict[str, Any]) -> str | None:
    t = out["fallback_timeout_ms"] / 1000.0
    for i, f in enumerate(out["facts"]):
        # [FB-11] "MUST NOT answer the entry FALLBACK_TIMEOUT before the agreed fallback timeout t has
        # passed since it began waiting, and MUST answer it no later than 2t + 2 s after": the stub is
        # the batch's first entry, so the wait begins after our WRITE and ends before we poll
        lo, hi = 0.98 * t, 2 * t + 2.0
        if not lo <= f["elapsed"] <= hi:
            return (f"batch {i}: FALLBACK_TIMEOUT answered {f['elapsed']:.3f} s after the WRITE; the announced "
                    f"fallback timeout is {t:.3f} s, so between {t:.3f} and {hi:.3f} s ([FB-5], [FB-11])")
    return None


def closed_extra(c: Case, out: dict[str, Any]) -> str | None:
    if out.get("links_open", [False])[0]:
        return ("the trustee kept the fallback connection open after a frame it cannot parse ([FB-6]: the "
                "receiver MUST close that connection)")
    return None


def isolated_extra(c: Case, out: dict[str, Any]) -> str | None:
    why = closed_extra(c, out)
    if why is None and not all(out.get("links_open", [False, False])[1:]):
        return "the trustee closed client thread 1's fallback connection too ([FB-6]: only the broken one)"
    return why


def hello_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected the trustee's hello, got {got}"
    try:
        check_trustee_hello(got["ok"].get("hello"))
    except HelloViolation as e:
        return str(e)
    return None


# -- cases --------------------------------------------------------------------------------------


def bt(c: int, t: int, entries: list[bytes], table: list[int], results: list[str], **kw: Any) -> dict[str, Any]:
    """A batch for slot (client thread c, trustee thread t); its seq is the slot's next ([LAND-4])."""
    return {"thread": c, "trustee": t, "image": batch(1, table, entries), "frames": [], "results": results, **kw}


def cases() -> list[Case]:
    out: list[Case] = []
    props = [{"pointer": X, "value": [10], "first": FIRST}]

    def add(cid: str, title: str, clauses: list[str], batches: list[dict[str, Any]], want: list[dict[str, Any]],
            extra: Callable[[Case, dict[str, Any]], str | None] | None = None, properties: Any = None,
            **more: Any) -> None:
        args = {"config": cfg(), "closures": standard(), "properties": props if properties is None else properties,
                "batches": batches, "_want": want, **more}
        out.append(case(cid, title, clauses, "nic_live", args, ok({"responses": "(checked by walking them)"}),
                        tags=("nic", "live", "trustee"), check=live_check(extra)))

    def ok_(*entries: tuple[str, Any]) -> dict[str, Any]:
        return {"entries": list(entries)}

    # [BOOT-6]: slot k of the 2 x 2 table gets k + 1 entrusts, so a trustee that read another slot
    # answers with the wrong count; no seeding, so every slot's first batch is the case's own
    grid = [(c, t) for c in range(2) for t in range(2)]

    def entrusts(k: int) -> list[bytes]:
        return [req_entry(0, 0, u64(TRUST_ID + 16 * k + j), cbor([k, j])) for j in range(k + 1)]

    slot_batches = [bt(c, t, entrusts(k), [ENTRUST.id], ["u64"] * (k + 1)) for k, (c, t) in enumerate(grid)]
    slot_want = [ok_(*[("OK", NONZERO48)] * (k + 1)) for k in range(len(grid))]
    add("live.slot-addresses", "a batch in every request slot, each read at base + id * S",
        ["BOOT-6", "SLOT-1", "SLOT-5", "LAND-1", "TRUST-3"], slot_batches, slot_want, pointers_extra, properties=[],
        _hint="the suite wrote it at base + {slot} * S ([BOOT-6]); a trustee reading elsewhere sees no batch")
    add("live.response-qp", "trustee thread t answers on QP t, whichever client thread wrote",
        ["BOOT-8", "RSP-1"], [bt(c, t, entrusts(0), [ENTRUST.id], ["u64"]) for c, t in grid],
        [ok_(("OK", NONZERO48))] * 4, qp_extra, properties=[])
    # [GEN-2]: odd-sized bodies, an error detail, and a batch-level error's detail
    add("live.response-padding", "response entries and error details are padded with zero bytes",
        ["GEN-2", "RSP-5", "ERR-3"],
        [bt(0, 0, [req_entry(X, 0, b"", cbor("abc")), req_entry(X, 1), req_entry(X, 0, b"", cbor(b"12345"))],
            [ECHO.id, RAISE.id], ["cbor", "", "cbor"]),
         {**bt(0, 0, [req_entry(X, 0)], [GET.id], ["cbor"]), "image": batch(1, [GET.id], [req_entry(X, 0)],
                                                                          trailer=bytes(8))}],
        [ok_(("OK", "abc"), ("CLOSURE_RAISED", ANY), ("OK", b"12345")), {"batch_error": "TORN"}], padding_extra)
    add("live.response-frames-first", "a big result's response frame is sent before the response WRITE",
        ["RSP-7", "RSP-4", "FB-4", "FB-3", "FB-8"],
        [bt(0, 0, [req_entry(X, 0, b"", cbor(2000))], [BIG.id], ["cbor"])],
        [ok_(("OK", bytes(2000)))], frames_first_extra)
    add("live.property-per-thread", "a property entrusted to trustee thread 0 is no property of thread 1",
        ["REQ-1", "TRUST-3"],
        [bt(0, 0, [req_entry(X, 0)], [GET.id], ["cbor"]), bt(0, 1, [req_entry(X, 0)], [GET.id], ["cbor"]),
         bt(1, 1, [req_entry(X, 0, u64(1))], [ADD.id], ["u64"]), bt(1, 0, [req_entry(X, 0)], [GET.id], ["cbor"])],
        [ok_(("OK", 10)), ok_(("BAD_PROPERTY", None)), ok_(("BAD_PROPERTY", None)), ok_(("OK", 10))],
        _hint="the property was entrusted to trustee thread 0; to any other trustee thread its pointer names "
              "no live property ([REQ-1])")
    late = bt(0, 0, [stub(X, 0, len(BIGP)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id], ["cbor", "u64"],
              frames=[frame(1, 0, 1, 0, BIGP)], frame_delay_frac=0.3)
    add("live.fallback-late-frame", "a frame sent after the WRITE, within the fallback timeout, is waited for",
        ["FB-5", "FB-11", "FB-2"], [late], [ok_(("OK", bytes(986)), ("OK", u64(11)))], waited_extra,
        _hint="its frame followed the WRITE by 0.3 of the announced fallback timeout: a trustee waits for it "
              "that long ([FB-5])")
    add("live.fallback-timeout-bound", "a stub whose frame never comes is answered FALLBACK_TIMEOUT after the "
        "announced timeout, not before and not much later",
        ["FB-5", "FB-11", "BOOT-2"], [bt(0, 0, [stub(X, 0, len(BIGP)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id],
                                ["cbor", "u64"])],
        [ok_(("FALLBACK_TIMEOUT", None), ("OK", u64(11)))], timeout_extra,
        _hint="a stub without a frame is FALLBACK_TIMEOUT and the later entries run ([FB-5])")
    # a WRITE shorter than its header: batch 1 leaves batch 2's header where batch 2's trailer
    # belongs (inside its echo entry's 2-byte parameter and padding), then batch 2 is written
    # without its trailer: only the completion's byte_len tells the trustee the image is short
    hdr2 = HDR.pack(2, 4, 1, 1)
    crafted = word(X, 0) + hdr2[0:4] + hdr2[4:6] + hdr2[6:8]  # n = 2, param 04 00, "padding" 01 01
    assert U32.unpack(hdr2[0:4])[0] == 2
    add("live.short-write", "a WRITE shorter than the image's header claims is TRUNCATED, whatever the slot "
        "held after it", ["SLOT-8", "SLOT-9", "LAND-1", "RSP-5", "ADPT-13"],
        [{**bt(0, 0, [], [], ["cbor"]), "image": batch(1, [ECHO.id], [crafted]), "keep_seq": True},
         {**bt(0, 0, [], [], ["cbor"]), "image": batch(2, [GET.id], [req_entry(X, 0)]), "keep_seq": True,
          "write_len": 24}],
        [ok_(("MALFORMED_CBOR", None)), {"batch_error": "TRUNCATED"}],
        _hint="the suite's WRITE of batch 2 carried 24 of the 32 bytes its header claims: the image is what the "
              "receive completion's byte_len covers, not what the slot held after it ([SLOT-9], [ADPT-13])")
    # [FLOW-7]: a WRITE of 4 bytes holds a seq but no header: TRUNCATED, answered with that seq, and
    # the seq is consumed, so the next batch (seq 2) is accepted
    add("live.short-header", "a WRITE of 4 bytes is TRUNCATED with the seq it holds, and consumes that seq",
        ["FLOW-7", "FLOW-5", "RSP-5", "RSP-1"],
        [{**bt(0, 0, [], [], ["cbor"]), "image": batch(1, [GET.id], [req_entry(X, 0)]), "keep_seq": True,
          "write_len": 4},
         {**bt(0, 0, [], [], ["cbor"]), "image": batch(2, [GET.id], [req_entry(X, 0)]), "keep_seq": True}],
        [{"batch_error": "TRUNCATED"}, ok_(("OK", 10))],
        _hint="a landing shorter than a header is TRUNCATED, its answer carries u32(B, 0) as its seq, and it "
              "consumes the expected seq ([FLOW-7])")
    # malformed fallback frames ([FB-6]): the entry fails with the code, the connection is closed
    for cid, title, bad, code in (
            ("live.frame-bad-magic", "a frame with a wrong magic", frame(1, 0, 1, 0, BIGP, magic=MAGIC ^ 1),
             "BAD_FRAME"),
            ("live.frame-bad-kind", "a frame of kind 3", frame(3, 0, 1, 0, BIGP), "BAD_FRAME"),
            ("live.frame-reserved", "a frame whose reserved byte is not zero", frame(1, 0, 1, 0, BIGP, z1=1),
             "BAD_FRAME"),
            ("live.frame-over-limit", "a frame whose length is above the fallback limit",
             frame(1, 0, 1, 0, b"", length=(64 << 20) + 1), "OVERSIZE")):
        add(cid, f"{title}: its stub fails with {code} and the connection is closed", ["FB-6", "ERR-1"],
            [bt(0, 0, [stub(X, 0, len(BIGP)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id], ["cbor", "u64"],
                frames=[bad])],
            [ok_((code, None), ("OK", u64(11)))], closed_extra, watch_links=True,
            _hint="a stream that stops parsing fails the entries waiting on it with that code ([FB-6])")
    # [FB-6] "... and only those (entries waiting on other connections are unaffected)": client thread
    # 0's stream breaks, then client thread 1's batch waits for its frame on its own connection
    y = 0x5000_0000_2000
    add("live.frame-broken-stream-isolated", "a broken fallback stream fails only the entries waiting on it; "
        "another client thread's connection keeps working", ["FB-6", "ERR-1", "FB-8"],
        [bt(0, 0, [stub(X, 0, len(BIGP)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id], ["cbor", "u64"],
            frames=[frame(1, 0, 1, 0, BIGP, magic=MAGIC ^ 1)]),
         bt(1, 1, [stub(y, 0, len(BIGP)), req_entry(y, 1, u64(1))], [ECHO.id, ADD.id], ["cbor", "u64"],
            frames=[frame(1, 0, 1, 0, BIGP)])],
        [ok_(("BAD_FRAME", None), ("OK", u64(11))), ok_(("OK", bytes(986)), ("OK", u64(21)))], isolated_extra,
        properties=[*props, {"pointer": y, "value": [20], "first": 0x0001_0001_0000_0003, "trustee": 1}],
        watch_links=True,
        _hint="only the entries waiting on the broken connection fail; client thread 1's frame came on its own "
              "connection ([FB-6], [ERR-1])")
    # [LAND-8]: completions that name no batch get no answer and stop nothing; the slot's next
    # batch (the seq none of them consumed) is answered as usual, and a batch written on another
    # QP than its client thread's is still a landing on the slot its immediate names
    get0 = bt(0, 0, [req_entry(X, 0)], [GET.id], ["cbor"])
    add("live.no-batch-named", "a SEND, a SEND WITH IMMEDIATE and a WRITE naming an unannounced slot get no answer; "
        "the next batch is answered", ["LAND-8", "SEC-1", "FLOW-4", "BOOT-8"],
        [{**get0, "no_answer": True, "send": "plain"}, {**get0, "no_answer": True, "send": "imm"},
         {**get0, "no_answer": True}, get0, {**get0, "via_qp": 1}],
        [{"none": True}] * 3 + [ok_(("OK", 10))] * 2, qp_extra,
        _hint="none of the three before it named a batch, so none consumed a seq ([LAND-8]); a landing on a "
              "request slot is handled whichever QP of the peer it came on, and answered on QP t ([LAND-8], [BOOT-8])")
    # [FB-10]: both frames for the stub arrive before its batch lands; the first is attached
    add("live.frame-first-wins", "two frames for one stub, both before the WRITE: the first is attached, the "
        "second discarded", ["FB-10", "FB-7", "FB-4", "FB-5"],
        [bt(0, 0, [stub(X, 0, len(BIGP)), req_entry(X, 1, u64(1))], [ECHO.id, ADD.id], ["cbor", "u64"],
            frames=[frame(1, 0, 1, 0, BIGP), frame(1, 0, 1, 0, cbor(b"\x01" * 986))])],
        [ok_(("OK", bytes(986)), ("OK", u64(11)))],
        _hint="the stub's first frame (986 zero bytes) came before the batch, then a second one: a trustee keeps "
              "frames until their batch lands and attaches the first ([FB-10])")
    # [FLOW-7]: a WRITE of no bytes is TRUNCATED, answered with seq 0, and consumes the expected seq
    add("live.zero-write", "a WRITE of 0 bytes is TRUNCATED with seq 0 and consumes the expected seq",
        ["FLOW-7", "FLOW-5", "RSP-5", "RSP-1"],
        [{**get0, "image": batch(1, [GET.id], [req_entry(X, 0)]), "keep_seq": True, "write_len": 0},
         {**get0, "image": batch(2, [GET.id], [req_entry(X, 0)]), "keep_seq": True}],
        [{"batch_error": "TRUNCATED"}, ok_(("OK", 10))],
        _hint="a landing of 0 bytes is TRUNCATED, answered with seq 0 (header, trailer and immediate), and "
              "consumes the expected seq, so seq 2 comes next ([FLOW-7])")
    # [FLOW-6]: after STALE_SEQUENCE the trustee keeps its expected seq and adopts none it was sent
    add("live.no-resync", "after STALE_SEQUENCE the trustee keeps its expected seq: no resynchronisation",
        ["FLOW-6", "FLOW-5", "LAND-5"],
        [{**get0, "image": batch(n, [GET.id], [req_entry(X, 0)]), "keep_seq": True} for n in (1, 3, 4, 2)],
        [ok_(("OK", 10)), {"batch_error": "STALE_SEQUENCE"}, {"batch_error": "STALE_SEQUENCE"}, ok_(("OK", 10))],
        _hint="seq 1 was answered, so the trustee expects 2 until a batch with seq 2 lands: seqs 3 and 4 are "
              "stale, and it adopts neither ([FLOW-6], [FLOW-5])")
    # [TRUST-8]: entrust (the seeding), drop, entrust: the new pointer is not the dropped one's
    add("live.pointer-fresh", "entrust, drop, entrust: the second property gets another pointer",
        ["TRUST-8", "TRUST-5", "TRUST-3"],
        [bt(0, 0, [req_entry(X, 0, u64(FIRST)), req_entry(0, 1, u64(TRUST_ID + 0x40), cbor([7])),
                   req_entry(X, 2)], [TOGGLE.id, ENTRUST.id, GET.id], ["u8", "u64", "cbor"])],
        [ok_(("OK", b"\x01"), ("OK", NONZERO48), ("BAD_PROPERTY", None))], fresh_extra,
        _hint="the toggle dropped the seeded property; its pointer names no property for the rest of the session, "
              "not even the one entrusted after it ([TRUST-8], [TRUST-5])")
    out.append(case("live.hello", "the trustee's hello: versions, required keys, RDMA keys, slot tables",
                    ["BOOT-1", "BOOT-2", "BOOT-3", "BOOT-6", "BOOT-8", "BOOT-9"], "nic_live",
                    {"config": cfg(), "closures": standard(), "properties": [], "batches": []},
                    ok({"hello": "(checked)"}), tags=("nic", "live", "trustee", "bootstrap"), check=hello_check))
    out += land_cases()
    out.append(boot_case())
    return out


def _hello(**over: Any) -> bytes:
    """A client machine's hello (the suite's shape: response slots only), `over` applied."""
    m: dict[str, Any] = {"versions": [1, 1], "machine": 1, "threads": 2, "slot_size": 1024, "table_k": 4,
                         "fallback_timeout_ms": 5000, "fallback_limit": 64 << 20, "gid": bytes(16),
                         "qpns": [1, 2], "psn": 0x1234,
                         "slots": {"base": 0x7F00_0000_0000, "rkey": 1, "ids": [0, 1, 2, 3]},
                         "request_slots": [[], []], "response_slots": [[0, 1], [2, 3]], "fallback_port": 0}
    m.update(over)
    body = cbor({k: v for k, v in m.items() if v is not None})
    return U32.pack(len(body)) + body


#: the suite's bad hellos and the code a trustee answers each with before it closes ([BOOT-5])
BAD_HELLOS: tuple[tuple[str, bytes, str], ...] = (
    ("versions [2, 2]", _hello(versions=[2, 2]), "VERSION_MISMATCH"),  # [BOOT-1]
    ("no slot_size", _hello(slot_size=None), "MALFORMED_CBOR"),  # [BOOT-2]
    ("slot_size 100", _hello(slot_size=100), "BAD_HEADER"),  # [BOOT-2], [SLOT-3]
    ("table_k 33", _hello(table_k=33), "BAD_HEADER"),  # [VT-1]
    ("not CBOR", U32.pack(3) + b"\xa1\x61\xff", "MALFORMED_CBOR"),  # [DEC-5] step 4
    ("a message over 1 MiB", U32.pack((1 << 20) + 1) + b"\xa0", "OVERSIZE"),  # [BOOT-4]
    ("threads 3 (the trustee runs 2)", _hello(threads=3, qpns=[1, 2, 3], request_slots=[[], [], []],
                                              slots={"base": 0x7F00_0000_0000, "rkey": 1, "ids": list(range(9))},
                                              response_slots=[[0, 1, 2], [3, 4, 5], [6, 7, 8]]), "BAD_HEADER"),
)


def boot_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected the trustee's replies, got {got}"
    replies = got["ok"].get("replies", [])
    if len(replies) != len(BAD_HELLOS):
        return f"{len(replies)} replies for {len(BAD_HELLOS)} hellos"
    for (what, _, code), r in zip(BAD_HELLOS, replies, strict=True):
        reply = r.get("reply")
        clause = "BOOT-10" if what.startswith("threads") else \
            {"VERSION_MISMATCH": "BOOT-1", "OVERSIZE": "BOOT-4"}.get(code, "BOOT-2")
        if not (isinstance(reply, dict) and reply.get("error") == CODE[code]):
            return (f"a hello with {what}: expected {{\"error\": {CODE[code]:#04x}}} ({code}) before the trustee "
                    f"closes, got {reply!r:.100} ([{clause}], [BOOT-5])")
        if "detail" in reply and not isinstance(reply["detail"], str):
            return f"a hello with {what}: the error's detail is not text ([BOOT-5])"
        if "then" in reply or not r.get("closed"):
            return f"a hello with {what}: after its error the trustee did not close the connection ([BOOT-5])"
    if not got["ok"].get("still_serving"):
        return "after the bad hellos the trustee no longer greets a new connection ([ADPT-13], [ERR-1])"
    return None


def boot_case() -> Case:
    return case("live.boot-bad-hellos", "hellos a trustee must refuse: each answered with its code, then closed; "
                "the trustee goes on serving", ["BOOT-1", "BOOT-2", "BOOT-4", "BOOT-5", "BOOT-10", "ERR-1", "ADPT-13"],
                "nic_bootstrap", {"hellos": [h for _, h, _ in BAD_HELLOS]},
                ok({"replies": "(checked)"}), tags=("nic", "live", "trustee", "bootstrap"), check=boot_check)


def land_cases() -> list[Case]:
    """Malformed batches through a real slot (the `land` op): each answered by an [RSP-5] error
    response with its code byte, the seq consumed ([FLOW-5]), then a good batch accepted."""
    out: list[Case] = []
    p = 0x5000_0000_2000
    good = req_entry(p, 0, u64(1))

    def land(cid: str, title: str, clauses: list[str], bad: list[tuple[bytes, str]]) -> None:
        landings = [{"image": _reseq(img, i + 1), "imm": i + 1} for i, (img, _) in enumerate(bad)]
        n = len(bad) + 1
        landings.append({"image": batch(n, [ADD.id], [good]), "imm": n})
        args = {"config": cfg(), "closures": standard(), "landings": landings,
                "_codes": [CODE[code] for _, code in bad]}
        out.append(case(cid, title, clauses, "land", args, ok({"results": "(checked as [RSP-5] responses)"}),
                        tags=("trustee", "live", "hostile"), check=land_rsp5_check))

    land("live.land-bad-header", "headers out of range are BAD_HEADER: count 0, words over S, table over K, "
         "a reserved flag, a ref outside the table",
         ["SLOT-4", "SLOT-6", "VT-2", "VT-4", "REQ-2", "RSP-5", "FLOW-5"],
         [(batch(1, [ADD.id], [good], count=0), "BAD_HEADER"),
          (batch(1, [ADD.id], [good], words=1024 // 8 + 1), "BAD_HEADER"),
          (batch(1, [ADD.id] * 5, [good]), "BAD_HEADER"),
          (batch(1, [ADD.id], [req_entry(p, 0, u64(1), flags=2)]), "BAD_HEADER"),
          (batch(1, [ADD.id], [req_entry(p, 1, u64(1))]), "BAD_HEADER"),
          (batch(1, [ADD.id], [good, good], count=1), "BAD_HEADER")])
    long_n = word(p, 0) + struct.pack("<I", 100) + b"\xa0" * 4
    land("live.land-truncated", "entries that run into the trailer are TRUNCATED",
         ["SLOT-8", "REQ-5", "RSP-5", "LIM-2"],
         [(batch(1, [ADD.id], [good], count=2), "TRUNCATED"), (batch(1, [ECHO.id], [long_n]), "TRUNCATED")])
    huge_n = word(p, 0) + struct.pack("<I", 0xFFFFFFF0) + b"\xa0" * 4
    land("live.land-oversize", "a parameter longer than S, a stub above the fallback limit: OVERSIZE",
         ["REQ-5", "FB-6", "RSP-5", "LIM-2"],
         [(batch(1, [ECHO.id], [huge_n]), "OVERSIZE"), (batch(1, [ADD.id], [stub(p, 0, (64 << 20) + 1)]), "OVERSIZE")])
    land("live.land-torn", "a trailer that differs from the header is TORN", ["SLOT-7", "LAND-7", "RSP-5"],
         [(batch(1, [ADD.id], [good], trailer=HDR.pack(9, 4, 1, 1)), "TORN"),
          (batch(1, [NOP.id], [req_entry(p, 0)], trailer=bytes(8)), "TORN")])
    land("live.land-unknown-closure", "a closure id the trustee never registered is UNKNOWN_CLOSURE",
         ["VT-5", "RSP-5", "REQ-6"],
         [(batch(1, [0x0123456789ABCDEF], [good]), "UNKNOWN_CLOSURE"),
          (batch(1, [ADD.id], [good, req_entry(p, 0, inline_id=0x0BAD)]), "UNKNOWN_CLOSURE")])
    return out


def _reseq(image: bytes, seq: int) -> bytes:
    """The crafted image with seq `seq` in its header (and its trailer where that copied it)."""
    old = image[0:4]
    b = bytearray(image)
    b[0:4] = seq.to_bytes(4, "little")
    if len(b) >= 16 and b[-8:-4] == old and b[-4:] == image[4:8]:
        b[-8:-4] = seq.to_bytes(4, "little")
    return bytes(b)


def land_rsp5_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected results, got {got}"
    have = got["ok"].get("results")
    codes = c.args["_codes"]
    if not isinstance(have, list) or len(have) != len(codes) + 1:
        return f"expected {len(codes) + 1} results, got {have!r:.200}"
    for i, (code, h) in enumerate(zip(codes, have, strict=False)):
        r = h.get("response") if isinstance(h, dict) else None
        if not isinstance(r, bytes):
            return f"landing {i}: expected an [RSP-5] error response with {name(code)}, the batch was accepted: {h}"
        why = rsp5_problem(r, code, i + 1)
        if why:
            return f"landing {i}: {why}"
    n = len(codes) + 1
    if have[-1] != {"seq": n, "count": 1}:  # [FLOW-5]: every rejection consumed its seq
        return f"the good batch with seq {n} after the rejected ones: expected it accepted, got {have[-1]} ([FLOW-5])"
    return None
