"""Who this process is in a rack of processes, read from its launcher's environment (SPEC.md 10.1).

Pure: `from_environ(env)` reads a mapping (normally `os.environ`) and returns a `LaunchInfo`
(this process's machine id, the rack size, the application id, and where the other machines'
bootstrap listeners are) or raises `LaunchEnvError` naming what is missing. Nothing here opens a
socket or a file; `parse_rendezvous` reads the text of a rendezvous file someone else read.

The launchers, in the order they are recognised ([PROC-1], [PROC-8]; a variable set to the empty
string counts as not set):

* `gossamer launch` (local mode, or a host list over SSH): `GOSSAMER_MACHINE`, `GOSSAMER_MACHINES`,
  `GOSSAMER_APP`, and `GOSSAMER_HOSTS` or `GOSSAMER_RENDEZVOUS`.
* OpenMPI's `mpirun`: `OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`; the application id from
  `PMIX_NAMESPACE` (OpenMPI 4 and 5) or `OMPI_MCA_ess_base_jobid`; the addresses from
  `GOSSAMER_HOSTS` (`mpirun -x GOSSAMER_HOSTS=...`) or `GOSSAMER_RENDEZVOUS` (a shared file).
* Slurm's `srun`: `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_JOB_ID` (and `SLURM_STEP_ID`); the hosts
  from `SLURM_JOB_NODELIST` (or `SLURM_STEP_NODELIST`) and `SLURM_TASKS_PER_NODE`, placed in block
  order as srun's default distribution places them, unless `GOSSAMER_HOSTS` or
  `GOSSAMER_RENDEZVOUS` is given.

The addresses ([PROC-9]): `GOSSAMER_HOSTS`, else `GOSSAMER_RENDEZVOUS` ([PROC-10]), else (srun) the
node list; the shape ([PROC-12]): `GOSSAMER_SHAPE`, else `GOSSAMER_THREADS`. [PROC-2]'s port rule:
machine `m`'s bootstrap listener is on port `GOSSAMER_PORT + m`
(default `DEFAULT_PORT + m`) of the `m`-th host of the host list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from .errors import GossamerError
from .shape import MachineShape, RackShape

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
    #: [PROC-12]: every machine's (threads, trustee threads `0 .. R-1`), by machine id
    shape: tuple[tuple[int, int], ...] = ()

    def address(self, machine: int) -> Address | None:
        """Machine `machine`'s bootstrap address by the port rule, None with a rendezvous file."""
        if self.peers is None:
            return None
        return self.peers[machine]



def _set(env: Mapping[str, str], key: str) -> str | None:
    """[PROC-8]: a variable set to the empty string counts as not set."""
    return env.get(key) or None


def _decimal(raw: str, key: str) -> int:
    """[PROC-8]: one or more ASCII digits and nothing else (no sign, space, underscore)."""
    if not (raw.isascii() and raw.isdigit()):
        raise LaunchEnvError(f"{key}={raw!r} is not a decimal number")
    return int(raw, 10)


def _int(env: Mapping[str, str], key: str, lo: int = 0, hi: int = 0xFFFF) -> int:
    raw = _set(env, key)
    if raw is None:
        raise LaunchEnvError(f"{key} is not set")
    n = _decimal(raw, key)
    if not lo <= n <= hi:
        raise LaunchEnvError(f"{key}={n} is outside {lo}..{hi}")
    return n


def check_app(app: str) -> str:
    """[PROC-3]: 1 to 255 bytes of UTF-8 (an id read from the environment that is not valid UTF-8
    reaches Python with surrogate escapes, and fails, [PROC-8] step 3)."""
    try:
        n = len(app.encode("utf-8"))
    except UnicodeEncodeError:
        raise LaunchEnvError(f"application id {app!r} is not valid UTF-8") from None
    if not 1 <= n <= MAX_APP_BYTES:
        raise LaunchEnvError(f"application id of {n} bytes (1..{MAX_APP_BYTES})")
    return app


def expand_hostlist(text: str) -> list[str]:
    """Slurm's host list syntax: `node[01-03,7],gpu5` -> node01 node02 node03 node7 gpu5 (ranges keep
    their zero padding; several bracket groups in one name multiply)."""
    out: list[str] = []
    for item in _split_top(text):
        if not _NAME.fullmatch(item):  # [PROC-9] step 3: text and bracket groups, nothing else
            raise LaunchEnvError(f"host list name {item!r} in {text!r}")
        out.extend(_expand_one(item))
    return out


#: [PROC-9] step 3: a node name is characters above U+0020 other than `,[]`, and bracket groups
_NAME = re.compile(r"(?:[^\x00-\x20,\[\]]|\[[^\x00-\x20\[\]]*\])+")


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
            if depth > 1:
                raise LaunchEnvError(f"host list {text!r}: nested '['")
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
    if not all(parts):
        raise LaunchEnvError(f"host list {text!r}: an empty name")
    return parts


