"""Both sides of every limit of a connector's hello, as a live trustee must judge them ([BOOT-3], [BOOT-6]).

One table, `HELLOS`: each row is a hello the suite answers a trustee's hello with (op `nic_bootstrap`),
and what the trustee must do with it: accept it (bring its QPs to RTS and send `{"ready": true}`,
[BOOT-7]) or refuse it with the code of SPEC.md section 10, compared by wire value, and close
([BOOT-5]). A limit gets a row at the limit (accepted) and one just past it (refused): `psn`
`2^24 - 1` and `2^24`, a QP number `2^24 - 1` and `2^24`, `fallback_port` `65535` and `65536` (and
`0`, which only a side without trustee threads may announce), `rkey` `2^32 - 1` and `2^32`, the
last slot ending exactly at `2^64` and one byte past it, slot id `0xFFFF` and `0x10000`, the
connector's `threads` equal to and different from the `T` the trustee expects ([BOOT-10]).

An accepted hello carries the trustee's own `gid` (`own_gid`): a GID its NIC reaches, so that
moving its QPs to RTR succeeds on any device; the other values are the suite's to choose
(section 13: any values in their ranges that the sender announces), and the trustee writes nothing
into our slots before it is driven, so none of them needs to name real memory.

`live.boot-hello-stream` sends good hellos the way a byte stream may deliver them ([DEC-5] steps 1
and 3: a reader waits for the rest): cut after 3 bytes of the length prefix, after the prefix, one
byte short of the end; and a hello followed in the same write by our `ready` (a connector may send
it as soon as its own QPs are in RTS, [BOOT-7]): the trustee must answer `ready` and keep the
connection open.

Expected values come from SPEC.md (codes by wire value, `oracle.codes`); nothing here imports
`gossamer`.
"""

from __future__ import annotations

import struct
from typing import Any

from ..model import Case, Outcome, ok
from ..oracle import codes
from ._wire import case, cbor

READY = {"ready": True}
T = 2  #: the catalogue's trustees run two threads ([ADPT-13]); a connector mirrors them ([BOOT-8])
S = 1024  #: the catalogue's slot size ([ADPT-13])
BASE = 0x7F00_0000_0000


def hello_map(**over: Any) -> dict[str, Any]:
    """A client machine's hello without `gid` (the suite's shape: response slots only, [BOOT-6]),
    `over` applied (a value None removes the key)."""
    m: dict[str, Any] = {"versions": [1, 1], "machine": 1, "threads": T, "slot_size": S, "table_k": 4,
                         "fallback_timeout_ms": 5000, "fallback_limit": 64 << 20,
                         "qpns": [0x11, 0x12], "psn": 0x1234,
                         "slots": {"base": BASE, "rkey": 1, "ids": [0, 1, 2, 3]},
                         "request_slots": [[], []], "response_slots": [[0, 1], [2, 3]], "fallback_port": 0}
    m.update(over)
    return {k: v for k, v in m.items() if v is not None}


def slots(base: int = BASE, rkey: int | None = 1, ids: list[int] | None = None, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"base": base, "rkey": rkey, "ids": [0, 1, 2, 3] if ids is None else ids}
    out.update(more)
    return {k: v for k, v in out.items() if v is not None}


#: a connector that also runs trustee threads: request slots 4 .. 7 for the trustee's client threads
SERVING = {"slots": slots(ids=list(range(8))), "request_slots": [[4, 5], [6, 7]]}
TOP = (1 << 64) - 4 * S  #: slot 3 of ids [0 .. 3] ends exactly at 2^64
HIGH_IDS = [0xFFFC, 0xFFFD, 0xFFFE, 0xFFFF]

