"""Racks of processes (SPEC.md 10.1), written from the spec: a launcher's environment
([PROC-1], [PROC-2]) and the messages of a rack's bootstrap connection ([PROC-2] .. [PROC-5],
[PROC-7]).

A hello or a caller message between two processes of one rack names the application in `"app"`:
a text string of 1 to 255 bytes of UTF-8. The receiving process refuses a message without it
(`MALFORMED_CBOR`) and one whose `"app"` is not such a string or is not its own application's
(`BAD_HEADER`); `done` must be true, `down` a u16, `detail` text (`BAD_HEADER`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .bootstrap import MAX_MESSAGE, body_map
from .errors import Rejected
from .slot import U32

BASE_PORT = 18515


def _u16(x: Any) -> bool:
    return type(x) is int and 0 <= x <= 0xFFFF


def _app_ok(x: Any) -> bool:
    return type(x) is str and 1 <= len(x.encode("utf-8")) <= 255


def rack_message(data: bytes, app: str, expects: str | None = None) -> dict[str, Any]:
    """The adapter's `rack_message` ([ADPT-8]); with `expects`, read at that point of a rack's
    bootstrap ([PROC-13]): the kind expected as read, `error` or `down` closes, any other kind is
    BAD_HEADER."""
    got = _read(data, app)
    if expects is None or got["kind"] == expects:
        return got
    if got["kind"] in ("error", "down"):
        return {"kind": "closes"}
    raise Rejected("BAD_HEADER", "PROC-13", f"{got['kind']} where {expects} is expected")


def _read(data: bytes, app: str) -> dict[str, Any]:
    """[DEC-5] steps 1 to 5, then [PROC-11]."""
    b = bytes(data)
    if len(b) < 4:
        raise Rejected("TRUNCATED", "DEC-5", f"{len(b)} bytes hold no length prefix")
    (n,) = U32.unpack_from(b)
    if n > MAX_MESSAGE:
        raise Rejected("OVERSIZE", "BOOT-4", f"a bootstrap message of {n} bytes")
    if len(b) != 4 + n:
        raise Rejected("TRUNCATED" if len(b) < 4 + n else "BAD_ARGUMENT", "DEC-5", "not exactly one message")
    m = body_map(b[4:])
    # [PROC-11]: one kind key at most; none is a hello; other keys are ignored
    kinds = [k for k in ("error", "ready", "done", "down", "spawn", "joined", "caller") if k in m]
    if len(kinds) > 1:
        raise Rejected("BAD_HEADER", "PROC-11", f"kinds {kinds}")
    kind = kinds[0] if kinds else "hello"
    if kind == "error":
        if not (type(m["error"]) is int and 0 <= m["error"] <= 0xFF) or type(m.get("detail", "")) is not str:
            raise Rejected("BAD_HEADER", "PROC-11", "error is a u8, detail text")
        return {"kind": "error", "code": m["error"]}
    if kind == "ready":
        if m["ready"] is not True:
            raise Rejected("BAD_HEADER", "PROC-11", "ready is true")
        return {"kind": "ready"}
    if kind in ("done", "down"):  # [PROC-5]
        if "detail" in m and type(m["detail"]) is not str:
            raise Rejected("BAD_HEADER", "PROC-5", "detail is text")
        if kind == "done" and m["done"] is True:
            return {"kind": "done"}
        if kind == "down" and _u16(m["down"]):
            return {"kind": "down", "first": m["down"]}
        raise Rejected("BAD_HEADER", "PROC-5", "done is true, down a u16")
    if kind == "spawn":  # [PROC-7]
        return _spawn(m)
    if kind == "joined":
        if not (type(m["joined"]) is int and 0 <= m["joined"] < 1 << 32 and "result" in m):
            raise Rejected("BAD_HEADER", "PROC-7", "joined is a u32 with a result")
        return {"kind": "joined", "id": m["joined"]}
    if "app" not in m:  # [PROC-4], before the caller
        raise Rejected("MALFORMED_CBOR", "PROC-4", "no app")
    if not _app_ok(m["app"]) or m["app"] != app:
        raise Rejected("BAD_HEADER", "PROC-4", f"app {m['app']!r} is not {app!r}")
    if kind == "caller":  # [PROC-2]
        if not _u16(m["caller"]):
            raise Rejected("BAD_HEADER", "PROC-2", "caller is a u16")
        return {"kind": "caller", "machine": m["caller"]}
    return {"kind": "hello"}


def _spawn(m: dict[str, Any]) -> dict[str, Any]:
    def bad(why: str) -> Rejected:
        return Rejected("BAD_HEADER", "PROC-7", why)

    sid, fn, args, thread = m["spawn"], m.get("fn"), m.get("args"), m.get("thread")
    if not (type(sid) is int and 0 <= sid < 1 << 32):
        raise bad("spawn is a u32")
    ident = r"[A-Za-z_][A-Za-z0-9_]*(?:[.][A-Za-z_][A-Za-z0-9_]*)*"
    if not (type(fn) is str and re.fullmatch(ident + ":" + ident, fn, re.ASCII)):
        raise bad("fn is module:qualname")
    if not _u16(thread):
        raise bad("thread is a u16")
    if type(args) is not list:
        raise bad("args is an array")
    widths = (16, 16, 48, 64)
    for a in args:
        if type(a) is not list or len(a) != 2 or a[0] not in ("v", "t"):
            raise bad("an argument is [\"v\", value] or [\"t\", trust]")
        if a[0] == "t" and not (type(a[1]) is list and len(a[1]) == 4 and all(
                type(x) is int and 0 <= x < 1 << w for x, w in zip(a[1], widths, strict=True))):
            raise bad("a trust is [machine, thread, pointer, trust id]")
    return {"kind": "spawn", "id": sid, "fn": fn, "thread": thread}


def _no(why: str) -> Rejected:
    return Rejected("BAD_ARGUMENT", "PROC-1", why)


def _get(env: Mapping[str, str], key: str) -> str | None:
    return env.get(key) or None  # [PROC-8]: set to "" is not set


def _num(env: Mapping[str, str], key: str, top: int, low: int = 0) -> int:
    v = _get(env, key) or ""
    if not re.fullmatch(r"[0-9]+", v) or not low <= int(v) <= top:
        raise _no(f"{key}={v!r}")
    return int(v)


def _nodes(text: str) -> list[str]:
    """[PROC-9] step 3: Slurm's node list. Names split at commas outside brackets, none empty; a
    name is characters above U+0020 other than `,[]` and bracket groups of ASCII decimal numbers or
    ranges `lo-hi` (`lo <= hi`, zero-padded to the width of `lo`); groups multiply, the leftmost
    varying slowest."""
    names: list[str] = []
    for item in _top_items(text):
        variants = [""]
        i = 0
        while i < len(item):
            ch = item[i]
            if ch == "[":
                close = item.find("]", i)
                if close < 0:
                    raise _no("an unbalanced '['")
                numbers: list[str] = []
                for part in item[i + 1 : close].split(","):
                    m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", part)
                    if m is None or int(m.group(2) or m.group(1)) < int(m.group(1)):
                        raise _no(f"host range {part!r}")
                    lo = m.group(1)
                    numbers += [str(n).zfill(len(lo)) for n in range(int(lo), int(m.group(2) or lo) + 1)]
                variants = [v + n for v in variants for n in numbers]
                i = close + 1
            elif ch == "]" or ord(ch) <= 0x20:
                raise _no(f"a node name holding {ch!r}")
            else:
                variants = [v + ch for v in variants]
                i += 1
        names += variants
    return names


def _top_items(text: str) -> list[str]:
    """Split a node list at the commas outside brackets; an empty item or a bracket inside a bracket fails."""
    items, cur, inside = [], "", False
    for ch in text:
        if ch == "," and not inside:
            items.append(cur)
            cur = ""
            continue
        if ch == "[":
            if inside:
                raise _no("a '[' inside brackets")
            inside = True
        elif ch == "]":
            inside = False
        cur += ch
    items.append(cur)
    if "" in items:
        raise _no("an empty node name")
    return items


def _tasks(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"([0-9]+)(?:\(x([0-9]+)\))?", part)
        if not m or m.group(1).lstrip("0") == "" or (m.group(2) or "1").lstrip("0") == "":
            raise _no(f"tasks per node {part!r}")  # n and k are at least 1
        out += [int(m.group(1))] * int(m.group(2) or "1")
    return out


def launch_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The adapter's `launch_env` ([ADPT-8]): [PROC-8]'s identity, [PROC-9]'s addresses, [PROC-12]'s shape."""
    keys = {"GOSSAMER_MACHINE": "GOSSAMER_MACHINES", "OMPI_COMM_WORLD_RANK": "OMPI_COMM_WORLD_SIZE",
            "SLURM_PROCID": "SLURM_NTASKS"}
    rank = next((k for k in keys if _get(env, k) is not None), None)
    if rank is None:
        raise _no("no launcher")
    machine, machines = _num(env, rank, 0xFFFF), _num(env, keys[rank], 0x10000, 1)
    if machine >= machines:
        raise _no(f"machine {machine} of {machines}")
    app = _get(env, "GOSSAMER_APP")
    if app is None and rank == "OMPI_COMM_WORLD_RANK":
        job = _get(env, "PMIX_NAMESPACE") or _get(env, "OMPI_MCA_ess_base_jobid")
        app = f"openmpi:{job}" if job else None
    if app is None and rank == "SLURM_PROCID" and _get(env, "SLURM_JOB_ID"):
        app = f"slurm:{env['SLURM_JOB_ID']}.{_get(env, 'SLURM_STEP_ID') or '0'}"
    if app is None or not _app_ok(app):
        raise _no("no application id of 1..255 bytes")
    base = _num(env, "GOSSAMER_PORT", 0xFFFF, 1) if _get(env, "GOSSAMER_PORT") else BASE_PORT
    hosts: list[str] | None = None
    rendezvous = None
    if _get(env, "GOSSAMER_HOSTS"):
        hosts = env["GOSSAMER_HOSTS"].split(",")
        if any(not h or min(map(ord, h)) <= 0x20 for h in hosts):
            raise _no("an empty host name or one with a space")
        hosts = hosts * machines if len(hosts) == 1 else hosts
    elif _get(env, "GOSSAMER_RENDEZVOUS"):
        rendezvous = env["GOSSAMER_RENDEZVOUS"]
        if any(ord(ch) <= 0x20 or ch == "\x7f" for ch in app):
            raise _no("an application id the rendezvous file cannot hold")
    elif rank == "SLURM_PROCID":
        step = _get(env, "SLURM_STEP_NODELIST") is not None
        nodelist = _get(env, "SLURM_STEP_NODELIST" if step else "SLURM_JOB_NODELIST")
        per_node = _get(env, "SLURM_STEP_TASKS_PER_NODE" if step else "SLURM_TASKS_PER_NODE")
        if nodelist and per_node:
            if not (_get(env, "SLURM_DISTRIBUTION") or "block").startswith("block"):
                raise _no("not a block distribution")
            nodes, counts = _nodes(nodelist), _tasks(per_node)
            if len(nodes) != len(counts):
                raise _no("node list and tasks per node differ in length")
            hosts = [n for n, c in zip(nodes, counts, strict=True) for _ in range(c)]
    if hosts is None and rendezvous is None:
        raise _no("no bootstrap addresses")
    if hosts is not None and len(hosts) != machines:
        raise _no(f"{len(hosts)} hosts for {machines} machines")
    if hosts is not None and base + machines - 1 > 0xFFFF:
        raise _no("the port rule runs past 65535")
    peers = None if hosts is None else [[h, base + m] for m, h in enumerate(hosts)]
    return {"machine": machine, "machines": machines, "app": app, "peers": peers, "rendezvous": rendezvous,
            "shape": _shape(env, machines)}


