"""Landing detection, sequence numbers and flow control (section 2: [LAND-*], [FLOW-*]).

The same clauses over a real (or emulated) NIC, through request slots: `cases/nic.py`.
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD
from ..model import Case, Outcome, err, ok
from ._wire import HDR, batch, case, cfg, code, req_entry
from .requests import CL, P, u64


def land_check(c: Case, got: Outcome) -> str | None:
    """Compare `land` results; an error response is judged by its header only ([ERR-3])."""
    if "ok" not in got:
        return f"expected results, got {got}"
    want, have = c.expect["ok"]["results"], got["ok"].get("results")
    if not isinstance(have, list) or len(have) != len(want):
        return f"expected {len(want)} results, got {have!r}"
    for i, (w, h) in enumerate(zip(want, have, strict=True)):
        if "response" in w:
            r = h.get("response") if isinstance(h, dict) else None
            if not isinstance(r, bytes) or len(r) < 16 or r[:8] != r[len(r) - 8:] \
                    or HDR.unpack_from(r)[0] != HDR.unpack_from(w["response"])[0] \
                    or HDR.unpack_from(r)[2:] != HDR.unpack_from(w["response"])[2:]:
                return f"landing {i}: expected an error response {w['response'][:8].hex()}..., got {h!r}"
        elif h != w:
            return f"landing {i}: expected {w}, got {h}"
    return None


def err_rsp(seq: int, code: int) -> dict[str, bytes]:
    """An error response's header (seq, count 0, status); its detail is free ([ERR-3])."""
    return {"response": HDR.pack(seq, 0, 0, code)}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: Outcome,
            tags: tuple[str, ...] = ("codec", "landing"), check: Any = None) -> None:
        out.append(case(cid, title, clauses, op, args, expect, tags=tags, check=check))

    add("land.next-seq", "the next seq after 1 is 2", ["LAND-4"], "next_seq", {"seq": 1}, ok({"seq": 2}))
    add("land.seq-wrap", "seq wraps from 0xFFFFFFFF to 1, never 0", ["LAND-4"], "next_seq",
        {"seq": 0xFFFFFFFF}, ok({"seq": 1}))
    add("land.imm", "immediate = slot id << 16 | low 16 bits of seq", ["LAND-2", "RSP-1", "SLOT-5"], "make_imm",
        {"slot_id": 3, "seq": 0x12345}, ok({"imm": 0x0003_2345, "parsed": [3, 0x2345]}))
    add("land.imm-slot-range", "slot ids are 16 bits", ["SLOT-5", "LIM-1"], "make_imm",
        {"slot_id": 0x10000, "seq": 1}, err("BAD_ARGUMENT"))

    def img(seq: int, **kw: Any) -> bytes:
        return batch(seq, [ADD.id], [req_entry(P, 0, u64(seq))], **kw)

    def land(cid: str, title: str, clauses: list[str], landings: list[tuple[bytes, int]],
             want: list[dict[str, Any]]) -> None:
        add(cid, title, clauses, "land",
            {"config": cfg(), "closures": CL, "landings": [{"image": i, "imm": m} for i, m in landings]},
            ok({"results": want}), tags=("codec", "landing", "hostile"), check=land_check)

    land("land.in-order", "three batches in sequence are accepted", ["LAND-4", "LAND-5", "REQ-7"],
         [(img(1), 1), (img(2), 2), (img(3), 3)],
         [{"seq": 1, "count": 1}, {"seq": 2, "count": 1}, {"seq": 3, "count": 1}])
    land("land.replay", "a replayed image is STALE_SEQUENCE and does not consume the seq",
         ["LAND-5", "FLOW-5", "RSP-5", "ADPT-9", "CHOICE-1"], [(img(1), 1), (img(1), 1), (img(2), 2)],
         [{"seq": 1, "count": 1}, err_rsp(1, code("STALE_SEQUENCE")), {"seq": 2, "count": 1}])
    land("land.rejected-consumes-seq", "a torn batch is rejected and consumes its seq",
         ["FLOW-5", "SLOT-7", "RSP-5", "CHOICE-1"], [(img(1, trailer=bytes(8)), 1), (img(2), 2)],
         [err_rsp(1, code("TORN")), {"seq": 2, "count": 1}])
    land("land.imm-names-other-seq", "the completion names seq 2 but the slot still holds batch 1",
         ["LAND-3", "LAND-5"], [(img(1), 2)], [err_rsp(1, code("STALE_SEQUENCE"))])
    land("land.skip-ahead", "a batch that skips a seq is stale", ["LAND-4", "LAND-5"],
         [(img(2), 2), (img(1), 1)], [err_rsp(2, code("STALE_SEQUENCE")), {"seq": 1, "count": 1}])

    # [FLOW-7]: an image too short for a header is answered with seq 0 (or its first 4 bytes) and
    # consumes the expected seq; a trustee that does not consume it accepts the replayed batch 1.
    land("land.tiny-write", "a 3-byte WRITE is TRUNCATED with seq 0 and consumes the expected seq",
         ["FLOW-7", "FLOW-5", "RSP-5", "DEC-1"], [(img(1)[:3], 1), (img(1), 1), (img(2), 2)],
         [err_rsp(0, code("TRUNCATED")), err_rsp(1, code("STALE_SEQUENCE")), {"seq": 2, "count": 1}])
    land("land.short-write-seq", "a 6-byte WRITE is answered with the seq of its first 4 bytes",
         ["FLOW-7", "RSP-5"], [(img(1)[:6], 1), (img(2), 2)],
         [err_rsp(1, code("TRUNCATED")), {"seq": 2, "count": 1}])
    # [FLOW-6]: no resynchronisation. The header says 1 (expected) but the immediate says 2: stale, and
    # the client's next batch (seq 2) is stale too; a trustee that adopted the client's seq accepts it.
    land("land.no-resync", "after a stale batch the trustee keeps its expected seq and adopts no other",
         ["FLOW-6", "FLOW-5", "LAND-5"], [(img(1), 2), (img(2), 2), (img(3), 3), (img(1), 1)],
         [err_rsp(1, code("STALE_SEQUENCE")), err_rsp(2, code("STALE_SEQUENCE")),
          err_rsp(3, code("STALE_SEQUENCE")), {"seq": 1, "count": 1}])
    land("land.imm-slot-not-checked", "land takes I from the immediate's low 16 bits; its slot id is not checked",
         ["ADPT-9", "LAND-8"], [(img(1), (0x7777 << 16) | 1)], [{"seq": 1, "count": 1}])
    add("land.next-seq-from-zero", "next_seq of 0 (no batch yet) is 1", ["ADPT-19", "LAND-4"], "next_seq",
        {"seq": 0}, ok({"seq": 1}))
    add("land.next-seq-over-u32", "next_seq of a value above 32 bits is BAD_ARGUMENT, not a wrap", ["ADPT-19"],
        "next_seq", {"seq": 1 << 32}, err("BAD_ARGUMENT"))
    add("land.imm-seq-zero", "make_imm takes seq 0: the immediate of an answer to a 0-byte WRITE",
        ["ADPT-19", "FLOW-7", "RSP-1"], "make_imm", {"slot_id": 2, "seq": 0}, ok({"imm": 2 << 16, "parsed": [2, 0]}))
    add("land.imm-seq-over-u32", "make_imm with a seq above 32 bits is BAD_ARGUMENT", ["ADPT-19"], "make_imm",
        {"slot_id": 2, "seq": 1 << 32}, err("BAD_ARGUMENT"))

    def ev(cid: str, title: str, clauses: list[str], role: str, events: list[str], want: list[str]) -> None:
        add(cid, title, clauses, "slot_events", {"role": role, "events": events}, ok({"results": want}))

    ev("flow.client-cycle", "write, response, write", ["FLOW-1"], "client",
       ["write", "response", "write"], ["AWAITING", "IDLE", "AWAITING"])
    ev("flow.client-busy", "a second write before the response is SLOT_BUSY", ["FLOW-1", "FLOW-3"], "client",
       ["write", "write", "response"], ["AWAITING", "SLOT_BUSY", "IDLE"])
    ev("flow.client-unsolicited", "a response with no batch unanswered is refused", ["FLOW-1", "RSP-6"],
       "client", ["response"], ["SLOT_BUSY"])
    ev("flow.trustee-cycle", "landed, respond, landed", ["FLOW-2", "LAND-3"], "trustee",
       ["landed", "respond", "landed"], ["BUSY", "READY", "BUSY"])
    ev("flow.trustee-double-land", "a second batch cannot land before the first is answered", ["FLOW-2"],
       "trustee", ["landed", "landed"], ["BUSY", "BAD_ARGUMENT"])
    ev("flow.trustee-respond-first", "no response before a batch landed", ["FLOW-2", "LAND-3"],
       "trustee", ["respond"], ["BAD_ARGUMENT"])
    ev("flow.client-idle-response-discarded", "a response while IDLE is refused and changes nothing",
       ["LAND-8", "ADPT-9"], "client", ["response", "write", "response"], ["SLOT_BUSY", "AWAITING", "IDLE"])
    add("flow.unknown-event", "an event outside the table makes the whole answer BAD_ARGUMENT",
        ["ADPT-19", "ADPT-9"], "slot_events", {"role": "client", "events": ["write", "sent"]}, err("BAD_ARGUMENT"))
    add("flow.unknown-role", "a role other than client or trustee is BAD_ARGUMENT", ["ADPT-19", "ADPT-9"],
        "slot_events", {"role": "server", "events": ["write"]}, err("BAD_ARGUMENT"))

    return out