#: (what, the hello's changes to `hello_map()`, "ready" or the code the trustee refuses it with, clauses)
HELLOS: tuple[tuple[str, dict[str, Any], str, tuple[str, ...]], ...] = (
    ("the suite's own hello", {}, "ready", ("BOOT-3", "BOOT-6", "BOOT-7")),
    ("psn 2^24 - 1", {"psn": 0xFF_FFFF}, "ready", ("BOOT-3", "BOOT-9")),
    ("psn 2^24", {"psn": 1 << 24}, "BAD_HEADER", ("BOOT-3",)),
    ("psn -1", {"psn": -1}, "BAD_HEADER", ("BOOT-3",)),
    ("psn true", {"psn": True}, "BAD_HEADER", ("BOOT-3",)),
    ("gid of 15 bytes", {"gid": bytes(15)}, "BAD_HEADER", ("BOOT-3",)),
    ("gid of 17 bytes", {"gid": bytes(17)}, "BAD_HEADER", ("BOOT-3",)),
    ("gid as a 16-character text", {"gid": "0" * 16}, "BAD_HEADER", ("BOOT-3",)),
    ("QP numbers 2^24 - 1 and 2^24 - 2", {"qpns": [0xFF_FFFF, 0xFF_FFFE]}, "ready", ("BOOT-3", "BOOT-8")),
    ("a QP number of 2^24", {"qpns": [0x11, 1 << 24]}, "BAD_HEADER", ("BOOT-3", "BOOT-8")),
    ("a QP number of -1", {"qpns": [0x11, -1]}, "BAD_HEADER", ("BOOT-3", "BOOT-8")),
    ("three QP numbers for two threads", {"qpns": [0x11, 0x12, 0x13]}, "BAD_HEADER", ("BOOT-3", "BOOT-8")),
    ("fallback_port 0 from a side without trustee threads", {"fallback_port": 0}, "ready", ("BOOT-3", "BOOT-6")),
    ("fallback_port 65535", {"fallback_port": 0xFFFF}, "ready", ("BOOT-3",)),
    ("fallback_port 65536", {"fallback_port": 0x1_0000}, "BAD_HEADER", ("BOOT-3",)),
    ("request slots and fallback_port 1", {**SERVING, "fallback_port": 1}, "ready", ("BOOT-3", "BOOT-6")),
    ("request slots and fallback_port 0", {**SERVING, "fallback_port": 0}, "BAD_HEADER", ("BOOT-3", "BOOT-6")),
    ("request_slots naming a slot twice", {**SERVING, "request_slots": [[4, 5], [5, 6]], "fallback_port": 1},
     "BAD_HEADER", ("BOOT-6",)),
    ("rkey 2^32 - 1, the last slot ending at 2^64", {"slots": slots(base=TOP, rkey=0xFFFF_FFFF)}, "ready",
     ("BOOT-6",)),
    ("rkey 2^32", {"slots": slots(rkey=1 << 32)}, "BAD_HEADER", ("BOOT-6",)),
    ("the last slot ending one byte past 2^64", {"slots": slots(base=TOP + 1)}, "BAD_HEADER", ("BOOT-6",)),
    # [DEC-5] step 16's S is the one in effect, the acceptor's ([BOOT-10]), never the hello's own slot_size
    ("slot_size 64 and its last slot ending one byte past 2^64 by the trustee's S",
     {"slot_size": 64, "slots": slots(base=TOP + 1)}, "BAD_HEADER", ("BOOT-6", "BOOT-10", "DEC-5")),
    ("slot_size 65536 and its last slot ending at 2^64 by the trustee's S", {"slot_size": 65536,
                                                                             "slots": slots(base=TOP)},
     "ready", ("BOOT-6", "BOOT-10", "DEC-5")),
    ("base 2^64 and no slot", {"slots": slots(base=1 << 64, ids=[]), "response_slots": [[], []]}, "BAD_HEADER",
     ("BOOT-6",)),
    ("slot ids up to 0xFFFF at base 0", {"slots": slots(base=0, ids=HIGH_IDS),
                                         "response_slots": [HIGH_IDS[:2], HIGH_IDS[2:]]}, "ready", ("BOOT-6",)),
    ("a slot id of 0x10000", {"slots": slots(ids=[0, 1, 2, 3, 0x1_0000])}, "BAD_HEADER", ("BOOT-6",)),
    ("a slot id of -1", {"slots": slots(ids=[0, 1, 2, 3, -1])}, "BAD_HEADER", ("BOOT-6",)),
    ("slot id 3 twice in ids", {"slots": slots(ids=[0, 1, 2, 3, 3])}, "BAD_HEADER", ("BOOT-6",)),
    ("slots with a fourth key", {"slots": slots(size=S)}, "BAD_HEADER", ("BOOT-6",)),
    ("slots without rkey", {"slots": slots(rkey=None)}, "BAD_HEADER", ("BOOT-6",)),
    ("slots that are an array", {"slots": [BASE, 1, [0, 1, 2, 3]]}, "BAD_HEADER", ("BOOT-6",)),
    ("response_slots with three rows", {"response_slots": [[0, 1], [2, 3], []]}, "BAD_HEADER", ("BOOT-6",)),
    ("an empty response_slots row", {"response_slots": [[0, 1], []]}, "ready", ("BOOT-6",)),
    # [BOOT-10]: each hello below is shaped right for the threads it names ([BOOT-8], [SHAPE-5]);
    # the second also names the trustee threads the trustee expects of it (threads 0 and 1,
    # [SHAPE-4]), so that only its thread count tells it from an acceptable one
    ("threads 1 (the trustee expects 2)", {"threads": 1, "response_slots": [[0, 1]]}, "BAD_HEADER",
     ("BOOT-10", "BOOT-8")),
    ("threads 3 with trustee threads 0 and 1 (the trustee expects 2 threads)",
     {"threads": 3, "trustees": [[0, 2]], "qpns": [0x11, 0x12, 0x13], "slots": slots(ids=list(range(6))),
      "response_slots": [[0, 1], [2, 3], [4, 5]]}, "BAD_HEADER", ("BOOT-10", "BOOT-8", "SHAPE-5")),
    ("versions [0, 0]", {"versions": [0, 0]}, "VERSION_MISMATCH", ("BOOT-1",)),
)