def _shape(env: Mapping[str, str], machines: int) -> list[list[int]]:
    """[PROC-12]: GOSSAMER_SHAPE (one T or T/R per machine), else GOSSAMER_THREADS; [LIM-3]."""
    text = _get(env, "GOSSAMER_SHAPE")
    if text is None:
        t = _num(env, "GOSSAMER_THREADS", 0xFFFF, 1) if _get(env, "GOSSAMER_THREADS") else 1
        shape = [[t, t]] * machines
    else:
        shape = []
        for part in text.split(","):
            m = re.fullmatch(r"([0-9]+)(?:/([0-9]+))?", part)
            if not m:
                raise _no(f"shape entry {part!r}")
            t = int(m.group(1))
            r = t if m.group(2) is None else int(m.group(2))
            if not (1 <= t <= 0xFFFF and r <= t):
                raise _no(f"shape entry {part!r}")
            shape.append([t, r])
        if len(shape) != machines:
            raise _no(f"{len(shape)} shape entries for {machines} machines")
    all_t, all_r = sum(t for t, _ in shape), sum(r for _, r in shape)
    if any(all_t * r + t * all_r > 0x10000 for t, r in shape):  # [LIM-3]: N_m of [SHAPE-2]
        raise _no("the shape's slot ids do not fit 16 bits")
    return shape
