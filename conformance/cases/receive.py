"""The receive paths the other modules leave thin: what a client does with the response frames and
response entries it is sent ([DEC-2], [DEC-4], [FB-6], [ADPT-16]), and what a trustee does with an
`entrust` it must refuse ([TRUST-3]) or a frame of the wrong kind ([DEC-3], [FB-7]).

Client cases run the client under test against the suite as its trustee machine (`client_run`,
[ADPT-14]); each answers one batch with a crafted response and compares what the client delivered.
"""

from __future__ import annotations

from typing import Any

from ..catalogue_closures import ADD, ECHO, ENTRUST, GET, standard
from ..model import Case, Outcome, ok
from ._wire import U64, batch, case, cbor, cfg, frame, req_entry, rsp_batch, rsp_entry, stub
from .client import T, call, client_check
from .client import X as CX  # the client cases' property
from .limits import X, _execute  # the execute cases' seeded property
from .trust_ids import A2

OK, FALLBACK = 0, 1
NOWHERE = 0x5000_0000_9990


def u64(x: int) -> bytes:
    return U64.pack(x)


def cases() -> list[Case]:
    out: list[Case] = []

    def client(cid: str, title: str, clauses: list[str], workload: list[dict[str, Any]], image: bytes,
               response: bytes, results: list[Outcome], frames_out: list[dict[str, Any]] | None = None,
               config: dict[str, int] | None = None) -> None:
        args = {"config": config or cfg(), "closures": standard(), "threads": T, "workload": workload,
                "answers": [{"thread": 0, "trustee": 1, "seq": 1, "image": response, "frames_out": frames_out or []}],
                "_want": {"batches": [{"thread": 0, "trustee": 1, "seq": 1, "image": image, "frames": []}],
                          "results": results}}
        out.append(case(cid, title, clauses, "client_run", args, ok({"results": results}),
                        tags=("client", "receive"), check=client_check))

    big = cbor(bytes(2000))
    work = [call(0, 1, CX, ECHO.name, arg="x"), call(0, 1, CX, ADD.name, [1]), call(0, 1, CX, GET.name)]
    img = batch(1, [ECHO.id, ADD.id, GET.id], [req_entry(CX, 0, b"", cbor("x")), req_entry(CX, 1, u64(1)),
                                               req_entry(CX, 2)])

    def rsp(first: bytes) -> bytes:
        return rsp_batch(1, [first, rsp_entry(OK, u64(11)), rsp_entry(OK, b"", cbor(11))])

    fr = [{"index": 0, "payload": big}]
    rest = [ok(11), ok(11)]
    client("recv.client.response-frame-exact", "a response frame exactly as long as its FALLBACK entry's n: delivered",
           ["DEC-4", "RSP-4", "FB-3"], work, img, rsp(rsp_entry(FALLBACK, n=len(big))), [ok(bytes(2000)), *rest], fr)
    client("recv.client.response-frame-long",
           "a response frame one byte longer than its FALLBACK entry's n: that call fails BAD_FRAME, the rest deliver",
           ["DEC-4", "FB-6", "ADPT-16"], work, img, rsp(rsp_entry(FALLBACK, n=len(big) - 1)),
           [{"error": "BAD_FRAME"}, *rest], fr)
    client("recv.client.response-frame-short",
           "a response frame one byte shorter than its FALLBACK entry's n: that call fails BAD_FRAME",
           ["DEC-4", "FB-6", "ADPT-16"], work, img, rsp(rsp_entry(FALLBACK, n=len(big) + 1)),
           [{"error": "BAD_FRAME"}, *rest], fr)
    add_work = [call(0, 1, CX, ADD.name, [1]), call(0, 1, CX, GET.name)]
    add_img = batch(1, [ADD.id, GET.id], [req_entry(CX, 0, u64(1)), req_entry(CX, 1)])
    client("recv.client.response-frame-fixed",
           "a FALLBACK entry of a u64 result whose frame carries exactly 8 bytes: delivered",
           ["DEC-4", "RSP-4"], add_work, add_img,
           rsp_batch(1, [rsp_entry(FALLBACK, n=8), rsp_entry(OK, b"", cbor(7))]), [ok(0x0102030405060708), ok(7)],
           [{"index": 0, "payload": u64(0x0102030405060708)}])
    client("recv.client.response-frame-fixed-long",
           "a FALLBACK entry of a u64 result whose frame (and n) carry 9 bytes: BAD_FRAME ([DEC-4]: p != R)",
           ["DEC-4", "FB-6"], add_work, add_img,
           rsp_batch(1, [rsp_entry(FALLBACK, n=9), rsp_entry(OK, b"", cbor(7))]), [{"error": "BAD_FRAME"}, ok(7)],
           [{"index": 0, "payload": u64(5) + b"\0"}])
    lim = cfg(fallback_limit=1000)
    client("recv.client.fallback-n-over-limit",
           "a FALLBACK entry announcing one byte over the fallback limit: the response is OVERSIZE, no call delivers",
           ["DEC-2", "FB-6", "ADPT-16"], work, img, rsp(rsp_entry(FALLBACK, n=1001)), [{"error": "OVERSIZE"}] * 3,
           config=lim)
    client("recv.client.body-over-slot", "a response entry whose n is S + 1: the response is OVERSIZE",
           ["DEC-2", "ADPT-16"], work, img, rsp(rsp_entry(OK, b"", b"", n=1025)), [{"error": "OVERSIZE"}] * 3)
    client("recv.client.result-indefinite",
           "a cbor result sent in indefinite-length encoding: delivered as its value ([DEC-6])",
           ["DEC-6", "SER-2", "ADPT-16"], work, img, rsp(rsp_entry(OK, b"", b"\x9f\x01\x02\xff")),
           [ok([1, 2]), *rest])

    # -- entrust must be sent with pointer 0 ([TRUST-3]); a trustee refuses any other, creating nothing
    def entrust(cid: str, title: str, ptr: int) -> None:
        p = _execute("past", "", title, [(1, [req_entry(ptr, 0, u64(A2), cbor([99])), req_entry(X, 1),
                                             req_entry(X, 2, u64(1))], [ENTRUST.id, GET.id, ADD.id])],
                     [{"results": ["u64", "cbor", "u64"],
                       "entries": [("BAD_PROPERTY", b"", b""), ("OK", b"", cbor(10)), ("OK", u64(11), b"")]}])
        out.append(case(cid, title, ("TRUST-3", "REQ-1", "ERR-2"), p.op, {**p.args, "_live": [X]}, p.expect,
                        tags=("trustee", "receive"), check=p.check))

    entrust("recv.entrust-live-pointer",
            "an entrust naming a live property: BAD_PROPERTY, that property unchanged, the rest of the batch runs", X)
    entrust("recv.entrust-nowhere", "an entrust naming no property: BAD_PROPERTY, nothing created", NOWHERE)
    entrust("recv.entrust-top-pointer", "an entrust naming pointer 2^48 - 1: BAD_PROPERTY", (1 << 48) - 1)
    # -- a frame of kind 2 (client-bound) sent to a trustee names no entry it waits for ([DEC-3], [FB-7])
    payload = cbor(bytes(986))
    p = _execute("past", "", "a kind-2 frame matching a stub's slot, seq and index is not its payload: "
                 "discarded, the stub times out", [(1, [stub(X, 0, len(payload)), req_entry(X, 1, u64(1))],
                                                    [ECHO.id, ADD.id])],
                 [{"results": ["cbor", "u64"], "entries": [("FALLBACK_TIMEOUT", b"", b""), ("OK", u64(11), b"")]}],
                 frames=(frame(2, 0, 1, 0, payload),))
    out.append(case("recv.trustee-kind2-frame", p.title, ("DEC-3", "FB-7", "FB-5"), p.op, dict(p.args), p.expect,
                    tags=("trustee", "receive"), check=p.check))
    return out
