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


def rack_message(data: bytes, app: str) -> dict[str, Any]:
    """The adapter's `rack_message` ([ADPT-8])."""
    b = bytes(data)
    if len(b) < 4:
        raise Rejected("TRUNCATED", "DEC-5", f"{len(b)} bytes hold no length prefix")
    (n,) = U32.unpack_from(b)
    if n > MAX_MESSAGE:
        raise Rejected("OVERSIZE", "BOOT-4", f"a bootstrap message of {n} bytes")
    if len(b) != 4 + n:
        raise Rejected("TRUNCATED" if len(b) < 4 + n else "BAD_ARGUMENT", "DEC-5", "not exactly one message")
    m = body_map(b[4:])
    if "done" in m or "down" in m:  # [PROC-5]
        if "detail" in m and type(m["detail"]) is not str:
            raise Rejected("BAD_HEADER", "PROC-5", "detail is text")
        if m.get("done") is True:
            return {"kind": "done"}
        if "down" in m and _u16(m["down"]):
            return {"kind": "down", "first": m["down"]}
        raise Rejected("BAD_HEADER", "PROC-5", "done is true, down a u16")
    if "spawn" in m:  # [PROC-7]
        return _spawn(m)
    if "joined" in m:
        if not (type(m["joined"]) is int and 0 <= m["joined"] < 1 << 32 and "result" in m):
            raise Rejected("BAD_HEADER", "PROC-7", "joined is a u32 with a result")
        return {"kind": "joined", "id": m["joined"]}
    if "app" not in m:  # [PROC-4]
        raise Rejected("MALFORMED_CBOR", "PROC-4", "no app")
    if not _app_ok(m["app"]) or m["app"] != app:
        raise Rejected("BAD_HEADER", "PROC-4", f"app {m['app']!r} is not {app!r}")
    if "caller" in m:  # [PROC-2]
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
    if not (type(fn) is str and re.fullmatch(r"[^:]+:[^:]+", fn)):
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


def _num(env: Mapping[str, str], key: str, top: int) -> int:
    v = env.get(key, "")
    if not re.fullmatch(r"[0-9]+", v) or int(v) > top:
        raise _no(f"{key}={v!r}")
    return int(v)


def _nodes(text: str) -> list[str]:
    """Slurm's host list: comma-separated names, each with bracketed ranges (zero padding kept)."""
    names: list[str] = []
    for item in re.findall(r"(?:[^,\[]|\[[^\]]*\])+", text):
        todo = [item]
        while todo:
            name = todo.pop(0)
            m = re.search(r"\[([^\]]*)\]", name)
            if not m:
                names.append(name)
                continue
            expanded = []
            for part in m.group(1).split(","):
                lo, _, hi = part.partition("-")
                hi = hi or lo
                if not (lo.isdigit() and hi.isdigit() and int(lo) <= int(hi)):
                    raise _no(f"host range {part!r}")
                expanded += [name[: m.start()] + str(i).zfill(len(lo)) + name[m.end():]
                             for i in range(int(lo), int(hi) + 1)]
            todo = expanded + todo
    return names


def _tasks(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"([0-9]+)(?:\(x([0-9]+)\))?", part)
        if not m:
            raise _no(f"tasks per node {part!r}")
        out += [int(m.group(1))] * int(m.group(2) or "1")
    return out


def launch_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The adapter's `launch_env` ([ADPT-8]): [PROC-1]'s identity and [PROC-2]'s addresses."""
    hosts: list[str] | None = None
    if "GOSSAMER_MACHINE" in env:
        machine, machines = _num(env, "GOSSAMER_MACHINE", 0xFFFF), _num(env, "GOSSAMER_MACHINES", 0x10000)
        app = env.get("GOSSAMER_APP", "")
    elif "OMPI_COMM_WORLD_RANK" in env:
        machine, machines = _num(env, "OMPI_COMM_WORLD_RANK", 0xFFFF), _num(env, "OMPI_COMM_WORLD_SIZE", 0x10000)
        job = env.get("PMIX_NAMESPACE") or env.get("OMPI_MCA_ess_base_jobid")
        app = env.get("GOSSAMER_APP") or (f"openmpi:{job}" if job else "")
    elif "SLURM_PROCID" in env:
        machine, machines = _num(env, "SLURM_PROCID", 0xFFFF), _num(env, "SLURM_NTASKS", 0x10000)
        job = env.get("SLURM_JOB_ID")
        app = env.get("GOSSAMER_APP") or (f"slurm:{job}.{env.get('SLURM_STEP_ID', '0')}" if job else "")
        nodelist = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST")
        per_node = env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE")
        if nodelist and per_node:
            nodes, counts = _nodes(nodelist), _tasks(per_node)
            if len(nodes) != len(counts):
                raise _no("node list and tasks per node differ in length")
            hosts = [n for n, c in zip(nodes, counts, strict=True) for _ in range(c)]
    else:
        raise _no("no launcher")
    if machines < 1 or machine >= machines:
        raise _no(f"machine {machine} of {machines}")
    if not _app_ok(app):
        raise _no("no application id of 1..255 bytes")
    base = _num(env, "GOSSAMER_PORT", 0xFFFF) if "GOSSAMER_PORT" in env else BASE_PORT
    rendezvous = env.get("GOSSAMER_RENDEZVOUS") or None
    if "GOSSAMER_HOSTS" in env:
        hosts = [h for h in env["GOSSAMER_HOSTS"].split(",") if h]
        if len(hosts) == 1:
            hosts = hosts * machines
    elif rendezvous is not None:
        hosts = None
    if hosts is not None and len(hosts) != machines:
        raise _no(f"{len(hosts)} hosts for {machines} machines")
    if hosts is None and rendezvous is None:
        raise _no("no bootstrap addresses")
    if hosts is not None and not 1 <= base <= 0xFFFF - machines + 1:
        raise _no("the port rule runs past 65535")
    peers = None if hosts is None else [[h, base + m] for m, h in enumerate(hosts)]
    return {"machine": machine, "machines": machines, "app": app, "peers": peers, "rendezvous": rendezvous}
