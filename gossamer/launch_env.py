"""Who this process is in a rack of processes, read from its launcher's environment (SPEC.md 10.1).

Pure: `from_environ(env)` reads a mapping (normally `os.environ`) and returns a `LaunchInfo`
(this process's machine id, the rack size, the application id, and where the other machines'
bootstrap listeners are) or raises `LaunchEnvError` naming what is missing. Nothing here opens a
socket or a file; `parse_rendezvous` reads the text of a rendezvous file someone else read.

The launchers, in the order they are recognised ([PROC-1]):

* `gossamer launch` (local mode, or a host list over SSH): `GOSSAMER_MACHINE`, `GOSSAMER_MACHINES`,
  `GOSSAMER_APP`, and `GOSSAMER_HOSTS` or `GOSSAMER_RENDEZVOUS`.
* OpenMPI's `mpirun`: `OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`; the application id from
  `PMIX_NAMESPACE` (OpenMPI 4 and 5) or `OMPI_MCA_ess_base_jobid`; the addresses from
  `GOSSAMER_HOSTS` (`mpirun -x GOSSAMER_HOSTS=...`) or `GOSSAMER_RENDEZVOUS` (a shared file).
* Slurm's `srun`: `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_JOB_ID` (and `SLURM_STEP_ID`); the hosts
  from `SLURM_JOB_NODELIST` (or `SLURM_STEP_NODELIST`) and `SLURM_TASKS_PER_NODE`, placed in block
  order as srun's default distribution places them, unless `GOSSAMER_HOSTS` or
  `GOSSAMER_RENDEZVOUS` is given.

[PROC-2]'s port rule: machine `m`'s bootstrap listener is on port `GOSSAMER_PORT + m`
(default `DEFAULT_PORT + m`) of the `m`-th host of the host list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

#: the base of [PROC-2]'s port rule (ibv_rc_pingpong's default port)
DEFAULT_PORT = 18515
#: [PROC-3]: an application id is 1 to 255 bytes of UTF-8
MAX_APP_BYTES = 255

Address = tuple[str, int]


class LaunchEnvError(ValueError):
    """The environment does not say who this process is (or says it inconsistently)."""


@attrs.frozen(slots=True, kw_only=True)
class LaunchInfo:
    """This process's place in the rack of processes."""

    machine: int  #: this process's machine id (its rank)
    machines: int  #: the rack size
    app: str  #: the application id every hello of this rack carries ([PROC-3])
    launcher: str  #: "gossamer", "openmpi" or "slurm"
    #: the bootstrap address of every machine, by machine id ([PROC-2]); None: from the rendezvous file
    peers: tuple[Address, ...] | None = None
    #: the rendezvous file ([PROC-2]) when the addresses come from one
    rendezvous: str | None = None
    #: the address this process's listener binds
    bind_host: str = "0.0.0.0"
    #: the base of the port rule
    port: int = DEFAULT_PORT

    def address(self, machine: int) -> Address | None:
        """Machine `machine`'s bootstrap address by the port rule, None with a rendezvous file."""
        if self.peers is None:
            return None
        return self.peers[machine]



def _int(env: Mapping[str, str], key: str, lo: int = 0, hi: int = 0xFFFF) -> int:
    raw = env.get(key)
    if raw is None:
        raise LaunchEnvError(f"{key} is not set")
    try:
        n = int(raw, 10)
    except ValueError:
        raise LaunchEnvError(f"{key}={raw!r} is not a number") from None
    if not lo <= n <= hi:
        raise LaunchEnvError(f"{key}={n} is outside {lo}..{hi}")
    return n


def check_app(app: str) -> str:
    """[PROC-3]: 1 to 255 bytes of UTF-8."""
    n = len(app.encode("utf-8"))
    if not 1 <= n <= MAX_APP_BYTES:
        raise LaunchEnvError(f"application id of {n} bytes (1..{MAX_APP_BYTES})")
    return app


def expand_hostlist(text: str) -> list[str]:
    """Slurm's host list syntax: `node[01-03,7],gpu5` -> node01 node02 node03 node7 gpu5 (ranges keep
    their zero padding; several bracket groups in one name multiply)."""
    out: list[str] = []
    for item in _split_top(text.strip()):
        out.extend(_expand_one(item))
    return out


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise LaunchEnvError(f"host list {text!r}: unbalanced ']'")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if depth:
        raise LaunchEnvError(f"host list {text!r}: unbalanced '['")
    parts.append(cur)
    return [p for p in parts if p]


def _expand_one(item: str) -> list[str]:
    m = re.search(r"\[([^\]]*)\]", item)
    if m is None:
        return [item]
    head, tail = item[: m.start()], item[m.end():]
    names: list[str] = []
    for rng in m.group(1).split(","):
        lo, sep, hi = rng.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise LaunchEnvError(f"host list range {rng!r} in {item!r}")
        width = len(lo)
        last = int(hi) if sep else int(lo)
        if last < int(lo):
            raise LaunchEnvError(f"host list range {rng!r} runs backwards")
        names.extend(f"{head}{i:0{width}d}" for i in range(int(lo), last + 1))
    return [n + rest for n in names for rest in _expand_one(tail)]


def expand_tasks_per_node(text: str) -> list[int]:
    """`SLURM_TASKS_PER_NODE`: `2(x3),1` -> [2, 2, 2, 1]."""
    out: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", part.strip())
        if m is None:
            raise LaunchEnvError(f"SLURM_TASKS_PER_NODE part {part!r}")
        out.extend([int(m.group(1))] * int(m.group(2) or 1))
    return out