def _expand_one(item: str) -> list[str]:
    m = re.search(r"\[([^\]]*)\]", item)
    if m is None:
        return [item]
    head, tail = item[: m.start()], item[m.end():]
    names: list[str] = []
    for rng in m.group(1).split(","):
        lo, sep, hi = rng.partition("-")
        if not (lo.isascii() and lo.isdigit()) or (sep and not (hi.isascii() and hi.isdigit())):
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
        m = re.fullmatch(r"([0-9]+)(?:\(x([0-9]+)\))?", part)
        if m is None or int(m.group(1)) == 0 or int(m.group(2) or 1) == 0:  # [PROC-9]: n, k >= 1
            raise LaunchEnvError(f"SLURM_TASKS_PER_NODE part {part!r}")
        out.extend([int(m.group(1))] * int(m.group(2) or 1))
    return out


def port_rule(hosts: list[str], base: int) -> tuple[Address, ...]:
    """[PROC-2]: machine m listens on port `base + m` of hosts[m]."""
    if base + len(hosts) - 1 > 0xFFFF or base < 1:
        raise LaunchEnvError(f"port rule base {base} leaves 1..65535 for {len(hosts)} machines")
    return tuple((h, base + m) for m, h in enumerate(hosts))


def rendezvous_app_ok(app: str) -> bool:
    """[PROC-10]: an id with a character at or below U+0020, or U+007F, cannot be written in the file."""
    return all(ord(ch) > 0x20 and ch != "\x7f" for ch in app)