def _message(m: Any) -> bytes:
    body = cbor(m)
    return struct.pack("<I", len(body)) + body


def _duplicate() -> bytes:
    """A hello map with one more pair, `psn` again (the same value: no first or last wins, [DEC-5])."""
    m = hello_map(gid=bytes(16))
    body = cbor(m)
    assert len(m) < 23 and body[0] == 0xA0 + len(m)
    body = bytes([body[0] + 1]) + body[1:] + cbor("psn") + cbor(m["psn"])
    return struct.pack("<I", len(body)) + body


#: messages no hello map can express, each refused with its code: an empty body ([DEC-5] step 4,
#: four bytes that are a whole message), a key given twice (step 5), a text naming the seven keys
#: (not a map, step 5)
MESSAGES: tuple[tuple[str, bytes, str, tuple[str, ...]], ...] = (
    ("an empty message (length 0)", struct.pack("<I", 0), "MALFORMED_CBOR", ("DEC-5",)),
    ("psn given twice", _duplicate(), "MALFORMED_CBOR", ("DEC-5",)),
    ("a text naming the seven required keys",
     _message("versions machine threads slot_size table_k fallback_timeout_ms fallback_limit"),
     "MALFORMED_CBOR", ("DEC-5", "BOOT-2")),
)


def rows() -> list[tuple[str, Any, str, tuple[str, ...]]]:
    """(what, the `nic_bootstrap` hello, expected, clauses) for every row of HELLOS and MESSAGES."""
    out: list[tuple[str, Any, str, tuple[str, ...]]] = [
        (what, {"map": hello_map(**over), "own_gid": "gid" not in over}, want, cls)
        for what, over, want, cls in HELLOS]
    return out + list(MESSAGES)


#: hellos cut in pieces, and a hello with our ready in the same write: each must be accepted
STREAM: tuple[tuple[str, dict[str, Any]], ...] = (
    ("cut after 3 bytes of its length prefix", {"pieces": [3]}),
    ("cut after its length prefix and after 40 bytes", {"pieces": [4, 40]}),
    ("cut one byte short of its end", {"pieces": [-1]}),
    ("followed by our ready in the same write", {"then_ready": True}),
)


def stream_rows() -> list[tuple[str, dict[str, Any]]]:
    n = len(_message(hello_map(gid=bytes(16))))  # our gid is replaced by the trustee's: 16 bytes either way
    out = []
    for what, how in STREAM:
        spec: dict[str, Any] = {"map": hello_map(), "own_gid": True, **how}
        if "pieces" in how:
            spec["pieces"] = [p % n for p in how["pieces"]]
        out.append((what, spec))
    return out


def _judge(what: str, want: str, r: Any, clauses: tuple[str, ...]) -> str | None:
    reply = r.get("reply") if isinstance(r, dict) else None
    cited = ", ".join(f"[{c}]" for c in clauses)
    if want == "ready":
        if reply != READY:
            return (f"a hello with {what} is acceptable ({cited}): expected {{\"ready\": true}} once the trustee's "
                    f"QPs are in RTS ([BOOT-7]), got {reply!r:.120}")
        return None
    code = codes.value(want)
    if not (isinstance(reply, dict) and reply.get("error") == code):
        return (f"a hello with {what}: expected {{\"error\": {code:#04x}}} ({want}, {cited}) before the trustee "
                f"closes ([BOOT-5]), got {reply!r:.120}")
    if "then" in reply or not r.get("closed"):
        return f"a hello with {what}: after its error the trustee did not close the connection ([BOOT-5])"
    return None


