"""The bootstrap messages of a rack of processes (SPEC.md 10.1), sans-I/O.

On top of section 10's hello and ready: the connector's `caller` message (which machine calls,
for which application), the `"app"` every hello carries ([PROC-3]) and its check ([PROC-4]), and
the end-of-session messages `done` and `down` of fate sharing ([PROC-5]). Each function checks or
builds one decoded map; framing is `gossamer.bootstrap`'s.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from .bootstrap import decode_message
from .errors import ErrorCode, RemoteProtocolError, show
from .launch_env import MAX_APP_BYTES


def _app_ok(x: Any) -> bool:
    return isinstance(x, str) and 1 <= len(x.encode("utf-8")) <= MAX_APP_BYTES


def check_app(m: Any, app: str) -> None:
    """[PROC-4]: a map (a hello or a caller message) of application `app`: lacking `"app"` is
    MALFORMED_CBOR; an `"app"` that is not 1..255 bytes of text, or names another application, is
    BAD_HEADER."""
    if not isinstance(m, dict) or "app" not in m:
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "PROC-4", "the peer's hello names no application")
    theirs = m["app"]
    if not _app_ok(theirs):
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-4",
                                  f"app {show(theirs)} is not a text string of 1..{MAX_APP_BYTES} bytes")
    if theirs != app:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-4",
                                  f"the peer belongs to application {theirs!r}, this process to {app!r}")


#: [PROC-11]: the keys that say what a message of a rack's connection is; none: a hello
KIND_KEYS = ("error", "ready", "done", "down", "spawn", "joined", "caller")


def check_message(data: bytes, app: str, expects: str | None = None) -> dict[str, Any]:
    """One whole bootstrap message on a rack's connection, as a side of application `app` reads it
    (the adapter's `rack_message`): [DEC-5]'s framing and CBOR steps, then `read_message`; at a
    point of the bootstrap that `expects` one kind, then `read_at` ([PROC-13])."""
    got = read_message(decode_message(data), app)
    return got if expects is None else read_at(got, expects)


def read_message(m: Any, app: str) -> dict[str, Any]:
    """[PROC-11]: a decoded message of a rack's connection by its kind key (two kind keys are
    BAD_HEADER; none, a hello): an `error` (a u8 code, text detail), `ready` (true), `done` or `down`
    ([PROC-5]), `spawn` or `joined` ([PROC-7]), a `caller` ([PROC-4]'s app, then a u16 machine) or a
    hello ([PROC-4]'s app only). Answers `{"kind": ...}` (and `"code"` for `error`, `"first"` for
    `down`, `"machine"` for `caller`, `"id"`, `"fn"` and `"thread"` for `spawn`, `"id"` for
    `joined`); other keys are ignored."""
    if not isinstance(m, dict):
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "PROC-4", "the message is not a CBOR map")
    kinds = [k for k in KIND_KEYS if k in m]
    if len(kinds) > 1:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-11", f"one message holds {' and '.join(kinds)}")
    kind = kinds[0] if kinds else "hello"
    if kind == "error":
        if not _uint(m["error"], 0xFF) or not isinstance(m.get("detail", ""), str):
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-11",
                                      f"an error message is a u8 code and a text detail: {show(m)}")
        return {"kind": "error", "code": m["error"]}
    if kind == "ready":
        if m["ready"] is not True:
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-11", f"ready {show(m['ready'])} is not true")
        return {"kind": "ready"}
    if kind in ("done", "down"):
        end = read_end(m)
        detail = m.get("detail", "")
        if end is None or not isinstance(detail, str):
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-5",
                                      f"done must be true, down a u16 and detail text: {show(m)}")
        return {"kind": "done"} if end.done else {"kind": "down", "first": end.first}
    if kind == "spawn":
        sid, fn, _, thread = check_spawn(m)
        return {"kind": "spawn", "id": sid, "fn": fn, "thread": thread}
    if kind == "joined":
        sid, _ = check_joined(m)
        return {"kind": "joined", "id": sid}
    check_app(m, app)
    if kind == "caller":
        who = m["caller"]
        if not _uint(who, 0xFFFF):
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-2", f"caller {show(who)} is not a u16")
        return {"kind": "caller", "machine": who}
    return {"kind": "hello"}


#: [PROC-13]: the points of a rack's bootstrap connection, each named by the one kind it expects
#: (the acceptor: `caller`, `hello`, `ready`; the connector: `hello`, `ready`)
POINTS = ("caller", "hello", "ready")


def read_at(got: dict[str, Any], expects: str) -> dict[str, Any]:
    """[PROC-13] steps 1 to 3: a message already read by [PROC-11] (`read_message`'s answer) at the
    point of the bootstrap that expects `expects`. The kind expected answers as read (its own
    further checks, [PROC-2]'s range or [DEC-5] steps 6 to 18, are the caller's); an `error` or a
    `down` answers `{"kind": "closes"}` (this side sends nothing more and closes); any other kind
    is BAD_HEADER."""
    if got["kind"] == expects:
        return got
    if got["kind"] in ("error", "down"):
        return {"kind": "closes"}
    raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-13",
                              f"a {got['kind']} message where the bootstrap expects {expects}")


def with_app(hello: dict[str, Any], app: str) -> dict[str, Any]:
    """[PROC-3]: the hello map with the application id."""
    return {**hello, "app": app}


def caller(machine: int, app: str) -> dict[str, Any]:
    """[PROC-2]: what the connector sends first, so that the acceptor sizes its hello for it."""
    return {"caller": machine, "app": app}


def check_caller(m: Any, app: str, acceptor: int, machines: int) -> int:
    """[PROC-2], [PROC-4]: the caller's machine id, which must be above the acceptor's and in the rack."""
    check_app(m, app)
    who = m.get("caller")
    if not (isinstance(who, int) and not isinstance(who, bool) and acceptor < who < machines):
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-2",
                                  f"caller {show(who)}: machine {acceptor} accepts machines {acceptor + 1}.."
                                  f"{machines - 1}")
    return who


def error_message(exc: RemoteProtocolError) -> dict[str, Any]:
    """[BOOT-5]: the rejection sent before closing, the code as a number ([BOOT-10])."""
    return {"error": int(exc.code), "detail": str(exc)}


def _uint(x: Any, top: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= top


def spawn_message(sid: int, fn: str, args: list[list[Any]], thread: int) -> dict[str, Any]:
    """[PROC-7]: start `fn` (`module:qualname`) with `args` on `thread` of the receiving machine."""
    return {"spawn": sid, "fn": fn, "args": args, "thread": thread}


def joined_message(sid: int, result: Any) -> dict[str, Any]:
    """[PROC-7]: the fiber of spawn `sid` returned `result`."""
    return {"joined": sid, "result": result}


#: [PROC-7]: `module:qualname`, each one or more identifiers joined by single dots
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
FN_NAME = re.compile(f"{_DOTTED}:{_DOTTED}")


def _bad_spawn(why: str) -> RemoteProtocolError:
    return RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-7", why)


def check_spawn(m: dict[str, Any], threads: int | None = None) -> tuple[int, str, list[tuple[str, Any]], int]:
    """[PROC-7]: (id, function name, arguments, thread) of a spawn message; `threads` bounds the
    thread when the receiver knows its own count."""
    sid: Any = m.get("spawn")
    fn: Any = m.get("fn")
    args: Any = m.get("args")
    thread: Any = m.get("thread")
    if not _uint(sid, 0xFFFFFFFF):
        raise _bad_spawn(f"spawn id {show(sid)} is not a u32")
    if not (isinstance(fn, str) and FN_NAME.fullmatch(fn)):
        raise _bad_spawn(f"fn {show(fn)} is not module:qualname")
    if not _uint(thread, 0xFFFF) or (threads is not None and int(thread) >= threads):
        raise _bad_spawn(f"thread {show(thread)} is not a thread of this machine")
    if not isinstance(args, list):
        raise _bad_spawn("args is not an array")
    out: list[tuple[str, Any]] = []
    for a in args:
        if not (isinstance(a, list) and len(a) == 2 and a[0] in ("v", "t")):
            raise _bad_spawn(f"argument {show(a)} is not [\"v\", value] or [\"t\", trust]")
        if a[0] == "t":
            t = a[1]
            tops = (0xFFFF, 0xFFFF, (1 << 48) - 1, (1 << 64) - 1)
            if not (isinstance(t, list) and len(t) == 4 and all(_uint(x, top) for x, top in zip(t, tops, strict=True))):
                raise _bad_spawn(f"trust {show(t)} is not [machine u16, thread u16, pointer u48, trust id u64]")
        out.append((a[0], a[1]))
    return int(sid), fn, out, int(thread)


def check_joined(m: dict[str, Any]) -> tuple[int, Any]:
    """[PROC-7]: (id, result) of a joined message."""
    sid: Any = m.get("joined")
    if not _uint(sid, 0xFFFFFFFF) or "result" not in m:
        raise _bad_spawn(f"joined {show(sid)} needs a u32 id and a result")
    return int(sid), m["result"]


DONE: dict[str, Any] = {"done": True}


def down(first: int, detail: str) -> dict[str, Any]:
    """[PROC-5]: the application is going down; `first` is the machine that went down first."""
    return {"down": first, "detail": detail}


@attrs.frozen(slots=True)
class SessionEnd:
    """What a message on an established bootstrap connection says ([PROC-5])."""

    done: bool  #: the peer's part finished
    first: int | None = None  #: with `down`: the machine that went down first
    detail: str = ""


def read_end(m: Any) -> SessionEnd | None:
    """`done` or `down`, else None (a message this side does not act on)."""
    if isinstance(m, dict):
        if m.get("done") is True:
            return SessionEnd(True)
        first = m.get("down")
        if isinstance(first, int) and not isinstance(first, bool) and 0 <= first <= 0xFFFF:
            detail = m.get("detail")
            return SessionEnd(False, first, detail if isinstance(detail, str) else "")
    return None
