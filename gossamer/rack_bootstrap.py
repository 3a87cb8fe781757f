"""The bootstrap messages of a rack of processes (SPEC.md 10.1), sans-I/O.

On top of section 10's hello and ready: the connector's `caller` message (which machine calls,
for which application), the `"app"` every hello carries ([PROC-3]) and its check ([PROC-4]), and
the end-of-session messages `done` and `down` of fate sharing ([PROC-5]). Each function checks or
builds one decoded map; framing is `gossamer.bootstrap`'s.
"""

from __future__ import annotations

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


def check_message(data: bytes, app: str) -> dict[str, Any]:
    """One whole bootstrap message on a rack's connection, as a side of application `app` reads it
    (the adapter's `rack_message`): [DEC-5]'s framing and CBOR steps, then by its keys a `done` or
    `down` ([PROC-5]: `down` a u16, `detail` text), a `caller` ([PROC-2]: a u16 machine) or a
    hello, each caller and hello checked by [PROC-4]. Answers `{"kind": ...}` (and `"first"` for
    `down`, `"machine"` for `caller`)."""
    m = decode_message(data)
    if not isinstance(m, dict):
        raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "PROC-4", "the message is not a CBOR map")
    if "done" in m or "down" in m:
        end = read_end(m)
        detail = m.get("detail", "")
        if end is None or not isinstance(detail, str):
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-5",
                                      f"done must be true, down a u16 and detail text: {show(m)}")
        return {"kind": "done"} if end.done else {"kind": "down", "first": end.first}
    check_app(m, app)
    if "caller" in m:
        who = m["caller"]
        if not (isinstance(who, int) and not isinstance(who, bool) and 0 <= who <= 0xFFFF):
            raise RemoteProtocolError(ErrorCode.BAD_HEADER, "PROC-2", f"caller {show(who)} is not a u16")
        return {"kind": "caller", "machine": who}
    return {"kind": "hello"}


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