def judge_table(table: list[tuple[str, Any, str, tuple[str, ...]]], got: Outcome, hint: str = "") -> str | None:
    """A table of hellos (what, hello, wanted reply, clauses) against the trustee's replies, one a
    hello, then whether it still greets a new connection; `hint` follows a [DEC-5] problem."""
    if "ok" not in got:
        return f"expected the trustee's replies, got {str(got)[:200]}"
    replies = got["ok"].get("replies", [])
    if len(replies) != len(table):
        return f"{len(replies)} replies for {len(table)} hellos"
    for (what, _, w, cls), r in zip(table, replies, strict=True):
        problem = _judge(what, w, r, cls)
        if problem:
            return problem + (hint if "DEC-5" in cls else "")
    if not got["ok"].get("still_serving"):
        return "after these hellos the trustee no longer greets a new connection ([ADPT-13], [ERR-1])"
    return None


def limits_check(c: Case, got: Outcome) -> str | None:
    return judge_table(rows(), got)


def stream_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected the trustee's replies, got {str(got)[:200]}"
    replies = got["ok"].get("replies", [])
    if len(replies) != len(STREAM):
        return f"{len(replies)} replies for {len(STREAM)} hellos"
    for (what, how), r in zip(STREAM, replies, strict=True):
        problem = _judge(f"a good hello {what}", "ready", r, ("DEC-5",))
        if problem:
            return problem + " ([DEC-5] steps 1 and 3: a reader waits for the rest of a message)"
        if how.get("then_ready") and (r.get("closed") or "then" in r.get("reply", {})):
            return (f"a good hello {what}: after both readies the trustee "
                    f"{'closed the connection' if r.get('closed') else 'sent ' + repr(r['reply']['then'])[:80]}; "
                    "the bootstrap connection stays open while the machines are connected ([BOOT-7], [DEC-5] "
                    "step 3: bytes after a message belong to the next one)")
    return None


def stalls() -> list[bytes]:
    """[SEC-1], [PROC-14]: what the stalled connectors of `live.boot-stalled-connectors` send after
    the trustee's hello before falling silent: nothing, and the first half of a good hello."""
    half = _message(hello_map(gid=bytes(16)))
    return [b"", half[:len(half) // 2]]


def stalled_check(c: Case, got: Outcome) -> str | None:
    if "ok" not in got:
        return f"expected the trustee's replies, got {str(got)[:200]}"
    replies = got["ok"].get("replies") or [None]
    r = replies[0]
    why = ("a connector that sends nothing after the trustee's hello, and one that sends half a hello, are "
           "still open and silent; no wait of the bootstrap is unbounded ([SEC-1], [PROC-14]): the trustee "
           "must go on greeting and serving other connectors")
    if not isinstance(r, dict) or r.get("greeted") is False:
        return f"{why}, but the next connector got no hello within the case's timeout"
    problem = _judge("everything right, from the next connector", "ready", r, ("PROC-14", "SEC-1"))
    if problem:
        return f"{why}: {problem}"
    if not got["ok"].get("still_serving"):
        return f"{why}, but after that session the trustee no longer greets a new connection"
    return None


def cases() -> list[Case]:
    clauses = sorted({cl for *_, cls in (*HELLOS, *MESSAGES) for cl in cls} | {"BOOT-5", "ADPT-13"})
    return [
        case("live.boot-hello-limits", "hellos at and past every RDMA limit: the trustee answers ready at the "
             "limit, and the code (by wire value) past it, then closes", clauses, "nic_bootstrap",
             {"hellos": [h for _, h, _, _ in rows()]}, ok({"replies": "(checked)"}),
             tags=("nic", "live", "trustee", "bootstrap"), check=limits_check),
        case("live.boot-hello-stream", "a good hello cut in pieces, or followed by our ready in the same write: "
             "accepted, and the connection kept", ["DEC-5", "BOOT-4", "BOOT-7"], "nic_bootstrap",
             {"hellos": [h for _, h in stream_rows()]}, ok({"replies": "(checked)"}),
             tags=("nic", "live", "trustee", "bootstrap"), check=stream_check),
        case("live.boot-stalled-connectors", "while one connector sends nothing after the trustee's hello and "
             "another half a hello, both left open, the trustee greets a third and accepts its hello, then "
             "greets a fourth", ["PROC-14", "SEC-1", "ADPT-13", "BOOT-5", "BOOT-7"], "nic_bootstrap",
             {"stalls": stalls(), "hellos": [{"map": hello_map(), "own_gid": True}]}, ok({"replies": "(checked)"}),
             tags=("nic", "live", "trustee", "bootstrap"), check=stalled_check),
    ]
