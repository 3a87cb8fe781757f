"""Execution on a trustee (`execute` op): entry-level errors, built-ins, order, fallback ([ADPT-9]).

Responses are judged by decoding them with the suite's oracle (`conformance.oracle`, never the
implementation's codec): statuses are compared by wire value with SPEC.md section 9's table, results
byte for byte; error details are free ([ERR-3]); a new property pointer is checked for being a
nonzero 48-bit value ([TRUST-3]).
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, BIG, ECHO, ENTRUST, FLAG, GET, NOP, RAISE, TOGGLE, standard
from ..model import Case, ok
from ._execute_op import NONZERO48, NOWHERE, X, b, entry, execute_check
from ._wire import case, cbor, cfg, frame, req_entry, stub
from .requests import u64
from .trust_ids import A1, A2


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], batches: list[dict[str, Any]],
            want: list[dict[str, Any]], live: list[int] | None = None, value: Any = 10) -> None:
        args = {"config": cfg(), "closures": standard(), "properties": [{"pointer": X, "value": [value], "first": A1}],
                "batches": batches, "_want": want, "_live": live}
        out.append(case(cid, title, clauses, "execute", args, ok({"responses": "(checked by decoding)"}),
                        tags=("trustee",), check=execute_check))

    add("exec.in-order", "requests of a batch run one at a time in entry order", ["REQ-7", "RSP-2", "ADPT-10"],
        [b(1, [req_entry(X, 0, u64(5)), req_entry(X, 0, u64(7)), req_entry(X, 1)], [ADD.id, GET.id])],
        [{"results": ["u64", "u64", "cbor"], "entries": [entry("OK", u64(15)), entry("OK", u64(22)),
                                                          entry("OK", b"", 22)]}])
    add("exec.bad-property", "a pointer to nowhere is BAD_PROPERTY; the rest of the batch runs",
        ["REQ-1", "ERR-2"],
        [b(1, [req_entry(NOWHERE, 0, u64(5)), req_entry(X, 0, u64(1))], [ADD.id])],
        [{"results": ["u64", "u64"], "entries": [entry("BAD_PROPERTY"), entry("OK", u64(11))]}])
    add("exec.batch-error-runs-nothing", "an unknown closure rejects the batch; its first request does not run",
        ["REQ-6", "VT-5", "RSP-5", "FLOW-2"],
        [b(1, [req_entry(X, 0, u64(5)), req_entry(X, 0, inline_id=0x0BAD)], [ADD.id]),
         b(2, [req_entry(X, 0)], [GET.id])],
        [{"batch_error": "UNKNOWN_CLOSURE"}, {"results": ["cbor"], "entries": [entry("OK", b"", 10)]}])
    add("exec.replay-runs-nothing", "a replayed batch is STALE_SEQUENCE and does not run again",
        ["FLOW-5", "LAND-5", "REQ-6"],
        [b(1, [req_entry(X, 0, u64(1))], [ADD.id]), b(1, [req_entry(X, 0, u64(1))], [ADD.id]),
         b(2, [req_entry(X, 0)], [GET.id])],
        [{"results": ["u64"], "entries": [entry("OK", u64(11))]}, {"batch_error": "STALE_SEQUENCE"},
         {"results": ["cbor"], "entries": [entry("OK", b"", 11)]}])
    add("exec.torn-answered", "a torn batch is answered with an error response", ["RSP-5", "FLOW-2", "SLOT-7"],
        [b(1, [req_entry(X, 0, u64(1))], [ADD.id], trailer=bytes(8))], [{"batch_error": "TORN"}])
    add("exec.malformed-param", "an ill-formed parameter is MALFORMED_CBOR for its entry only", ["SER-2", "ERR-2"],
        [b(1, [req_entry(X, 0, b"", b"\x1c"), req_entry(X, 0, b"", cbor([1, 2]) + b"\x00"),
               req_entry(X, 0, b"", cbor("ok"))], [ECHO.id])],
        [{"results": ["cbor"] * 3, "entries": [entry("MALFORMED_CBOR"), entry("MALFORMED_CBOR"),
                                                entry("OK", b"", "ok")]}])
    add("exec.bad-capture", "a bool byte of 2 is BAD_CAPTURE without running the closure", ["LAYOUT-4"],
        [b(1, [req_entry(X, 0, b"\x02"), req_entry(X, 0, b"\x01")], [FLAG.id])],
        [{"results": ["bool", "bool"], "entries": [entry("BAD_CAPTURE"), entry("OK", b"\x01")]}])
    add("exec.closure-raised", "a closure that raises answers CLOSURE_RAISED; the next entry runs", ["ERR-2"],
        [b(1, [req_entry(X, 0), req_entry(X, 1)], [RAISE.id, NOP.id])],
        [{"results": ["", ""], "entries": [entry("CLOSURE_RAISED"), entry("OK", b"")]}])
    add("exec.entrust", "entrust creates a property and returns a nonzero 48-bit pointer",
        ["TRUST-3", "ADPT-11"], [b(1, [req_entry(0, 0, u64(A1), cbor(5))], [ENTRUST.id])],
        [{"results": ["u64"], "entries": [entry("OK", NONZERO48)]}])
    add("exec.toggle-drop", "toggles clone and drop; the property is dropped when its set empties",
        ["TRUST-4", "TRUST-5", "TRUST-2", "REQ-1"],
        [b(1, [req_entry(X, 0, u64(A2)), req_entry(X, 0, u64(A2)), req_entry(X, 0, u64(A1)),
               req_entry(X, 1, u64(1))], [TOGGLE.id, ADD.id])],
        [{"results": ["u8", "u8", "u8", "u64"], "entries": [entry("OK", b"\0"), entry("OK", b"\0"),
                                                           entry("OK", b"\1"), entry("BAD_PROPERTY")]}],
        live=[])
    big = cbor(bytes(985 + 1))  # needs the fallback ([FB-1])
    add("exec.fallback-frame", "a fallback request runs once its frame arrived", ["FB-5", "FB-2"],
        [b(1, [req_entry(X, 0, u64(1)), stub(X, 1, len(big)), req_entry(X, 0, u64(1))], [ADD.id, ECHO.id],
           frames=(frame(1, 0, 1, 1, big),))],
        [{"results": ["u64", "cbor", "u64"], "entries": [entry("OK", u64(11)), entry("OK", b"", bytes(986)),
                                                         entry("OK", u64(12))]}])
    add("exec.fallback-timeout", "a stub whose frame never arrives is FALLBACK_TIMEOUT; later entries run",
        ["FB-5"], [b(1, [stub(X, 1, len(big)), req_entry(X, 0, u64(1))], [ADD.id, ECHO.id])],
        [{"results": ["cbor", "u64"], "entries": [entry("FALLBACK_TIMEOUT"), entry("OK", u64(11))]}])
    add("exec.frame-for-nobody", "a frame naming no waiting entry is discarded, not attached",
        ["FB-7"], [b(1, [stub(X, 0, len(big))], [ECHO.id], frames=(frame(1, 0, 1, 5, big),))],
        [{"results": ["cbor"], "entries": [entry("FALLBACK_TIMEOUT")]}])
    add("exec.frame-wrong-length", "a frame whose payload length differs from its stub is BAD_FRAME",
        ["FB-6"], [b(1, [stub(X, 0, len(big) + 8)], [ECHO.id], frames=(frame(1, 0, 1, 0, big),))],
        [{"results": ["cbor"], "entries": [entry("BAD_FRAME")]}])
    add("exec.big-result", "a result too large for the response slot travels as a response frame",
        ["RSP-4", "FB-3"], [b(1, [req_entry(X, 0, b"", cbor(2000))], [BIG.id])],
        [{"results": ["cbor"], "entries": [entry("OK", b"", bytes(2000))]}])
    return out
