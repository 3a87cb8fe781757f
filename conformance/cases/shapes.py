"""Rack shapes ([SHAPE-1] .. [SHAPE-5], [LIM-3]): the hello's `"trustees"` and the slot numbering.

`decode_hello` cases for `"trustees"` (each rule of [SHAPE-4] broken once, and hellos that keep them,
including the old hello without the key, which means every thread); `shape_slots` cases for
[SHAPE-2]'s numbering on small racks written out by hand from the spec's loops, and the refusals of
[SHAPE-1], [SHAPE-4] and [LIM-3]. The expected slot lists here are spelled out, not computed by
any implementation.
"""

from __future__ import annotations

from typing import Any

from ..model import Case, Outcome, err, ok
from ._wire import case
from .bootstrap import hello, msg
from .live import _hello


def _m(threads: int, *runs: tuple[int, int]) -> dict[str, Any]:
    return {"threads": threads, "trustees": [list(r) for r in runs]}


def _req(p: int, c: int, t: int) -> list[Any]:
    return ["request", p, c, t]


def _rsp(p: int, t: int, c: int) -> list[Any]:
    return ["response", p, t, c]


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], op: str, args: dict[str, Any], expect: dict[str, Any]) -> None:
        out.append(case(cid, title, clauses, op, args, expect, tags=("codec", "bootstrap", "shape")))

    # -- [SHAPE-4] "trustees" in a hello ---------------------------------------------------------
    base = hello(threads=8)
    add("shape.hello-no-trustees", "a hello without trustees: every thread is one, nothing more is answered",
        ["SHAPE-4", "BOOT-1", "ADPT-8"], "decode_hello", {"data": msg(base)}, ok(base))
    for cid, title, runs in [
        ("shape.hello-dedicated", "Figure 11's server: threads 0 .. 5 of 8 are trustees", [[0, 6]]),
        ("shape.hello-client-only", "a client-only machine sends trustees []", []),
        ("shape.hello-two-runs", "threads 0, 1, 2 and 5: [[0, 3], [5, 1]]", [[0, 3], [5, 1]]),
        ("shape.hello-all-as-runs", "every thread named as one run is accepted too", [[0, 8]]),
        ("shape.hello-last-thread", "a run ending at thread 7 of 8", [[7, 1]]),
    ]:
        add(cid, title, ["SHAPE-4", "DEC-5", "ADPT-8"], "decode_hello", {"data": msg({**base, "trustees": runs})},
            ok({**base, "trustees": runs}))
    bad_runs: list[tuple[str, str, Any]] = [
        ("shape.hello-run-past-threads", "[[6, 3]] of 8 threads reaches thread 8", [[6, 3]]),
        ("shape.hello-run-empty", "a run of count 0", [[3, 0]]),
        ("shape.hello-runs-touch", "[[0, 2], [2, 1]] touch: [[0, 3]] is the one encoding", [[0, 2], [2, 1]]),
        ("shape.hello-runs-overlap", "[[0, 3], [2, 2]] overlap", [[0, 3], [2, 2]]),
        ("shape.hello-runs-backwards", "[[5, 1], [0, 3]] go backwards", [[5, 1], [0, 3]]),
        ("shape.hello-run-negative", "[[-1, 2]]: a negative first thread", [[-1, 2]]),
        ("shape.hello-run-not-pair", "[[0, 1, 1]]: a run of three numbers", [[0, 1, 1]]),
        ("shape.hello-run-text", "[[\"0\", 1]]: a text is not a thread", [["0", 1]]),
        ("shape.hello-trustees-flat", "[0, 1, 2]: threads instead of runs", [0, 1, 2]),
        ("shape.hello-trustees-null", "trustees null", None),
        ("shape.hello-huge-count", "a count of 2^64 - 1", [[0, (1 << 64) - 1]]),
    ]
    for cid, title, bad in bad_runs:
        m = {**base, "trustees": bad}
        add(cid, f"{title}: BAD_HEADER", ["SHAPE-4", "DEC-5"], "decode_hello", {"data": msg(m)}, err("BAD_HEADER"))
    add("shape.hello-threads-first", "threads 0 with trustees []: threads breaks step 9 first, still BAD_HEADER",
        ["SHAPE-4", "DEC-5"], "decode_hello", {"data": msg({**base, "threads": 0, "trustees": []})}, err("BAD_HEADER"))
    add("shape.hello-missing-beats-trustees", "no slot_size and bad trustees: MALFORMED_CBOR first",
        ["SHAPE-4", "DEC-5"], "decode_hello",
        {"data": msg({**{k: v for k, v in base.items() if k != "slot_size"}, "trustees": [[9, 9]]})},
        err("MALFORMED_CBOR"))

    # -- [SHAPE-2] the numbering, written out from the spec's loops -------------------------------
    # two machines of 2 threads, all trustees: the numbering of earlier drafts
    uni = [_m(2, (0, 2)), _m(2, (0, 2))]
    add("shape.slots-uniform", "2 x 2 threads: (p*T + c)*T + t, then M*T*T + (c*M + p)*T + t",
        ["SHAPE-2", "SHAPE-3", "ADPT-9"], "shape_slots", {"shape": uni, "machine": 1},
        ok({"count": 16, "slots": [
            _req(0, 0, 0), _req(0, 0, 1), _req(0, 1, 0), _req(0, 1, 1),
            _req(1, 0, 0), _req(1, 0, 1), _req(1, 1, 0), _req(1, 1, 1),
            _rsp(0, 0, 0), _rsp(0, 1, 0), _rsp(1, 0, 0), _rsp(1, 1, 0),
            _rsp(0, 0, 1), _rsp(0, 1, 1), _rsp(1, 0, 1), _rsp(1, 1, 1)]}))
    # a server of 3 threads with trustee thread 1, a client-only machine of 2 threads
    mixed = [_m(3, (1, 1)), _m(2)]
    add("shape.slots-server", "the server: one request slot per thread of the rack, one response per own thread",
        ["SHAPE-1", "SHAPE-2", "SHAPE-3", "ADPT-9"], "shape_slots", {"shape": mixed, "machine": 0},
        ok({"count": 8, "slots": [
            _req(0, 0, 1), _req(0, 1, 1), _req(0, 2, 1), _req(1, 0, 1), _req(1, 1, 1),
            _rsp(0, 1, 0), _rsp(0, 1, 1), _rsp(0, 1, 2)]}))
    add("shape.slots-client-only", "the client-only machine: no request slot, a response slot per own thread",
        ["SHAPE-1", "SHAPE-2", "SHAPE-3", "ADPT-9"], "shape_slots", {"shape": mixed, "machine": 1},
        ok({"count": 2, "slots": [_rsp(0, 1, 0), _rsp(0, 1, 1)]}))
    # trustee machines on both sides of one without: B(p) passes over machine 1
    gaps = [_m(1, (0, 1)), _m(1), _m(2, (1, 1))]
    add("shape.slots-between", "a machine without trustees between two with: the response slots skip it",
        ["SHAPE-2", "SHAPE-3", "ADPT-9"], "shape_slots", {"shape": gaps, "machine": 1},
        ok({"count": 2, "slots": [_rsp(0, 0, 0), _rsp(2, 1, 0)]}))
    add("shape.slots-nobody-serves", "a rack of client-only machines: no slot at all",
        ["SHAPE-1", "SHAPE-2", "ADPT-9"], "shape_slots", {"shape": [_m(2), _m(3)], "machine": 1},
        ok({"count": 0, "slots": []}))
    for cid, title, shape in [
        ("shape.slots-bad-runs", "trustee runs that touch", [_m(3, (0, 1), (1, 1))]),
        ("shape.slots-no-threads", "a machine of 0 threads", [_m(0)]),
        ("shape.slots-no-machines", "a rack of no machines", []),
    ]:
        add(cid, f"{title}: BAD_ARGUMENT", ["SHAPE-1", "SHAPE-4", "ADPT-19"], "shape_slots",
            {"shape": shape, "machine": 0}, err("BAD_ARGUMENT"))
    add("shape.slots-machine-past", "machine 2 of a rack of 2: BAD_ARGUMENT", ["ADPT-19"], "shape_slots",
        {"shape": uni, "machine": 2}, err("BAD_ARGUMENT"))
    return out + live_cases()