def parse_rendezvous(text: str, app: str, machines: int) -> dict[int, Address]:
    """The addresses a rendezvous file holds for `app` ([PROC-10]): lines `app machine host port`,
    fields separated by single spaces, ended by LF; a last piece without its LF is still being
    written and is not read; lines of other applications are skipped whatever they hold. A line
    of `app` that is not four such fields, names a machine outside the rack or a port outside
    1..65535, or a machine already read at another address, is an error; a partial file gives
    the machines seen so far (the reader waits for the rest)."""
    found: dict[int, Address] = {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.split(" ", 1)[0] != app:
            continue
        parts = line.split(" ")
        if len(parts) != 4 or not parts[2] or not all(p.isascii() and p.isdigit() for p in (parts[1], parts[3])):
            raise LaunchEnvError(f"rendezvous line {n}: {line!r} is not 'app machine host port'")
        m, addr = int(parts[1]), (parts[2], int(parts[3]))
        if not 0 <= m < machines:
            raise LaunchEnvError(f"rendezvous line {n}: machine {m} outside 0..{machines - 1}")
        if not 1 <= addr[1] <= 0xFFFF:
            raise LaunchEnvError(f"rendezvous line {n}: port {addr[1]} outside 1..65535")
        if found.setdefault(m, addr) != addr:
            raise LaunchEnvError(f"rendezvous: machine {m} at {found[m]} and at {addr}")
    return found


def rendezvous_line(app: str, machine: int, address: Address) -> str:
    return f"{app} {machine} {address[0]} {address[1]}\n"


def parse_shape(text: str, machines: int) -> tuple[tuple[int, int], ...]:
    """[PROC-12]: `GOSSAMER_SHAPE`, one `T` or `T/R` per machine -> ((T, R), ...)."""
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        t, sep, r = part.partition("/")
        threads = _decimal(t, "GOSSAMER_SHAPE")
        trustees = _decimal(r, "GOSSAMER_SHAPE") if sep else threads
        if not 1 <= threads <= 0xFFFF or trustees > threads:
            raise LaunchEnvError(f"GOSSAMER_SHAPE entry {part!r}: 1 <= T <= 65535 and R <= T")
        out.append((threads, trustees))
    if len(out) != machines:
        raise LaunchEnvError(f"GOSSAMER_SHAPE has {len(out)} entries for {machines} machines")
    return tuple(out)


def _shape(env: Mapping[str, str], machines: int) -> tuple[tuple[int, int], ...]:
    """[PROC-12]: the rack's shape from `GOSSAMER_SHAPE`, else `GOSSAMER_THREADS`, checked by [LIM-3]."""
    text = _set(env, "GOSSAMER_SHAPE")
    if text is not None:
        shape = parse_shape(text, machines)
    else:
        t = _int(env, "GOSSAMER_THREADS", 1, 0xFFFF) if _set(env, "GOSSAMER_THREADS") else 1
        shape = ((t, t),) * machines
    try:
        RackShape([MachineShape.of(t, r) for t, r in shape]).check("GOSSAMER_SHAPE")
    except GossamerError as exc:
        raise LaunchEnvError(str(exc)) from None
    return shape


_LAUNCHERS = (("gossamer", "GOSSAMER_MACHINE", "GOSSAMER_MACHINES"),
              ("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
              ("slurm", "SLURM_PROCID", "SLURM_NTASKS"))


def _slurm_hosts(env: Mapping[str, str]) -> list[str] | None:
    """[PROC-9] step 3: the step's (else the job's) node list repeated per tasks per node, in block
    order; None when the pair is not both set."""
    if _set(env, "SLURM_STEP_NODELIST"):
        nodelist, tasks = _set(env, "SLURM_STEP_NODELIST"), _set(env, "SLURM_STEP_TASKS_PER_NODE")
    else:
        nodelist, tasks = _set(env, "SLURM_JOB_NODELIST"), _set(env, "SLURM_TASKS_PER_NODE")
    if nodelist is None or tasks is None:
        return None
    dist = _set(env, "SLURM_DISTRIBUTION")
    if dist is not None and not dist.startswith("block"):
        raise LaunchEnvError(f"SLURM_DISTRIBUTION={dist!r}: ranks are not in block order; set GOSSAMER_HOSTS "
                             "or GOSSAMER_RENDEZVOUS")
    nodes = expand_hostlist(nodelist)
    counts = expand_tasks_per_node(tasks)
    if len(counts) != len(nodes):
        raise LaunchEnvError(f"{len(nodes)} nodes in {nodelist!r} but {len(counts)} task counts in {tasks!r}")
    return [n for n, c in zip(nodes, counts, strict=True) for _ in range(c)]


def from_environ(env: Mapping[str, str]) -> LaunchInfo:
    """This process's `LaunchInfo` from its launcher's environment, in [PROC-8]'s order."""
    found = [x for x in _LAUNCHERS if _set(env, x[1]) is not None]  # step 1
    if not found:
        raise LaunchEnvError("no launcher environment: run under gossamer launch, mpirun or srun "
                             "(GOSSAMER_MACHINE, OMPI_COMM_WORLD_RANK or SLURM_PROCID)")
    launcher, rank_key, size_key = found[0]
    machine = _int(env, rank_key)  # step 2
    machines = _int(env, size_key, 1, 0x10000)
    if machine >= machines:
        raise LaunchEnvError(f"machine {machine} outside a rack of {machines}")
    app = _set(env, "GOSSAMER_APP")  # step 3
    if app is None and launcher == "openmpi":
        job = _set(env, "PMIX_NAMESPACE") or _set(env, "OMPI_MCA_ess_base_jobid")
        app = None if job is None else f"openmpi:{job}"
    elif app is None and launcher == "slurm":
        job = _set(env, "SLURM_JOB_ID")
        app = None if job is None else f"slurm:{job}.{_set(env, 'SLURM_STEP_ID') or '0'}"
    if app is None:
        raise LaunchEnvError(f"{launcher}: no application id: set GOSSAMER_APP"
                             + ("" if launcher == "gossamer" else " or run under the launcher's job id"))
    check_app(app)
    base = _int(env, "GOSSAMER_PORT", 1, 0xFFFF) if _set(env, "GOSSAMER_PORT") else DEFAULT_PORT  # step 4
    bind = _set(env, "GOSSAMER_BIND") or "0.0.0.0"
    peers: tuple[Address, ...] | None = None  # step 5: [PROC-9]
    rendezvous: str | None = None
    host_text = _set(env, "GOSSAMER_HOSTS")
    hosts: list[str] | None = None
    if host_text is not None:
        hosts = host_text.split(",")
        if not all(h and all(ord(ch) > 0x20 for ch in h) for h in hosts):
            raise LaunchEnvError(f"GOSSAMER_HOSTS={host_text!r} holds an empty name or a space")
        if len(hosts) == 1:
            hosts = hosts * machines  # one host for every machine: local ports differ by the rule
        if len(hosts) != machines:
            raise LaunchEnvError(f"GOSSAMER_HOSTS names {len(hosts)} hosts for {machines} machines")
    elif _set(env, "GOSSAMER_RENDEZVOUS") is not None:
        rendezvous = _set(env, "GOSSAMER_RENDEZVOUS")
        if not rendezvous_app_ok(app):
            raise LaunchEnvError(f"application id {app!r} holds a space or a control character: it cannot be "
                                 "written in a rendezvous file ([PROC-10])")
    elif launcher == "slurm":
        hosts = _slurm_hosts(env)
        if hosts is not None and len(hosts) != machines:
            raise LaunchEnvError(f"Slurm places {len(hosts)} tasks, SLURM_NTASKS is {machines}")
    if hosts is not None:
        peers = port_rule(hosts, base)
    elif rendezvous is None:
        raise LaunchEnvError(f"{launcher}: no bootstrap addresses: set GOSSAMER_HOSTS (host list, port "
                             "rule) or GOSSAMER_RENDEZVOUS (a file every process can read and append to)")
    shape = _shape(env, machines)  # [PROC-12]
    return LaunchInfo(machine=machine, machines=machines, app=app, launcher=launcher, peers=peers,
                      rendezvous=rendezvous, bind_host=bind, port=base, shape=shape)
