"""Racks of real processes on one host (`gossamer launch --local`), on the emulator joined by the
socket wire (nic_emu.procwire): a run, fate sharing after kill -9 and after an uncaught error,
and two applications on the same ports kept apart ([PROC-2] .. [PROC-6])."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gossamer.bootstrap import BootstrapReader, encode_message

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = [sys.executable, "-m", "gossamer", "launch"]


#: on real verbs (tox -e rxe: rxe0 and rxe1 in the Soft-RoCE guest) racks of 2 processes, to fit
#: the guest's budget; on the emulator's process wire, 3
REAL = os.environ.get("GOSSAMER_VERBS") == "pyverbs"
N = 2 if REAL else 3


def _env(**extra: str) -> dict[str, str]:
    """The environment of a launch: no launcher's identity from the caller's; the verbs provider
    and devices kept (`GOSSAMER_VERBS`, `GOSSAMER_DEVICES`)."""
    keep = ("GOSSAMER_VERBS", "GOSSAMER_DEVICES")
    env = {k: v for k, v in os.environ.items()
           if k in keep or not k.startswith(("GOSSAMER_", "OMPI_", "SLURM_", "PMIX_"))}
    env.update(extra)
    return env


def _pids(stderr: str) -> dict[int, int]:
    return {int(m): int(p) for m, p in re.findall(r"machine (\d+) is pid (\d+)", stderr)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.clause("PROC-1", "PROC-2", "PROC-3", "PROC-5")
def test_a_rack_of_three_processes_runs_the_example() -> None:
    r = subprocess.run([*LAUNCH, "--local", str(N), "examples.procs:main", "30"], check=False, cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{N} machines x 1 threads: counters {[60] * N}" in r.stdout
    pids = _pids(r.stderr)
    assert sorted(pids) == list(range(N))
    assert not any(_alive(p) for p in pids.values())


def _start_forever(n: int = 3) -> tuple[subprocess.Popen[str], dict[int, int], list[str]]:
    p = subprocess.Popen([*LAUNCH, "--local", str(n), "--grace", "15", "examples.procs:main", "forever"], cwd=ROOT,
                         env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stderr is not None
    lines: list[str] = []
    while len(_pids("".join(lines))) < n:
        line = p.stderr.readline()
        assert line, "the launcher ended early: " + "".join(lines) + p.stderr.read()
        lines.append(line)
    # wait until machine 0 has delegated for a while (the rack is formed and busy)
    out = p.stdout.readline()
    assert "rounds" in out, out
    return p, _pids("".join(lines)), lines


@pytest.mark.clause("PROC-5")
def test_kill_9_of_one_process_ends_the_whole_application() -> None:
    p, pids, _ = _start_forever(N)
    t0 = time.monotonic()
    os.kill(pids[1], signal.SIGKILL)
    _, err = p.communicate(timeout=30)
    elapsed = time.monotonic() - t0
    assert p.returncode != 0
    assert elapsed < 15, f"the application took {elapsed:.1f} s to go down"  # the survivors went down themselves
    assert not any(_alive(pid) for pid in pids.values())
    reports = {m: re.search(rf"gossamer\[m{m}\]: application \S+ went down: machine (\d+) went down first", err)
               for m in range(N) if m != 1}
    assert all(r is not None and r.group(1) == "1" for r in reports.values()), err
    # machine 0's pending requests failed with PEER_FAILED; or, killed between two of its rounds,
    # it had none, and gsm-main's next request failed with it at once
    m0 = err.split("gossamer[m0]: application")[1].split("gossamer[m")[0]
    assert re.search(r"requests failed with PEER_FAILED: [1-9]", m0) or re.search(
        r"cause: fiber 1 \(gsm-main\) on m0.t0 raised: \w+: PEER_FAILED", m0), m0
    assert "killed" not in err.split("machine 1 exited")[-1], err  # nobody had to be killed


@pytest.mark.clause("PROC-5")
def test_an_uncaught_error_on_machine_0_ends_every_process() -> None:
    r = subprocess.run([*LAUNCH, "--local", str(N), "examples.procs:main", "raise"], check=False, cwd=ROOT,
                       env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr
    assert "gsm-main failed on purpose" in r.stderr
    for m in range(1, N):
        assert f"gossamer[m{m}]: application" in r.stderr and "machine 0 went down first" in r.stderr
    assert not any(_alive(pid) for pid in _pids(r.stderr).values())


@pytest.mark.clause("TRUST-5")
@pytest.mark.parametrize("mode", ["warn", "error"])
def test_a_process_reports_the_trusts_it_never_dropped(mode: str) -> None:
    """The end-of-run leak report of a one-process rack (gossamer/runtime/leaks.py) in a rack of
    processes too: gsm-main keeps one Trust per machine; warned, or the launch fails."""
    r = subprocess.run([*LAUNCH, "--local", "2", "examples.procs:main", "leak"], check=False, cwd=ROOT,
                       env=_env(GOSSAMER_LEAKS=mode), capture_output=True, text=True, timeout=120)
    assert "2 properties still live at the end of the run" in r.stderr, r.stderr
    assert r.stderr.count("examples/procs.py:") >= 2, r.stderr  # each Trust's creation site
    assert (r.returncode == 0) == (mode == "warn"), r.stderr
    assert not any(_alive(pid) for pid in _pids(r.stderr).values())


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            base = a.getsockname()[1]
            if base >= 65000:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", base + 1))
                except OSError:
                    continue
            return int(base)
    raise RuntimeError("no two free ports in a row")


@pytest.mark.clause("PROC-4", "PROC-13")
def test_two_applications_on_the_same_addresses_cannot_connect(tmp_path: Path) -> None:
    base = _free_port_pair()

    def one(app: str, machine: int) -> subprocess.Popen[str]:
        env = _env(GOSSAMER_MACHINE=str(machine), GOSSAMER_MACHINES="2", GOSSAMER_APP=app,
                   GOSSAMER_HOSTS="127.0.0.1", GOSSAMER_PORT=str(base), GOSSAMER_BIND="127.0.0.1",
                   GOSSAMER_EMU_WIRE=str(tmp_path / app))
        (tmp_path / app).mkdir(exist_ok=True)
        return subprocess.Popen([*LAUNCH, "examples.procs:main", "20"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    a0 = one("app-A", 0)
    time.sleep(0.3)
    b1 = one("app-B", 1)  # same host list and port rule: it reaches A's machine 0
    _, b_err = b1.communicate(timeout=30)
    assert b1.returncode == 4, b_err  # the rack never formed
    assert "refused us: code 0x18" in b_err and "app-B" in b_err and "app-A" in b_err, b_err
    a1 = one("app-A", 1)  # A's own machine 1: A forms and runs as if nothing happened
    a_out, a_err = a0.communicate(timeout=30)
    a1.communicate(timeout=30)
    assert a0.returncode == 0 and a1.returncode == 0, a_err
    assert "counters [40, 40]" in a_out
    assert "refused a bootstrap connection" in a_err and "PROC-4" in a_err, a_err


def _stranger(port: int, *msgs: object, read_hello: bool = False) -> list[object]:
    """Connect to a bootstrap listener as a stranger who knows the application id: send `msgs`
    (after the first, read the acceptor's hello when `read_hello`), then read what comes back
    until the acceptor closes; the messages it sent."""
    got: list[object] = []
    reader = BootstrapReader()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for i, m in enumerate(msgs):
            s.sendall(m if isinstance(m, bytes) else encode_message(m))
            if i == 0 and read_hello:
                while not got:
                    data = s.recv(1 << 16)
                    assert data, "the acceptor closed before its hello"
                    got.extend(reader.feed(data))
        if msgs and msgs[-1] == b"":
            return got
        while True:
            try:
                data = s.recv(1 << 16)
            except OSError:
                break
            if not data:
                break
            got.extend(reader.feed(data))
    return got


@pytest.mark.clause("PROC-13", "PROC-14", "SEC-2", "PROC-2")
def test_a_stranger_who_knows_the_app_id_neither_kills_nor_locks_out_a_rack(tmp_path: Path) -> None:
    """[PROC-13] step 4: until the acceptor has accepted a caller's hello, a failure on that
    connection ends it alone; a kind out of place is BAD_HEADER; the real machine 1 connects after
    strangers claimed to be it, and the rack runs. (Under the reading where a caller followed by a
    bad hello or a close brings the acceptor down, machine 0 exits 4 and the rack never forms.)"""
    base = _free_port_pair()
    env = _env(GOSSAMER_MACHINES="2", GOSSAMER_APP="app-S", GOSSAMER_HOSTS="127.0.0.1",
               GOSSAMER_PORT=str(base), GOSSAMER_BIND="127.0.0.1", GOSSAMER_EMU_WIRE=str(tmp_path))
    # machine 0 with a bootstrap read timeout of 1 s ([PROC-14]; the reference's is 10 s)
    quick = ("import sys, gossamer.procrack as p; p.READ_SECONDS = 1.0; from gossamer.cli import main; "
             "sys.exit(main(['launch', 'examples.procs:main', '20']))")
    a0 = subprocess.Popen([sys.executable, "-c", quick], cwd=ROOT, env={**env, "GOSSAMER_MACHINE": "0"},
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    silent = None
    try:
        me = {"caller": 1, "app": "app-S"}
        for _ in range(200):  # machine 0 binds its listener
            try:
                socket.create_connection(("127.0.0.1", base), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # a hello where the caller message is expected: BAD_HEADER, not MALFORMED_CBOR nor a hang
        assert _stranger(base, {"app": "app-S", "versions": [1, 1]}) == [{"error": 0x18, "detail": ANY}]
        # "down" (or "error") at any point of the bootstrap: closed without a word ([PROC-13] step 2)
        assert _stranger(base, {"down": 1, "detail": "x"}) == []
        # a good caller, then a hello the acceptor refuses: the error message, the acceptor lives on
        got = _stranger(base, me, {"app": "app-S"}, read_hello=True)
        assert len(got) == 2 and isinstance(got[0], dict) and "versions" in got[0], got
        assert got[1] == {"error": 0x14, "detail": ANY}, got  # no "versions": MALFORMED_CBOR
        # a good caller, then a ready where the hello is expected: BAD_HEADER
        assert _stranger(base, me, {"ready": True}, read_hello=True)[1:] == [{"error": 0x18, "detail": ANY}]
        # a good caller, then a close: dropped, machine 1 is not "connected already"
        _stranger(base, me, b"", read_hello=True)
        assert a0.poll() is None, a0.communicate()[1]
        # a good caller, then silence on an open connection: dropped after the read timeout
        # ([PROC-14]), so machine 1, which comes next, is not stuck behind it for the start-up timeout
        silent = socket.create_connection(("127.0.0.1", base), timeout=10)
        silent.sendall(encode_message(me))
        a1 = subprocess.Popen([*LAUNCH, "examples.procs:main", "20"], cwd=ROOT,
                              env={**env, "GOSSAMER_MACHINE": "1"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        a1_err = a1.communicate(timeout=30)[1]
        out, err = a0.communicate(timeout=30)
    finally:
        if silent is not None:
            silent.close()
        if a0.poll() is None:
            a0.kill()
    assert a0.returncode == 0 and a1.returncode == 0, err + a1_err
    assert "counters [40, 40]" in out
    assert err.count("refused a bootstrap connection") == 3, err
    assert "sent nothing in time" in err, err  # the silent one


class _Any:
    """Equal to any text (an error message's detail)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    def __hash__(self) -> int:
        return 0


ANY = _Any()


@pytest.mark.clause("PROC-7")
def test_spawn_and_join_across_processes() -> None:
    r = subprocess.run([*LAUNCH, "--local", str(N), "--threads", "2", "examples.procs:spawned", "20"], check=False,
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{2 * N} fibers on {N} machines joined; counter {40 * N}" in r.stdout


@pytest.mark.clause("PROC-5", "PROC-7")
def test_a_spawned_fiber_that_raises_ends_the_application() -> None:
    r = subprocess.run([*LAUNCH, "--local", str(N), "examples.procs:spawned", "5!"], check=False,
                       cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr
    assert "ValueError: worker w1.0! failed on purpose" in r.stderr
    m0 = r.stderr.split("gossamer[m0]: application")[1]
    assert "machine 1 went down first" in m0.splitlines()[0], m0
    assert "PEER_FAILED" in m0  # the joiner on machine 0
    assert all(f"gossamer[m{m}]: application" in r.stderr for m in range(N) if m != 1)
    assert not any(_alive(pid) for pid in _pids(r.stderr).values())


@pytest.mark.clause("PROC-7", "SHAPE-1")
def test_a_mixed_rack_of_processes() -> None:
    """Figure 11's shape in small: a server with one dedicated trustee thread, a client-only machine
    of 3 threads, and a machine of one thread; fibers spawned on every thread of every process."""
    r = subprocess.run([*LAUNCH, "--local", str(N), "--shape", ",".join(["2/1", "3/0", "1"][:N]),
                        "examples.procs:spawned", "10"], check=False, cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    fibers = [2, 3, 1][:N]
    assert f"{sum(fibers)} fibers on {N} machines joined; counter {10 * sum(fibers)}" in r.stdout