def port_rule(hosts: list[str], base: int) -> tuple[Address, ...]:
    """[PROC-2]: machine m listens on port `base + m` of hosts[m]."""
    if base + len(hosts) - 1 > 0xFFFF or base < 1:
        raise LaunchEnvError(f"port rule base {base} leaves 1..65535 for {len(hosts)} machines")
    return tuple((h, base + m) for m, h in enumerate(hosts))


def parse_rendezvous(text: str, app: str, machines: int) -> dict[int, Address]:
    """The addresses a rendezvous file holds for `app` ([PROC-2]): one line `app machine host port`
    per machine, appended by each process once its listener is bound; lines of other applications
    are skipped. A machine named twice with different addresses is an error; a partial file gives
    the machines seen so far (the reader waits for the rest)."""
    found: dict[int, Address] = {}
    whole = text[: text.rfind("\n") + 1]  # a last line without its newline is still being written
    for n, line in enumerate(whole.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit():
            raise LaunchEnvError(f"rendezvous line {n}: {line!r} is not 'app machine host port'")
        if parts[0] != app:
            continue
        m, addr = int(parts[1]), (parts[2], int(parts[3]))
        if not 0 <= m < machines:
            raise LaunchEnvError(f"rendezvous line {n}: machine {m} outside 0..{machines - 1}")
        if found.setdefault(m, addr) != addr:
            raise LaunchEnvError(f"rendezvous: machine {m} at {found[m]} and at {addr}")
    return found


def rendezvous_line(app: str, machine: int, address: Address) -> str:
    return f"{app} {machine} {address[0]} {address[1]}\n"


def from_environ(env: Mapping[str, str]) -> LaunchInfo:
    """This process's `LaunchInfo` from its launcher's environment ([PROC-1])."""
    base = _int(env, "GOSSAMER_PORT", 1, 0xFFFF) if "GOSSAMER_PORT" in env else DEFAULT_PORT
    if "GOSSAMER_MACHINE" in env:
        launcher = "gossamer"
        machine = _int(env, "GOSSAMER_MACHINE")
        machines = _int(env, "GOSSAMER_MACHINES", 1, 0x10000)
        app = env.get("GOSSAMER_APP") or ""
        if not app:
            raise LaunchEnvError("GOSSAMER_APP is not set (gossamer launch sets it)")
        slurm_hosts: list[str] | None = None
    elif "OMPI_COMM_WORLD_RANK" in env:
        launcher = "openmpi"
        machine = _int(env, "OMPI_COMM_WORLD_RANK")
        machines = _int(env, "OMPI_COMM_WORLD_SIZE", 1, 0x10000)
        job = env.get("PMIX_NAMESPACE") or env.get("OMPI_MCA_ess_base_jobid")
        if not job and "GOSSAMER_APP" not in env:
            raise LaunchEnvError("mpirun set no job id (PMIX_NAMESPACE, OMPI_MCA_ess_base_jobid); "
                                 "pass -x GOSSAMER_APP=<id>")
        app = env.get("GOSSAMER_APP") or f"openmpi:{job}"
        slurm_hosts = None
    elif "SLURM_PROCID" in env:
        launcher = "slurm"
        machine = _int(env, "SLURM_PROCID")
        machines = _int(env, "SLURM_NTASKS", 1, 0x10000)
        job = env.get("SLURM_JOB_ID") or env.get("SLURM_JOBID")
        if not job and "GOSSAMER_APP" not in env:
            raise LaunchEnvError("srun set no SLURM_JOB_ID")
        app = env.get("GOSSAMER_APP") or f"slurm:{job}.{env.get('SLURM_STEP_ID', '0')}"
        nodelist = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST")
        tasks = env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE")
        slurm_hosts = None
        if nodelist and tasks:
            nodes = expand_hostlist(nodelist)
            counts = expand_tasks_per_node(tasks)
            if len(counts) != len(nodes):
                raise LaunchEnvError(f"{len(nodes)} nodes in {nodelist!r} but {len(counts)} task counts in {tasks!r}")
            slurm_hosts = [n for n, c in zip(nodes, counts, strict=True) for _ in range(c)]
    else:
        raise LaunchEnvError("no launcher environment: run under gossamer launch, mpirun or srun "
                             "(GOSSAMER_MACHINE, OMPI_COMM_WORLD_RANK or SLURM_PROCID)")
    if machine >= machines:
        raise LaunchEnvError(f"machine {machine} outside a rack of {machines}")
    check_app(app)
    bind = env.get("GOSSAMER_BIND", "0.0.0.0")
    rendezvous = env.get("GOSSAMER_RENDEZVOUS") or None
    peers: tuple[Address, ...] | None = None
    if "GOSSAMER_HOSTS" in env:
        hosts = [h for h in env["GOSSAMER_HOSTS"].split(",") if h]
        if len(hosts) == 1 and machines > 1:
            hosts = hosts * machines  # one host for every machine: local ports differ by the rule
        if len(hosts) != machines:
            raise LaunchEnvError(f"GOSSAMER_HOSTS names {len(hosts)} hosts for {machines} machines")
        peers = port_rule(hosts, base)
    elif rendezvous is None and slurm_hosts is not None:
        if len(slurm_hosts) != machines:
            raise LaunchEnvError(f"Slurm places {len(slurm_hosts)} tasks, SLURM_NTASKS is {machines}")
        peers = port_rule(slurm_hosts, base)
    if peers is None and rendezvous is None:
        raise LaunchEnvError(f"{launcher}: no bootstrap addresses: set GOSSAMER_HOSTS (host list, port "
                             "rule) or GOSSAMER_RENDEZVOUS (a file every process can read and append to)")
    return LaunchInfo(machine=machine, machines=machines, app=app, launcher=launcher, peers=peers,
                      rendezvous=rendezvous, bind_host=bind, port=base)