#: hellos of a connector whose trustee threads are not those the trustee's configuration gives it
#: (a live trustee is configured for the suite as a machine of its own T = 2 threads, all trustees,
#: [ADPT-13]), or break [SHAPE-4]: each is answered BAD_HEADER and closed ([SHAPE-5], [BOOT-5])
SHAPE_HELLOS: tuple[tuple[str, Any], ...] = (
    ("trustees [[0, 1]]: one trustee thread of two", [[0, 1]]),
    ("trustees []: a client-only machine", []),
    ("trustees [[1, 1]]: thread 1 only", [[1, 1]]),
    ("trustees [[0, 3]]: runs past its 2 threads", [[0, 3]]),
)


def shape_hello_check(c: Case, got: Outcome) -> str | None:
    """Each hello of SHAPE_HELLOS answered {"error": 0x18} (BAD_HEADER) and closed; the trustee then
    still greets a newcomer."""
    if "ok" not in got:
        return f"expected the trustee's replies, got {str(got)[:200]}"
    replies = got["ok"].get("replies", [])
    if len(replies) != len(SHAPE_HELLOS):
        return f"{len(replies)} replies for {len(SHAPE_HELLOS)} hellos"
    for (what, _), r in zip(SHAPE_HELLOS, replies, strict=True):
        reply = r.get("reply")
        if not (isinstance(reply, dict) and reply.get("error") == 0x18):
            return (f"a hello with {what}: expected {{\"error\": 0x18}} (BAD_HEADER) before the trustee closes, got "
                    f"{str(reply)[:100]} ([SHAPE-5], [BOOT-10])")
        if not r.get("closed"):
            return f"a hello with {what}: after its error the trustee did not close the connection ([BOOT-5])"
    if not got["ok"].get("still_serving"):
        return "after those hellos the trustee no longer greets a new connection ([ADPT-13])"
    return None


def live_cases() -> list[Case]:
    return [case("shape.live-hello-trustees", "a connector whose hello names other trustee threads than the "
                 "trustee's configuration gives it, or runs past its threads: BAD_HEADER, then closed",
                 ["SHAPE-5", "SHAPE-4", "BOOT-10", "BOOT-5"], "nic_bootstrap",
                 {"hellos": [_hello(trustees=v) for _, v in SHAPE_HELLOS]}, ok({"replies": "(checked)"}),
                 tags=("nic", "live", "trustee", "bootstrap", "shape"), check=shape_hello_check)]
