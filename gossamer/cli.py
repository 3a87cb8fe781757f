"""`gossamer launch`: start a rack of processes running one `module:function` (SPEC.md 10.1).

    gossamer launch --local 3 examples.procs:main          # 3 processes on this host
    gossamer launch --hosts h0,h1,h2 examples.procs:main   # one process per host, over SSH
    mpirun -np 3 -x GOSSAMER_HOSTS=h0,h1,h2 gossamer launch examples.procs:main
    srun -N 3 -n 3 gossamer launch examples.procs:main

With `--local` or `--hosts` it is the launcher: it starts the processes, waits, and ends the job
when one of them exits non-zero ([PROC-6]: after a grace period for the others to go down by
themselves, it kills what is left). Without them it is one process of a rack whose launcher is
`mpirun`, `srun` or itself (the environment says which, [PROC-1]). `python -m gossamer launch`
is the same where the console script is not installed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from .errors import GossamerError
from .launch_env import LaunchEnvError, from_environ
from .shape import MachineShape

#: after the first process fails, how long the others get to go down by themselves ([PROC-5])
GRACE_SECONDS = 10.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gossamer", description="Gossamer racks of processes")
    sub = p.add_subparsers(dest="command", required=True)
    la = sub.add_parser("launch", help="start (or be one process of) a rack of processes")
    where = la.add_mutually_exclusive_group()
    where.add_argument("--local", type=int, metavar="N", help="start N processes on this host")
    where.add_argument("--hosts", metavar="H0,H1,...", help="start one process per host over SSH")
    la.add_argument("--threads", type=int, default=1, help="kernel threads per machine (default 1)")
    la.add_argument("--shape", metavar="T[/R],...",
                    help="a mixed rack: per machine T threads, the first R of them trustees (default: all)")
    la.add_argument("--seed", type=int, default=0)
    la.add_argument("--port", type=int, help="base of the port rule (GOSSAMER_PORT)")
    la.add_argument("--grace", type=float, default=GRACE_SECONDS,
                    help="seconds the others get to go down after one failed, before they are killed")
    la.add_argument("--python", default=None, help="the interpreter on the hosts (--hosts; default python3)")
    la.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    la.add_argument("target", help="module:function, an async function run as gsm-main on machine 0")
    la.add_argument("args", nargs="*", help="arguments for the function (strings)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    if a.local is not None:
        return launch_local(a)
    if a.hosts is not None:
        return launch_hosts(a)
    return run_one(a)


def run_one(a: argparse.Namespace) -> int:
    """One process of the rack: who it is comes from the environment ([PROC-1])."""
    from .procrack import run_process

    # the environment wins; --shape and --threads stand in for GOSSAMER_SHAPE and GOSSAMER_THREADS ([PROC-12])
    env = {"GOSSAMER_THREADS": str(a.threads), **({"GOSSAMER_SHAPE": a.shape} if a.shape else {})}
    env.update((k, v) for k, v in os.environ.items() if v)
    try:
        info = from_environ(env)
        shape = [MachineShape.of(t, r) for t, r in info.shape]
    except (LaunchEnvError, ValueError, GossamerError) as exc:
        print(f"gossamer launch: {exc}", file=sys.stderr)
        return 2
    return run_process(a.target, info, *a.args, threads=shape[info.machine].threads, seed=a.seed,
                       wire_dir=os.environ.get("GOSSAMER_EMU_WIRE"), shape=shape)


def _child_argv(a: argparse.Namespace, python: str) -> list[str]:
    return [python, "-m", "gossamer", "launch", "--threads", str(a.threads), "--seed", str(a.seed), a.target, *a.args]


def launch_local(a: argparse.Namespace) -> int:
    """[PROC-6]: N processes on this host, bootstrapping through a rendezvous file."""
    n = a.local
    if not 1 <= n <= 0xFFFF:
        print("gossamer launch: --local needs 1..65535 processes", file=sys.stderr)
        return 2
    workdir = tempfile.mkdtemp(prefix="gossamer-launch-")
    app = f"local:{secrets.token_hex(8)}"
    base = {
        "GOSSAMER_MACHINES": str(n), "GOSSAMER_APP": app, "GOSSAMER_BIND": "127.0.0.1",
        "GOSSAMER_RENDEZVOUS": os.path.join(workdir, "rendezvous"), "GOSSAMER_EMU_WIRE": workdir,
        "GOSSAMER_THREADS": str(a.threads),
    }
    if a.port is not None:
        base["GOSSAMER_PORT"] = str(a.port)
    if a.shape:
        base["GOSSAMER_SHAPE"] = a.shape
    envs = [{**os.environ, **base, "GOSSAMER_MACHINE": str(m)} for m in range(n)]
    argv = _child_argv(a, sys.executable)
    if a.dry_run:
        for m in range(n):
            print(" ".join(f"{k}={shlex.quote(v)}" for k, v in {**base, "GOSSAMER_MACHINE": str(m)}.items()),
                  shlex.join(argv))
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    try:
        return _supervise([argv] * n, envs, a.grace, app)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def launch_hosts(a: argparse.Namespace) -> int:
    """One process per host over SSH, addresses by the port rule ([PROC-2])."""
    hosts = [h for h in a.hosts.split(",") if h]
    app = f"hosts:{secrets.token_hex(8)}"
    base = {"GOSSAMER_MACHINES": str(len(hosts)), "GOSSAMER_APP": app, "GOSSAMER_HOSTS": ",".join(hosts),
            "GOSSAMER_THREADS": str(a.threads)}
    if a.shape:
        base["GOSSAMER_SHAPE"] = a.shape
    if a.port is not None:
        base["GOSSAMER_PORT"] = str(a.port)
    for key in ("GOSSAMER_VERBS", "GOSSAMER_DEVICES"):
        if key in os.environ:
            base[key] = os.environ[key]
    remote = _child_argv(a, a.python or "python3")
    argvs = []
    for m, host in enumerate(hosts):
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in {**base, "GOSSAMER_MACHINE": str(m)}.items())
        argvs.append(["ssh", "-o", "BatchMode=yes", host, f"cd {shlex.quote(os.getcwd())} && env {env} "
                      + shlex.join(remote)])
    if a.dry_run:
        for argv in argvs:
            print(shlex.join(argv))
        return 0
    return _supervise(argvs, [dict(os.environ)] * len(argvs), a.grace, app)


def _supervise(argvs: list[list[str]], envs: list[dict[str, str]], grace: float, app: str) -> int:
    """Start the processes; when one exits non-zero, give the others `grace` seconds, then kill
    what is left ([PROC-6]). The status: 0, or the first failure's."""
    procs = [subprocess.Popen(argv, env=env, start_new_session=True) for argv, env in zip(argvs, envs, strict=True)]
    for m, p in enumerate(procs):
        print(f"gossamer launch: {app}: machine {m} is pid {p.pid}", file=sys.stderr, flush=True)
    first: tuple[int, int] | None = None  # (machine, status) of the first failure
    deadline = 0.0

    def kill_all(*_: object) -> None:
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def interrupted(*_: object) -> None:
        kill_all()
        sys.exit(130)

    old = {s: signal.signal(s, interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            live = 0
            for m, p in enumerate(procs):
                rc = p.poll()
                if rc is None:
                    live += 1
                elif rc != 0 and first is None:
                    first = (m, rc)
                    deadline = time.monotonic() + grace
                    print(f"gossamer launch: machine {m} exited with status {rc}; ending the job",
                          file=sys.stderr, flush=True)
            if not live:
                break
            if first is not None and time.monotonic() > deadline:
                print(f"gossamer launch: {live} processes still running after {grace:g} s: killed",
                      file=sys.stderr, flush=True)
                kill_all()
            time.sleep(0.02)
    finally:
        kill_all()
        for p in procs:
            p.wait()
        for s, h in old.items():
            signal.signal(s, h)
    if first is None:
        return 0
    m, rc = first
    return rc if rc > 0 else 128 - rc  # killed by a signal: 128 + its number, as a shell says
